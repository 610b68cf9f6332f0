"""One candidate's landmark squares, read once for all of :mod:`.verify`'s measures (round 21, speed).

:func:`.verify.face_checks` measures squares around landmarks for several signals: the 7 skin patches
(:mod:`.verify`), the upper and lower face (:mod:`.verify_occluded`), the patches off a hidden eye
(:mod:`.verify_hair`), the lips and the irises. Each converted its own squares to YCrCb and to float32
and reduced them one numpy call at a time (~3 ms thread CPU on the 1080p bench portrait, ~120 numpy calls;
21 ms on a no-face candidate 820 px wide). :class:`Squares` converts each square once (the cheeks' and the
forehead's at 0.05 F are shared by three measures) and the functions below give the same statistics with
fewer calls and no float copies. Every value is bit-identical to the per-square code, which
tests/imaging/test_speed21_verify.py keeps as its oracle:

* :func:`means`: a float32 mean of integer pixels is its sum (exact in float32 below 2^24, so up to
  :data:`MAX_EXACT` pixels) divided once in float64 and rounded to float32 -- what numpy does; the sums come
  from ``cv2.sumElems`` (exact);
* :func:`in_range`: the share of pixels in a locus is a count over the number of pixels (comparisons of
  integer values: ``cv2.inRange`` on the uint8 pixels);
* :func:`y_std`, :func:`plane_residuals`: the same numpy reductions, one call for the squares of one shape
  (numpy's pairwise sum runs on each row exactly as on each square alone).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

__all__ = ["MAX_EXACT", "REGION_PX", "Squares", "in_range", "luma_sums", "means", "median", "median0", "pixels", "plane_residual",
           "plane_residuals", "pooled_mean", "pooled_region_mean",
           "pooled_y_mean", "share_in_range", "share_near", "y_std"]

MAX_EXACT = 65793        # pixels: a channel's sum (<= 255 n) is exact in float32 (< 2^24) up to this many
REGION_PX = 300_000      # luma_sums: squares read through one integral image of their region up to this many
                         # pixels, or twice their own (beyond, the region outgrows the cache: the coffee cup's
                         # 820 px candidate, 422k px, 1.95 ms against 0.76 ms square by square)

Box = tuple[int, int, int, int]


class Squares:
    """The squares of one image (``rgb``, RGB or RGBA uint8) asked for by one candidate's measures, each
    converted to YCrCb once."""

    def __init__(self, rgb: np.ndarray) -> None:
        self.rgb = rgb
        self.h, self.w = rgb.shape[:2]
        self._ycc: dict[Box, np.ndarray] = {}
        self._rgb: dict[Box, np.ndarray] = {}

    def box(self, x: int, y: int, r: int) -> Box | None:
        """The (2r+1)^2 square around pixel (x, y), clipped to the frame: (x0, y0, x1, y1); None when empty."""
        x0, y0, x1, y1 = max(0, x - r), max(0, y - r), min(self.w, x + r + 1), min(self.h, y + r + 1)
        return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None

    def rgb_of(self, box: Box) -> np.ndarray:
        """The square's RGB pixels (a contiguous uint8 (h, w, 3) copy)."""
        got = self._rgb.get(box)
        if got is None:
            x0, y0, x1, y1 = box
            got = self._rgb[box] = np.ascontiguousarray(self.rgb[y0:y1, x0:x1, :3])
        return got

    def ycc(self, box: Box) -> np.ndarray:
        """The square's pixels in YCrCb (uint8 (h, w, 3); the caller must not change them)."""
        got = self._ycc.get(box)
        if got is None:
            got = self._ycc[box] = cv2.cvtColor(self.rgb_of(box), cv2.COLOR_RGB2YCrCb)
        return got


def luma_sums(rgb: np.ndarray, xy: np.ndarray, r: int, code: int) -> tuple[np.ndarray, np.ndarray]:
    """(sums, areas): the luminance sum (``code``: ``cv2.COLOR_RGB2YCrCb``'s Y or ``cv2.COLOR_RGB2GRAY``) and
    the pixel count of the (2r+1)^2 square around each integer point of ``xy`` (k, 2), clipped to the frame
    (area 0 wholly outside). From one integral image of the region the squares cover (int32 sums, as
    :func:`.verify_grey.shading` and :func:`.verify_hair._luma` read them) unless that region is large and
    mostly between the squares (:data:`REGION_PX`), then square by square: the same integer sums either way."""
    h, w = rgb.shape[:2]
    frame, xy = np.array([w, h]), xy[:, :2]
    lo, hi = np.clip(xy - r, 0, frame), np.clip(xy + (r + 1), 0, frame)
    side = hi - lo                                   # >= 0: both clipped to the same frame
    area = side[:, 0] * side[:, 1]
    seen = area > 0
    if not seen.all():
        if not seen.any():
            return np.zeros(len(xy), np.int64), area
        (x0, y0), (x1, y1) = lo[seen].min(axis=0), hi[seen].max(axis=0)
    else:
        (x0, y0), (x1, y1) = lo.min(axis=0), hi.max(axis=0)
    x0, y0, x1, y1 = int(x0), int(y0), int(x1), int(y1)
    if (x1 - x0) * (y1 - y0) <= max(2 * int(area.sum()), REGION_PX):
        y = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1, :3]), code)
        s = cv2.integral(y[:, :, 0] if code == cv2.COLOR_RGB2YCrCb else y)
        origin, size = np.array([x0, y0]), np.array([x1 - x0, y1 - y0])
        lo, hi = np.clip(lo - origin, 0, size), np.clip(hi - origin, 0, size)
        sums = s[hi[:, 1], hi[:, 0]] - s[lo[:, 1], hi[:, 0]] - s[hi[:, 1], lo[:, 0]] + s[lo[:, 1], lo[:, 0]]
        return (sums if seen.all() else np.where(seen, sums, 0)), area
    sums = np.zeros(len(xy), np.int64)
    for k in np.flatnonzero(seen):
        y = cv2.cvtColor(np.ascontiguousarray(rgb[lo[k, 1]:hi[k, 1], lo[k, 0]:hi[k, 0], :3]), code)
        sums[k] = int(cv2.sumElems(y)[0])
    return sums, area


def _n(p: np.ndarray) -> int:
    return int(p.shape[0] * p.shape[1])


def means(patches: list[np.ndarray]) -> np.ndarray:
    """(k, 3) float32: each uint8 (h, w, 3) square's channel means, bit-identical to
    ``np.array([p.reshape(-1, 3).astype(np.float32).mean(axis=0) for p in patches])``."""
    if any(_n(p) > MAX_EXACT for p in patches):
        return np.array([p.reshape(-1, 3).astype(np.float32).mean(axis=0) for p in patches])
    sums = np.array([cv2.sumElems(p)[:3] for p in patches], np.float64)
    n = np.array([_n(p) for p in patches], np.float64)
    return (sums / n[:, None]).astype(np.float32)


def pooled_mean(patches: list[np.ndarray]) -> np.ndarray:
    """(3,) float32: the channel means over all the squares' pixels together, bit-identical to
    ``np.concatenate([p.reshape(-1, 3).astype(np.float32) for p in patches]).mean(axis=0)``."""
    n = sum(_n(p) for p in patches)
    if n > MAX_EXACT:
        return np.concatenate([p.reshape(-1, 3).astype(np.float32) for p in patches]).mean(axis=0)
    sums = np.sum([cv2.sumElems(p)[:3] for p in patches], axis=0, dtype=np.float64)
    return (sums / np.float64(n)).astype(np.float32)


def pooled_region_mean(rgb: np.ndarray, boxes: list[Box]) -> np.ndarray:
    """:func:`pooled_mean` of the YCrCb squares ``boxes`` of ``rgb`` (small ones close together: a mouth's)
    from one conversion of the region they cover instead of one per square."""
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    ycc = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1, :3]), cv2.COLOR_RGB2YCrCb)
    views = [ycc[b[1] - y0:b[3] - y0, b[0] - x0:b[2] - x0] for b in boxes]
    n = sum(_n(p) for p in views)
    if n > MAX_EXACT:
        return pooled_mean(views)
    sums = np.sum([cv2.sumElems(p)[:3] for p in views], axis=0, dtype=np.float64)
    return (sums / np.float64(n)).astype(np.float32)


def pooled_y_mean(patches: list[np.ndarray]) -> float:
    """The luminance mean over all the squares' pixels together, bit-identical to
    ``float(np.concatenate([p.reshape(-1, 3).astype(np.float32) for p in patches])[:, 0].mean())``."""
    n = sum(_n(p) for p in patches)
    if n > MAX_EXACT:
        return float(np.concatenate([p.reshape(-1, 3).astype(np.float32) for p in patches])[:, 0].mean())
    return float(np.float32(sum(cv2.sumElems(p)[0] for p in patches) / n))


def pixels(patches: list[np.ndarray]) -> np.ndarray:
    """The squares' pixels one after the other: uint8 (1, n, 3) (one row: OpenCV counts an (n, 1) mask row by
    row, 8x slower), in the order of ``np.concatenate([p.reshape(-1, 3) for p in patches])``."""
    return np.concatenate([p.reshape(-1, 3) for p in patches]).reshape(1, -1, 3)


def in_range(flat: np.ndarray, cr_range: tuple[float, float], cb_range: tuple[float, float]) -> np.ndarray:
    """The mask (uint8 0/255, (1, n)) of the YCrCb pixels ``flat`` (uint8 (1, n, 3)) with Cr in ``cr_range``
    and Cb in ``cb_range`` (inclusive, as the float comparisons of their integer values)."""
    lo = (0, math.ceil(cr_range[0]), math.ceil(cb_range[0]))
    hi = (255, math.floor(cr_range[1]), math.floor(cb_range[1]))
    return cv2.inRange(flat, lo, hi)


def share_in_range(flat: np.ndarray, cr_range: tuple[float, float], cb_range: tuple[float, float]) -> float:
    """The share of the pixels ``flat`` in the locus: ``float(in_locus.mean())`` of the float pixels."""
    return cv2.countNonZero(in_range(flat, cr_range, cb_range)) / flat.shape[1]


def share_near(flat: np.ndarray, centre: np.ndarray, limit: float) -> float:
    """The share of the YCrCb pixels ``flat`` whose chroma lies within ``limit`` of ``centre`` (float32 (2,)),
    bit-identical to ``float((np.linalg.norm(f[:, 1:] - centre, axis=1) <= limit).mean())`` of the float32
    pixels ``f``: each channel's float32 squared difference from a 256-entry table, their float32 sum, its
    float32 square root."""
    levels = np.arange(256, dtype=np.float32)
    d0, d1 = levels - centre[0], levels - centre[1]
    two = flat.reshape(-1, 3)
    dist = np.sqrt((d0 * d0)[two[:, 1]] + (d1 * d1)[two[:, 2]])
    return int(np.count_nonzero(dist <= limit)) / len(two)


def median(a: np.ndarray | list[float]) -> np.floating:
    """``np.median`` of a short 1-d float array or list (same value and type), without its partition
    machinery (~15 us a call): the middle value, or the mean of the middle two in the array's float type."""
    arr = np.asarray(a)
    v = arr.tolist()
    if arr.ndim != 1 or arr.dtype.kind != "f" or not v or any(x != x for x in v):
        return np.median(arr)
    v.sort()
    n, t = len(v), arr.dtype.type
    if n % 2:
        return t(v[n // 2])
    return t((t(v[n // 2 - 1]) + t(v[n // 2])) / 2)


def median0(a: np.ndarray) -> np.ndarray:
    """``np.median(a, axis=0)`` of a short 2-d float array (same values and type), column by column with
    :func:`median`."""
    if a.ndim != 2 or a.dtype.kind != "f" or len(a) == 0:
        return np.median(a, axis=0)
    return np.array([median(c) for c in a.T], a.dtype)


def y_std(patches: list[np.ndarray]) -> np.ndarray:
    """(k,) float32: each square's luminance std, bit-identical to
    ``p.reshape(-1, 3).astype(np.float32)[:, 0].std()``."""
    shape = patches[0].shape
    if len(patches) > 1 and all(p.shape == shape for p in patches):
        y = np.stack([p[:, :, 0] for p in patches]).reshape(len(patches), -1).astype(np.float32)
        return y.std(axis=1)
    return np.array([p[:, :, 0].astype(np.float32).std() for p in patches], np.float32)


def plane_residual(y: np.ndarray) -> float:
    """Std of a patch's luminance once the best-fitting plane is taken out (least squares; on a
    full rectangular grid the centred x and y are orthogonal, so each slope is a projection)."""
    h, w = y.shape
    if h * w < 4:
        return float(y.std())
    v = y.astype(np.float64)
    v = v - v.mean()
    xs, ys = np.arange(w) - (w - 1) / 2, np.arange(h) - (h - 1) / 2
    sx, sy = float((xs * xs).sum()) * h, float((ys * ys).sum()) * w
    bx = float((v * xs).sum()) / sx if sx else 0.0
    by = float((v * ys[:, None]).sum()) / sy if sy else 0.0
    return float((v - bx * xs - by * ys[:, None]).std())


def plane_residuals(ys: list[np.ndarray]) -> list[float]:
    """:func:`plane_residual` of each uint8 (h, w) square, one pass for squares of one shape."""
    h, w = ys[0].shape
    if len(ys) < 2 or h * w < 4 or w < 2 or h < 2 or any(y.shape != (h, w) for y in ys):
        return [plane_residual(y) for y in ys]
    k = len(ys)
    v = np.stack(ys).astype(np.float64)
    v = v - v.reshape(k, -1).mean(axis=1)[:, None, None]
    xs, ys_ = np.arange(w) - (w - 1) / 2, np.arange(h) - (h - 1) / 2
    sx, sy = float((xs * xs).sum()) * h, float((ys_ * ys_).sum()) * w
    bx = (v * xs).reshape(k, -1).sum(axis=1) / sx
    by = (v * ys_[:, None]).reshape(k, -1).sum(axis=1) / sy
    res = (v - bx[:, None, None] * xs - by[:, None, None] * ys_[:, None]).reshape(k, -1).std(axis=1)
    return [float(x) for x in res]
