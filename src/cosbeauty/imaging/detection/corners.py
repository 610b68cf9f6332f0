"""Stage 1, the **corner mosaic** (round 18): the frame's four corners, each with a mirrored border
on its two frame sides, side by side in one 192 px full-range detector call (:func:`corner_pass`).

A big face cut at a corner is seen by the turned whole-image pass (:func:`.whole._whole_pass`,
mirrored border) at a third of 1080p and letterboxed: Grace Hopper 300 px a quarter out at the
top-right corner of the coffee photo (a quarter on each axis, ~44 % of the face outside, within the
issue's "up to half") is ~23 px wide there, beside three reflections of itself, and the detector
gives nothing near it, on any border (mirrored, replicated, flat) or pad (0-25 %) of the whole image.
A square of 0.3 x the short side at the corner, a mirrored border of 0.15 x that on the frame's two
sides, shown 96 px wide, gives her 0.85-0.90 (0.67-0.72 at 0.2 or 0.45-0.6 x the short side). Its
four corners share one call (~4 ms): each quadrant of the mosaic is one corner, its frame sides on
the mosaic's outer sides (the image with its middle taken out).

Detections are mapped back to image pixels by the quadrant their centre lies in; those centred
outside the frame are dropped later as every pass's are (:func:`.candidates._select`, after
:func:`.onframe.onto_frame`). Landmarks and verification decide, as for every candidate.
"""

from __future__ import annotations

import cv2
import numpy as np

from .common import _DET_INPUT, _Detection
from .models import _detect_full

ENABLED = True
SQUARE = 0.3       # each corner's square: this x the image's short side
PAD = 0.15         # ... with a mirrored border this x the square on the frame's two sides
MIN_SHORT = 400    # images with a shorter short side (px) skip it (the whole pass sees them at <= 2x this)


def mosaic(small: np.ndarray) -> tuple[np.ndarray, list[tuple[float, float, float]]] | None:
    """The 192 x 192 corner mosaic of ``small`` (the whole pass's copy) and, per quadrant (tl, tr,
    bl, br), (x, y) of its top-left in ``small`` px (the border included) and small px per mosaic px."""
    h, w = small.shape[:2]
    s = int(round(SQUARE * min(h, w)))
    pad = int(round(PAD * s))
    half = _DET_INPUT // 2
    if s < 8:
        return None
    out = np.empty((_DET_INPUT, _DET_INPUT, 3), np.uint8)
    maps = []
    for qy in (0, 1):
        for qx in (0, 1):
            y0, x0 = (0 if qy == 0 else h - s), (0 if qx == 0 else w - s)
            crop = np.ascontiguousarray(small[y0:y0 + s, x0:x0 + s, :3])
            top, bottom = (pad, 0) if qy == 0 else (0, pad)
            left, right = (pad, 0) if qx == 0 else (0, pad)
            framed = cv2.copyMakeBorder(crop, top, bottom, left, right, cv2.BORDER_REFLECT_101)
            k = (s + pad) / half
            out[qy * half:(qy + 1) * half, qx * half:(qx + 1) * half] = cv2.resize(
                framed, (half, half), interpolation=cv2.INTER_AREA)
            maps.append((x0 - left, y0 - top, k))
    return out, maps


def corner_pass(small: np.ndarray, sx: float, sy: float, h: int, w: int) -> list[_Detection]:
    """Detections of the corner mosaic (:func:`mosaic`) in image pixels; ``small`` is the image
    (``h`` x ``w``) scaled by (``sx``, ``sy``)."""
    if not ENABLED or min(h, w) < MIN_SHORT:
        return []
    made = mosaic(small)
    if made is None:
        return []
    view, maps = made
    half = _DET_INPUT // 2
    found = []
    for r in _detect_full(view).astype(np.float64):
        mx, my = (r[1] + r[3]) / 2, (r[2] + r[4]) / 2
        qx, qy = min(max(int(mx // half), 0), 1), min(max(int(my // half), 0), 1)
        ox, oy, k = maps[qy * 2 + qx]
        xs = (r[[1, 3, 5, 7]] - qx * half) * k + ox
        ys = (r[[2, 4, 6, 8]] - qy * half) * k + oy
        xs, ys = xs / sx, ys / sy
        found.append(_Detection(box=np.array([xs[0], ys[0], xs[1], ys[1]]), score=float(r[0]),
                                eyes=np.array([[xs[2], ys[2]], [xs[3], ys[3]]])))
    return found
