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
    circles = []
    for i in SKIN_SAMPLES:
        c = np.zeros(region.shape, np.uint8)
        cv2.circle(c, (int(pts[i][0]), int(pts[i][1])), r, 1, -1)
        circles.append((i, c & region))
    out = np.zeros(region.shape, np.uint8)
    for _, c in circles:
        out |= c
    y = luma(work)
    chroma = {}
    for i, c in circles:
        sel = c.astype(bool)
        if sel.sum() >= 4:
            chroma[i] = np.array([float(np.mean((work[..., 0][sel] - y[sel]) * 0.713)),
                                  float(np.mean((work[..., 2][sel] - y[sel]) * 0.564))])
    if FOREHEAD not in chroma or len(chroma) < 3:
        return out
    m = np.array(list(chroma.values()))
    if float(np.max(np.linalg.norm(m - np.median(m, axis=0), axis=1))) <= MAX_SPREAD:
        return out
    keep = np.zeros(region.shape, np.uint8)
    for i, c in circles:
        if i in chroma and float(np.linalg.norm(chroma[i] - chroma[FOREHEAD])) <= NEAR_FOREHEAD:
            keep |= c
    return keep
