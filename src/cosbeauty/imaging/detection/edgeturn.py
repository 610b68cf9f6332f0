"""Small and mid-size faces **cut by the frame and turned** (lying, upside down) from the upright
proposal pass's own cells at the frame's edges (issue #12, round 16).

A face turned 90-270 degrees with part of it outside the frame is seen by the proposal pass's
mirrored border together with its reflection: the upright proposer still proposes something
there (on the independent check's 1080p cut-and-turned set every missed face had a confirmation
cell within 0.6 face of it), but the cell is centred on the edge, on face and reflection, and
holds the face too tightly, so the turned looks of :mod:`.turned` (which also skip cells a sure
upright box explains: here the turned face's own upright box, whose eyes mislead the landmark
ROI) never saw it upright. Seen upright at its own centre and 1.6-2.4x its size, both detectors
score such a face 0.6-0.9 whatever the border (/tmp/s16/turncut/oracle.log).

So each upright cell centred within :data:`_NEAR_EDGE` of its side from a frame edge becomes a
place moved :data:`_INWARD` x its side into the frame and enlarged :data:`_ZOOM` x; at most
:data:`PLACES` of them (best proposal first) are pre-scored turned 90/180/270 degrees by the
short-range model (:func:`.turned.prescore`: 12 places x 3 turns in one 192 px call), and the
turns scoring >= :data:`.turned._PRE_SCORE` are confirmed by the full-range detector in turned
64 px cells (:func:`.turned.turned_confirm`). Landmarks and verification decide, as for every
candidate.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .candidates import _overlap
from .common import _MERGE_IOM, _Detection
from .proposals import smallest
from .turned import _PRE_SCORE, _TURNS, Cell, prescore, turned_confirm

ENABLED = True          # A/B switch
PLACES = 12             # at most this many edge places an image (one pre-score call: 12 x 3 turns)
_NEAR_EDGE = 0.5        # a cell centred within this x its side of a frame edge is an edge cell ...
_INWARD = 0.2           # ... its place moved this x its side into the frame (the cell leans to the
                        # reflection's side: face and reflection are one pattern centred on the edge) ...
_ZOOM = 1.4             # ... and this x larger (diag_edge.py on the 36 misses: 0/1.0 28, 0.25/1.0 26,
                        # 0.2/1.4 32, 0.3/1.6 30, 0.2/1.8 29 with the face's place >= _PRE_SCORE)


def edge_places(cells: Sequence[Cell], h: int, w: int, cap: int = PLACES) -> list[Cell]:
    """Upright ``cells`` (cx, cy, side, turn; best first) near a frame edge, each moved inward and
    enlarged; near-duplicates (same side, within 0.4 of it) dropped; at most ``cap``."""
    out: list[Cell] = []
    for cx, cy, side, turn in cells:
        if turn:
            continue
        gaps = {(1.0, 0.0): cx, (-1.0, 0.0): w - cx, (0.0, 1.0): cy, (0.0, -1.0): h - cy}
        (nx, ny), gap = min(gaps.items(), key=lambda kv: kv[1])
        if gap > _NEAR_EDGE * side:
            continue
        place = (cx + nx * _INWARD * side, cy + ny * _INWARD * side, _ZOOM * side, 0)
        if any(q[2] == place[2] and np.hypot(place[0] - q[0], place[1] - q[1]) < 0.4 * q[2] for q in out):
            continue
        out.append(place)
        if len(out) == cap:
            break
    return out


def candidates(image: np.ndarray | None, scaled: tuple[np.ndarray, float, float] | None,
               cells: Sequence[Cell], h: int, w: int, known: Sequence[_Detection] = (),
               later: list[_Detection] | None = None, min_face_px: int = 20) -> list[_Detection]:
    """Coarse candidates of cut, turned faces from the proposal pass's confirmation ``cells``, only
    where no candidate of ``known`` (the other passes') overlaps them (merged with one, they would
    take its alternate views' places: :func:`.landmarks._face_from` tries the best two, and a face
    found by a weaker alternate, the astronaut 48 px at 270 degrees 30 % out at the right, or Grace
    Hopper 24 px half above the frame, was lost). The others go to ``later`` when given (landmarked
    alone after the faces are finished: :func:`.small.later_faces`), else are dropped. Confirmations
    narrower than the proposal pass's smallest face (:func:`.proposals.smallest`) are dropped: the
    no-face 12 MP rocket gave a 41 px one (smallest 48 px) at its bottom edge that passed
    verification; the faces this finds on the 1080p check were boxed 1.65-2.4x the smallest (23 px).
    Also the small upright faces cut by the top (:func:`.colouredge.candidates`, round 20)."""
    from . import colouredge

    return _turned(image, scaled, cells, h, w, known, later, min_face_px) + colouredge.candidates(image, scaled, h, w)


def _turned(image: np.ndarray | None, scaled: tuple[np.ndarray, float, float] | None,
            cells: Sequence[Cell], h: int, w: int, known: Sequence[_Detection],
            later: list[_Detection] | None, min_face_px: int) -> list[_Detection]:
    """:func:`candidates`' turned edge cells."""
    if not ENABLED:
        return []
    todo = edge_places(cells, h, w)
    if not todo:
        return []
    scores = prescore(image, scaled, todo)
    picked = [(cx, cy, side, turn) for j, turn in enumerate(_TURNS)
              for i, (cx, cy, side, _) in enumerate(todo) if scores[i, j] >= _PRE_SCORE]
    out: list[_Detection] = []
    least = smallest(h, w, min_face_px)
    for d in turned_confirm(image, scaled, picked) if picked else []:
        if d.box[2] - d.box[0] < least:
            continue
        if not any(_overlap(d.box, k.box) > _MERGE_IOM for k in known):
            out.append(d)
        elif later is not None:
            later.append(d)
    return out
