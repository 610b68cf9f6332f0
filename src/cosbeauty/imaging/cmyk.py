"""CMYK <-> RGB conversions shared by the codec and the JPEG coefficient splice (Pillow's
convention: 255 = full ink; libjpeg's Adobe CMYK is stored inverted)."""

from __future__ import annotations

import cv2
import numpy as np


def cmyk_to_rgb(cmyk: np.ndarray) -> np.ndarray:
    """H x W x 4 CMYK (Pillow convention, 255 = full ink) -> H x W x 3 RGB, bit-identical to
    Pillow's ``convert("RGB")`` (its naive inversion: R = 255 - K - round(C (255 - K) / 255), which
    is never a tie), with OpenCV from an array: no second copy of the image through Pillow."""
    cmyk = np.ascontiguousarray(cmyk)
    cmy = cv2.cvtColor(cmyk, cv2.COLOR_RGBA2RGB)
    white = cv2.cvtColor(cv2.bitwise_not(cv2.extractChannel(cmyk, 3)), cv2.COLOR_GRAY2RGB)
    return cv2.subtract(white, cv2.multiply(cmy, white, dst=cmy, scale=1 / 255), dst=cmy)


def ink_to_rgb(ink: np.ndarray) -> np.ndarray:
    """:func:`cmyk_to_rgb` of libjpeg's inverted CMYK (255 - C, ..., 255 - K): Pillow's
    R = 255 - K - round(C (255 - K) / 255) is round((255 - C) (255 - K) / 255)."""
    cmy = cv2.cvtColor(ink, cv2.COLOR_RGBA2RGB)        # channel moves: no split/merge of planes
    white = cv2.cvtColor(cv2.extractChannel(ink, 3), cv2.COLOR_GRAY2RGB)
    return cv2.multiply(cmy, white, dst=cmy, scale=1 / 255)
