"""Pixel helpers shared by the detection passes: power-of-2 shrinks, mirrored borders, image
pyramids, overlapping window spans, the colour test and the skin-chroma integral that gates
windows, and the conversion of any input to 8-bit RGB.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np

from .common import _DET_INPUT, _SKIN_CB, _SKIN_CELL, _SKIN_CR


class _Shrinks(threading.local):
    """This thread's :func:`shared_shrinks` scope: None outside one, else ``pixels`` -> what is known
    of those pixels (``"half"``: their first 2x2 halving; ``(tw, th, last)``: a :func:`shrink` result)."""

    memo: dict[tuple, dict[Any, Any]] | None = None


_shrinks = _Shrinks()


def _pixels(img: np.ndarray) -> tuple:
    """The pixels an array shows: its buffer address, shape, strides and type (two views alike are the
    same pixels: ``image[:, :, :3]`` taken twice)."""
    return (img.__array_interface__["data"][0], img.shape, img.strides, img.dtype.str)


@contextlib.contextmanager
def shared_shrinks(*images: np.ndarray) -> Iterator[None]:
    """Within (on this thread), :func:`shrink` of the ``images``' pixels and of their halvings is made once:
    the whole-image passes' copy, the proposal and window pyramids, the colour tests of one image
    halve a 12 MP frame to 2000 x 1500 up to five times (~9 ms each; grey 12 MP: every pass from the
    full frame), a grey 1080p frame is shrunk to 640 x 360 twice. The same OpenCV calls on the same
    pixels: the same results, reused (a result handed out again is a copy). The caller must not
    change ``images`` meanwhile; the scope holds what it made until it ends."""
    saved = _shrinks.memo
    _shrinks.memo = {_pixels(image): {"image": image} for image in images}
    try:
        yield
    finally:
        _shrinks.memo = saved


def _halve(cur: np.ndarray, ch: int, cw: int, known: dict[Any, Any] | None) -> np.ndarray:
    if known is None:
        return cv2.resize(cur[:ch, :cw], (cw // 2, ch // 2), interpolation=cv2.INTER_AREA)
    half = known.get("half")
    if half is None:
        half = known["half"] = cv2.resize(cur[:ch, :cw], (cw // 2, ch // 2), interpolation=cv2.INTER_AREA)
    return half


def shrink(img: np.ndarray, scale: float, last: int = cv2.INTER_AREA) -> tuple[np.ndarray, float, float]:
    """INTER_AREA downscale of ``img`` by ``scale`` (<= 1) -> (small, sx, sy).

    Exact 2x2 halvings first (OpenCV's SIMD fast path: 12 MP -> 1/8 in ~7 ms instead of ~40),
    then one fractional step (``last``: its interpolation; ``INTER_LINEAR`` is ~8x faster than
    ``INTER_AREA`` for a 0.5-1 step of a full frame). ``small`` pixel = image pixel * (sx, sy); an
    odd last row or column may be dropped by a halving, which (sx, sy) accounts for. Inside
    :func:`shared_shrinks`, made once per image (and target size and ``last``).
    """
    h, w = img.shape[:2]
    tw, th = max(1, round(w * scale)), max(1, round(h * scale))
    if (tw, th) == (w, h):
        return np.ascontiguousarray(img), 1.0, 1.0
    memo = _shrinks.memo
    known = memo.get(_pixels(img)) if memo is not None else None
    done = known.get((tw, th, last)) if known is not None else None
    if done is not None:
        return done[0].copy(), done[1], done[2]
    first = known
    used_w, used_h = w, h
    cur = img
    while cur.shape[1] >= 2 * tw and cur.shape[0] >= 2 * th:
        ch, cw = cur.shape[0] // 2 * 2, cur.shape[1] // 2 * 2
        used_w -= (cur.shape[1] - cw) * (used_w / cur.shape[1])
        used_h -= (cur.shape[0] - ch) * (used_h / cur.shape[0])
        cur = _halve(cur, ch, cw, known)
        if known is not None:            # the halving's own halvings, known too
            assert memo is not None
            known = memo.setdefault(_pixels(cur), {"image": cur})
    if (cur.shape[1], cur.shape[0]) != (tw, th):
        cur = cv2.resize(cur, (tw, th), interpolation=last)
    elif known is not None:              # a halving handed out: the memo keeps its own
        cur = cur.copy()
    out = np.ascontiguousarray(cur), tw / used_w, th / used_h
    if first is not None:
        first[(tw, th, last)] = (out[0].copy(), out[1], out[2])
    return out


_ROTATE = {1: cv2.ROTATE_90_COUNTERCLOCKWISE, 2: cv2.ROTATE_180, 3: cv2.ROTATE_90_CLOCKWISE}


def rot90(img: np.ndarray, k: int) -> np.ndarray:
    """``np.ascontiguousarray(np.rot90(img, k))`` (quarter turns counter-clockwise), the same
    pixels, by ``cv2.rotate``: a pure permutation, ~15x faster than numpy's strided copy of a
    turned view (640x360 RGB: 1.5 -> 0.1 ms; the turned whole-image and proposal passes make six
    such copies an image)."""
    k %= 4
    if k == 0:
        return np.ascontiguousarray(img)
    return cv2.rotate(np.ascontiguousarray(img), _ROTATE[k])


def unturn(px: Any, py: Any, k: int, w: float, h: float) -> tuple[Any, Any]:
    """Points (scalars or arrays) found in :func:`rot90` ``(img, k)`` of a ``w`` x ``h`` image,
    back in the image's own coordinates."""
    k %= 4
    if k == 1:
        return w - py, px
    if k == 2:
        return w - px, h - py
    if k == 3:
        return py, h - px
    return px, py


def mirror_pad(img: np.ndarray, pad: int) -> np.ndarray:
    """``img`` with a ``pad`` px mirrored border (``BORDER_REFLECT_101``) on every side.

    A face cut by the frame becomes a whole (mirror-symmetric) face that the detector and the
    landmark model recognise; detections centred in the border are dropped (:func:`_select`),
    and nothing outside the frame is ever written.
    """
    if pad <= 0:
        return np.ascontiguousarray(img)
    return cv2.copyMakeBorder(np.ascontiguousarray(img), pad, pad, pad, pad, cv2.BORDER_REFLECT_101)


def _windows(length: int, side: int, overlap: float | None = None) -> list[tuple[int, int]]:
    """Spans of ``side`` px covering ``length`` (scaled) pixels, overlapping by >= ``overlap``
    px (default 20 % of ``side``)."""
    if length <= side:
        return [(0, length)]
    overlap = 0.2 * side if overlap is None else overlap
    n = max(2, math.ceil((length - overlap) / (side - overlap) - 0.05))
    return [(round(i * (length - side) / (n - 1)), round(i * (length - side) / (n - 1)) + side)
            for i in range(n)]


def _pyramid(image: np.ndarray | None, scales: list[float],
             scaled: tuple[np.ndarray, float, float] | None,
             last: int = cv2.INTER_AREA) -> list[tuple[np.ndarray, float, float]]:
    """(src, sx, sy) per scale (decreasing), each shrunk from the previous one; the first from
    ``scaled`` (a reduced copy) when it has the resolution, else from ``image``."""
    sources: list[tuple[np.ndarray, float, float]] = []
    prev: tuple[np.ndarray, float, float] | None = None
    for need in scales:
        if prev is None:
            if scaled is not None and min(scaled[1], scaled[2]) >= need * 0.999:
                prev = scaled
            else:
                assert image is not None
                prev = (image, 1.0, 1.0)
        src, sx, sy = prev
        if min(sx, sy) > need * 1.001:
            src, ex, ey = shrink(src, need / min(sx, sy), last)
            sx, sy = sx * ex, sy * ey
        prev = (src, sx, sy)
        sources.append(prev)
    return sources


def _colourful(rgb: np.ndarray) -> bool:
    """Mean chroma of a <= 64 px sample grid at or above verify's grey limit."""
    from ..verify import GREY_CHROMA

    step = max(1, min(rgb.shape[:2]) // 64)
    sample = np.ascontiguousarray(rgb[::step, ::step, :3])
    ycc = cv2.cvtColor(sample, cv2.COLOR_RGB2YCrCb)[:, :, 1:].astype(np.int16) - 128
    return float(np.abs(ycc).sum(axis=2).mean()) >= GREY_CHROMA


def _skin_integral(rgb: np.ndarray, colour: bool = False) -> np.ndarray | None:
    """Integral image of the skin-chroma cells (Chai & Ngan's Cr/Cb box widened, nearly the locus
    that :mod:`.verify` requires of a face's cheeks), or None for a colourless image (grey faces
    are verified without colour, so nothing can be skipped) unless ``colour`` says the whole
    image was found colourful (:func:`_colourful`: then a grey backdrop is gated too).

    A window without a patch of skin chroma cannot hold a face that passes verification, so
    the window pass skips it: on a typical photo most windows are sky, walls, floor."""
    from ..verify import GREY_CHROMA

    small, _, _ = shrink(rgb[:, :, :3], 1 / _SKIN_CELL)    # 4x4 means: chroma noise averages out
    ycc = cv2.cvtColor(small, cv2.COLOR_RGB2YCrCb)
    step = max(1, min(ycc.shape[:2]) // 64)
    sample = ycc[::step, ::step, 1:].astype(np.int16) - 128
    if not colour and float(np.abs(sample).sum(axis=2).mean()) < GREY_CHROMA:
        return None
    mask = cv2.inRange(ycc, (0, _SKIN_CR[0], _SKIN_CB[0]), (255, _SKIN_CR[1], _SKIN_CB[1]))
    return cv2.integral(mask // 255)


def _area(integral: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> int:
    """Skin pixels (in _SKIN_CELL x _SKIN_CELL cells) of the window [x0, x1) x [y0, y1)."""
    n = _SKIN_CELL
    h, w = integral.shape[0] - 1, integral.shape[1] - 1
    x0, y0 = min(w, max(0, x0 // n)), min(h, max(0, y0 // n))      # clipped to the integral: a
    x1, y1 = min(w, max(x0, -(-x1 // n))), min(h, max(y0, -(-y1 // n)))   # window may lie outside it
    return int(integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0])


def _as_rgb8(image: np.ndarray) -> np.ndarray:
    """Any H x W (x C) uint8/uint16 image -> H x W x 3 uint8 RGB for the models."""
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise TypeError(f"expected uint8 or uint16 pixels, got {image.dtype}")
    if image.ndim == 2:
        image = image[:, :, None]
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    return image[:, :, :3]


def centred_rows(rows: np.ndarray, cell: int, used: int, slack: float = 0.3) -> Iterator[tuple[int, int, int, np.ndarray]]:
    """Detector rows (score, box, eyes) of a _DET_INPUT px mosaic of ``cell`` px cells, ``used`` of
    them filled row by row, whose box is centred within ``slack`` x cell of its cell's centre:
    (slot, col, row, the row as float64), in the rows' order."""
    n = _DET_INPUT // cell
    for r in rows.astype(np.float64):
        x, y = (r[1] + r[3]) / 2, (r[2] + r[4]) / 2
        col, row = int(x // cell), int(y // cell)
        slot = row * n + col
        if not (0 <= col < n and 0 <= row < n) or slot >= used:
            continue
        if abs(x - (col + 0.5) * cell) > slack * cell or abs(y - (row + 0.5) * cell) > slack * cell:
            continue
        yield slot, col, row, r
