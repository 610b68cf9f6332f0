"""Small turned grey faces (~40 px at 1080p): places from a cheap cue, looked at turned.

Why: a grey 40 px face turned 60-105 / 150-195 / 240-285 degrees gets no candidate from any pass
(``bench/faces_real.py --check angles --modes grey --sizes 40``: 24/48, every miss without a window
detection >= 0.25 near the face, most without one >= 0.05), and the short-range model needs it shown
>= ~32 px wide: a scan of the whole image at that scale on three quarter turns costs ~+250 ms CPU a
grey 1080p image. The cue: the face is a bright blob about its skin's size (a difference of Gaussians,
image shrunk to :data:`CUE_LONG` px long, sigma :data:`SIGMA`): on the bench's misses the face is among
the image's first 24 such maxima in 15 of 24 cases (of ~1000); on white paper the face is no brighter than
the page, but a disc unlike its ring (:data:`CONTRAST`). Those :data:`PLACES` places are
pre-scored upright and turned 90/180/270 degrees by the short-range model in 64 px cells showing the
smallest face's cell (:func:`.turned.prescore`, nine a call); a turn scoring >= :data:`SCORE` (more than
upright) and an upright look scoring >= :data:`UPRIGHT` (best, where the window pass saw nothing) are
candidates, :class:`.greyturned.GreyTurned` (landmarks and verification decide). Round 20: the disc cue
and the upright look (grey 40 px angles 38 -> 42/48; docs/faces.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from .common import _Detection
from .greyturned import GreyTurned
from .turned import _TURNS, prescore

ENABLED = True          # A/B switch
CUE_LONG = 480          # the cue's image is this many px long (1920 -> 1/4: a 40 px face 10 px)
SIGMA = 2.5             # ... bright blobs of this sigma (cue px) against 1.6x it, and ...
CONTRAST = 4            # ... discs of this radius (cue px) unlike the ring out to 1.6x it (mean and spread):
                        # the grey astronaut 40 px on page at 240 / 330 degrees ranks 22nd / 18th there, 104th /
                        # 52nd as a bright blob (on white paper the face is no brighter than the page)
PLACES = 32             # at most this many places (each cue's strongest first, taken in turn)
FACE = 40 / 1920        # the face looked for, x the long side (40 px at 1920)
SHOWN = 1.7             # a pre-score cell shows this x that face
SCORE = 0.75            # a turn's detection from this score is a candidate
LOOKS = (0,) + _TURNS   # quarter turns looked at: upright too (the grey astronaut 40 px at 345 degrees on grass:
                        # 0.91 upright, 0.62 at best turned; the window pass saw nothing there) ...
UPRIGHT = 0.82          # ... an upright detection from this score (the page photo's text, no face: 0.78 upright,
                        # the other five bench photos' places <= 0.68; that face 0.835-0.88 as its mosaic's cells vary)


def places(grey: np.ndarray, cap: int = PLACES) -> list[tuple[float, float]]:
    """The ``cap`` strongest places of ``grey`` (one channel, image px): the maxima of its bright blobs
    (:func:`_blobs`) and of its contrasting discs (:func:`_discs`), each strongest first, taken in turn
    (the first blob, the first disc, the second blob, ...), a maximum within 2 cue px of one taken once."""
    h, w = grey.shape[:2]
    k = CUE_LONG / max(h, w)
    g = cv2.resize(grey, (max(1, round(w * k)), max(1, round(h * k))), interpolation=cv2.INTER_AREA).astype(np.float32)
    lists = [_maxima(_blobs(g), cap), _maxima(_discs(g), cap)]
    taken: list[tuple[int, int]] = []
    for i in range(cap):
        for found in lists:
            if i < len(found) and len(taken) < cap and all(abs(found[i][0] - x) > 2 or abs(found[i][1] - y) > 2
                                                           for x, y in taken):
                taken.append(found[i])
    kx, ky = g.shape[1] / w, g.shape[0] / h
    return [((x + 0.5) / kx - 0.5, (y + 0.5) / ky - 0.5) for x, y in taken]


def _blobs(g: np.ndarray) -> np.ndarray:
    """Bright blobs of SIGMA (cue px) against 1.6x it: a difference of Gaussians."""
    return cv2.GaussianBlur(g, (0, 0), SIGMA) - cv2.GaussianBlur(g, (0, 0), SIGMA * 1.6)


def _discs(g: np.ndarray) -> np.ndarray:
    """How unlike its ring (CONTRAST .. 1.6 CONTRAST cue px) each disc of radius CONTRAST is: the hypot of
    the differences of their means and of their standard deviations (either polarity, texture or not)."""
    r = CONTRAST
    y, x = np.mgrid[-2 * r:2 * r + 1, -2 * r:2 * r + 1]
    d = np.hypot(x, y)
    kin, kout = (d < r).astype(np.float32), ((d >= r) & (d < 1.6 * r)).astype(np.float32)
    kin, kout = kin / kin.sum(), kout / kout.sum()
    mi, mo = cv2.filter2D(g, -1, kin), cv2.filter2D(g, -1, kout)
    si = np.sqrt(np.maximum(cv2.filter2D(g * g, -1, kin) - mi * mi, 0))
    so = np.sqrt(np.maximum(cv2.filter2D(g * g, -1, kout) - mo * mo, 0))
    return np.hypot(mi - mo, si - so)


def _maxima(d: np.ndarray, cap: int) -> list[tuple[int, int]]:
    """The ``cap`` strongest local maxima (x, y; cue px, 7x7) of ``d`` above 0.5."""
    peak = (d == cv2.dilate(d, np.ones((7, 7), np.uint8))) & (d > 0.5)
    ys, xs = np.nonzero(peak)
    order = np.lexsort((xs, ys, -d[ys, xs]))[:cap]
    return [(int(xs[i]), int(ys[i])) for i in order]


def candidates(image: np.ndarray | None, h: int, w: int,
               scaled: tuple[np.ndarray, float, float] | None = None,
               known: Sequence[_Detection] = ()) -> list[_Detection]:
    """Candidates (image px, coarse, :class:`.greyturned.GreyTurned`) of small turned grey faces: the
    short-range model's detections from SCORE in :func:`places`' cells turned 90/180/270 degrees that
    score more than the cell upright, and upright ones from UPRIGHT where no turn scores more and no
    detection of ``known`` (the window pass's) is centred within half a cell."""
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
    scores = prescore(image, scaled, cells, LOOKS, SCORE, 1.0, 64, rows_out=seen)
    # an upright face scores turned too (a 64-96 px grey face on a flat 12 MP canvas: 0.75-0.79 turned, 0.86-0.94
    # upright; its turned candidate's mesh passed with less grey margin): a turn is kept where it scores more
    # than upright; upright, a place is the window pass's where that detected something
    centres = [((d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2) for d in known]
    out = []
    for (i, j), d in sorted(seen.items()):
        cx, cy = (d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2
        if not (0 <= cx < w and 0 <= cy < h):
            continue
        if LOOKS[j] and d.score <= scores[i, 0]:
            continue
        if not LOOKS[j] and (d.score < UPRIGHT or scores[i, 0] < scores[i].max()
                             or any(abs(cx - x) < side / 2 and abs(cy - y) < side / 2 for x, y in centres)):
            continue
        out.append(GreyTurned(d.box, d.score, d.eyes, coarse=True))
    return out
