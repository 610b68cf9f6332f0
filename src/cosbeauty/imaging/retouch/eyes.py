"""Eyes: whites slightly brighter and less red, irises crisper (local contrast only). Works
in each eye's own box; catchlights and the image's own white are never exceeded."""

from __future__ import annotations

import cv2
import numpy as np

from .common import LEFT_EYE_RING, LEFT_IRIS, RIGHT_EYE_RING, RIGHT_IRIS, blur, box_of, luma, poly


def eyes_delta(cur: np.ndarray, pts: np.ndarray, f: float, amount: float) -> list[tuple[tuple[int, int, int, int], np.ndarray]]:
    """[(box, change inside the box)] for both eyes."""
    out = []
    for ring, iris in ((RIGHT_EYE_RING, RIGHT_IRIS), (LEFT_EYE_RING, LEFT_IRIS)):
        x0, y0, x1, y1 = box_of(pts[ring], 3, cur.shape[:2])
        if x1 - x0 < 4 or y1 - y0 < 3:
            continue
        patch = cur[y0:y1, x0:x1]
        local = pts - [x0, y0]
        eye = cv2.erode(poly(patch.shape[:2], local[ring]), np.ones((3, 3), np.uint8)).astype(np.float32)
        y = luma(patch)
        chroma = np.abs(patch - y[..., None]).max(axis=-1)
        r_iris = max(1.0, float(np.linalg.norm(pts[iris] - pts[iris + 1])))
        irism = np.zeros(patch.shape[:2], np.float32)
        cv2.circle(irism, tuple(int(round(v)) for v in local[iris]), int(round(r_iris)), 1.0, -1)
        irism *= eye
        white = eye * (1 - irism) * np.clip((y - 0.45) / 0.1, 0, 1) * np.clip((0.16 - chroma) / 0.06, 0, 1)
        white = blur(white, 0.8)
        d = np.zeros_like(patch)
        lift = 0.08 * amount * np.maximum(0.88 - y, 0) * white
        d += lift[..., None]
        d[..., 0] -= 0.3 * amount * np.maximum(patch[..., 0] - y, 0) * white     # redness
        detail = y - blur(y, max(1.0, 0.35 * r_iris))
        d += (0.3 * amount * detail * blur(irism, 0.7))[..., None]
        out.append(((x0, y0, x1, y1), d.astype(np.float32)))
    return out
