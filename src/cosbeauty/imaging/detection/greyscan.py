"""Mid-size turned grey faces (issue #12, "any in-plane angle"): the short-range detector on the
whole grey image shrunk to :data:`AREA` px (640x360 at 16:9), on each quarter turn.

Why: in a grey (colourless) image the window pass (full-range detector, upright) gives nothing, not
even a near miss >= 0.25, near a 96 px face turned 75-285 degrees, so :mod:`.greyturned` has no place
to look at, and :mod:`.greybig`'s turned windows show faces under ~200 px too small (round 16: 15 of
the 48 grey 96 px faces of ``bench/faces_real.py --check angles --modes grey`` missed, every one with
no candidate; a true box and eyes given to the landmark model passed every check). The short-range
model scores a grey face well once it is shown >= ~32 px wide at its nearest quarter turn: those 15
faces 0.65-0.90 at 640x360 (the first of the image's detections; the six photos' other places
<= 0.67); shown 24-26 px (a long side of 512) the astronaut scored nothing. So each quarter turn
of the image shown 640x360 px (1920x1080: a 96 px face 32 px, a 450 px face 150 px; other aspects the
same area) is
tiled like the proposal pass (:func:`.proposer.span`, 3 x 2 tiles of 384 px a turn at 16:9); a
detection from :data:`SURE` is a candidate, one from :data:`MIN_SCORE` only when the full-range
detector confirms it in its turn (:func:`.turned.turned_confirm`, a cell 1.5x its box: the faces at
0.65/0.68 -> 0.76/0.86, the photos' places at 0.6-0.67 -> none). Candidates are
:class:`.greyturned.GreyTurned` (landmarked alone when an upright detection merged them away).

Upright faces are the window pass's (only the three turns run). Run by :func:`.greybig.candidates`,
whose own turned windows it replaces where it runs (>= ~1.14 MP).
"""

from __future__ import annotations

import math

import numpy as np

from .common import _Detection
from .greyturned import GreyTurned
from .imageops import _pyramid, mirror_pad, rot90, unturn
from .threads import pmap
from .turned import turned_confirm

ENABLED = True          # the scan runs on grey images that get the small-face pass (A/B switch)
AREA = 640 * 360        # the image is shown this many px (1920x1080 -> 640x360: a 96 px face 32 px; 4000x3000
                        # -> 554x416: a 231 px face 32 px), whatever its aspect (the same cost)
TURNS = (1, 2, 3)       # quarter turns (counter-clockwise); upright faces are the window pass's
MIN_SCORE = 0.6         # detections from this score are candidates ...
SURE = 0.75             # ... those under this only when the full-range detector confirms them in their turn
_CONFIRM = 1.5          # ... in a cell of this x their box, centred on it
_PAD = 8                # mirrored border (px of the shrunk image)
_OVERLAP = 80           # tiles overlap by this (px): the largest face the scan is for, shown


def scale_for(h: int, w: int) -> float:
    """The shrink that shows the image AREA px (1920x1080: 1/3); 0 when the image is not much larger
    (under ~1.14 MP, 1422x800 at 16:9: :mod:`.greybig`'s turned windows look there)."""
    s = math.sqrt(AREA / (h * w))
    return s if s <= 0.45 else 0.0


def candidates(image: np.ndarray | None, h: int, w: int,
               scaled: tuple[np.ndarray, float, float] | None = None) -> list[_Detection]:
    """Candidates (image px, coarse, :class:`.greyturned.GreyTurned`) of the short-range model on each
    quarter turn of the image shrunk by :func:`scale_for` (the source is ``image``, or ``scaled`` =
    (src, sx, sy) when it has the resolution): those from SURE, and those from MIN_SCORE the
    full-range detector confirms in their turn."""
    from .. import proposer
    from .models import quietly

    if not ENABLED:
        return []
    s = scale_for(h, w)
    if not s:
        return []
    (src, sx, sy), = _pyramid(image, [s], scaled)
    padded = mirror_pad(src, _PAD)
    lh, lw = padded.shape[:2]
    jobs = []
    for k in TURNS:
        view = rot90(padded, k)
        vh, vw = view.shape[:2]
        (th, ys), (tw, xs) = proposer.span(vh, _OVERLAP), proposer.span(vw, _OVERLAP)
        if th > vh or tw > vw:
            view = np.pad(view, ((0, max(0, th - vh)), (0, max(0, tw - vw)), (0, 0)), mode="edge")
        jobs += [(view, x0, y0, x0 + tw, y0 + th, k) for y0 in ys for x0 in xs]

    def run(job: tuple) -> list[tuple[GreyTurned, int]]:
        view, x0, y0, x1, y1, k = job
        rows = proposer.detect(np.ascontiguousarray(view[y0:y1, x0:x1]), MIN_SCORE, quietly).astype(np.float64)
        out = []
        for r in rows:
            px, py = unturn(r[1:9:2] + x0, r[2:9:2] + y0, k, lw, lh)
            ix, iy = (px - _PAD) / sx, (py - _PAD) / sy
            box = np.array([min(ix[0], ix[1]), min(iy[0], iy[1]), max(ix[0], ix[1]), max(iy[0], iy[1])])
            out.append((GreyTurned(box, float(r[0]), np.stack([ix[2:4], iy[2:4]], axis=1), coarse=True), k))
        return out

    found = [d for part in pmap(run, jobs) for d in part]
    sure: list[_Detection] = [d for d, _ in found if d.score >= SURE]
    cells = [((d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2,
              _CONFIRM * max(d.box[2] - d.box[0], d.box[3] - d.box[1]), k) for d, k in found if d.score < SURE]
    if not cells:
        return sure
    return sure + [GreyTurned(d.box, d.score, d.eyes, coarse=True) for d in turned_confirm(image, scaled, cells)]
