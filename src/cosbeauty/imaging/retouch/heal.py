"""Spot healing above the work scale: the spots :func:`.spots.find_spots` found at work scale are
healed on the image's own pixels, one box per group of holes (never the whole face), at a scale
set by the face's size.

Below HEAL_F image px of cheek width the heal runs at full resolution: an upsampled work-scale
heal (F = 200) is softer than a spot of a few image pixels and left its centre dark with a
brighter ring round it. Above it the heal runs at HEAL_F (each box resampled INTER_AREA, the
change upsampled INTER_LINEAR): the smallest spot found (~0.5 % F, a pixel at detection scale) is
still HEAL_F / 200 heal pixels across, so the heal sees its shape, and the cost stops growing
with the face's area (a frame-filling 12 MP face, F ~ 2800 px, spent ~0.5-0.6 s CPU healing at
full resolution; the heal's low-pass alone is a 0.004 F Gaussian, 67 taps there). Image
texture finer than a heal pixel is then kept as it is under the spot.
"""

from __future__ import annotations

import cv2
import numpy as np

from .spots import heal_pad, heal_region, heal_shift

HEAL_F = 600.0           # image px of cheek width: above it the heal runs at this scale
STATS = {"full_px": 0, "heal_px": 0}   # pixels healed at full resolution / read at heal scale (tests)

Box = tuple[int, int, int, int]


def heal_scale(f_full: float) -> float:
    """Heal pixels per image pixel for a face whose cheek width is ``f_full`` image px."""
    return min(1.0, HEAL_F / max(f_full, 1.0))


def heal_full(full: np.ndarray, peak: float, found: tuple[int, int, np.ndarray], f: float, scale: float,
              work_shape: tuple[int, int], amount: float) -> list[tuple[Box, np.ndarray, Box, np.ndarray]]:
    """Heal the spots :func:`.spots.find_spots` found at work scale on the ROI ``full`` (H x W x 3
    uint8/uint16, ``peak`` its white), one box per group of holes (holes grown by what
    :func:`.spots.heal_region` reads, touching ones merged; the grain source 0.05 F to the left
    included): per group, ``(full box, change there in levels (image units x peak), work box, that
    change resampled to work scale in image units 0..1)``. ``f``: cheek width at work scale; ``scale``: work px per image px.
    The weight is resampled exactly (pixel centres) from work scale to the heal's pixels; the
    heal runs at full resolution up to HEAL_F image px of cheek width, at HEAL_F above it."""
    x0, y0, weight = found
    h, w = full.shape[:2]
    sx, sy = w / work_shape[1], h / work_shape[0]
    f_full = f / scale
    hs = heal_scale(f_full)
    shift = heal_shift(f_full)
    hole = (weight > 0.02).astype(np.uint8)
    pad = int(np.ceil(heal_pad(f_full) / min(sx, sy))) + 2
    grown = cv2.dilate(hole, np.ones((2 * pad + 1, 2 * pad + 1), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(grown, connectivity=8)
    out = []
    for k in range(1, n):
        bx, by, bw, bh = (int(v) for v in stats[k, :4])
        wx0, wy0, wx1, wy1 = x0 + bx, y0 + by, x0 + bx + bw, y0 + by + bh      # work box
        fx0, fy0 = int(np.floor(wx0 * sx)), int(np.floor(wy0 * sy))
        fx1, fy1 = min(w, int(np.ceil(wx1 * sx))), min(h, int(np.ceil(wy1 * sy)))
        ex0 = max(0, fx0 - shift)                                             # + the grain's source
        part = weight[by:by + bh, bx:bx + bw] * (labels[by:by + bh, bx:bx + bw] == k)
        if hs < 1.0:
            healed = _heal_scaled(full, peak, part, (ex0, fx0, fy0, fx1, fy1), (wx0, wy0, wx1, wy1),
                                  (sx, sy), f_full, hs, amount)
            if healed is not None:
                out.append(healed)
            continue
        # full pixel X (centre X + 0.5) -> work u = (X + 0.5) / sx - 0.5, local to the work box
        m = np.array([[1 / sx, 0, (ex0 + 0.5) / sx - 0.5 - wx0],
                      [0, 1 / sy, (fy0 + 0.5) / sy - 0.5 - wy0]], np.float32)
        wfull = cv2.warpAffine(part, m, (fx1 - ex0, fy1 - fy0), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        sub = full[fy0:fy1, ex0:fx1].astype(np.float32) * np.float32(1 / peak)
        STATS["full_px"] += sub.shape[0] * sub.shape[1]
        healed = heal_region(sub, wfull, f_full, amount)
        if healed is None:
            continue
        (hx0, hy0, hx1, hy1), change = healed
        inner = np.zeros((fy1 - fy0, fx1 - fx0, 3), np.float32)              # the change on the work box's area
        cx0, cx1 = ex0 + hx0 - fx0, ex0 + hx1 - fx0
        lo = max(0, -cx0)
        inner[hy0:hy1, max(0, cx0):cx1] = change[:, lo:]
        small = cv2.resize(inner, (wx1 - wx0, wy1 - wy0), interpolation=cv2.INTER_AREA)
        out.append(((ex0 + hx0, fy0 + hy0, ex0 + hx1, fy0 + hy1), change * np.float32(peak), (wx0, wy0, wx1, wy1),
                    small))
    return out


def _heal_scaled(full: np.ndarray, peak: float, part: np.ndarray, fbox: tuple[int, int, int, int, int],
                 wbox: Box, s: tuple[float, float], f_full: float, hs: float,
                 amount: float) -> tuple[Box, np.ndarray, Box, np.ndarray] | None:
    """One group of holes healed at ``hs`` heal px per image px: the full box (the grain's source
    ``ex0`` .. ``fx1``, widened to a multiple of the integer part of 1 / hs) resampled by area,
    the weight warped from work scale to its pixel centres, :func:`.spots.heal_region` there, the
    change (in levels) warped back to the image's pixel centres over the holes' box only, and its
    work-scale image for the later steps."""
    ex0, fx0, fy0, fx1, fy1 = fbox
    wx0, wy0, wx1, wy1 = wbox
    sx, sy = s
    h, w = full.shape[:2]
    d = max(1, int(1.0 / hs))
    ex0, ex1 = _multiple(ex0, fx1, d, w)
    ey0, ey1 = _multiple(fy0, fy1, d, h)
    bw, bh = ex1 - ex0, ey1 - ey0
    hw, hh = max(1, round(bw * hs)), max(1, round(bh * hs))
    rx, ry = bw / hw, bh / hh                       # image px per heal px in this box
    sub = _area(full[ey0:ey1, ex0:ex1], d, (hw, hh)).astype(np.float32)
    sub *= np.float32(1 / peak)
    STATS["heal_px"] += hw * hh
    # heal pixel X -> image x = (X + 0.5) rx - 0.5 + ex0 -> work u = (x + 0.5) / sx - 0.5 - wx0
    m = np.array([[rx / sx, 0, (0.5 * rx + ex0) / sx - 0.5 - wx0],
                  [0, ry / sy, (0.5 * ry + ey0) / sy - 0.5 - wy0]], np.float32)
    wh = cv2.warpAffine(part, m, (hw, hh), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                        borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    healed = heal_region(sub, wh, f_full * hs, amount)
    if healed is None:
        return None
    (hx0, hy0, hx1, hy1), change = healed
    box_h = np.zeros((hh, hw, 3), np.float32)
    box_h[hy0:hy1, hx0:hx1] = change
    # in levels, on image pixels, only where the change reaches (the holes' box and one heal pixel
    # more; not the grain's source beside it): heal X = (x - ex0 + 0.5) / rx - 0.5
    X0, X1 = max(ex0, int(np.floor(ex0 + (hx0 - 1) * rx))), min(ex1, int(np.ceil(ex0 + (hx1 + 1) * rx)))
    Y0, Y1 = max(ey0, int(np.floor(ey0 + (hy0 - 1) * ry))), min(ey1, int(np.ceil(ey0 + (hy1 + 1) * ry)))
    # (the box's edge replicated, as a resize of it would: a change reaching the image's border stays)
    mf = np.array([[1 / rx, 0, (X0 - ex0 + 0.5) / rx - 0.5],
                   [0, 1 / ry, (Y0 - ey0 + 0.5) / ry - 0.5]], np.float32)
    change_full = cv2.warpAffine(box_h * np.float32(peak), mf, (X1 - X0, Y1 - Y0),
                                 flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
    # at work scale (what the later steps see; the delta leaves it out again, so an approximation
    # of the area average is enough): blurred to the work pixel's size, sampled at its centres
    k = sx / rx
    soft = cv2.GaussianBlur(box_h, (0, 0), 0.5 * k) if k > 1.5 else box_h
    # work pixel u -> image x = (u + wx0 + 0.5) sx - 0.5 -> heal X = (x - ex0 + 0.5) / rx - 0.5
    mw = np.array([[sx / rx, 0, ((wx0 + 0.5) * sx - ex0) / rx - 0.5],
                   [0, sy / ry, ((wy0 + 0.5) * sy - ey0) / ry - 0.5]], np.float32)
    small = cv2.warpAffine(soft, mw, (wx1 - wx0, wy1 - wy0), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return (X0, Y0, X1, Y1), change_full, (wx0, wy0, wx1, wy1), small


def _multiple(a: int, b: int, d: int, n: int) -> tuple[int, int]:
    """[a, b) widened to a length that is a multiple of ``d`` inside [0, n) (to the far side, else
    to the near one); unchanged when [0, n) is too short."""
    size = -(-(b - a) // d) * d
    if size > n:
        return a, b
    b2 = a + size
    if b2 > n:
        return n - size, n
    return a, b2


def _area(img: np.ndarray, d: int, size: tuple[int, int]) -> np.ndarray:
    """INTER_AREA to ``size`` in two steps: by the integer ``d`` first (OpenCV's fast block-mean
    path, when the sides are multiples of ``d``), then the rest on the small image. The
    non-integer area path costs ~3.6 ms per source megapixel, the block mean ~1."""
    h, w = img.shape[:2]
    if d >= 2 and h % d == 0 and w % d == 0 and w // d >= size[0] and h // d >= size[1]:
        img = cv2.resize(img, (w // d, h // d), interpolation=cv2.INTER_AREA)
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)
