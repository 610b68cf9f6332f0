"""Face detection and 478-point landmarks on the CPU (MediaPipe, models bundled in the wheel).

Two stages:

1. BlazeFace full-range detector on a downscaled copy of the whole image and, when it is
   likely to help (no face, several faces or one small face), on overlapping square windows
   of the image shrunk once to the scale of the classic up-to-3x3 tiles of ~400 px, so faces
   down to ~20 px (in images up to ~1200 px; ~2.5 % of the long side beyond) are found. A
   single large face (a portrait) skips the window pass. Overlapping boxes are merged (IoU
   over the smaller box).
2. For each box, the FaceMesh landmark model (with attention: 478 points incl. irises) runs
   on a rotated region of interest built from the detector's eye keypoints, exactly like
   MediaPipe's own front graph, so faces rolled up to 90 degrees are handled. When the ROI
   derived from the landmarks disagrees with the detector's (small or tilted faces) the
   landmark model runs once more on the refined ROI.

MediaPipe graphs are not thread-safe: one pair per thread (``threading.local``), built lazily
on first use so ``import cosbeauty.imaging`` stays cheap.

Speed: every model call is single-threaded (XNNPACK with 1 thread). On this 2-core machine a
2-thread XNNPACK detector is ~40 % faster on an idle machine but 5-20x slower when another
process holds a core (its threads spin-wait for each other), so the parallelism is ours
instead: tiles and faces are spread over the calling thread plus one helper thread
(:func:`pmap`), and the bytes pipeline runs detection on a DCT-reduced decode while the full
decode runs (:func:`detect_scaled`). Downscales use exact 2x2 ``INTER_AREA`` halvings (OpenCV's
fast path) before the last fractional step.
"""

from __future__ import annotations

import math
import os
import threading
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import cv2
import numpy as np

__all__ = ["Face", "detect_faces"]

_DET_MAX_SIDE = 640          # the detector letterboxes to 192x192; pre-shrink with INTER_AREA
_TILE_SIDE = 400            # ~20 px faces stay >= ~10 px in the detector's 192 px input
_LM_CROP_MAX = 384           # landmark model input is 192/256 px; crops above this are shrunk
_ROI_SCALE = 1.5             # MediaPipe's detection/landmarks -> ROI enlargement
_MERGE_IOM = 0.3             # boxes overlapping more than this (IoU over the smaller) merge
_SMALL_FACE = 0.15           # largest face below this fraction of the short side -> tile pass
_MIN_SCORE = 0.4            # the landmark model's face-presence gate verifies each box

_local = threading.local()
_T = TypeVar("_T")
_R = TypeVar("_R")
_HELPERS = max(1, min(2, os.cpu_count() or 1))   # helper threads (2 cores: caller + 1 helper)
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def executor() -> ThreadPoolExecutor:
    """The shared helper pool (threads named ``cosbeauty-imaging``), created on first use."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(_HELPERS, thread_name_prefix="cosbeauty-imaging")
        return _executor


def pmap(fn: Callable[[_T], _R], items: Sequence[_T]) -> list[_R]:
    """``[fn(x) for x in items]`` on the calling thread plus one helper thread, order kept.

    Work is pulled item by item, so nothing waits for a busy helper: if the pool is saturated
    (nested use, concurrent requests) the caller simply does all the items itself. The first
    exception is re-raised after all started items finished.
    """
    n = len(items)
    if n < 2 or (os.cpu_count() or 1) < 2:
        return [fn(x) for x in items]
    results: list[Any] = [None] * n
    errors: list[BaseException] = []
    lock = threading.Lock()
    next_index = [0]

    def run() -> None:
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= n or errors:
                return
            try:
                results[i] = fn(items[i])
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
                errors.append(exc)

    helper = executor().submit(run)
    run()
    if not helper.cancel():          # started: it finishes the item it took
        helper.result()
    if errors:
        raise errors[0]
    return results


def shrink(img: np.ndarray, scale: float) -> tuple[np.ndarray, float, float]:
    """INTER_AREA downscale of ``img`` by ``scale`` (<= 1) -> (small, sx, sy).

    Exact 2x2 halvings first (OpenCV's SIMD fast path: 12 MP -> 1/8 in ~7 ms instead of ~40),
    then one fractional step. ``small`` pixel = image pixel * (sx, sy); an odd last row or
    column may be dropped by a halving, which (sx, sy) accounts for.
    """
    h, w = img.shape[:2]
    tw, th = max(1, round(w * scale)), max(1, round(h * scale))
    if (tw, th) == (w, h):
        return np.ascontiguousarray(img), 1.0, 1.0
    used_w, used_h = w, h
    cur = img
    while cur.shape[1] >= 2 * tw and cur.shape[0] >= 2 * th:
        ch, cw = cur.shape[0] // 2 * 2, cur.shape[1] // 2 * 2
        used_w -= (cur.shape[1] - cw) * (used_w / cur.shape[1])
        used_h -= (cur.shape[0] - ch) * (used_h / cur.shape[0])
        cur = cv2.resize(cur[:ch, :cw], (cw // 2, ch // 2), interpolation=cv2.INTER_AREA)
    if (cur.shape[1], cur.shape[0]) != (tw, th):
        cur = cv2.resize(cur, (tw, th), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(cur), tw / used_w, th / used_h


@dataclass
class Face:
    """One detected face. Coordinates are image pixels (x right, y down)."""

    box: tuple[int, int, int, int]          # x, y, w, h of the landmark extent
    score: float                            # detector confidence
    landmarks: np.ndarray = field(repr=False)   # (478, 2) float32

    @property
    def cheek_width(self) -> float:
        """F: distance between the cheek landmarks 234 and 454 (the face's scale unit)."""
        return float(np.linalg.norm(self.landmarks[234] - self.landmarks[454]))

    @property
    def iod(self) -> float:
        """Inter-ocular distance between the iris centres 468 and 473."""
        return float(np.linalg.norm(self.landmarks[468] - self.landmarks[473]))

    @property
    def center(self) -> tuple[float, float]:
        x, y = self.landmarks[:468].mean(axis=0)
        return float(x), float(y)

    @property
    def roll(self) -> float:
        """In-plane rotation in degrees (0 = upright, positive = clockwise on screen)."""
        dx, dy = self.landmarks[263] - self.landmarks[33]
        return math.degrees(math.atan2(dy, dx))


@dataclass
class _Detection:
    box: np.ndarray        # x0, y0, x1, y1 floats in image pixels
    score: float
    eyes: np.ndarray       # (2, 2): detector keypoints 0 (right eye) and 1 (left eye)


@dataclass
class _Roi:
    cx: float
    cy: float
    size: float            # side of the square ROI in pixels
    angle: float           # radians, MediaPipe's convention (rotation to undo)


# --------------------------------------------------------------------------- graphs


def _graphs() -> tuple[Any, Any]:
    """This thread's (detector, landmarker) MediaPipe graphs, built on first use."""
    graphs = getattr(_local, "graphs", None)
    if graphs is None:
        graphs = _local.graphs = (_build_detector(), _build_landmarker())
        if not threading.current_thread().name.startswith("cosbeauty-imaging"):
            for _ in range(_HELPERS):   # first graphs of a caller thread: warm the helpers too
                executor().submit(_graphs)
    return graphs


def _quiet_mediapipe() -> None:
    warnings.filterwarnings("ignore", message=r"SymbolDatabase\.GetPrototype", category=UserWarning)
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)
    except ImportError:  # pragma: no cover - absl ships with mediapipe
        pass


def _solution(graph_text: str, outputs: list[str], side_inputs: dict | None = None) -> Any:
    _quiet_mediapipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from google.protobuf import text_format
        from mediapipe.framework import calculator_pb2
        from mediapipe.modules.face_detection import face_detection_pb2  # noqa: F401 (registers options)
        from mediapipe.python import solution_base

        config = text_format.Parse(graph_text, calculator_pb2.CalculatorGraphConfig())
        return solution_base.SolutionBase(graph_config=config, side_inputs=side_inputs,
                                          outputs=outputs)


def _build_detector() -> Any:
    threads = 1     # see the module docstring: 2 threads spin-wait under load
    return _solution(f"""
        input_stream: "IMAGE:image"
        output_stream: "DETECTIONS:detections"
        node {{
          calculator: "FaceDetectionFullRange"
          input_stream: "IMAGE:image"
          output_stream: "DETECTIONS:detections"
          node_options {{
            [type.googleapis.com/mediapipe.FaceDetectionOptions] {{
              min_score_thresh: {_MIN_SCORE}
              delegate {{ xnnpack {{ num_threads: {threads} }} }}
            }}
          }}
        }}""", ["detections"])


def _build_landmarker() -> Any:
    return _solution("""
        input_stream: "IMAGE:image"
        input_stream: "ROI:roi"
        output_stream: "LANDMARKS:landmarks"
        node {
          calculator: "FaceLandmarkCpu"
          input_stream: "IMAGE:image"
          input_stream: "ROI:roi"
          input_side_packet: "WITH_ATTENTION:with_attention"
          output_stream: "LANDMARKS:landmarks"
        }""", ["landmarks"], side_inputs={"with_attention": True})


# --------------------------------------------------------------------------- stage 1


def _detect_in(src: np.ndarray, x0: float, y0: float, sx: float = 1.0, sy: float = 1.0,
               max_side: int | None = None) -> list[_Detection]:
    """Run the detector on ``src``: image pixels scaled by (sx, sy) with origin (x0, y0) of the
    scaled image; boxes come back in image pixels. ``max_side`` pre-shrinks ``src``."""
    h, w = src.shape[:2]
    small, ssx, ssy = (shrink(src, max_side / max(h, w)) if max_side and max(h, w) > max_side
                       else (np.ascontiguousarray(src), 1.0, 1.0))
    detector, _ = _graphs()
    result = detector.process({"image": small})
    kx, ky = small.shape[1] / ssx, small.shape[0] / ssy        # relative -> src pixels
    found = []
    for det in result.detections or []:
        loc = det.location_data
        bb = loc.relative_bounding_box
        box = np.array([(bb.xmin * kx + x0) / sx, (bb.ymin * ky + y0) / sy,
                        ((bb.xmin + bb.width) * kx + x0) / sx, ((bb.ymin + bb.height) * ky + y0) / sy])
        eyes = np.array([[(kp.x * kx + x0) / sx, (kp.y * ky + y0) / sy]
                         for kp in loc.relative_keypoints[:2]])
        found.append(_Detection(box, float(det.score[0]), eyes))
    return found


def _whole_pass(src: np.ndarray, sx: float = 1.0, sy: float = 1.0) -> list[_Detection]:
    """The whole image (``src`` = image scaled by (sx, sy)) shrunk to <= _DET_MAX_SIDE."""
    return _detect_in(src, 0, 0, sx, sy, _DET_MAX_SIDE)


def _tile_geometry(h: int, w: int) -> tuple[float, int]:
    """(scale, window side) of the tile pass: that of the classic tiling (up to 3x3 overlapping
    tiles, each shrunk to <= _TILE_SIDE with INTER_AREA, then letterboxed by the detector)."""
    side = max(max(x1 - x0, y1 - y0) for x0, y0, x1, y1 in _tiles(h, w))
    scale = min(1.0, _TILE_SIDE / side)
    return scale, round(side * scale)


def _windows(length: int, side: int) -> list[tuple[int, int]]:
    """Overlapping (>= 20 %) spans of ``side`` px covering ``length`` (scaled) pixels."""
    if length <= side:
        return [(0, length)]
    n = max(2, math.ceil((length - 0.2 * side) / (0.8 * side) - 0.05))
    return [(round(i * (length - side) / (n - 1)), round(i * (length - side) / (n - 1)) + side)
            for i in range(n)]


def _tile_pass(image: np.ndarray | None, h: int, w: int,
               scaled: tuple[np.ndarray, float, float] | None = None) -> list[_Detection]:
    """Detector on overlapping square windows of the image scaled once to the tile scale.

    Same detector input as the classic tiles (scale, window side, >= 20 % overlap, so the
    same smallest face), but the image is shrunk once instead of per tile, and the windows are
    square, so a 16:9 or 4:3 frame needs 6 windows where the 3x3 tiles were 9 letterboxed
    strips. The source is ``image``, or ``scaled`` = (src, sx, sy), an already reduced copy,
    when it has at least the tile scale's resolution.
    """
    need, side = _tile_geometry(h, w)
    if scaled is not None and min(scaled[1], scaled[2]) >= need * 0.999:
        src, sx, sy = scaled
        if min(sx, sy) > need * 1.001:
            src, ex, ey = shrink(src, need / min(sx, sy))
            sx, sy = sx * ex, sy * ey
    else:
        assert image is not None
        src, sx, sy = shrink(image, need)
    sh, sw = src.shape[:2]
    windows = [(x0, y0, x1, y1) for y0, y1 in _windows(sh, side) for x0, x1 in _windows(sw, side)]
    return [d for found in pmap(lambda win: _detect_in(src[win[1]:win[3], win[0]:win[2]],
                                                       win[0], win[1], sx, sy), windows)
            for d in found]


def _spans(length: int) -> list[tuple[int, int]]:
    """1-3 overlapping spans (20 % of a span) covering ``length``, each ~<= _TILE_SIDE."""
    n = 1 if length < 2 * _TILE_SIDE * 0.6 else min(3, max(2, math.ceil(length / (_TILE_SIDE * 0.8))))
    if n == 1:
        return [(0, length)]
    span = math.ceil(length / (n * 0.8 + 0.2))
    return [(round(i * (length - span) / (n - 1)), round(i * (length - span) / (n - 1)) + span)
            for i in range(n)]


def _tiles(h: int, w: int) -> list[tuple[int, int, int, int]]:
    """Grid of up to 3x3 overlapping tiles: x0, y0, x1, y1."""
    return [(x0, y0, x1, y1) for y0, y1 in _spans(h) for x0, x1 in _spans(w)]


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over the smaller box's area."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return float(iw * ih / max(smaller, 1e-6))


def _merge(dets: list[_Detection]) -> list[_Detection]:
    """Greedy NMS keeping the most confident of overlapping boxes."""
    kept: list[_Detection] = []
    for det in sorted(dets, key=lambda d: -d.score):
        if all(_overlap(det.box, k.box) <= _MERGE_IOM for k in kept):
            kept.append(det)
    return kept


def _want_tiles(dets: list[_Detection], h: int, w: int) -> bool:
    """Tiles help unless the whole-image pass found exactly one face that is not small."""
    if max(h, w) < 2 * 192:        # the whole-image pass already sees ~20 px faces
        return False
    if len(dets) != 1:              # nothing found, or a group: more faces may be smaller
        return True
    return dets[0].box[2] - dets[0].box[0] < _SMALL_FACE * min(h, w)


# --------------------------------------------------------------------------- stage 2


def _roi_from_points(box: np.ndarray, eye_r: np.ndarray, eye_l: np.ndarray) -> _Roi:
    """MediaPipe's DetectionsToRects + RectTransformation (x1.5, square) in pixel units."""
    angle = -math.atan2(-(eye_l[1] - eye_r[1]), eye_l[0] - eye_r[0])
    angle = (angle + math.pi) % (2 * math.pi) - math.pi
    size = max(box[2] - box[0], box[3] - box[1]) * _ROI_SCALE
    return _Roi((box[0] + box[2]) / 2, (box[1] + box[3]) / 2, size, angle)


def _roi_from_landmarks(pts: np.ndarray) -> _Roi:
    """Refined ROI: the landmark extent measured in the face's own (rotated) frame."""
    eye_r, eye_l = pts[33], pts[263]
    angle = math.atan2(eye_l[1] - eye_r[1], eye_l[0] - eye_r[0])
    c, s = math.cos(angle), math.sin(angle)
    rot = np.array([[c, s], [-s, c]], dtype=np.float64)          # image -> face frame
    local = pts[:468].astype(np.float64) @ rot.T
    lo, hi = local.min(axis=0), local.max(axis=0)
    centre = ((lo + hi) / 2) @ rot                                # back to image frame
    size = float(max(hi - lo)) * _ROI_SCALE
    return _Roi(float(centre[0]), float(centre[1]), size, angle)


def _landmarks(src: np.ndarray, roi: _Roi, scale: float = 1.0) -> np.ndarray | None:
    """478 landmarks (image pixels) inside ``roi`` (image pixels), or None when the model sees
    no face. ``src`` is the image scaled by ``scale`` (a reduced decode) or the image itself."""
    from mediapipe.framework.formats import rect_pb2

    h, w = src.shape[:2]
    cx, cy, size = roi.cx * scale, roi.cy * scale, roi.size * scale
    half = size * (abs(math.cos(roi.angle)) + abs(math.sin(roi.angle))) / 2
    x0, y0 = max(0, int(cx - half)), max(0, int(cy - half))
    x1, y1 = min(w, int(math.ceil(cx + half))), min(h, int(math.ceil(cy + half)))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    crop, sx, sy = src[y0:y1, x0:x1], 1.0, 1.0
    if max(crop.shape[:2]) > _LM_CROP_MAX:
        crop, sx, sy = shrink(crop, _LM_CROP_MAX / max(crop.shape[:2]))
    else:
        crop = np.ascontiguousarray(crop)
    ch, cw = crop.shape[:2]
    rect = rect_pb2.NormalizedRect(
        x_center=(cx - x0) * sx / cw, y_center=(cy - y0) * sy / ch,
        width=size * sx / cw, height=size * sy / ch, rotation=roi.angle)
    _, landmarker = _graphs()
    result = landmarker.process({"image": crop, "roi": rect})
    if result.landmarks is None:
        return None
    pts = np.array([(p.x * cw, p.y * ch) for p in result.landmarks.landmark], dtype=np.float32)
    pts /= np.array([sx, sy], dtype=np.float32)
    pts += np.array([x0, y0], dtype=np.float32)
    return pts / np.float32(scale) if scale != 1.0 else pts


def _needs_refine(first: _Roi, second: _Roi) -> bool:
    d_angle = abs((first.angle - second.angle + math.pi) % (2 * math.pi) - math.pi)
    shift = math.hypot(first.cx - second.cx, first.cy - second.cy)
    ratio = second.size / max(first.size, 1e-6)
    return d_angle > math.radians(8) or shift > 0.08 * second.size or not 0.8 < ratio < 1.25


def _face_from(det: _Detection, rgb: np.ndarray, scale: float = 1.0,
               shape: tuple[int, int] | None = None) -> Face | None:
    """Landmarks for one detection. ``rgb`` is the image, or a copy scaled by ``scale`` (then
    ``shape`` is the image's h, w)."""
    roi = _roi_from_points(det.box, det.eyes[0], det.eyes[1])
    pts = _landmarks(rgb, roi, scale)
    if pts is None:
        return None
    refined = _roi_from_landmarks(pts)
    if _needs_refine(roi, refined):
        pts = _landmarks(rgb, refined, scale) if refined.size > 4 else None
        if pts is None:
            return None
    h, w = shape or rgb.shape[:2]
    lo = np.clip(np.floor(pts[:468].min(axis=0)), 0, [w - 1, h - 1]).astype(int)
    hi = np.clip(np.ceil(pts[:468].max(axis=0)), 0, [w - 1, h - 1]).astype(int)
    box = (int(lo[0]), int(lo[1]), int(hi[0] - lo[0] + 1), int(hi[1] - lo[1] + 1))
    return Face(box=box, score=det.score, landmarks=pts)


def _lm_scale_ok(det: _Detection, scale: float) -> bool:
    """A copy scaled by ``scale`` gives the landmark model the same input resolution as the
    full image would: the ROI (with its rotation margin) still has >= _LM_CROP_MAX pixels."""
    roi = _roi_from_points(det.box, det.eyes[0], det.eyes[1])
    return roi.size * scale >= _LM_CROP_MAX * 1.05


def _dedupe(faces: list[Face]) -> list[Face]:
    """Drop faces whose landmark centre lies within 0.3 F of a kept (larger) face."""
    kept: list[Face] = []
    for face in faces:
        cx, cy = face.center
        if all(math.hypot(cx - k.center[0], cy - k.center[1]) > 0.3 * max(k.cheek_width, 1.0)
               for k in kept):
            kept.append(face)
    return kept


def _as_rgb8(image: np.ndarray) -> np.ndarray:
    """Any H x W (x C) uint8/uint16 image -> H x W x 3 uint8 RGB for the models."""
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise TypeError(f"expected uint8 or uint16 pixels, got {image.dtype}")
    if image.ndim == 2:
        image = image[:, :, None]
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    return image[:, :, :3]


def detect_faces(rgb: np.ndarray, *, max_faces: int = 10, min_face_px: int = 20,
                 tiles: bool | None = None) -> list[Face]:
    """Faces in an RGB(A)/grey uint8 or uint16 image, largest first.

    ``tiles``: None decides automatically (tile pass when nothing or only small faces were
    found by the whole-image pass), True/False forces it on/off. Faces whose box is
    narrower than ``min_face_px`` are ignored; at most ``max_faces`` are returned.
    """
    image = _as_rgb8(rgb)
    h, w = image.shape[:2]
    if min(h, w) < 8 or max_faces <= 0:
        return []
    dets = _whole_pass(image)
    if tiles or (tiles is None and _want_tiles(dets, h, w)):
        dets += _tile_pass(image, h, w)
    return _finish(dets, image, max_faces, min_face_px)


def _select(dets: list[_Detection], max_faces: int, min_face_px: int) -> list[_Detection]:
    dets = [d for d in _merge(dets) if d.box[2] - d.box[0] >= min_face_px * 0.8]
    dets.sort(key=lambda d: -(d.box[2] - d.box[0]) * (d.box[3] - d.box[1]))
    return dets[: 2 * max_faces]


def _finish(dets: list[_Detection], image: np.ndarray | None, max_faces: int, min_face_px: int,
            done: dict[int, Face | None] | None = None) -> list[Face]:
    """Merge, landmark (in parallel; ``done`` holds faces already landmarked, by id of their
    detection), filter, sort, dedupe."""
    dets = _select(dets, max_faces, min_face_px)
    done = done or {}
    todo = [d for d in dets if id(d) not in done]
    if todo:
        assert image is not None
        done.update(zip(map(id, todo), pmap(lambda d: _face_from(d, image), todo)))
    faces = [f for f in (done[id(d)] for d in dets)
             if f is not None and min(f.box[2], f.box[3]) >= min_face_px * 0.8]
    faces.sort(key=lambda f: -f.cheek_width)
    return _dedupe(faces)[:max_faces]


class ScaledDetection:
    """Detection started on a reduced copy (e.g. a DCT-scaled JPEG decode) before the full image
    exists: :meth:`start` runs the whole-image pass and, when no tile pass is needed, the
    landmarks of every face big enough to keep full landmark resolution at that scale;
    :meth:`finish` does the rest (tile pass, smaller faces) on the full image.

    The result matches :func:`detect_faces` on the full image up to the resampling
    differences between a DCT-scaled decode and ``INTER_AREA`` (sub-pixel landmarks).
    """

    def __init__(self, h: int, w: int, *, max_faces: int = 10, min_face_px: int = 20) -> None:
        self.h, self.w = h, w
        self.max_faces, self.min_face_px = max_faces, min_face_px
        self.dets: list[_Detection] = []
        self.tiles = False
        self.done: dict[int, Face | None] = {}
        self.scaled: tuple[np.ndarray, float, float] | None = None

    def start(self, small: np.ndarray) -> "ScaledDetection":
        """``small``: RGB uint8, the image reduced by a power of 2 (pixel = image pixel / r)."""
        sx, sy = small.shape[1] / self.w, small.shape[0] / self.h
        self.scaled = (small, sx, sy)
        if min(self.h, self.w) < 8 or self.max_faces <= 0:
            return self
        self.dets = _whole_pass(small, sx, sy)
        self.tiles = _want_tiles(self.dets, self.h, self.w)
        if not self.tiles:
            scale = min(sx, sy)
            for det in _select(self.dets, self.max_faces, self.min_face_px):
                if _lm_scale_ok(det, scale):
                    self.done[id(det)] = _face_from(det, small, scale, (self.h, self.w))
        return self

    def finish(self, rgb: np.ndarray) -> list[Face]:
        """The faces, given the full image (only read for tiles and small faces)."""
        if min(self.h, self.w) < 8 or self.max_faces <= 0:
            return []
        image = _as_rgb8(rgb)
        dets = list(self.dets)
        if self.tiles:
            dets += _tile_pass(image, self.h, self.w, self.scaled)
        return _finish(dets, image, self.max_faces, self.min_face_px, self.done)
