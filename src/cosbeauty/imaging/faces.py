"""Face detection and 478-point landmarks on the CPU (MediaPipe, models bundled in the wheel).

Two stages:

1. BlazeFace full-range detector on a downscaled copy of the whole image and, when it is
   likely to help (no face, several faces or one small face), on up to 3x3 overlapping
   tiles of ~400 px, so faces down to ~20 px (in images up to ~1200 px; ~2.5 % of the long
   side beyond)
   are found. A single large face (a portrait) skips the tile pass. Overlapping boxes are merged (IoU over the smaller box).
2. For each box, the FaceMesh landmark model (with attention: 478 points incl. irises) runs
   on a rotated region of interest built from the detector's eye keypoints, exactly like
   MediaPipe's own front graph, so faces rolled up to 90 degrees are handled. When the ROI
   derived from the landmarks disagrees with the detector's (small or tilted faces) the
   landmark model runs once more on the refined ROI.

MediaPipe graphs are not thread-safe: one pair per thread (``threading.local``), built lazily
on first use so ``import cosbeauty.imaging`` stays cheap.
"""

from __future__ import annotations

import math
import os
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any

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
    threads = max(1, min(2, os.cpu_count() or 1))
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


def _detect_in(rgb: np.ndarray, x0: int, y0: int, max_side: int) -> list[_Detection]:
    """Run the detector on ``rgb`` (a view at offset x0, y0 of the image)."""
    h, w = rgb.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    if scale < 1.0:
        small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))),
                           interpolation=cv2.INTER_AREA)
    else:
        small = np.ascontiguousarray(rgb)
    detector, _ = _graphs()
    result = detector.process({"image": small})
    found = []
    for det in result.detections or []:
        loc = det.location_data
        bb = loc.relative_bounding_box
        box = np.array([bb.xmin * w + x0, bb.ymin * h + y0,
                        (bb.xmin + bb.width) * w + x0, (bb.ymin + bb.height) * h + y0])
        eyes = np.array([[kp.x * w + x0, kp.y * h + y0] for kp in loc.relative_keypoints[:2]])
        found.append(_Detection(box, float(det.score[0]), eyes))
    return found


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


def _landmarks(rgb: np.ndarray, roi: _Roi) -> np.ndarray | None:
    """478 landmarks (image pixels) inside ``roi``, or None when the model sees no face."""
    from mediapipe.framework.formats import rect_pb2

    h, w = rgb.shape[:2]
    half = roi.size * (abs(math.cos(roi.angle)) + abs(math.sin(roi.angle))) / 2
    x0, y0 = max(0, int(roi.cx - half)), max(0, int(roi.cy - half))
    x1, y1 = min(w, int(math.ceil(roi.cx + half))), min(h, int(math.ceil(roi.cy + half)))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    crop = rgb[y0:y1, x0:x1]
    scale = min(1.0, _LM_CROP_MAX / max(crop.shape[:2]))
    if scale < 1.0:
        crop = cv2.resize(crop, (max(1, round(crop.shape[1] * scale)),
                                 max(1, round(crop.shape[0] * scale))), interpolation=cv2.INTER_AREA)
    else:
        crop = np.ascontiguousarray(crop)
    ch, cw = crop.shape[:2]
    sx, sy = cw / (x1 - x0), ch / (y1 - y0)
    rect = rect_pb2.NormalizedRect(
        x_center=(roi.cx - x0) * sx / cw, y_center=(roi.cy - y0) * sy / ch,
        width=roi.size * sx / cw, height=roi.size * sy / ch, rotation=roi.angle)
    _, landmarker = _graphs()
    result = landmarker.process({"image": crop, "roi": rect})
    if result.landmarks is None:
        return None
    pts = np.array([(p.x * cw, p.y * ch) for p in result.landmarks.landmark], dtype=np.float32)
    pts /= np.array([sx, sy], dtype=np.float32)
    pts += np.array([x0, y0], dtype=np.float32)
    return pts


def _needs_refine(first: _Roi, second: _Roi) -> bool:
    d_angle = abs((first.angle - second.angle + math.pi) % (2 * math.pi) - math.pi)
    shift = math.hypot(first.cx - second.cx, first.cy - second.cy)
    ratio = second.size / max(first.size, 1e-6)
    return d_angle > math.radians(8) or shift > 0.08 * second.size or not 0.8 < ratio < 1.25


def _face_from(det: _Detection, rgb: np.ndarray) -> Face | None:
    roi = _roi_from_points(det.box, det.eyes[0], det.eyes[1])
    pts = _landmarks(rgb, roi)
    if pts is None:
        return None
    refined = _roi_from_landmarks(pts)
    if _needs_refine(roi, refined):
        pts = _landmarks(rgb, refined) if refined.size > 4 else None
        if pts is None:
            return None
    h, w = rgb.shape[:2]
    lo = np.clip(np.floor(pts[:468].min(axis=0)), 0, [w - 1, h - 1]).astype(int)
    hi = np.clip(np.ceil(pts[:468].max(axis=0)), 0, [w - 1, h - 1]).astype(int)
    box = (int(lo[0]), int(lo[1]), int(hi[0] - lo[0] + 1), int(hi[1] - lo[1] + 1))
    return Face(box=box, score=det.score, landmarks=pts)


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
    dets = _detect_in(image, 0, 0, _DET_MAX_SIDE)
    if tiles or (tiles is None and _want_tiles(dets, h, w)):
        for x0, y0, x1, y1 in _tiles(h, w):
            dets += _detect_in(image[y0:y1, x0:x1], x0, y0, _TILE_SIDE)
    dets = [d for d in _merge(dets) if d.box[2] - d.box[0] >= min_face_px * 0.8]
    dets.sort(key=lambda d: -(d.box[2] - d.box[0]) * (d.box[3] - d.box[1]))
    faces: list[Face] = []
    for det in dets[: 2 * max_faces]:
        face = _face_from(det, image)
        if face is not None and min(face.box[2], face.box[3]) >= min_face_px * 0.8:
            faces.append(face)
    faces.sort(key=lambda f: -f.cheek_width)
    return _dedupe(faces)[:max_faces]
