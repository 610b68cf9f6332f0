"""Teeth: inside the inner-lip polygon only, bright low-chroma pixels (teeth, not lips, gums or
the mouth's shadow) lose some yellow and gain a little brightness."""

from __future__ import annotations

import cv2
import numpy as np

from .common import INNER_LIPS, blur, box_of, luma, poly


def teeth_delta(cur: np.ndarray, pts: np.ndarray, f: float, amount: float) -> list[tuple[tuple[int, int, int, int], np.ndarray]]:
    x0, y0, x1, y1 = box_of(pts[INNER_LIPS], 2, cur.shape[:2])
    if x1 - x0 < 4 or y1 - y0 < 3:
        return []
    patch = cur[y0:y1, x0:x1]
    mouth = poly(patch.shape[:2], pts[INNER_LIPS] - [x0, y0])
    if mouth.sum() < 6:
        return []
    mouth = cv2.erode(mouth, np.ones((3, 3), np.uint8)).astype(np.float32)
    y = luma(patch)
    r, g, b = patch[..., 0], patch[..., 1], patch[..., 2]
    redness = r - 0.5 * (g + b)
    gate = mouth * np.clip((y - 0.35) / 0.1, 0, 1) * np.clip((0.16 - redness) / 0.06, 0, 1)
    gate = blur(gate, 0.8)
    yellow = np.maximum(0.5 * (r + g) - b, 0)
    d = np.zeros_like(patch)
    d[..., 2] += 0.6 * amount * yellow * gate
    d += (0.12 * amount * np.maximum(0.92 - y, 0) * gate)[..., None]
    return [((x0, y0, x1, y1), d.astype(np.float32))]
