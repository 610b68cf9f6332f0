"""Small turned grey faces (~40 px at 1080p): places from a cheap cue, looked at turned.

Why: a grey 40 px face turned 60-105 / 150-195 / 240-285 degrees gets no candidate from any pass
(``bench/faces_real.py --check angles --modes grey --sizes 40``: 24/48, every miss without a window
detection >= 0.25 near the face, most without one >= 0.05), and the short-range model needs it shown
>= ~32 px wide: a scan of the whole image at that scale on three quarter turns costs ~+250 ms CPU a
grey 1080p image. The cue: the face is a bright blob about its skin's size (a difference of Gaussians,
image shrunk to :data:`CUE_LONG` px long, sigma :data:`SIGMA`): on the bench's misses the face is among
the image's first 24 such maxima in 15 of 24 cases (of ~1000). Those :data:`PLACES` places are
pre-scored turned 90/180/270 degrees by the short-range model in 64 px cells showing the smallest
face's cell (:func:`.turned.prescore`, nine a call), and the turns scoring >= :data:`PRE_SCORE` are
confirmed by the full-range detector in their turn (:func:`.turned.turned_confirm`); candidates are
:class:`.greyturned.GreyTurned` (landmarks and verification decide).
"""

from __future__ import annotations

import cv2
import numpy as np

from .common import _Detection
from .greyturned import GreyTurned
from .turned import _TURNS, prescore

ENABLED = True          # A/B switch
CUE_LONG = 480          # the cue's image is this many px long (1920 -> 1/4: a 40 px face 10 px)
SIGMA = 2.5             # ... bright blobs of this sigma (cue px) against 1.6x it
PLACES = 24             # at most this many places (brightest blobs first)
FACE = 40 / 1920        # the face looked for, x the long side (40 px at 1920)
SHOWN = 1.7             # a pre-score cell shows this x that face
SCORE = 0.75            # a turn's detection from this score is a candidate


def places(grey: np.ndarray, cap: int = PLACES) -> list[tuple[float, float]]:
    """The ``cap`` strongest bright-blob maxima of ``grey`` (one channel, image px), strongest first."""
    h, w = grey.shape[:2]
    k = CUE_LONG / max(h, w)
    g = cv2.resize(grey, (max(1, round(w * k)), max(1, round(h * k))), interpolation=cv2.INTER_AREA).astype(np.float32)
    d = cv2.GaussianBlur(g, (0, 0), SIGMA) - cv2.GaussianBlur(g, (0, 0), SIGMA * 1.6)
    peak = (d == cv2.dilate(d, np.ones((7, 7), np.uint8))) & (d > 0.5)
    ys, xs = np.nonzero(peak)
    order = np.lexsort((xs, ys, -d[ys, xs]))[:cap]
    kx, ky = g.shape[1] / w, g.shape[0] / h
    return [((float(xs[i]) + 0.5) / kx - 0.5, (float(ys[i]) + 0.5) / ky - 0.5) for i in order]


def candidates(image: np.ndarray | None, h: int, w: int,
               scaled: tuple[np.ndarray, float, float] | None = None) -> list[_Detection]:
    """Candidates (image px, coarse, :class:`.greyturned.GreyTurned`) of small turned grey faces: the
    short-range model's detections from SCORE in :func:`places`' cells turned 90/180/270 degrees that
    score more than the cell upright."""
    if not ENABLED:
        return []
    # the cue from the reduced decode when it has the resolution (a 12 MP image shrunk: ~15 ms)
    use = scaled if scaled is not None and max(scaled[0].shape[:2]) >= CUE_LONG or image is None else None
    src, sx, sy = use if use is not None else (image, 1.0, 1.0)      # type: ignore[misc]
    grey = src[:, :, 0] if src.ndim == 3 else src
    side = SHOWN * FACE * max(h, w)
    # cells in the frame: one past it shows a face at the frame with its mirror image (widecells' corner case)
    cells = [(cx / sx, cy / sy, side, 0) for cx, cy in places(grey)
             if side / 2 <= cx / sx <= w - side / 2 and side / 2 <= cy / sy <= h - side / 2]
    if not cells:
        return []
    seen: dict[tuple[int, int], _Detection] = {}
    prescore(image, scaled, cells, _TURNS, SCORE, 1.0, 64, rows_out=seen)
    if not seen:
        return []
    # an upright face scores turned too (a 64-96 px grey face on a flat 12 MP canvas: 0.75-0.79 turned, 0.86-0.94
    # upright; its turned candidate's mesh passed with less grey margin): places scoring more upright are
    # the window pass's
    hit = sorted({i for i, _ in seen})
    upright = prescore(image, scaled, [cells[i] for i in hit], (0,), 0.3, 1.0, 64)[:, 0]
    best = dict(zip(hit, upright))
    return [GreyTurned(d.box, d.score, d.eyes, coarse=True) for (i, _), d in sorted(seen.items())
            if d.score > best[i] and 0 <= (d.box[0] + d.box[2]) / 2 < w and 0 <= (d.box[1] + d.box[3]) / 2 < h]
