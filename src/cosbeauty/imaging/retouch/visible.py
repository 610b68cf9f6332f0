"""The skin samples the skin model learns from, on a face partly hidden (:mod:`..verify_occluded`).

:class:`.skin.SkinModel` learns the person's skin chroma from 7 cheek/forehead circles. On a face
whose lower half is hidden by a mask, the cheek circles lie on the mask: the model's centre fell
between skin and mask (a light-blue mask: the visible skin was toned green, the mask itself
changed by up to 17 levels). When the circles disagree as much as no verified uncut face's do
(chroma spread > :data:`MAX_SPREAD`, :mod:`..verify`'s 25 levels), only those of the forehead's
colour are kept; otherwise every circle is, as before.
"""

from __future__ import annotations

import cv2
import numpy as np

from .common import SKIN_SAMPLES, luma

__all__ = ["samples"]

FOREHEAD = 151
MAX_SPREAD = 25.0 / 255.0      # verify.MAX_CHROMA_SPREAD on the 0..1 scale
NEAR_FOREHEAD = 12.0 / 255.0   # a kept circle's chroma within this of the forehead's


def samples(work: np.ndarray, region: np.ndarray, pts: np.ndarray, f: float) -> np.ndarray:
    """uint8 mask of the skin sample circles (radius max(2, 0.05 F)) inside ``region``."""
    r = max(2, int(0.05 * f))
    h, w = region.shape[:2]
    out = np.zeros(region.shape, np.uint8)
    for i in SKIN_SAMPLES:
        cv2.circle(out, (int(pts[i][0]), int(pts[i][1])), r, 1, -1)
    out &= region
    chroma: dict[int, np.ndarray] = {}
    for i in SKIN_SAMPLES:
        x, y = int(pts[i][0]), int(pts[i][1])
        x0, y0, x1, y1 = max(0, x - r), max(0, y - r), min(w, x + r + 1), min(h, y + r + 1)
        if x1 <= x0 or y1 <= y0:
            continue
        disc = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.circle(disc, (x - x0, y - y0), r, 1, -1)
        sel = (disc & region[y0:y1, x0:x1]).astype(bool)
        if sel.sum() >= 4:
            part = work[y0:y1, x0:x1]
            yy = luma(part)[sel]
            chroma[i] = np.array([float(np.mean((part[..., 0][sel] - yy) * 0.713)),
                                  float(np.mean((part[..., 2][sel] - yy) * 0.564))])
    if FOREHEAD not in chroma or len(chroma) < 3:
        return out
    m = np.array(list(chroma.values()))
    if float(np.max(np.linalg.norm(m - np.median(m, axis=0), axis=1))) <= MAX_SPREAD:
        return out
    keep = np.zeros(region.shape, np.uint8)
    for i, c in chroma.items():
        if float(np.linalg.norm(c - chroma[FOREHEAD])) <= NEAR_FOREHEAD:
            cv2.circle(keep, (int(pts[i][0]), int(pts[i][1])), r, 1, -1)
    return keep & region
