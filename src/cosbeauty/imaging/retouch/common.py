"""Shared helpers of the retouch steps: landmark index sets, blurs, polygons, luma.

Everything here works at *work scale* (the face ROI resized so that the cheek-to-cheek width
F is at most ~320 px), on float32 images in [0, 1].
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

# FaceMesh (478-point) index sets.
FACE_OVAL = [10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378,
             400, 377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21,
             54, 103, 67, 109]
JAW = [234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397,
       288, 361, 323, 454]
RIGHT_EYE = [7, 33, 133, 144, 145, 153, 154, 155, 157, 158, 159, 160, 161, 163, 173, 246]
LEFT_EYE = [249, 263, 362, 373, 374, 380, 381, 382, 384, 385, 386, 387, 388, 390, 398, 466]
RIGHT_EYE_RING = [33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246]
LEFT_EYE_RING = [263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466]
RIGHT_BROW = [46, 52, 53, 55, 63, 65, 66, 70, 105, 107]
LEFT_BROW = [276, 282, 283, 285, 293, 295, 296, 300, 334, 336]
LIPS = [0, 17, 37, 39, 40, 61, 84, 91, 146, 181, 185, 267, 269, 270, 291, 314, 321, 375,
        405, 409]
INNER_LIPS = [78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82,
              81, 80, 191]
RIGHT_NOSTRIL = [48, 64, 98, 97, 2, 94, 240, 75]
LEFT_NOSTRIL = [278, 294, 327, 326, 2, 94, 460, 305]
SKIN_SAMPLES = [50, 280, 151, 205, 425, 117, 346]   # cheeks and forehead
RIGHT_IRIS, LEFT_IRIS = 468, 473


def odd(x: float) -> int:
    return max(1, int(round(x)) | 1)


def blur(img: np.ndarray, sigma: float) -> np.ndarray:
    if sigma < 0.3:
        return img
    return cv2.GaussianBlur(img, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)


def blur_rows(img: np.ndarray, sigma: float, lo: int, hi: int) -> np.ndarray:
    """``blur(img, sigma)[lo:hi]``, blurring only the rows it reads (the kernel's reach and a row
    beyond ``lo``/``hi``): the same values, OpenCV's separable filter computing each column alike
    whatever the number of rows (round 21; a crop in x would move the SIMD lanes)."""
    if sigma < 0.3:
        return img[lo:hi]
    reach = (int(round(sigma * 8 + 1)) | 1) // 2 + 1        # OpenCV's float kernel size: 8 sigma + 1, odd
    a, b = max(0, lo - reach), min(img.shape[0], hi + reach)
    return blur(img[a:b], sigma)[lo - a:hi - a]


def disc(r: float) -> np.ndarray:
    k = odd(2 * r + 1)
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))


ROWS_FROM = 19           # px: elements this wide are applied row by row (morph_disc)


def morph_disc(img: np.ndarray, dilate: bool, r: float) -> np.ndarray:
    """``cv2.dilate`` (or ``cv2.erode``) of a one-channel ``img`` by ``disc(r)``, the same values.

    From ROWS_FROM px wide the element is applied by its rows (round 21): each row of the ellipse is
    one interval, so the result is the max (min) over the rows of a one-row filter of the row's
    width, shifted by the row's offset; rows beyond the image are left out, as OpenCV's default
    border leaves them out. Max and min are exact, so the order does not matter. OpenCV's general
    path visits each of the element's ~0.8 k^2 points per pixel (a 27 px disc: 1.6x slower)."""
    kernel = disc(r)
    op = cv2.dilate if dilate else cv2.erode
    if kernel.shape[0] < ROWS_FROM or img.ndim != 2:
        return op(img, kernel)
    h = img.shape[0]
    if img.dtype == np.uint8:
        out = np.full_like(img, 0 if dilate else 255)
    else:
        out = np.full_like(img, -np.inf if dilate else np.inf)
    pick = np.maximum if dilate else np.minimum
    for (lo, hi), dys in _disc_rows(kernel.shape[0]):
        line = op(img, np.ones((1, hi - lo + 1), np.uint8), anchor=(kernel.shape[1] // 2 - lo, 0))
        for dy in dys:              # out(y) takes line(y + dy)
            if 0 <= dy < h:
                pick(out[:h - dy], line[dy:], out=out[:h - dy])
            elif -h < dy < 0:
                pick(out[-dy:], line[:h + dy], out=out[-dy:])
    return out


@functools.lru_cache(maxsize=64)
def _disc_rows(k: int) -> tuple[tuple[tuple[int, int], tuple[int, ...]], ...]:
    """The k px disc's rows grouped by their interval: ((first, last column), row offsets)."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    spans: dict[tuple[int, int], list[int]] = {}
    for row in range(k):
        cols = np.flatnonzero(kernel[row])
        if cols.size:
            if cols.size != cols[-1] - cols[0] + 1:
                raise ValueError("a disc row that is not one interval")
            spans.setdefault((int(cols[0]), int(cols[-1])), []).append(row - k // 2)
    return tuple((span, tuple(rows)) for span, rows in spans.items())


def luma(rgb: np.ndarray) -> np.ndarray:
    """Rec.601 luma of an H x W x 3 float image (a new float32 array)."""
    return cv2.transform(rgb, np.array([[0.299, 0.587, 0.114]], np.float32))


def poly(shape: tuple[int, int], pts: np.ndarray, hull: bool = False) -> np.ndarray:
    """uint8 0/1 mask of the polygon (or its convex hull), sub-pixel accurate."""
    mask = np.zeros(shape, np.uint8)
    p = cv2.convexHull(pts.astype(np.float32)) if hull else pts
    cv2.fillPoly(mask, [_vertices(p)], 1, lineType=cv2.LINE_8, shift=4)
    return mask


def box_of(pts: np.ndarray, pad: float, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """Integer (x0, y0, x1, y1) around ``pts`` grown by ``pad``, clipped to ``shape``."""
    h, w = shape
    x0, y0 = np.floor(pts.min(axis=0) - pad).astype(int)
    x1, y1 = np.ceil(pts.max(axis=0) + pad).astype(int) + 1
    return max(0, int(x0)), max(0, int(y0)), min(w, int(x1)), min(h, int(y1))


def features(shape: tuple[int, int], pts: np.ndarray, f: float, grow: float = 1.0) -> np.ndarray:
    """Eyes, brows, lips, nostrils (dilated a little so lashes, brow hairs and lip lines stay;
    ``grow`` scales that margin)."""
    feats = np.zeros(shape, np.uint8)
    h, w = shape
    for part, margin in ((RIGHT_EYE, 0.035), (LEFT_EYE, 0.035), (RIGHT_BROW, 0.03),
                       (LEFT_BROW, 0.03), (LIPS, 0.025), (RIGHT_NOSTRIL, 0.01),
                       (LEFT_NOSTRIL, 0.01)):
        # round 21: each hull drawn and dilated inside its own box (its pixels' box grown by the
        # element's reach and 2 px), the same integer vertices moved by whole pixels: the same
        # raster and the same maxima as over the whole image (the pixels outside are all 0)
        kernel = disc(margin * grow * f)
        reach = kernel.shape[0] // 2 + 2
        p = _vertices(cv2.convexHull(pts[part].astype(np.float32)))
        lo, hi = p.min(axis=(0, 1)) >> 4, p.max(axis=(0, 1)) >> 4
        x0, y0 = max(0, int(lo[0]) - reach), max(0, int(lo[1]) - reach)
        x1, y1 = min(w, int(hi[0]) + reach + 2), min(h, int(hi[1]) + reach + 2)
        if x1 <= x0 or y1 <= y0:
            continue
        sub = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(sub, [p - np.array([x0 * 16, y0 * 16], np.int32)], 1, lineType=cv2.LINE_8, shift=4)
        feats[y0:y1, x0:x1] |= cv2.dilate(sub, kernel)
    return feats


def _vertices(p: np.ndarray) -> np.ndarray:
    """:func:`poly`'s fixed-point vertices (1/16 px, int32, N x 1 x 2)."""
    return np.round(np.asarray(p) * 16).astype(np.int32).reshape(-1, 1, 2)


def shrink2(img: np.ndarray) -> np.ndarray:
    """Half size (INTER_AREA), rounding up."""
    h, w = img.shape[:2]
    return cv2.resize(img, ((w + 1) // 2, (h + 1) // 2), interpolation=cv2.INTER_AREA)


def grow_to(img: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Linear upsample to ``shape`` (H, W)."""
    if img.shape[:2] == tuple(shape):
        return img
    return cv2.resize(img, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


def nonzero_box(mask: np.ndarray, pad: int = 0) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) of the pixels > 0 grown by ``pad``; None when empty."""
    ys = np.flatnonzero(mask.max(axis=1) > 0)
    xs = np.flatnonzero(mask.max(axis=0) > 0)
    if ys.size == 0:
        return None
    h, w = mask.shape[:2]
    return (max(0, int(xs[0]) - pad), max(0, int(ys[0]) - pad),
            min(w, int(xs[-1]) + 1 + pad), min(h, int(ys[-1]) + 1 + pad))
