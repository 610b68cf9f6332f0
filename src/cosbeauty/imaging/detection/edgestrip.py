"""The frame's edge strips of :mod:`.greyedge` and :mod:`.greysides`: an edge band of the image with a
mirrored border beyond the frame (and at the corners), scaled so that each level shows its faces
:data:`SHOWN` px wide, cut in :data:`TILE` px tiles along the edge; the short-range model's rows of a
tile mapped back to image px (the strip geometry and levels: :mod:`.greyedge`'s docstring).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .common import _Detection

SHOWN = 60              # each level shows its faces this wide (px)
FIRST = 40 / 1920       # the first level's face, x the image's long side (40 px at 1920) ...
FIRST_PX = 40           # ... and at least this (px): smaller images show their small faces big enough
STEP = 2.0              # face size ratio between levels
LARGEST = 0.5           # ... up to this x the short side
STRIP = 64              # strip depth (px, the border included)
BORDER = 24             # ... its mirrored rows beyond the frame's edge
TILE = 384              # tiles along the strip (px)
_OVERLAP = 96           # ... overlapping by this (a face shown up to ~SHOWN * sqrt(STEP) wide, with margin)


def levels(h: int, w: int) -> list[float]:
    """Scales (strip px per image px) of the levels: faces FIRST x the long side, then STEP x larger,
    up to LARGEST x the short side."""
    face = max(FIRST * max(h, w), FIRST_PX)
    out = []
    while face <= LARGEST * min(h, w) * math.sqrt(STEP):
        out.append(SHOWN / face)
        face *= STEP
    return out


def _band(src: np.ndarray, side: str, k: float) -> tuple[np.ndarray, float, float]:
    """The edge strip of ``src`` on ``side`` at scale ``k``: (strip, x, y of its top-left in ``src``
    px units before scaling, i.e. strip px = (src px - origin) * k)."""
    h, w = src.shape[:2]
    inner = STRIP - BORDER
    b = max(1, math.ceil(BORDER / k))                       # border, src px
    d = min(math.ceil(inner / k), h if side in ("top", "bottom") else w)   # band depth, src px
    if side == "top":
        part, top, bot, lft, rgt, ox, oy = src[:d], b, 0, b, b, -b, -b
    elif side == "bottom":
        part, top, bot, lft, rgt, ox, oy = src[h - d:], 0, b, b, b, -b, h - d
    elif side == "left":
        part, top, bot, lft, rgt, ox, oy = src[:, :d], b, b, b, 0, -b, -b
    else:
        part, top, bot, lft, rgt, ox, oy = src[:, w - d:], b, b, 0, b, w - d, -b
    framed = cv2.copyMakeBorder(np.ascontiguousarray(part[:, :, :3]), top, bot, lft, rgt, cv2.BORDER_REFLECT_101)
    fh, fw = framed.shape[:2]
    size = (max(16, round(fw * k)), max(16, round(fh * k)))
    strip = cv2.resize(framed, size, interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
    return strip, ox, oy


def _tiles(length: int) -> list[int]:
    """Starts of TILE px tiles covering ``length`` px, overlapping by >= _OVERLAP."""
    if length <= TILE:
        return [0]
    n = math.ceil((length - _OVERLAP) / (TILE - _OVERLAP))
    return [round(i * (length - TILE) / (n - 1)) for i in range(n)]


def jobs(src: np.ndarray, k: float, sides: tuple[str, ...]) -> list[tuple[np.ndarray, float, float, float]]:
    """(tile, x, y origin in ``src`` px, scale) of every tile of the strips on ``sides`` at scale ``k``."""
    out = []
    for side in sides:
        strip, ox, oy = _band(src, side, k)
        across = side in ("top", "bottom")
        deep = strip.shape[0] if across else strip.shape[1]
        if deep > STRIP:                                   # rounding: keep STRIP px next to the edge
            cut = slice(0, STRIP) if side in ("top", "left") else slice(deep - STRIP, deep)
            strip = strip[cut] if across else strip[:, cut]
            if side in ("bottom", "right"):
                off = (deep - STRIP) / k
                ox, oy = (ox, oy + off) if across else (ox + off, oy)
        elif deep < STRIP:
            continue
        length = strip.shape[1] if across else strip.shape[0]
        if length < TILE:
            pad = ((0, 0), (0, TILE - length)) if across else ((0, TILE - length), (0, 0))
            strip = np.pad(strip, (*pad, (0, 0)), mode="edge")
            length = TILE
        for s in _tiles(length):
            tile = strip[:, s:s + TILE] if across else strip[s:s + TILE]
            out.append((np.ascontiguousarray(tile), ox + (s / k if across else 0.0),
                        oy + (0.0 if across else s / k), k))
    return out


def detections(rows: np.ndarray, ox: float, oy: float, k: float, sx: float, sy: float,
               h: int, w: int) -> list[_Detection]:
    """Coarse candidates (image px) of a strip tile's detector ``rows`` (tile px; the tile's origin
    ``ox, oy`` in source px, ``k`` strip px per source px, ``sx, sy`` source px per image px) whose
    centre lies in the frame."""
    out = []
    for r in rows.astype(np.float64):
        xs, ys = (r[1:9:2] / k + ox) / sx, (r[2:9:2] / k + oy) / sy
        cx, cy = (xs[0] + xs[1]) / 2, (ys[0] + ys[1]) / 2
        if 0 <= cx < w and 0 <= cy < h:
            out.append(_Detection(np.array([xs[0], ys[0], xs[1], ys[1]]), float(r[0]),
                                  np.stack([xs[2:4], ys[2:4]], axis=1), coarse=True))
    return out
