"""Synthetic test scenes built from the astronaut photo (shared by tests and bench/beauty.py)."""

from __future__ import annotations

import cv2
import numpy as np
import skimage.data


def one_face(w: int, h: int) -> np.ndarray:
    """The astronaut scaled to the frame height, centred on a mid-grey canvas."""
    face = cv2.resize(skimage.data.astronaut(), (h, h), interpolation=cv2.INTER_CUBIC)
    canvas = np.full((h, w, 3), 128, np.uint8)
    x = (w - h) // 2
    canvas[:, x:x + h] = face
    return canvas


def six_faces(w: int, h: int) -> np.ndarray:
    """A 3x2 grid of astronauts on a w x h canvas."""
    cell = min(w // 3, h // 2)
    tile = cv2.resize(skimage.data.astronaut(), (cell, cell), interpolation=cv2.INTER_AREA)
    canvas = np.full((h, w, 3), 128, np.uint8)
    for i in range(6):
        x, y = (i % 3) * cell + (w - 3 * cell) // 2, (i // 3) * cell + (h - 2 * cell) // 2
        canvas[y:y + cell, x:x + cell] = tile
    return canvas
