"""Tone: redness/blotchiness evened, whitening by a tone curve that keeps shading, rosy cheeks.

All three act on the low-frequency base (blur at 0.01 F) so texture contrast is kept:

* redness: Cr above the skin's median is pulled back (per pixel, at blotch scale);
* whitening: a luma *offset* with a shoulder toward white and a toe toward black, so every
  mid-tone rises by about the same amount (shadows are not lifted more than highlights, the
  face keeps its modelling), plus a little less yellow (Cb toward blue);
* rosy: a small Cr increase, strongest on the cheek apples.

The change is returned unmasked; the driver computes it at half work scale (it is smooth) and
applies it with the tone mask (face skin and the connected neck skin) so it continues past the
jaw.
"""

from __future__ import annotations

import cv2
import numpy as np

from . import zones
from .common import blur, grow_to, luma

WHITEN_LEVELS = 6.5 / 255      # luma offset at whitening = 1
WHITEN_CB = 2.5 / 255          # Cb increase (less yellow) at whitening = 1
REDNESS_KEEP = 0.35            # fraction of excess redness kept at tone = 1
ROSY_CR = 3.0 / 255            # Cr increase on the cheek apples at rosy = 1


def rosy_cr(shape: tuple[int, int], pts: np.ndarray, f: float, rosy: float) -> np.ndarray:
    """The rosy step's Cr change at ``shape`` (the tone's scale): landmarks only, so the retouch
    makes it during the heal (round 21)."""
    apples = grow_to(zones.Quarter(shape, pts, f).cheek_apples(), shape)
    return (0.4 + 0.6 * apples) * np.float32(rosy * ROSY_CR)


def tone_delta(cur: np.ndarray, skin: np.ndarray, pts: np.ndarray, f: float, *, tone: float,
               whitening: float, rosy: float, rosy_change: np.ndarray | None = None) -> np.ndarray:
    """The tone change (H x W x 3 float32, unmasked) of ``cur``; ``rosy_change``: :func:`rosy_cr`
    of the same shape, landmarks, F and amount when already made."""
    base = blur(cur, max(0.8, 0.01 * f))
    y = luma(base)
    cr = (base[..., 0] - y) * 0.713
    d_cr = np.zeros_like(y)
    d_cb = np.zeros_like(y)
    d_y = np.zeros_like(y)
    if tone > 0:
        sel = skin > 0.5
        med = float(np.median(cr[::2, ::2][sel[::2, ::2]])) if sel.any() else float(np.median(cr))
        excess = np.maximum(blur(cr, 0.01 * f) - med, 0)
        d_cr -= excess * np.float32(tone * (1 - REDNESS_KEEP))
    if whitening > 0:
        shoulder = np.clip((0.98 - y) / 0.25, 0, 1) * np.clip((y - 0.06) / 0.15, 0, 1)
        d_y += shoulder * np.float32(whitening * WHITEN_LEVELS)
        d_cb += shoulder * np.float32(whitening * WHITEN_CB)
    if rosy > 0:
        d_cr += rosy_cr(y.shape, pts, f, rosy) if rosy_change is None else rosy_change
    # YCrCb (Cr = 0.713 (R - Y), Cb = 0.564 (B - Y)) -> RGB change
    d_r = d_y + 1.403 * d_cr
    d_g = d_y - 0.714 * d_cr - 0.344 * d_cb
    d_b = d_y + 1.773 * d_cb
    return cv2.merge([d_r, d_g, d_b])     # float32 already: one pass (was stack + astype)
