"""Eye bags and dark circles: the band under each lower lid is moved toward the colour of the
cheek below it (one target per side), only where it is darker than that cheek, so it can never
be over-brightened into a grey patch. Runs at half work scale inside the band's box (the
change is smooth; the driver upsamples it with the tone change)."""

from __future__ import annotations

import numpy as np

from . import zones
from .common import blur_rows, luma, nonzero_box

CHEEKS = (50, 280)       # right, left cheek sample points
CAP = 0.07               # max change per channel, 0..1
GAIN = 0.85


def eyebag_band(shape: tuple[int, int], skin: np.ndarray, pts: np.ndarray,
                f: float) -> tuple[np.ndarray, tuple[int, int, int, int] | None]:
    """(the under-eye band on skin, its box or None): mask and landmarks only (the retouch
    computes it during the heal, round 18)."""
    band = zones.under_eye(shape, pts, f, 0.1, 0.75) * skin
    return band, nonzero_box(band > 0.005)


def eyebags_delta(cur: np.ndarray, skin: np.ndarray, pts: np.ndarray, f: float, amount: float,
                  band: tuple[np.ndarray, tuple[int, int, int, int] | None] | None = None) -> np.ndarray:
    """Change (H x W x 3, same scale as ``cur``: the driver passes half work scale) lifting the
    under-eye band toward the cheek. ``band``: :func:`eyebag_band` when already computed."""
    small, pts_s, f_s = cur, pts, f
    band, box = band if band is not None else eyebag_band(small.shape[:2], skin, pts_s, f_s)
    out = np.zeros_like(small)
    if box is None:
        return out
    r = max(1, int(0.06 * f_s))
    x0, y0, x1, y1 = box
    # round 21: the blur made for the rows read only (the cheek patches' and the box's): the same values
    centres = [(int(round(pts_s[idx][0])), int(round(pts_s[idx][1]))) for idx in CHEEKS]
    spans = [slice(max(0, cy - r), cy + r + 1).indices(small.shape[0])[:2] for _, cy in centres]
    lo = min([y0] + [a for a, b in spans if b > a])
    hi = max([y1] + [b for a, b in spans if b > a])
    base_rows = blur_rows(small, 0.02 * f_s, lo, hi)
    targets = []
    for (cx, _), (a, b) in zip(centres, spans):
        patch = base_rows[a - lo:max(a, b) - lo, max(0, cx - r):cx + r + 1].reshape(-1, 3)
        if patch.size == 0:
            return out
        targets.append(np.median(patch, axis=0).astype(np.float32))
    # one target per side, blended smoothly across the nose (no seam between the two bands)
    right, left = pts_s[CHEEKS[0]], pts_s[CHEEKS[1]]
    axis = (left - right) / max(float(np.linalg.norm(left - right)), 1e-6)
    gx = np.arange(x0, x1, dtype=np.float32)[None, :]       # broadcast: the grids' values
    gy = np.arange(y0, y1, dtype=np.float32)[:, None]
    mid = 0.5 * (right + left)
    t = np.clip(((gx - mid[0]) * axis[0] + (gy - mid[1]) * axis[1]) / (0.1 * f_s) + 0.5, 0, 1)[..., None]
    target = targets[0] * (1 - t) + targets[1] * t
    base = base_rows[y0 - lo:y1 - lo, x0:x1]
    d = np.clip(target - base, -CAP, CAP)
    lift = np.clip(luma(d) / 0.01, 0, 1)                     # only where darker than the cheek
    part = (d * (lift * band[y0:y1, x0:x1])[..., None]).astype(np.float32)   # (as stored into out)
    part *= np.float32(GAIN * amount)                        # (0 outside the box either way)
    out[y0:y1, x0:x1] = part
    return out
