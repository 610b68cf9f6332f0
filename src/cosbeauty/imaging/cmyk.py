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


def cmyk_from_rgb(rgb: np.ndarray, cmyk: np.ndarray) -> np.ndarray:
    """Four planes (float32, Pillow's CMYK convention) that Pillow's CMYK -> RGB conversion (the
    one :mod:`.codec` decodes with: R = (255 - C)(255 - K) / 255) turns into ``rgb``, keeping
    the source's ink ``cmyk`` exactly where ``rgb`` is still its conversion and its K plane
    wherever that K can still give the pixel (K is lowered only under a pixel made lighter
    than 255 - K)."""
    cmyk = np.ascontiguousarray(cmyk)
    src_rgb = cmyk_to_rgb(cmyk)                       # = Pillow's conversion, bit for bit
    same = cv2.transform(cv2.absdiff(rgb, src_rgb), np.ones((1, 3), np.float32)) == 0   # saturating sum
    channels = cv2.split(rgb)
    brightest = cv2.max(cv2.max(channels[0], channels[1]), channels[2])
    k = cv2.min(np.ascontiguousarray(cmyk[..., 3]), cv2.bitwise_not(brightest)).astype(np.float32)
    scale = np.float32(255) / np.maximum(np.float32(255) - k, np.float32(1))
    planes = []
    for channel in channels:                          # 255 - value * scale, >= 0 (<= 255 as scale >= 0)
        plane = channel.astype(np.float32)
        np.multiply(plane, scale, out=plane)
        np.subtract(np.float32(255), plane, out=plane)
        planes.append(np.maximum(plane, np.float32(0), out=plane))
    out = cv2.merge([*planes, k])
    out = cv2.copyTo(cmyk.astype(np.float32), same.view(np.uint8), out)
    return np.rint(out, out=out)
