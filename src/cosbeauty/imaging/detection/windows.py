"""Stage 1, window pass (grey images): the full-range detector on overlapping 192 px windows
of an image pyramid (:func:`_levels`), windows without skin chroma skipped.
"""

from __future__ import annotations

import numpy as np

from .imageops import _area, _pyramid, _skin_integral, _windows, mirror_pad
from .models import _detect_full
from .threads import pmap
from .types import _DET_INPUT, _LEVEL_STEP, _MIN_FACE_FRACTION, _TILE_FACE_PX, _WINDOW_MIN_SKIN, _WINDOW_PAD, _Detection
from .whole import _detect_in


def min_face(h: int, w: int, min_face_px: int = 20) -> float:
    """Smallest face width (px) the window pass is built to find in an h x w image: 24 px at
    1920x1080, 48 px at 4000x3000 (1.2 % of the long side), never under ``min_face_px``."""
    return max(float(min_face_px), _MIN_FACE_FRACTION * max(h, w))


def _levels(h: int, w: int, min_face_px: int = 20) -> list[float]:
    """Scales of the window pass: level k finds faces of ~[m 2^k, 2.4 m 2^k] px (m =
    :func:`min_face`), each seen >= _TILE_FACE_PX wide by the detector in 192 px windows;
    levels stop where the whole-image pass (long side letterboxed to 192) takes over."""
    m = min_face(h, w, min_face_px)
    whole = _TILE_FACE_PX * max(h, w) / _DET_INPUT          # faces the whole pass sees
    scales = []
    size = m
    while size < whole:
        scale = min(1.0, _TILE_FACE_PX / size)
        if max(h, w) * scale <= _DET_INPUT * 1.2:            # one window: the whole pass again
            break
        scales.append(scale)
        size *= _LEVEL_STEP
    return scales


def _tile_pass(image: np.ndarray | None, h: int, w: int,
               scaled: tuple[np.ndarray, float, float] | None = None,
               min_face_px: int = 20) -> list[_Detection]:
    """Detector on overlapping 192 px windows of the image at each scale of :func:`_levels`
    (an image pyramid: each level is shrunk from the previous one). The source is ``image``,
    or ``scaled`` = (src, sx, sy), an already reduced copy, when it has at least the first
    level's resolution. All windows of all levels run through :func:`pmap`."""
    levels = _levels(h, w, min_face_px)
    if not levels:
        return []
    sources = _pyramid(image, levels, scaled)
    jobs = []
    pad = _WINDOW_PAD
    for src, sx, sy in sources:
        padded = mirror_pad(src, pad)
        sh, sw = padded.shape[:2]
        skin = _skin_integral(padded)
        jobs += [(padded, sx, sy, x0, y0, x1, y1) for y0, y1 in _windows(sh, _DET_INPUT)
                 for x0, x1 in _windows(sw, _DET_INPUT)
                 if skin is None or _area(skin, x0, y0, x1, y1) >= _WINDOW_MIN_SKIN]
    return [d for found in pmap(lambda j: _window_in(j[0][j[4]:j[6], j[3]:j[5]], j[3] - pad, j[4] - pad,
                                                     j[1], j[2]), jobs)
            for d in found]


def _window_in(win: np.ndarray, x0: float, y0: float, sx: float, sy: float) -> list[_Detection]:
    """:func:`_detect_in` for one window of the window pass; a 192 x 192 one through LiteRT
    (:func:`_detect_full`, the same detections), others through MediaPipe's graph (letterbox)."""
    if win.shape[:2] != (_DET_INPUT, _DET_INPUT):
        return _detect_in(win, x0, y0, sx, sy)
    return [_Detection(np.array([(r[1] + x0) / sx, (r[2] + y0) / sy, (r[3] + x0) / sx, (r[4] + y0) / sy]),
                       float(r[0]), np.array([[(r[5] + x0) / sx, (r[6] + y0) / sy], [(r[7] + x0) / sx, (r[8] + y0) / sy]]))
            for r in _detect_full(win).astype(np.float64)]
