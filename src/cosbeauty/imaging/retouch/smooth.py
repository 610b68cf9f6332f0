"""Skin smoothing: a self-guided filter (He et al.) separates a smooth base; the residual's
coarse part (blotches, fine wrinkles) is removed, the finest band (pores) stays."""

from __future__ import annotations

import cv2
import numpy as np

from .common import blur, morph_disc

LOCAL_MEAN = 0.015       # x F: the smoothing change has zero mean at this scale ...
RIM = 0.14               # x F: ... within this distance of the face outline


def guided_self(p: np.ndarray, r: int, eps: float) -> np.ndarray:
    """Self-guided filter of each channel of ``p`` (float32, H x W x C)."""
    k = (2 * r + 1, 2 * r + 1)
    box = lambda x: cv2.boxFilter(x, -1, k, borderType=cv2.BORDER_REPLICATE)  # noqa: E731
    mean = box(p)
    tmp = np.multiply(p, p)
    var = box(tmp)
    np.multiply(mean, mean, out=tmp)
    var -= tmp                                   # var = box(p p) - mean^2
    np.add(var, eps, out=tmp)
    a = np.divide(var, tmp, out=var)             # a = var / (var + eps)
    np.multiply(a, mean, out=tmp)
    b = np.subtract(mean, tmp, out=mean)         # b = mean - a mean
    out = box(a)
    out *= p
    out += box(b)                                # box(a) p + box(b)
    return out


def controls(s: float) -> tuple[float, float, float, float]:
    """(removed coarse fraction, radius x F, eps, removed pore fraction) for amount s."""
    return s ** 0.7, 0.02 + 0.03 * s, (0.02 + 0.10 * s) ** 2, 0.40 * s * s


def base_layer(work: np.ndarray, f: float, s: float) -> np.ndarray:
    _, radius, eps, _ = controls(s)
    return guided_self(work, max(1, round(radius * f)), eps)


Weights = tuple[np.ndarray, int, np.ndarray]
"""What :func:`smooth_weights` returns: (the mask in three channels, the rim's reduction, the rim's
gain at that scale in three channels). Three channels: numpy's broadcast of an H x W x 1 operand is
~5x slower than the same product of two H x W x 3 arrays (same values)."""


def smooth_weights(mask: np.ndarray, f: float, oval: np.ndarray | None = None,
                   jaw: tuple[np.ndarray, np.ndarray] | None = None) -> Weights:
    """The parts of :func:`smooth_delta` that depend on the mask and the landmarks only (not on
    the image): the retouch computes them during the heal (round 18). Same arguments as there."""
    # the local mean is kept at the coarsest of 1/4, 1/2, 1/1 scale where it is still >= 1 px wide
    h, w = mask.shape[:2]
    ds = next(d for d in (4, 2, 1) if LOCAL_MEAN * f / d >= 1.0 or d == 1)
    size = ((w + ds - 1) // ds, (h + ds - 1) // ds)
    region = mask if oval is None else oval.astype(np.float32)
    m = cv2.resize(region, size, interpolation=cv2.INTER_AREA) if ds > 1 else region
    inner = morph_disc((m > 0.9).astype(np.uint8), False, RIM * f / ds)     # (cv2.erode by disc, by rows)
    rim = 1.0 - blur(inner.astype(np.float32), 0.3 * RIM * f / ds)
    # normalised by the blurred mask: where the mask feathers out (the jaw) a plain blur of the
    # masked change underestimates its local mean, and half of it was left as a step
    ms = cv2.resize(mask, size, interpolation=cv2.INTER_AREA) if ds > 1 else mask
    sigma = LOCAL_MEAN * f / ds
    weight = cv2.GaussianBlur(ms.astype(np.float32, copy=False), (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    gain = 1.0 / np.maximum(weight, 0.05)
    if jaw is not None:
        (px, py), (dx, dy) = jaw[0] / ds, jaw[1]
        gx = np.arange(size[0], dtype=np.float32)[None, :]    # broadcast: the grids' values
        gy = np.arange(size[1], dtype=np.float32)[:, None]
        below = np.clip(((gx - px) * dx + (gy - py) * dy) / (0.1 * f / ds) + 0.5, 0, 1)
        gain = 1.0 + (gain - 1.0) * below
    return cv2.merge([mask.astype(np.float32, copy=False)] * 3), ds, cv2.merge([rim * gain] * 3)


def smooth_delta(work: np.ndarray, base: np.ndarray, mask: np.ndarray, f: float, s: float,
                 oval: np.ndarray | None = None,
                 jaw: tuple[np.ndarray, np.ndarray] | None = None, weights: Weights | None = None) -> np.ndarray:
    """The change (H x W x 3) that removes the coarse residual inside ``mask``. ``oval`` (the
    face outline) places the zero-mean rim along the jaw and cheeks only, not around the
    eyes, nose and mouth (default: along every edge of ``mask``). ``jaw`` = (a point, the
    face's unit "down" vector), in ``work`` pixels: below that point, where the neck continues
    the face, the rim's local mean is normalised by the mask's own feather (no step at the jaw
    line); above it (hairline, hat) the plain local mean is kept. ``weights``:
    :func:`smooth_weights` of the same mask, oval and jaw when already computed."""
    smooth, _, _, fine = controls(s)
    mask3, ds, rim_gain = weights if weights is not None else smooth_weights(mask, f, oval, jaw)
    residual = work - base
    coarse = blur(residual, max(1.0, 0.004 * f))           # split at the pore scale
    removed = np.subtract(residual, coarse, out=residual)
    removed *= np.float32(fine)
    removed += coarse
    removed *= np.float32(-smooth)
    delta = cv2.multiply(removed, mask3)
    # keep the local mean: near strong edges (the jaw over a shadowed neck, the nose) the
    # residual is not zero-mean, and removing it would shift a band's brightness (a seam)
    # (only in a rim along the face's outline: inside, blotch removal keeps its full effect)
    h, w = delta.shape[:2]
    size = ((w + ds - 1) // ds, (h + ds - 1) // ds)
    small = cv2.resize(delta, size, interpolation=cv2.INTER_AREA) if ds > 1 else delta
    low = cv2.GaussianBlur(small, (0, 0), LOCAL_MEAN * f / ds, borderType=cv2.BORDER_REPLICATE)
    low *= rim_gain
    if ds > 1:
        low = cv2.resize(low, (w, h), interpolation=cv2.INTER_LINEAR)
    delta -= cv2.multiply(low, mask3, dst=low)     # (the same products, in low's buffer: round 21)
    return delta
