"""The AIFaceBeauty filter on pixel arrays: skin smoothing, evening and gentle whitening per face.

Per face (largest first), all in a region of interest around the face oval, resized so that
the cheek-to-cheek width F is ~320 px ("work scale"; never upscaled):

* skin mask: face oval minus eyes, brows, lips and nostrils, times a colour gate learnt from
  the person's own cheeks/forehead (chroma Mahalanobis distance; luma only rejects very dark
  hair/frames), feathered so the soft edge lies inside the oval;
* smoothing: self-guided filter per channel; its residual R = I - B is split at the pore scale
  and the coarse part (blotches, blemishes) is removed while the finest band (pores) stays;
* whitening: a log curve on luma, evaluated on the smoothed base and added equally to R, G, B;
* the per-pixel *delta* is upsampled to full resolution and added, so texture finer than one
  work pixel is never touched and pixels outside the feathered masks stay bit-identical.

``strength`` in [0, 1] drives every amount monotonically; optional reshape (slim face,
enlarge eyes) is a smooth, fold-free displacement field applied with one remap per face.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import cv2
import numpy as np

from .faces import Face, detect_faces, pmap

__all__ = ["beautify_array"]

WORK_F = 320.0                       # cheek width at work scale, px
PARALLEL_MIN_WORK_PX = 40_000        # smaller work images run on one thread (GIL hand-offs cost more)

# FaceMesh (478-point) index sets.
FACE_OVAL = [10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378,
             400, 377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21,
             54, 103, 67, 109]
RIGHT_EYE = [7, 33, 133, 144, 145, 153, 154, 155, 157, 158, 159, 160, 161, 163, 173, 246]
LEFT_EYE = [249, 263, 362, 373, 374, 380, 381, 382, 384, 385, 386, 387, 388, 390, 398, 466]
RIGHT_BROW = [46, 52, 53, 55, 63, 65, 66, 70, 105, 107]
LEFT_BROW = [276, 282, 283, 285, 293, 295, 296, 300, 334, 336]
LIPS = [0, 17, 37, 39, 40, 61, 84, 91, 146, 181, 185, 267, 269, 270, 291, 314, 321, 375,
        405, 409]
RIGHT_NOSTRIL = [48, 64, 98, 97, 2, 94, 240, 75]
LEFT_NOSTRIL = [278, 294, 327, 326, 2, 94, 460, 305]
SKIN_SAMPLES = [50, 280, 151, 205, 425, 117, 346]   # cheeks and forehead
JAW_SLIM = [(132, 361), (58, 288), (172, 397), (136, 365), (150, 379)]
NOSE_TIP = 4


@dataclass(frozen=True)
class Amounts:
    """Every control as a function of strength s in [0, 1]."""

    smooth: float        # fraction of the coarse residual removed
    radius: float        # guided filter radius, x F
    eps: float           # guided filter regulariser (intensity^2, 0..1 scale)
    fine: float          # fraction of the fine (pore) band removed
    whiten: float        # weight of the luma log curve

    @classmethod
    def for_strength(cls, s: float) -> "Amounts":
        return cls(smooth=s ** 0.7, radius=0.02 + 0.03 * s, eps=(0.02 + 0.10 * s) ** 2,
                   fine=0.45 * s * s, whiten=0.3 * s)


@dataclass
class _Roi:
    x0: int
    y0: int
    x1: int
    y1: int
    scale: float         # work pixels per image pixel (<= 1)
    pts: np.ndarray      # landmarks in work coordinates

    @property
    def f(self) -> float:
        return float(np.linalg.norm(self.pts[234] - self.pts[454]))


# --------------------------------------------------------------------------- helpers


def _odd(x: float) -> int:
    return max(1, int(round(x)) | 1)


def _blur(img: np.ndarray, sigma: float) -> np.ndarray:
    if sigma < 0.3:
        return img
    return cv2.GaussianBlur(img, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)


def _disc(r: float) -> np.ndarray:
    k = _odd(2 * r + 1)
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def roi_for(face: Face, shape: tuple[int, ...]) -> _Roi:
    """The region (x0, y0, x1, y1 and work scale) that :func:`apply_faces` reads and writes
    for ``face``: nothing outside it changes."""
    return _roi_for(face, shape)


def _roi_for(face: Face, shape: tuple[int, ...]) -> _Roi:
    pts = face.landmarks
    oval = pts[FACE_OVAL]
    f = face.cheek_width
    margin = 0.12 * f + 2
    h, w = shape[:2]
    x0, y0 = (max(0, int(math.floor(v - margin))) for v in oval.min(axis=0))
    x1, y1 = oval.max(axis=0)
    x1, y1 = min(w, int(math.ceil(x1 + margin))), min(h, int(math.ceil(y1 + margin)))
    scale = min(1.0, WORK_F / max(f, 1.0))
    return _Roi(x0, y0, x1, y1, scale, (pts - [x0, y0]) * scale)


# --------------------------------------------------------------------------- skin mask


def _poly(shape: tuple[int, int], pts: np.ndarray, hull: bool) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    poly = cv2.convexHull(pts.astype(np.float32)) if hull else pts
    cv2.fillPoly(mask, [np.round(poly * 16).astype(np.int32).reshape(-1, 1, 2)], 1,
                 lineType=cv2.LINE_8, shift=4)
    return mask


def _features(shape: tuple[int, int], pts: np.ndarray, f: float) -> np.ndarray:
    """Eyes, brows, lips, nostrils (dilated a little so lashes, brow hairs and lip lines stay)."""
    feats = np.zeros(shape, np.uint8)
    for part, grow in ((RIGHT_EYE, 0.035), (LEFT_EYE, 0.035), (RIGHT_BROW, 0.03),
                       (LEFT_BROW, 0.03), (LIPS, 0.025), (RIGHT_NOSTRIL, 0.01),
                       (LEFT_NOSTRIL, 0.01)):
        feats |= cv2.dilate(_poly(shape, pts[part], hull=True), _disc(grow * f))
    return feats


def _colour_gate(work: np.ndarray, region: np.ndarray, pts: np.ndarray, f: float) -> np.ndarray:
    """1 where the colour looks like this person's skin, soft fall-off elsewhere."""
    y = _luma(work)
    cr = (work[..., 0] - y) * 0.713
    cb = (work[..., 2] - y) * 0.564
    samples = np.zeros(region.shape, np.uint8)
    for i in SKIN_SAMPLES:
        cv2.circle(samples, (int(pts[i][0]), int(pts[i][1])), max(2, int(0.05 * f)), 1, -1)
    samples &= region
    if samples.sum() < 20:
        samples = region
    sel = samples.astype(bool)
    chroma = np.stack([cr[sel], cb[sel]], axis=1)
    centre = np.median(chroma, axis=0)
    cov = np.cov((chroma - centre).T) + np.eye(2) * 0.012 ** 2
    inv = np.linalg.inv(cov)
    dcr, dcb = cr - centre[0], cb - centre[1]
    d = np.sqrt(np.maximum(inv[0, 0] * dcr ** 2 + 2 * inv[0, 1] * dcr * dcb + inv[1, 1] * dcb ** 2, 0))
    gate = np.exp(-0.5 * np.maximum(d - 2.5, 0) ** 2)
    y_med = float(np.median(y[sel]))
    gate *= np.clip((y / max(y_med, 1e-3) - 0.3) / 0.2, 0, 1)       # hair, frames, nostrils
    gate = cv2.morphologyEx(gate.astype(np.float32), cv2.MORPH_CLOSE, _disc(0.04 * f))
    return _blur(gate, 0.015 * f)


def _soft_mask(work: np.ndarray, pts: np.ndarray, f: float) -> np.ndarray:
    shape = work.shape[:2]
    region = _poly(shape, pts[FACE_OVAL], hull=False) & (1 - _features(shape, pts, f))
    sigma = 0.02 * f
    core = cv2.erode(region, _disc(2.0 * sigma))
    return _blur(core.astype(np.float32), sigma) * _colour_gate(work, region, pts, f)


def skin_mask(work: np.ndarray, pts: np.ndarray, f: float) -> np.ndarray:
    """Soft skin mask in [0, 1] at work scale, exactly 0 outside the face oval.

    The mask is smooth, so it is computed at half the work scale (when F allows) and
    upsampled; the hard oval at work scale then zeroes everything outside the face.
    """
    h, w = work.shape[:2]
    oval = _poly((h, w), pts[FACE_OVAL], hull=False)
    if f < 160:
        return _soft_mask(work, pts, f) * oval
    half = cv2.resize(work, ((w + 1) // 2, (h + 1) // 2), interpolation=cv2.INTER_AREA)
    scale = np.array([half.shape[1] / w, half.shape[0] / h], np.float32)
    mask = _soft_mask(half, pts * scale, f * float(scale.mean()))
    return cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR) * oval


# --------------------------------------------------------------------------- filter


def _guided_self(p: np.ndarray, r: int, eps: float) -> np.ndarray:
    """Self-guided filter (He et al.) of each channel of ``p`` (float32, H x W x C)."""
    k = (2 * r + 1, 2 * r + 1)
    box = lambda x: cv2.boxFilter(x, -1, k, borderType=cv2.BORDER_REPLICATE)  # noqa: E731
    # the textbook formula with in-place temporaries (same operations, bit-identical result)
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


def _base(work: np.ndarray, f: float, amt: Amounts) -> np.ndarray:
    """The smooth base layer: self-guided filter at the strength's radius and edge threshold."""
    return _guided_self(work, max(1, round(amt.radius * f)), amt.eps)


def _delta(work: np.ndarray, mask: np.ndarray, f: float, amt: Amounts,
           base: np.ndarray | None = None) -> np.ndarray:
    """The per-pixel change (work scale, float, same channels as ``work``)."""
    if base is None:
        base = _base(work, f, amt)
    residual = work - base
    coarse = _blur(residual, max(1.0, 0.004 * f))          # split at the pore scale (a new array)
    # removed = smooth * (coarse + fine * (residual - coarse)), in place (bit-identical)
    removed = np.subtract(residual, coarse, out=residual)
    removed *= np.float32(amt.fine)
    removed += coarse
    removed *= np.float32(amt.smooth)
    y_base = _blur(_luma(base), 0.01 * f)
    lift = amt.whiten * (np.log1p(2.0 * y_base) / math.log(3.0) - y_base)
    if removed.ndim == 2:
        return (lift - removed) * mask
    # (lift - removed) * mask with the 1-channel planes broadcast once: OpenCV's SIMD
    # element-wise ops are IEEE single precision like numpy's, ~2x faster than broadcasting
    channels = removed.shape[2]
    lift_c = cv2.merge([lift.astype(np.float32, copy=False)] * channels)
    mask_c = cv2.merge([mask.astype(np.float32, copy=False)] * channels)
    return cv2.multiply(cv2.subtract(lift_c, removed), mask_c)


# --------------------------------------------------------------------------- reshape


def _displacement(shape: tuple[int, int], pts: np.ndarray, f: float, slim: float,
                  eyes: float) -> tuple[np.ndarray, np.ndarray]:
    """Inverse map offsets (dx, dy) at work scale: out(p) = in(p + d(p))."""
    h, w = shape
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    dx, dy = np.zeros_like(gx), np.zeros_like(gy)
    weight = np.zeros_like(gx)
    radius = 0.30 * f
    for pair in JAW_SLIM:
        for i in pair:
            c = pts[i]
            move = pts[NOSE_TIP] - c
            move = move / max(np.linalg.norm(move), 1e-6) * 0.03 * slim * f
            r2 = (gx - c[0]) ** 2 + (gy - c[1]) ** 2
            fall = np.clip(1 - r2 / radius ** 2, 0, None) ** 2
            dx -= fall * move[0]
            dy -= fall * move[1]
            weight += fall
    norm = np.maximum(weight, 1.0)
    dx, dy = dx / norm, dy / norm
    for iris, corners in ((468, (33, 133)), (473, (362, 263))):
        c = pts[iris]
        big_r = float(np.linalg.norm(pts[corners[0]] - pts[corners[1]]))
        ox, oy = gx - c[0], gy - c[1]
        r2 = (ox ** 2 + oy ** 2) / max(big_r, 1.0) ** 2
        k = np.where(r2 < 1, (1 - r2) * 0.10 * eyes, 0)      # sample closer to the centre
        dx -= ox * k
        dy -= oy * k
    sigma = 0.02 * f
    return _blur(dx, sigma), _blur(dy, sigma)


def min_jacobian(dx: np.ndarray, dy: np.ndarray) -> float:
    """Smallest det(J) of p -> p + d(p); > 0 everywhere means the warp cannot fold."""
    ddx_y, ddx_x = np.gradient(dx)
    ddy_y, ddy_x = np.gradient(dy)
    return float(((1 + ddx_x) * (1 + ddy_y) - ddx_y * ddy_x).min())


def _warp(roi_img: np.ndarray, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    h, w = roi_img.shape[:2]
    sx, sy = w / dx.shape[1], h / dx.shape[0]
    full_dx = cv2.resize(dx, (w, h), interpolation=cv2.INTER_LINEAR) * sx
    full_dy = cv2.resize(dy, (w, h), interpolation=cv2.INTER_LINEAR) * sy
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    return cv2.remap(roi_img, gx + full_dx, gy + full_dy, cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


# --------------------------------------------------------------------------- driver


def _tick(timings: dict | None, key: str, start: float) -> float:
    now = time.perf_counter()
    if timings is not None:
        timings[key] = timings.get(key, 0.0) + (now - start) * 1000
    return now


def _beautify_face(out: np.ndarray, face: Face, amt: Amounts, peak: float,
                   warp: tuple[float, float] | None, timings: dict | None) -> None:
    """Beautify one face in ``out`` (H x W x C, uint8/uint16) in place.

    The skin mask and the guided filter's base layer only need the work image, so they run
    side by side (calling thread + the helper thread, when it is free); "mask" is the mask's
    own time and "filter" the rest of the wall time up to the delta.
    """
    t = time.perf_counter()
    roi = _roi_for(face, out.shape)
    full = out[roi.y0:roi.y1, roi.x0:roi.x1]
    h, w = full.shape[:2]
    ws = (max(1, round(w * roi.scale)), max(1, round(h * roi.scale)))
    small = cv2.resize(full, ws, interpolation=cv2.INTER_AREA) if roi.scale < 1.0 else full
    work = small.astype(np.float32) * np.float32(1.0 / peak)
    spent: dict[str, float] = {}

    def mask_job() -> np.ndarray:
        start = time.perf_counter()
        mask = skin_mask(work, roi.pts, roi.f)
        spent["mask"] = time.perf_counter() - start
        return mask

    jobs = [mask_job, lambda: _base(work, roi.f, amt)]
    if work.shape[0] * work.shape[1] >= PARALLEL_MIN_WORK_PX:
        mask, base = pmap(lambda job: job(), jobs)
    else:                                        # small: thread hand-offs cost more than they save
        mask, base = (job() for job in jobs)
    now = time.perf_counter()
    if timings is not None:
        prep = now - t - spent["mask"]               # resize + overlap beyond the mask itself
        timings["mask"] = timings.get("mask", 0.0) + spent["mask"] * 1000
        timings["filter"] = timings.get("filter", 0.0) + max(prep, 0.0) * 1000
    t = now
    delta = _delta(work, mask, roi.f, amt, base)
    if warp is not None:
        displacement = _displacement(mask.shape, roi.pts, roi.f, *warp)
    t = _tick(timings, "filter", t)
    if roi.scale < 1.0:
        delta = cv2.resize(delta, (w, h), interpolation=cv2.INTER_LINEAR)
    if warp is not None:
        result = _warp(full.astype(np.float32) + delta * peak, *displacement)
        out[roi.y0:roi.y1, roi.x0:roi.x1] = np.clip(np.rint(result), 0, peak).astype(out.dtype)
    else:
        # one saturating pass, bit-identical to clip(rint(full + delta * peak)): float32 sum,
        # round half to even, saturate
        depth = cv2.CV_8U if out.dtype == np.uint8 else cv2.CV_16U
        src = full if out.dtype == np.uint8 else full.astype(np.float32)
        out[roi.y0:roi.y1, roi.x0:roi.x1] = cv2.add(src, delta * np.float32(peak), dtype=depth)
    _tick(timings, "blend", t)


def _disjoint(rects: list[tuple[int, int, int, int]]) -> bool:
    for i, a in enumerate(rects):
        for b in rects[i + 1:]:
            if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                return False
    return True


def apply_faces(out: np.ndarray, faces: list[Face], strength: float, *, reshape: bool = False,
                slim: float | None = None, eyes: float | None = None,
                timings: dict | None = None) -> None:
    """Beautify ``faces`` in ``out`` (H x W x 3 uint8/uint16) in place; no detection, no copy.

    Faces whose regions do not overlap are processed in parallel (calling thread + helper); the
    result is bit-identical to the sequential loop. With parallel faces the per-stage times
    are scaled so that they add up to the wall time.
    """
    if (strength == 0 and not reshape) or not faces:
        return
    amt = Amounts.for_strength(strength)
    peak = 65535.0 if out.dtype == np.uint16 else 255.0
    warp = None
    if reshape:
        warp = (strength if slim is None else slim, strength if eyes is None else eyes)
    rois = [_roi_for(face, out.shape) for face in faces]
    work_px = sum((r.x1 - r.x0) * (r.y1 - r.y0) * r.scale ** 2 for r in rois) / len(rois)
    if (len(faces) < 2 or work_px < PARALLEL_MIN_WORK_PX
            or not _disjoint([(r.x0, r.y0, r.x1, r.y1) for r in rois])):
        for face in faces:
            _beautify_face(out, face, amt, peak, warp, timings)
        return
    start = time.perf_counter()
    parts: list[dict[str, float]] = [{} for _ in faces]
    pmap(lambda i: _beautify_face(out, faces[i], amt, peak, warp, parts[i]), range(len(faces)))
    if timings is not None:
        wall = (time.perf_counter() - start) * 1000
        sums = {k: sum(p.get(k, 0.0) for p in parts) for k in ("mask", "filter", "blend")}
        total = sum(sums.values()) or 1.0
        for key, value in sums.items():
            timings[key] = timings.get(key, 0.0) + value * wall / total


def beautify_array(rgb: np.ndarray, strength: float = 0.5, *, faces: list[Face] | None = None,
                   reshape: bool = False, slim: float | None = None, eyes: float | None = None,
                   timings: dict | None = None) -> tuple[np.ndarray, list[Face]]:
    """Beautify every face of an H x W x 3 RGB (uint8 or uint16) image.

    Returns ``(new_image, faces)``; the input is not modified. ``faces`` skips detection.
    ``reshape`` turns on slim-face and eye enlargement (``slim``/``eyes`` in [0, 1] override
    their amounts, default ``strength``). Pixels outside the faces' feathered skin masks are
    returned unchanged (without reshape). Deterministic.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype not in (np.uint8, np.uint16):
        raise ValueError("expected an H x W x 3 uint8 or uint16 RGB array")
    if not 0.0 <= strength <= 1.0:
        raise ValueError("strength must be in [0, 1]")
    t = time.perf_counter()
    if faces is None:
        faces = detect_faces(rgb)
        _tick(timings, "detect", t)
    out = rgb.copy()
    apply_faces(out, faces, strength, reshape=reshape, slim=slim, eyes=eyes, timings=timings)
    return out, faces
