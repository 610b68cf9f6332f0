"""Lines: fine wrinkles (forehead, crow's feet, under-eye) and folds (nasolabial, marionette).

Both are valleys in luma narrower than a structuring element: a black-hat (closing minus
image) measures how much each pixel sits below its surroundings, and adding a fraction of it
fills the valley while broad shading (cheek volume, the side of the nose) does not respond.
Fine lines use a ~0.045 F element at work scale; folds a 0.1 F element at half scale. Both
run only inside the bounding box of their zones (soft masks built at quarter scale).
Strong edges (glasses frames, brows) are kept out by the skin mask.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from . import zones
from .common import ROWS_FROM, blur, disc, grow_to, morph_disc, nonzero_box

FINE_CAP = 0.07          # max fill, luma 0..1
FOLD_CAP = 0.16
FINE_GAIN = 1.0
FOLD_GAIN = 0.9
BAND_GAIN = 0.92         # fraction of the wrinkle band removed at lines = 1
EYE_MARGIN = 0.035       # x F around the eye outline: no line filling
PORE_SIGMA = 1.0         # px: the band below this (pores, grain) is never touched
EDGE = (0.08, 0.16)      # luma gradient per pixel: full attenuation below, none above


def _blackhat(y: np.ndarray, r: float) -> np.ndarray:
    if disc(r).shape[0] < ROWS_FROM:
        return cv2.morphologyEx(y, cv2.MORPH_BLACKHAT, disc(r))
    # the closing minus the image, the closing by rows (common.morph_disc: the same values)
    return morph_disc(morph_disc(y, True, r), False, r) - y


Zones = tuple[np.ndarray, tuple | None, np.ndarray | None, np.ndarray, tuple | None]
"""What :func:`line_zones` returns: (fine-line zone, its box, the zone's normaliser in that box,
fold corridor, its box)."""


def line_zones(shape: tuple[int, int], skin: np.ndarray, region: np.ndarray, fold_skin: np.ndarray,
               pts: np.ndarray, f: float) -> Zones:
    """Where :func:`lines_delta` works: the fine lines' zone (forehead, crow's feet, under-eye;
    away from the eyes) with its box and the low-pass normaliser there (its blur at 0.03 F,
    floored), and the folds' corridor with its box (boxes None: empty). Masks and
    landmarks only, not the image: the retouch computes them during the heal (round 18)."""
    q = zones.Quarter(shape, pts, f)
    zone = grow_to(np.maximum(q.forehead(), q.crows_feet()), shape) * skin
    zone = np.maximum(zone, grow_to(q.under_eye(0.08, 0.6), shape) * region)
    zone *= grow_to(q.away_from_eyes(EYE_MARGIN), shape)     # lids and lashes stay crisp
    box = nonzero_box(zone > 0.01, pad=int(0.03 * f) + 2)
    norm = None
    if box is not None:
        x0, y0, x1, y1 = box
        norm = np.maximum(blur(zone[y0:y1, x0:x1], 0.03 * f), 1e-3)
    corridor = grow_to(q.corridors(), shape) * fold_skin
    return zone, box, norm, corridor, nonzero_box(corridor > 0.01, pad=int(0.1 * f) + 2)


def lines_delta(y: np.ndarray, skin: np.ndarray, region: np.ndarray, fold_skin: np.ndarray,
                pts: np.ndarray, f: float, amount: float, where: Zones | None = None,
                submit: Callable | None = None) -> np.ndarray:
    """Luma change (H x W) filling fine lines and folds inside their zones. ``skin``: the
    (lenient) skin mask; ``region``: oval minus features without a colour gate, used for the
    under-eye band (skin behind tinted lenses); ``fold_skin``: skin colour with a low luma
    floor (a deep fold is in shadow). ``where``: :func:`line_zones` of the same masks when
    already computed. ``submit`` (optional, an executor's ``submit``): the folds are filled there
    while this thread fills the fine lines (round 20; the same values: a task not started when
    it is needed is cancelled and run here)."""
    shape = y.shape
    out = np.zeros(shape, np.float32)
    zone, box, norm, corridor, fold_box = where if where is not None else line_zones(shape, skin, region, fold_skin, pts, f)
    folds = None if fold_box is None or submit is None else submit(_folds, y, corridor, fold_box, f, amount)
    if box is not None:
        x0, y0, x1, y1 = box
        part = y[y0:y1, x0:x1]
        lo = blur(part, max(PORE_SIGMA, 0.004 * f))
        fine = np.minimum(_blackhat(lo, 0.024 * f), FINE_CAP)
        fine = blur(fine, max(0.7, 0.003 * f))
        # the wrinkle band itself (between the pore scale and 0.03 F) is attenuated too, except
        # across strong edges (frames, nostrils), so ridges between lines flatten as well. Its
        # low-pass is a normalised convolution over the zone's skin only: a hat brim, hairline or
        # brow next to the zone must not leak in (that would darken a band along it).
        w = zone[y0:y1, x0:x1]
        low = blur((part + fine) * w, 0.03 * f) / norm
        band = lo + fine - low
        gx = cv2.Sobel(lo, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(lo, cv2.CV_32F, 0, 1, ksize=3)
        guard = np.clip((EDGE[1] - cv2.magnitude(gx, gy) * 0.125) / (EDGE[1] - EDGE[0]), 0, 1)
        change = fine * np.float32(FINE_GAIN * amount) - band * guard * np.float32(BAND_GAIN * amount)
        out[y0:y1, x0:x1] = change * zone[y0:y1, x0:x1]
    if fold_box is not None:
        x0, y0, x1, y1 = fold_box
        out[y0:y1, x0:x1] += _folds(y, corridor, fold_box, f, amount) if folds is None or folds.cancel() \
            else folds.result()
    return out


def _folds(y: np.ndarray, corridor: np.ndarray, fold_box: tuple[int, int, int, int], f: float,
           amount: float) -> np.ndarray:
    """The folds' luma change inside ``fold_box`` (a 0.1 F black-hat at half scale, in the corridor)."""
    x0, y0, x1, y1 = fold_box
    part = y[y0:y1, x0:x1]
    h, w = part.shape
    half = cv2.resize(part, ((w + 1) // 2, (h + 1) // 2), interpolation=cv2.INTER_AREA)
    fold = np.minimum(_blackhat(blur(half, 1.0), 0.05 * f), FOLD_CAP)
    fold = blur(grow_to(fold, (h, w)), 0.01 * f)
    return fold * corridor[y0:y1, x0:x1] * np.float32(FOLD_GAIN * amount)
