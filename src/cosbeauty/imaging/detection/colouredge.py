"""Small colour faces cut by the frame's top (issue #12: "cut by the frame, up to half outside"; round 20):
:mod:`.greyedge`'s top strip at its first level (faces ~40 px at 1080p), only in the tiles where the
image's top rows show a colour cue.

Why: the astronaut 40 px half above the frame on the chelsea photo had no candidate in colour; greyedge's
top strip scores it 0.69, but greyedge runs on grey images only, and the whole strip would cost ~50-75 ms
CPU on every colour image >= ~1.14 MP. The verification skin locus is no cue there (the top rows of 5 of
the 6 bench photos are all "skin"); a face's chroma against its backdrop is: the mean (Cr, Cb) of the
top :data:`CUE_ROWS` rows per column, against its median over :data:`CUE_WINDOW` columns around it,
differs by > :data:`CUE_CHROMA` over >= :data:`CUE_RUN` columns at every 40 px face cut at the top of
``bench/faces_real.py``'s edge cases (brick, grass, chelsea, both people; 33-73 px runs), and at 0 (chelsea,
brick, page, grass), 4 (rocket) and 6 (coffee) places of the six no-face bench photos.
"""

from __future__ import annotations

import numpy as np

from .common import _Detection
from .edgestrip import TILE, detections, jobs, levels

ENABLED = True
MIN_PIXELS = 1_200_000   # greyedge's range (>= ~1.14 MP)
MIN_SCORE = 0.6          # greyedge's
CUE_ROWS = 12            # image px at the top (at 1080p; scaled with the image)
CUE_WINDOW = 241         # columns of the backdrop's median
CUE_CHROMA = 8.0         # |dCr| + |dCb|
CUE_RUN = 12             # columns
_MARGIN = 30             # strip px: a cue this far inside a tile's ends


def cues(src: np.ndarray, scale: float) -> list[float]:
    """Centres (``src`` px) of the runs of top columns whose chroma stands out from the backdrop's."""
    import cv2
    from scipy.ndimage import median_filter

    rows = max(2, round(CUE_ROWS * scale))
    ycc = cv2.cvtColor(np.ascontiguousarray(src[:rows]), cv2.COLOR_RGB2YCrCb).astype(np.float32).mean(axis=0)
    back = median_filter(ycc[:, 1:], size=(max(3, round(CUE_WINDOW * scale) | 1), 1), mode="nearest")
    loud = (np.abs(ycc[:, 1:] - back).sum(axis=1) > CUE_CHROMA).astype(np.int8)
    edges = np.flatnonzero(np.diff(np.concatenate(([0], loud, [0]))))
    return [(a + b - 1) / 2 for a, b in zip(edges[::2], edges[1::2]) if b - a >= max(3, CUE_RUN * scale)]


def candidates(image: np.ndarray | None, scaled: tuple[np.ndarray, float, float] | None,
               h: int, w: int) -> list[_Detection]:
    """Coarse candidates (image px) of faces cut by the top in a colour image >= MIN_PIXELS: greyedge's
    first-level top tiles that hold a :func:`cues` centre, detections from MIN_SCORE centred in the frame."""
    from .. import proposer
    from .models import quietly

    if not ENABLED or h * w < MIN_PIXELS:
        return []
    src, sx, sy = (image, 1.0, 1.0) if image is not None else scaled if scaled is not None else (None, 1.0, 1.0)
    if src is None:
        return []
    at = cues(src, src.shape[0] / 1080)
    if not at:
        return []
    k = levels(h, w)[0] / min(sx, sy)
    out: list[_Detection] = []
    for tile, ox, oy, kk in jobs(src, k, ("top",)):
        if any(ox + _MARGIN / kk <= x <= ox + (TILE - _MARGIN) / kk for x in at):
            out += detections(proposer.detect(tile, MIN_SCORE, quietly), ox, oy, kk, sx, sy, h, w)
    return out
