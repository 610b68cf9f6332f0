"""Spot healing: small dark or red anomalies on skin (acne, blemishes, spots up to ~2 % of the
face width in radius) are found against a local median and replaced by that median plus skin
texture copied from a neighbouring patch (so no smooth disc is left). Larger compact marks
(moles, birthmarks) are only softened.

Detection at work scale: anomaly = G(0.8) * image - median (the median at half resolution,
window 0.1 F, so spots up to 0.04 F across vanish from it). A candidate is darker than
max(5 levels, 3 robust sigma) in luma or redder than max(4, 3 sigma) in Cr, on skin. Connected
components are kept if compact (aspect <= 3, fill >= 0.3) and at most 0.05 F across; compact
components up to 0.12 F are moles (softened by 40 %); everything else (lines, frames) is left.
"""

from __future__ import annotations

import cv2
import numpy as np

from .common import blur, disc, luma, odd

MAX_SPOT = 0.05          # x F: widest healed spot (bounding box side)
MAX_MOLE = 0.12          # x F: widest softened mark
MOLE_SOFTEN = 0.4


def _median_reference(work: np.ndarray, f: float) -> np.ndarray:
    h, w = work.shape[:2]
    half = cv2.resize(work, ((w + 1) // 2, (h + 1) // 2), interpolation=cv2.INTER_AREA)
    half8 = cv2.convertScaleAbs(half, alpha=255.0)
    med = cv2.medianBlur(half8, odd(0.05 * f))
    return cv2.resize(med, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32) * np.float32(1 / 255)


def _robust_sigma(x: np.ndarray) -> float:
    if x.size < 10:
        return 0.0
    return float(1.4826 * np.median(np.abs(x - np.median(x))))


def spot_weights(work: np.ndarray, skin: np.ndarray, f: float) -> tuple[np.ndarray, np.ndarray]:
    """(heal weight in [0, 1] per pixel, median reference H x W x 3)."""
    ref = _median_reference(work, f)
    anomaly = blur(work, 0.8) - ref
    dy = luma(anomaly) * 255
    dcr = (anomaly[..., 0] * 255 - dy) * 0.713
    on_skin = skin > 0.5
    sample = on_skin[::2, ::2]
    thr_dark = max(5.0, 3.0 * _robust_sigma(dy[::2, ::2][sample]))
    thr_red = max(4.0, 3.0 * _robust_sigma(dcr[::2, ::2][sample]))
    cand = (((dy < -thr_dark) | (dcr > thr_red)) & on_skin).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(cand, connectivity=8)
    weight = np.zeros(n, np.float32)
    if n > 1:
        bw, bh, area = stats[1:, 2], stats[1:, 3], stats[1:, 4]
        side = np.maximum(bw, bh)
        compact = (np.maximum(bw, bh) <= 3 * np.minimum(bw, bh)) & (area >= 0.3 * bw * bh)
        spot = compact & (side <= max(2.0, MAX_SPOT * f))
        mole = compact & ~spot & (side <= MAX_MOLE * f)
        weight[1:] = np.where(spot, 1.0, np.where(mole, MOLE_SOFTEN, 0.0))
    w = weight[labels]
    w = cv2.dilate(w, disc(max(1.0, 0.006 * f)))
    return blur(w, max(0.7, 0.003 * f)), ref


def heal_delta(work: np.ndarray, skin: np.ndarray, f: float, amount: float) -> np.ndarray | None:
    """The change (H x W x 3) that heals spots, or None when there is nothing to heal."""
    w, ref = spot_weights(work, skin, f)
    if not w.any():
        return None
    y = luma(work)
    texture = y - blur(y, max(0.8, 0.004 * f))
    shift = max(2, int(round(MAX_SPOT * f)))
    texture = np.roll(texture, shift, axis=1)                 # skin grain from a neighbour patch
    target = ref + texture[..., None]
    w *= np.float32(amount)
    return (target - work) * w[..., None]
