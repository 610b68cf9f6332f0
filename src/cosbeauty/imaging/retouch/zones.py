"""Landmark-defined retouch zones (soft masks at work scale): forehead, crow's feet, under-eye,
eye bags, nasolabial and marionette corridors, cheek apples."""

from __future__ import annotations

import cv2
import numpy as np

from .common import LEFT_EYE, RIGHT_EYE, blur, disc, poly

FOREHEAD_TOP = [54, 103, 67, 109, 10, 338, 297, 332, 284]
RIGHT_BROW_TOP = [70, 63, 105, 66, 107]
LEFT_BROW_TOP = [336, 296, 334, 293, 300]
RIGHT_LOWER_LID = [33, 7, 163, 144, 145, 153, 154, 155, 133]
LEFT_LOWER_LID = [263, 249, 390, 373, 374, 380, 381, 382, 362]
NASOLABIAL = [(129, 61), (358, 291)]        # nose wing -> mouth corner
MARIONETTE = [(61, 136), (291, 365)]        # mouth corner -> jaw (first third used)
CHEEK_APPLES = [205, 425]


def eye_width(pts: np.ndarray) -> float:
    return 0.5 * float(np.linalg.norm(pts[33] - pts[133]) + np.linalg.norm(pts[263] - pts[362]))


def down_vector(pts: np.ndarray) -> np.ndarray:
    """Unit vector from forehead to chin (the face's "down", rotation-aware)."""
    v = pts[152] - pts[10]
    return v / max(float(np.linalg.norm(v)), 1e-6)


def _soft(mask: np.ndarray, sigma: float) -> np.ndarray:
    return blur(mask.astype(np.float32), sigma)


def forehead(shape: tuple[int, int], pts: np.ndarray, f: float) -> np.ndarray:
    """Face oval above the brows (brow tops lifted a little so brow hairs stay out)."""
    down = down_vector(pts)
    brows = np.concatenate([pts[LEFT_BROW_TOP][::-1], pts[RIGHT_BROW_TOP][::-1]]) - down * 0.03 * f
    outline = np.concatenate([pts[FOREHEAD_TOP], brows])
    return _soft(poly(shape, outline), 0.015 * f)


def under_eye(shape: tuple[int, int], pts: np.ndarray, f: float, near: float, far: float) -> np.ndarray:
    """Band under each lower lid from ``near`` to ``far`` eye widths below it."""
    ew = eye_width(pts)
    down = down_vector(pts)
    mask = np.zeros(shape, np.uint8)
    for lid in (RIGHT_LOWER_LID, LEFT_LOWER_LID):
        p = pts[lid]
        centre = p.mean(axis=0)
        # the band narrows toward the corners (a crescent, like a real eye bag)
        bulge = 1.0 - 0.5 * (np.abs((p - centre) @ np.array([-down[1], down[0]])) / (0.5 * ew)) ** 2
        upper = p + down * near * ew
        lower = p + down[None] * (far * ew * np.clip(bulge, 0.3, 1.0))[:, None]
        mask |= poly(shape, np.concatenate([upper, lower[::-1]]))
    return _soft(mask, 0.08 * ew)


def crows_feet(shape: tuple[int, int], pts: np.ndarray, f: float) -> np.ndarray:
    ew = eye_width(pts)
    mask = np.zeros(shape, np.uint8)
    for outer, inner in ((33, 133), (263, 362)):
        out_dir = pts[outer] - pts[inner]
        out_dir /= max(float(np.linalg.norm(out_dir)), 1e-6)
        c = pts[outer] + out_dir * 0.7 * ew
        cv2.circle(mask, (int(round(c[0])), int(round(c[1]))), max(1, int(0.6 * ew)), 1, -1)
    return _soft(mask, 0.1 * ew)


def corridors(shape: tuple[int, int], pts: np.ndarray, f: float) -> np.ndarray:
    """Nasolabial folds (nose wing -> a little past the mouth corner) and the upper part of the
    marionette lines, as thick soft lines."""
    ew = eye_width(pts)
    mask = np.zeros(shape, np.uint8)
    width = max(1, int(round(0.3 * ew)))
    for a, b in NASOLABIAL:
        p, q = pts[a], pts[b]
        q = q + (q - p) * 0.15
        cv2.line(mask, tuple(int(round(v)) for v in p), tuple(int(round(v)) for v in q), 1, width)
    for a, b in MARIONETTE:
        p, q = pts[a], pts[b]
        q = p + (q - p) * 0.45
        cv2.line(mask, tuple(int(round(v)) for v in p), tuple(int(round(v)) for v in q), 1,
                 max(1, int(round(0.22 * ew))))
    return _soft(mask, 0.12 * ew)


def cheek_apples(shape: tuple[int, int], pts: np.ndarray, f: float) -> np.ndarray:
    mask = np.zeros(shape, np.float32)
    for i in CHEEK_APPLES:
        cv2.circle(mask, (int(round(pts[i][0])), int(round(pts[i][1]))), max(1, int(0.12 * f)), 1.0, -1)
    return blur(mask, 0.08 * f)


class Quarter:
    """The zones built at quarter scale (they are soft; callers upsample with ``grow_to``)."""

    def __init__(self, shape: tuple[int, int], pts: np.ndarray, f: float) -> None:
        h, w = shape
        self.shape = ((h + 3) // 4, (w + 3) // 4)
        self.pts = pts * [self.shape[1] / w, self.shape[0] / h]
        self.f = f * self.shape[1] / w

    def forehead(self) -> np.ndarray:
        return forehead(self.shape, self.pts, self.f)

    def crows_feet(self) -> np.ndarray:
        return crows_feet(self.shape, self.pts, self.f)

    def under_eye(self, near: float, far: float) -> np.ndarray:
        return under_eye(self.shape, self.pts, self.f, near, far)

    def corridors(self) -> np.ndarray:
        return corridors(self.shape, self.pts, self.f)

    def cheek_apples(self) -> np.ndarray:
        return cheek_apples(self.shape, self.pts, self.f)

    def away_from_eyes(self, margin: float) -> np.ndarray:
        """0 within ``margin`` x F of either eye outline, rising softly to 1."""
        eyes = poly(self.shape, self.pts[RIGHT_EYE], hull=True) | poly(self.shape, self.pts[LEFT_EYE], hull=True)
        near = cv2.dilate(eyes, disc(margin * self.f))
        return 1.0 - blur(near.astype(np.float32), 0.3 * margin * self.f)
