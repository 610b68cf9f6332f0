"""The best unexplained proposal cells looked at wide, every 45 degrees (issue #12, "any in-plane angle").

The colour proposal pass boxes a mid-size face turned ~90-180 degrees as a small proposal (a 96 px
face turned 105 or 195 degrees on the chelsea photo: the image's best proposal, a 45 px confirmation
cell); :func:`.turned.turned_candidates` pre-scores that cell turned in a view of 0.75 x its side
(34 px of a 96 px face: no turn scores) or in the next level's 89 px cell (one turn 0.73, which the
full-range confirmation turned down), so the face had no candidate (``bench/faces_real.py --check
angles``: the last two colour misses, Hopper 96 px at 105/195 degrees). Shown wider, the same places
score 0.86-0.92 in the short-range model's best 45-degree view (views of 120-179 px; 0.37/0.16 at
45 px, 0.70/0.75 at 89 px). So the first :data:`PLACES` unexplained cells (best proposal first) that
gave no turned candidate are looked at every 45 degrees in views of :data:`SIDE` x their side
(:func:`.anyangle.octant_scores`: one short-range call for 4 places x 8 views); a view from
:data:`SCORE` is a coarse candidate (landmarks and verification decide; above anyangle's 0.75:
a drawn smiley's view scored 0.77).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .common import _Detection

ENABLED = True          # A/B switch
PLACES = 4              # at most this many cells an image (4 x 8 views: one 192 px short-range call)
SIDE = 2.7              # each viewed at this x its confirmation cell's side (a 45 px cell: 120 px)
SCORE = 0.85            # a view from this score is a candidate: the two faces' views 0.87/0.88; a drawn
                        # smiley of bench/nofaces_drawn.py (emoji-8-q35, 61 px) 0.77, accepted by verification

Cell = tuple[float, float, float, int]


def places(todo: Sequence[Cell], got: Sequence[_Detection], h: float, w: float) -> list[tuple[float, float, float]]:
    """The first PLACES cells of ``todo`` (unexplained upright cells, best first) no detection of
    ``got`` (their turned candidates) is centred within half their side of, whose view lies in the
    h x w frame, one per place (a cell centred within half a view of a kept one is skipped):
    (cx, cy, SIDE x side). In the frame: a view past it shows a face at the frame with its mirror
    image (a colour 40 px face 40 % out at the bottom-left of the brick photo: boxed with its
    reflection as one 69 px face at 0.81, whose candidate took the face's own and lost it)."""
    from .anyangle import _SHOWN

    out: list[tuple[float, float, float]] = []
    centres = [((d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2) for d in got]
    for cx, cy, side, _ in todo:
        if any(abs(cx - x) < 0.5 * side and abs(cy - y) < 0.5 * side for x, y in centres):
            continue
        view = SIDE * side
        r = _SHOWN * view / 2
        if not (r <= cx <= w - r and r <= cy <= h - r):
            continue
        if any(math.hypot(cx - p[0], cy - p[1]) < 0.5 * max(view, p[2]) for p in out):
            continue
        out.append((float(cx), float(cy), float(view)))
        if len(out) == PLACES:
            break
    return out


def candidates(image: np.ndarray | None, scaled: tuple[np.ndarray, float, float] | None,
               todo: Sequence[Cell], got: Sequence[_Detection]) -> list[_Detection]:
    """Coarse candidates of :func:`places`' best 45-degree views from SCORE (image px)."""
    from .anyangle import octant_scores

    if not ENABLED:
        return []
    src, sx, sy = (image, 1.0, 1.0) if image is not None else scaled      # type: ignore[misc]
    look = places(todo, got, src.shape[0] / sy, src.shape[1] / sx)
    if not look:
        return []
    return [d for s, d in octant_scores(image, scaled, look) if d is not None and s >= SCORE]
