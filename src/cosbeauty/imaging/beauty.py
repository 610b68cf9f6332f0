"""The AIFaceBeauty filter on pixel arrays: a landmark-driven retouch per face.

Per face (largest first), all in a region of interest around the face oval and the neck below
it, resized so that the cheek-to-cheek width F is ~320 px ("work scale"; never upscaled), the
steps of :mod:`cosbeauty.imaging.retouch` run in order: skin mask and person segmentation,
spot healing, smoothing (pores kept), lines and folds, eye bags, tone (redness, whitening that
keeps shading, rosy; continued onto the neck), eyes and teeth. The per-pixel *delta* is
upsampled to full resolution and added, so texture finer than one work pixel is never touched
and pixels outside the masks stay bit-identical.

``strength`` in [0, 1] drives every component through :meth:`RetouchParams.for_strength`;
``params`` overrides the amounts per component. Optional reshape (slim face, enlarge eyes) is
a smooth, fold-free displacement field applied with one remap per face.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import cv2
import numpy as np

from .faces import Face, detect_faces, pmap
from .retouch import RetouchParams, face_delta, skin_mask
from .retouch.common import (FACE_OVAL, JAW, LEFT_BROW, LEFT_EYE, LEFT_NOSTRIL, LIPS, RIGHT_BROW,
                             RIGHT_EYE, RIGHT_NOSTRIL, SKIN_SAMPLES, blur)
from .retouch.neck import NECK_DEPTH
from .retouch.zones import down_vector

__all__ = ["RetouchParams", "apply_faces", "beautify_array", "roi_for", "skin_mask"]
__all__ += ["FACE_OVAL", "LEFT_BROW", "LEFT_EYE", "LEFT_NOSTRIL", "LIPS", "RIGHT_BROW", "RIGHT_EYE",
            "RIGHT_NOSTRIL", "SKIN_SAMPLES"]

WORK_F = 200.0                       # cheek width at work scale, px
PARALLEL_MIN_WORK_PX = 40_000        # smaller work images run on one thread (GIL hand-offs cost more)
JAW_SLIM = [(132, 361), (58, 288), (172, 397), (136, 365), (150, 379)]
NOSE_TIP = 4


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


def roi_for(face: Face, shape: tuple[int, ...]) -> _Roi:
    """The region (x0, y0, x1, y1 and work scale) that :func:`apply_faces` reads and writes
    for ``face`` (face oval, a margin, and the neck below the jaw): nothing outside it changes."""
    return _roi_for(face, shape)


def _roi_for(face: Face, shape: tuple[int, ...]) -> _Roi:
    pts = face.landmarks
    f = face.cheek_width
    jaw = pts[JAW]
    extent = np.concatenate([pts[FACE_OVAL], jaw + down_vector(pts) * (NECK_DEPTH + 0.02) * f])
    margin = 0.12 * f + 2
    h, w = shape[:2]
    x0, y0 = (max(0, int(math.floor(v - margin))) for v in extent.min(axis=0))
    x1, y1 = extent.max(axis=0)
    x1, y1 = min(w, int(math.ceil(x1 + margin))), min(h, int(math.ceil(y1 + margin)))
    scale = min(1.0, WORK_F / max(f, 1.0))
    return _Roi(x0, y0, x1, y1, scale, (pts - [x0, y0]) * scale)


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
    return blur(dx, sigma), blur(dy, sigma)


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


def _beautify_face(out: np.ndarray, face: Face, params: RetouchParams, peak: float,
                   warp: tuple[float, float] | None, timings: dict | None) -> None:
    """Retouch one face in ``out`` (H x W x C, uint8/uint16) in place.

    Timings: "mask" = the skin mask and the person segmentation (run side by side), "filter" =
    every other retouch step (``retouch.<step>`` keys give the split), "blend" = upsample + add.
    """
    t = time.perf_counter()
    roi = _roi_for(face, out.shape)
    full = out[roi.y0:roi.y1, roi.x0:roi.x1]
    h, w = full.shape[:2]
    ws = (max(1, round(w * roi.scale)), max(1, round(h * roi.scale)))
    small = cv2.resize(full, ws, interpolation=cv2.INTER_AREA) if roi.scale < 1.0 else full
    work = small.astype(np.float32) * np.float32(1.0 / peak)
    split: dict[str, float] = {}
    parallel = pmap if work.shape[0] * work.shape[1] >= PARALLEL_MIN_WORK_PX else None
    heals: list = []                     # spots healed above work scale: (box in full, change in levels)
    delta = face_delta(work, roi.pts, roi.f, params, scale=roi.scale, pmap=parallel, timings=split,
                       full=full if roi.scale < 1.0 else None, peak=peak, heals=heals) if params.any() else None
    if warp is not None:
        displacement = _displacement(work.shape[:2], roi.pts, roi.f, *warp)
    now = time.perf_counter()
    if timings is not None:
        mask_ms = split.get("retouch.mask", 0.0)
        if "retouch.segment" in split:      # side by side (or one after the other without pmap)
            both = split["retouch.mask"] + split["retouch.segment"]
            mask_ms = both if parallel is None else max(split["retouch.mask"], split["retouch.segment"])
        timings["mask"] = timings.get("mask", 0.0) + mask_ms
        timings["filter"] = timings.get("filter", 0.0) + max((now - t) * 1000 - mask_ms, 0.0)
        for key, value in split.items():
            timings[key] = timings.get(key, 0.0) + value
    t = now
    if delta is not None:
        delta *= np.float32(peak)        # in levels, at work scale (not one more pass over the full ROI)
        if roi.scale < 1.0:
            delta = cv2.resize(delta, (w, h), interpolation=cv2.INTER_LINEAR)
            for (x0, y0, x1, y1), d in heals:       # already in levels
                delta[y0:y1, x0:x1] += d
    if warp is not None:
        base = full.astype(np.float32) if delta is None else full.astype(np.float32) + delta
        result = _warp(base, *displacement)
        out[roi.y0:roi.y1, roi.x0:roi.x1] = np.clip(np.rint(result), 0, peak).astype(out.dtype)
    elif delta is not None:
        # one saturating pass, bit-identical to clip(rint(full + delta)), written in place
        depth = cv2.CV_8U if out.dtype == np.uint8 else cv2.CV_16U
        src = full if out.dtype == np.uint8 else full.astype(np.float32)
        done = cv2.add(src, delta, dst=full, dtype=depth)
        if not np.shares_memory(done, full):     # OpenCV could not write into the view (odd strides)
            out[roi.y0:roi.y1, roi.x0:roi.x1] = done
    _tick(timings, "blend", t)


def _disjoint(rects: list[tuple[int, int, int, int]]) -> bool:
    for i, a in enumerate(rects):
        for b in rects[i + 1:]:
            if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                return False
    return True


def apply_faces(out: np.ndarray, faces: list[Face], strength: float, *, reshape: bool = False,
                slim: float | None = None, eyes: float | None = None,
                params: RetouchParams | None = None, timings: dict | None = None) -> None:
    """Retouch ``faces`` in ``out`` (H x W x 3 uint8/uint16) in place; no detection, no copy.

    ``params`` (default ``RetouchParams.for_strength(strength)``) sets each component's amount.
    ``reshape`` turns on slim-face and eye enlargement (``slim``/``eyes`` in [0, 1] override
    their amounts, default ``strength``). Faces whose regions do not overlap are processed in
    parallel (calling thread + helper); the result is bit-identical to the sequential loop.
    With parallel faces the per-stage times are scaled so that they add up to the wall time.
    """
    if params is None:
        params = RetouchParams.for_strength(strength)
    if (not params.any() and not reshape) or not faces:
        return
    peak = 65535.0 if out.dtype == np.uint16 else 255.0
    warp = None
    if reshape:
        warp = (strength if slim is None else slim, strength if eyes is None else eyes)
    rois = [_roi_for(face, out.shape) for face in faces]
    work_px = sum((r.x1 - r.x0) * (r.y1 - r.y0) * r.scale ** 2 for r in rois) / len(rois)
    if (len(faces) < 2 or work_px < PARALLEL_MIN_WORK_PX
            or not _disjoint([(r.x0, r.y0, r.x1, r.y1) for r in rois])):
        for face in faces:
            _beautify_face(out, face, params, peak, warp, timings)
        return
    start = time.perf_counter()
    parts: list[dict[str, float]] = [{} for _ in faces]
    pmap(lambda i: _beautify_face(out, faces[i], params, peak, warp, parts[i]), range(len(faces)))
    if timings is not None:
        wall = (time.perf_counter() - start) * 1000
        sums = {k: sum(p.get(k, 0.0) for p in parts) for k in ("mask", "filter", "blend")}
        total = sum(sums.values()) or 1.0
        for key, value in sums.items():
            timings[key] = timings.get(key, 0.0) + value * wall / total


def beautify_array(rgb: np.ndarray, strength: float = 0.5, *, faces: list[Face] | None = None,
                   reshape: bool = False, slim: float | None = None, eyes: float | None = None,
                   params: RetouchParams | None = None,
                   timings: dict | None = None) -> tuple[np.ndarray, list[Face]]:
    """Retouch every face of an H x W x 3 RGB (uint8 or uint16) image.

    Returns ``(new_image, faces)``; the input is not modified. ``faces`` skips detection.
    ``params`` sets the per-component amounts (default: the curve for ``strength``).
    ``reshape`` turns on slim-face and eye enlargement. Pixels outside the person's face and
    connected skin are returned unchanged (without reshape). Deterministic.
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
    apply_faces(out, faces, strength, reshape=reshape, slim=slim, eyes=eyes, params=params,
                timings=timings)
    return out, faces
