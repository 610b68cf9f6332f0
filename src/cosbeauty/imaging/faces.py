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
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import cv2
import numpy as np

__all__ = ["Face", "detect_faces"]

_DET_MAX_SIDE = 640          # the detector letterboxes to 192x192; pre-shrink with INTER_AREA
_DET_INPUT = 192             # the full-range detector's input side
_TILE_FACE_PX = 16           # window pass: the smallest face is seen this wide by the detector
_MIN_FACE_FRACTION = 0.012   # ... and is this fraction of the long side (24 px at 1920 px)
_LEVEL_STEP = 2.0            # window pass: face size ratio between pyramid levels
_CANDIDATES_PER_FACE = 3     # landmark/verify at most this many candidates per wanted face
_UPRIGHT_SURE = 0.75         # an upright detection this confident skips the turned passes
_EDGE_PAD = 0.15             # whole-image pass: mirrored border, fraction of the long side
_SKIN_CR = (131, 185)        # window pass: skin chroma box (Chai & Ngan 1999, widened), 0-255 scale
_SKIN_CB = (70, 130)
_SKIN_CELL = 4               # ... measured on 4x4 cell means (chroma noise averages out)
_WINDOW_MIN_SKIN = 3         # window pass: skip windows with fewer skin-chroma cells
_WINDOW_PAD = 20             # window pass: mirrored border (px at each level's scale)
_EDGE_SLACK = 0.2           # small candidates centred this far (x their side) outside the frame are kept
_EDGE_SLACK_SIDE = 0.04     # ... small: box side up to this x the long side (77 px at 1920 px)
_UPRIGHT_RETRY = 0.06       # cut candidates with an ROI up to this x the long side get an upright retry
_ALTERNATES = 2              # other passes' views of a face tried when the first one fails
_PRESENCE_FLOOR = 0.5        # MediaPipe's own gate on the landmark model's face presence
_LM_CROP_MAX = 384           # landmark model input is 192/256 px; crops above this are shrunk
_ROI_SCALE = 1.5             # MediaPipe's detection/landmarks -> ROI enlargement
_MERGE_IOM = 0.3             # boxes overlapping more than this (IoU over the smaller) merge
_SMALL_FACE = 0.15           # largest face below this fraction of the short side -> tile pass
_MIN_SCORE = 0.4            # the landmark model's face-presence gate verifies each box
_PROPOSE_FACE_PX = 14        # proposal pass: the smallest face is seen this wide by the proposer
_PROPOSE_INPUT = 192         # ... small windows where skin chroma is sparse (big tiles elsewhere: proposer.py)
_PROPOSE_LEVEL_STEP = 4.0    # ... face size ratio between its levels (faces seen 14-56 px wide)
_PROPOSE_TILE_FILL = 0.9     # ... a big tile runs when its skin windows would cover this much of its area
_PROPOSE_SCORE = 0.15        # ... its (low) threshold (chosen on the size sweep, see docs/faces.md)
_PROPOSE_OVERLAP = 64        # ... tile/window overlap (px): the largest face of a level (4x14 px) + margin
_PROPOSE_PAD = 16            # ... mirrored border (px): a face up to half cut by the frame
_PROPOSE_MIN_SKIN = 2        # ... windows with fewer skin-chroma cells are skipped
_PROPOSE_MIN_SKIN_CENTRE = 3  # ... and proposals with fewer in the 14 px square at their centre
_PROPOSE_BIG = 0.6           # ... a proposal this confident is also confirmed at twice the size
_TOP_EDGE_SCORE = 0.5       # ... unconfirmed proposals this confident on the top edge are candidates
_CONFIRM_CELL = 64           # confirmation mosaic: each proposal in a 64 px cell, 3x3 per call
_CONFIRM_FACE_PX = 33        # ... the level's smallest face is shown this wide (its largest: 66 px; 30: sweep 347)
_CONFIRM_PER_FACE = 8        # ... at most this many proposals per wanted face (best first): bounded work

SMALL_TURNS: bool | str = "auto"   # proposal pass on quarter-turned views too (faces >= 2x the smallest,
                                   # +~90 ms CPU at 1080p): True, False, or "auto" = once more when a
                                   # verified face is rolled past _SMALL_TURNS_ROLL degrees
_SMALL_TURNS_ROLL = 60             # ... (people lying down, a group upside down)

_local = threading.local()
_T = TypeVar("_T")
_R = TypeVar("_R")
_HELPERS = max(1, min(2, os.cpu_count() or 1))   # helper threads (2 cores: caller + 1 helper)
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


class _Deferred(Future):
    """A task of the inline executor: never started by anyone else, so ``cancel()`` succeeds
    (every caller then runs the work itself); ``result()`` runs it on the calling thread."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__()
        self._fn = fn

    def result(self, timeout: float | None = None) -> Any:
        if self.set_running_or_notify_cancel() if not self.done() else False:
            try:
                self.set_result(self._fn())
            except BaseException as exc:  # noqa: BLE001 - re-raised by Future.result
                self.set_exception(exc)
        return super().result(timeout)


class _Inline:
    def submit(self, fn: Callable[..., _R], *args: Any, **kwargs: Any) -> "Future[_R]":
        return _Deferred(lambda: fn(*args, **kwargs))


_INLINE = _Inline()


def no_helpers() -> None:
    """From now on this thread's imaging work runs on this thread alone: :func:`executor` hands
    it an executor that never starts a task (callers then do the work themselves, the same
    computation in the same order: output bytes unchanged). For callers that already run one
    file per core (the beautify CLI's worker threads)."""
    _local.inline = True


def release_idle() -> None:
    """Give back what the face models hold between calls and can rebuild: the proposer's idle
    LiteRT interpreters (:func:`.proposer.release_idle`; ~10-35 MB each). Called by the CI worker
    pool once the process has been idle for a few seconds (ci/pool.py); a no-op before the
    proposer was first used."""
    proposer = sys.modules.get(__package__ + ".proposer")
    if proposer is not None:
        proposer.release_idle()


def executor() -> ThreadPoolExecutor:
    """The shared helper pool (threads named ``cosbeauty-imaging``), created on first use; in a
    thread that called :func:`no_helpers`, an inline executor instead."""
    global _executor
    if getattr(_local, "inline", False):
        return _INLINE  # type: ignore[return-value]
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


def shrink(img: np.ndarray, scale: float, last: int = cv2.INTER_AREA) -> tuple[np.ndarray, float, float]:
    """INTER_AREA downscale of ``img`` by ``scale`` (<= 1) -> (small, sx, sy).

    Exact 2x2 halvings first (OpenCV's SIMD fast path: 12 MP -> 1/8 in ~7 ms instead of ~40),
    then one fractional step (``last``: its interpolation; ``INTER_LINEAR`` is ~8x faster than
    ``INTER_AREA`` for a 0.5-1 step of a full frame). ``small`` pixel = image pixel * (sx, sy); an
    odd last row or column may be dropped by a halving, which (sx, sy) accounts for.
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
        cur = cv2.resize(cur, (tw, th), interpolation=last)
    return np.ascontiguousarray(cur), tw / used_w, th / used_h


@dataclass
class Face:
    """One detected face. Coordinates are image pixels (x right, y down)."""

    box: tuple[int, int, int, int]          # x, y, w, h of the landmark extent
    score: float                            # detector confidence
    landmarks: np.ndarray = field(repr=False)   # (478, 2) float32
    presence: float = 1.0                   # the landmark model's face-presence score
    checks: dict = field(default_factory=dict, repr=False)   # verify.face_checks() measures

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
    alts: list["_Detection"] = field(default_factory=list)   # merged-away duplicates
    coarse: bool = False   # from a proposal mosaic (face 30-60 px): its ROI is always refined


@dataclass
class _Roi:
    cx: float
    cy: float
    size: float            # side of the square ROI in pixels
    angle: float           # radians, MediaPipe's convention (rotation to undo)


# --------------------------------------------------------------------------- graphs


_build_lock = threading.Lock()


def _graphs() -> tuple[Any, Any]:
    """This thread's (detector, landmarker) MediaPipe graphs, built on first use."""
    graphs = getattr(_local, "graphs", None)
    if graphs is None:
        graphs = _local.graphs = quietly(lambda: (_build_detector(), _build_landmarker()))
        if not threading.current_thread().name.startswith("cosbeauty-imaging"):
            for _ in range(_HELPERS):   # first graphs of a caller thread: warm the helpers too
                executor().submit(_graphs)
    return graphs


def quietly(build: Callable[[], _R]) -> _R:
    """Run ``build`` (graph construction and a warm-up call) with file descriptor 2 routed
    through a pipe, then forward everything but MediaPipe/TFLite's native start-up chatter.

    MediaPipe's C++ logs a few lines per graph (XNNPACK delegate, feedback manager) that no
    setting silences; a library user must not see them. Other threads' stderr output written
    meanwhile is held for the few milliseconds of the build and forwarded unchanged.
    """
    from cosbeauty._stderr_filter import NOISE

    with _build_lock:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):   # no file descriptor 2: nothing to filter
            return build()
        read_fd, write_fd = os.pipe()
        chunks: list[bytes] = []

        def drain() -> None:
            with os.fdopen(read_fd, "rb", buffering=0) as pipe:
                while chunk := pipe.read(65536):
                    chunks.append(chunk)

        reader = threading.Thread(target=drain, name="cosbeauty-stderr-build", daemon=True)
        reader.start()
        os.dup2(write_fd, 2)
        os.close(write_fd)
        try:
            return build()
        finally:
            os.dup2(saved, 2)           # closes the pipe's last write end: the reader sees EOF
            os.close(saved)
            reader.join(timeout=5)
            kept = b"".join(line for line in b"".join(chunks).splitlines(keepends=True)
                            if not NOISE.match(line))
            if kept:
                os.write(2, kept)


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
        from mediapipe.calculators.core import split_vector_calculator_pb2  # noqa: F401
        from mediapipe.calculators.tensor import (image_to_tensor_calculator_pb2,  # noqa: F401
                                                  inference_calculator_pb2,  # noqa: F401
                                                  tensors_to_floats_calculator_pb2)  # noqa: F401
        from mediapipe.framework import calculator_pb2
        from mediapipe.modules.face_detection import face_detection_pb2  # noqa: F401 (registers options)
        from mediapipe.python import solution_base

        config = text_format.Parse(graph_text, calculator_pb2.CalculatorGraphConfig())
        return solution_base.SolutionBase(graph_config=config, side_inputs=side_inputs,
                                          outputs=outputs)


def _proposer() -> Any:
    """This thread's short-range BlazeFace graph (128 px input, low threshold: the proposal
    pass), built on first use."""
    graph = getattr(_local, "proposer", None)
    if graph is None:
        graph = _local.proposer = quietly(
            lambda: _build_detector("FaceDetectionShortRange", _PROPOSE_SCORE))
    return graph


def _build_detector(calculator: str = "FaceDetectionFullRange", min_score: float = _MIN_SCORE) -> Any:
    threads = 1     # see the module docstring: 2 threads spin-wait under load
    graph = _solution(f"""
        input_stream: "IMAGE:image"
        output_stream: "DETECTIONS:detections"
        node {{
          calculator: "{calculator}"
          input_stream: "IMAGE:image"
          output_stream: "DETECTIONS:detections"
          node_options {{
            [type.googleapis.com/mediapipe.FaceDetectionOptions] {{
              min_score_thresh: {min_score}
              delegate {{ xnnpack {{ num_threads: {threads} }} }}
            }}
          }}
        }}""", ["detections"])
    graph.process({"image": np.zeros((64, 64, 3), np.uint8)})       # opens the calculators
    return graph


# MediaPipe's FaceLandmarkCpu subgraph (with attention), spelled out so that the model's
# face-presence score comes out as a number instead of a fixed 0.5 gate on the landmarks.
_LANDMARK_GRAPH = """
    input_stream: "IMAGE:image"
    input_stream: "ROI:roi"
    input_side_packet: "WITH_ATTENTION:with_attention"
    output_stream: "LANDMARKS:landmarks"
    output_stream: "PRESENCE:presence"
    node {
      calculator: "ImageToTensorCalculator"
      input_stream: "IMAGE:image"
      input_stream: "NORM_RECT:roi"
      output_stream: "TENSORS:input_tensors"
      options: { [mediapipe.ImageToTensorCalculatorOptions.ext] {
          output_tensor_width: 192 output_tensor_height: 192
          output_tensor_float_range { min: 0.0 max: 1.0 } } }
    }
    node { calculator: "FaceLandmarksModelLoader"
           input_side_packet: "WITH_ATTENTION:with_attention" output_side_packet: "MODEL:model" }
    node { calculator: "TfLiteCustomOpResolverCalculator" output_side_packet: "OP_RESOLVER:op_resolver" }
    node {
      calculator: "InferenceCalculator"
      input_stream: "TENSORS:input_tensors"
      input_side_packet: "MODEL:model"
      input_side_packet: "OP_RESOLVER:op_resolver"
      output_stream: "TENSORS:output_tensors"
      options: { [mediapipe.InferenceCalculatorOptions.ext] { delegate { xnnpack { num_threads: 1 } } } }
    }
    node {
      calculator: "SplitTensorVectorCalculator"
      input_stream: "output_tensors"
      output_stream: "landmark_tensors"
      output_stream: "face_flag_tensor"
      options: { [mediapipe.SplitVectorCalculatorOptions.ext] {
          ranges: { begin: 0 end: 6 } ranges: { begin: 6 end: 7 } } }
    }
    node {
      calculator: "TensorsToFloatsCalculator"
      input_stream: "TENSORS:face_flag_tensor"
      output_stream: "FLOAT:presence"
      options { [mediapipe.TensorsToFloatsCalculatorOptions.ext] { activation: SIGMOID } }
    }
    node {
      calculator: "TensorsToFaceLandmarksWithAttention"
      input_stream: "TENSORS:landmark_tensors"
      output_stream: "LANDMARKS:crop_landmarks"
    }
    node {
      calculator: "LandmarkProjectionCalculator"
      input_stream: "NORM_LANDMARKS:crop_landmarks"
      input_stream: "NORM_RECT:roi"
      output_stream: "NORM_LANDMARKS:landmarks"
    }"""


def _build_landmarker() -> Any:
    from mediapipe.framework.formats import rect_pb2

    graph = _solution(_LANDMARK_GRAPH, ["landmarks", "presence"], side_inputs={"with_attention": True})
    graph.process({"image": np.zeros((64, 64, 3), np.uint8),
                   "roi": rect_pb2.NormalizedRect(x_center=0.5, y_center=0.5, width=1, height=1)})
    return graph


# --------------------------------------------------------------------------- stage 1


def _detect_in(src: np.ndarray, x0: float, y0: float, sx: float = 1.0, sy: float = 1.0,
               max_side: int | None = None, turns: int = 0, proposer: bool = False) -> list[_Detection]:
    """Run the detector on ``src``: image pixels scaled by (sx, sy) with origin (x0, y0) of the
    scaled image; boxes come back in image pixels. ``max_side`` pre-shrinks ``src``; ``turns``
    quarter turns counter-clockwise (``np.rot90``) are applied to the detector's input, so a face
    lying on its side or upside down is seen upright (the boxes and eyes are mapped back)."""
    h, w = src.shape[:2]
    small, ssx, ssy = (shrink(src, max_side / max(h, w)) if max_side and max(h, w) > max_side
                       else (np.ascontiguousarray(src), 1.0, 1.0))
    sh, sw = small.shape[:2]
    view = np.ascontiguousarray(np.rot90(small, turns)) if turns % 4 else small
    vh, vw = view.shape[:2]
    detector = _proposer() if proposer else _graphs()[0]
    result = detector.process({"image": np.ascontiguousarray(view)})
    kx, ky = sw / ssx, sh / ssy        # small pixels -> src pixels

    def to_image(px: float, py: float) -> tuple[float, float]:
        """A point in the detector's (turned) input, relative units -> image pixels."""
        x, y = px * vw, py * vh
        k = turns % 4
        if k == 1:
            x, y = sw - y, x
        elif k == 2:
            x, y = sw - x, sh - y
        elif k == 3:
            x, y = y, sh - x
        return (x / sw * kx + x0) / sx, (y / sh * ky + y0) / sy

    found = []
    for det in result.detections or []:
        loc = det.location_data
        bb = loc.relative_bounding_box
        corners = np.array([to_image(bb.xmin, bb.ymin), to_image(bb.xmin + bb.width, bb.ymin + bb.height)])
        lo, hi = corners.min(axis=0), corners.max(axis=0)
        eyes = np.array([to_image(kp.x, kp.y) for kp in loc.relative_keypoints[:2]])
        found.append(_Detection(np.array([lo[0], lo[1], hi[0], hi[1]]), float(det.score[0]), eyes))
    return found


def _whole_small(src: np.ndarray) -> tuple[np.ndarray, float, float]:
    """``src`` shrunk to <= _DET_MAX_SIDE (the whole-image passes' input) -> (small, sx, sy)."""
    h, w = src.shape[:2]
    return (shrink(src, _DET_MAX_SIDE / max(h, w)) if max(h, w) > _DET_MAX_SIDE
            else (np.ascontiguousarray(src), 1.0, 1.0))


def _whole_pass(src: np.ndarray, sx: float = 1.0, sy: float = 1.0,
                turns: Sequence[int] = (0,), edges: bool = False,
                small: tuple[np.ndarray, float, float] | None = None) -> list[_Detection]:
    """The whole image (``src`` = image scaled by (sx, sy)) shrunk to <= _DET_MAX_SIDE (or
    ``small``, that shrink already made), once per quarter turn in ``turns`` (in parallel);
    ``edges``: with a mirrored border, for faces cut by the frame (it makes every face ~25 %
    smaller in the detector's input, so the first, upright pass goes without)."""
    small, ssx, ssy = small if small is not None else _whole_small(src)
    pad = round(_EDGE_PAD * max(small.shape[:2])) if edges else 0
    padded = mirror_pad(small, pad)
    return [d for found in pmap(lambda k: _detect_in(padded, -pad, -pad, sx * ssx, sy * ssy, turns=k), turns)
            for d in found]


def mirror_pad(img: np.ndarray, pad: int) -> np.ndarray:
    """``img`` with a ``pad`` px mirrored border (``BORDER_REFLECT_101``) on every side.

    A face cut by the frame becomes a whole (mirror-symmetric) face that the detector and the
    landmark model recognise; detections centred in the border are dropped (:func:`_select`),
    and nothing outside the frame is ever written.
    """
    if pad <= 0:
        return np.ascontiguousarray(img)
    return cv2.copyMakeBorder(np.ascontiguousarray(img), pad, pad, pad, pad, cv2.BORDER_REFLECT_101)


TURNS = (0, 1, 2, 3)         # quarter turns of the second stage (the detector handles +-60 degrees)


def min_face(h: int, w: int, min_face_px: int = 20) -> float:
    """Smallest face width (px) the window pass is built to find in an h x w image: 24 px at
    1920x1080, 48 px at 4000x3000 (1.2 % of the long side), never under ``min_face_px``."""
    return max(float(min_face_px), _MIN_FACE_FRACTION * max(h, w))


def _levels(h: int, w: int, min_face_px: int = 20) -> list[float]:
    """Scales of the window pass: level k finds faces of ~[m 2^k, 2.4 m 2^k] px (m =
    :func:`min_face`), each seen >= _TILE_FACE_PX wide by the detector in 192 px windows;
    levels stop where the whole-image pass (long side letterboxed to 192) takes over."""
    m = min_face(h, w, min_face_px)
    whole = _TILE_FACE_PX * max(h, w) / _DET_INPUT          # faces the whole pass sees
    scales = []
    size = m
    while size < whole:
        scale = min(1.0, _TILE_FACE_PX / size)
        if max(h, w) * scale <= _DET_INPUT * 1.2:            # one window: the whole pass again
            break
        scales.append(scale)
        size *= _LEVEL_STEP
    return scales


def _windows(length: int, side: int, overlap: float | None = None) -> list[tuple[int, int]]:
    """Spans of ``side`` px covering ``length`` (scaled) pixels, overlapping by >= ``overlap``
    px (default 20 % of ``side``)."""
    if length <= side:
        return [(0, length)]
    overlap = 0.2 * side if overlap is None else overlap
    n = max(2, math.ceil((length - overlap) / (side - overlap) - 0.05))
    return [(round(i * (length - side) / (n - 1)), round(i * (length - side) / (n - 1)) + side)
            for i in range(n)]


def _tile_pass(image: np.ndarray | None, h: int, w: int,
               scaled: tuple[np.ndarray, float, float] | None = None,
               min_face_px: int = 20) -> list[_Detection]:
    """Detector on overlapping 192 px windows of the image at each scale of :func:`_levels`
    (an image pyramid: each level is shrunk from the previous one). The source is ``image``,
    or ``scaled`` = (src, sx, sy), an already reduced copy, when it has at least the first
    level's resolution. All windows of all levels run through :func:`pmap`."""
    levels = _levels(h, w, min_face_px)
    if not levels:
        return []
    sources = _pyramid(image, levels, scaled)
    jobs = []
    pad = _WINDOW_PAD
    for src, sx, sy in sources:
        padded = mirror_pad(src, pad)
        sh, sw = padded.shape[:2]
        skin = _skin_integral(padded)
        jobs += [(padded, sx, sy, x0, y0, x1, y1) for y0, y1 in _windows(sh, _DET_INPUT)
                 for x0, x1 in _windows(sw, _DET_INPUT)
                 if skin is None or _area(skin, x0, y0, x1, y1) >= _WINDOW_MIN_SKIN]
    return [d for found in pmap(lambda j: _window_in(j[0][j[4]:j[6], j[3]:j[5]], j[3] - pad, j[4] - pad,
                                                     j[1], j[2]), jobs)
            for d in found]


def _window_in(win: np.ndarray, x0: float, y0: float, sx: float, sy: float) -> list[_Detection]:
    """:func:`_detect_in` for one window of the window pass; a 192 x 192 one through LiteRT
    (:func:`_detect_full`, the same detections), others through MediaPipe's graph (letterbox)."""
    if win.shape[:2] != (_DET_INPUT, _DET_INPUT):
        return _detect_in(win, x0, y0, sx, sy)
    return [_Detection(np.array([(r[1] + x0) / sx, (r[2] + y0) / sy, (r[3] + x0) / sx, (r[4] + y0) / sy]),
                       float(r[0]), np.array([[(r[5] + x0) / sx, (r[6] + y0) / sy], [(r[7] + x0) / sx, (r[8] + y0) / sy]]))
            for r in _detect_full(win).astype(np.float64)]


def _small_face_pass(image: np.ndarray | None, h: int, w: int,
                     scaled: tuple[np.ndarray, float, float] | None = None,
                     min_face_px: int = 20, known: Sequence[_Detection] = (),
                     max_faces: int = 10) -> list[_Detection]:
    """Faces smaller than the whole-image pass sees: the proposal pass on colour images, the
    exhaustive window pass (:func:`_tile_pass`) on colourless ones (the proposer misses tightly
    cropped grey faces; grey photos pay the full scan)."""
    src = image if image is not None else scaled[0] if scaled is not None else None
    if src is None or not _colourful(src):
        return _tile_pass(image, h, w, scaled, min_face_px)
    return _proposal_pass(image, h, w, scaled, min_face_px, known, max_faces, turned=SMALL_TURNS is True)


def _turned_followup(faces: list[Face], dets: list[_Detection], image: np.ndarray | None, h: int, w: int,
                     scaled: tuple[np.ndarray, float, float] | None, min_face_px: int, max_faces: int,
                     verify: bool, done: dict[int, Face | None] | None = None) -> list[Face]:
    """``SMALL_TURNS == "auto"``: when a verified face is rolled past _SMALL_TURNS_ROLL degrees
    (people lying down, a group upside down), the proposal pass runs once more on the turned
    views only, and the faces are finished again with its candidates."""
    if SMALL_TURNS != "auto" or not any(abs(f.roll) > _SMALL_TURNS_ROLL for f in faces):
        return faces
    src = image if image is not None else scaled[0] if scaled is not None else None
    if src is None or not _colourful(src):
        return faces
    more = _proposal_pass(image, h, w, scaled, min_face_px, dets, max_faces, upright=False, turned=True)
    if not more:
        return faces
    return _finish(dets + more, image, max_faces, min_face_px, (h, w), done, verify=verify)


def _colourful(rgb: np.ndarray) -> bool:
    """Mean chroma of a <= 64 px sample grid at or above verify's grey limit."""
    from .verify import GREY_CHROMA

    step = max(1, min(rgb.shape[:2]) // 64)
    sample = np.ascontiguousarray(rgb[::step, ::step, :3])
    ycc = cv2.cvtColor(sample, cv2.COLOR_RGB2YCrCb)[:, :, 1:].astype(np.int16) - 128
    return float(np.abs(ycc).sum(axis=2).mean()) >= GREY_CHROMA


def _pyramid(image: np.ndarray | None, scales: list[float],
             scaled: tuple[np.ndarray, float, float] | None,
             last: int = cv2.INTER_AREA) -> list[tuple[np.ndarray, float, float]]:
    """(src, sx, sy) per scale (decreasing), each shrunk from the previous one; the first from
    ``scaled`` (a reduced copy) when it has the resolution, else from ``image``."""
    sources: list[tuple[np.ndarray, float, float]] = []
    prev: tuple[np.ndarray, float, float] | None = None
    for need in scales:
        if prev is None:
            if scaled is not None and min(scaled[1], scaled[2]) >= need * 0.999:
                prev = scaled
            else:
                assert image is not None
                prev = (image, 1.0, 1.0)
        src, sx, sy = prev
        if min(sx, sy) > need * 1.001:
            src, ex, ey = shrink(src, need / min(sx, sy), last)
            sx, sy = sx * ex, sy * ey
        prev = (src, sx, sy)
        sources.append(prev)
    return sources


def _proposal_pass(image: np.ndarray | None, h: int, w: int,
                   scaled: tuple[np.ndarray, float, float] | None = None,
                   min_face_px: int = 20, known: Sequence[_Detection] = (),
                   max_faces: int = 10, upright: bool = True, turned: bool = False) -> list[_Detection]:
    """Small faces in two cheap steps instead of the full-range detector on every window:

    1. **Proposals**: the short-range BlazeFace (128 px input, 1.7 ms a call against 6.2 ms for
       the full-range 192 px one: 1.6x cheaper per pixel) at a low threshold (0.15) on
       overlapping windows of a pyramid whose levels show the faces of :func:`_levels`' size
       ranges 14-28 px wide; windows without skin-chroma cells are skipped. At 14 px and 0.15
       a sweep of 352 faces of 24-343 px (1080p and 12 MP, 4 grid offsets) finds 348, the
       exhaustive window pass 351; at 12 px and 0.2, 329 (the smallest astronaut faces score
       0.1-0.3 depending on where they fall on the model's anchor grid); 16 px: 349 at ~1.3x
       the calls.
    2. **Confirmation**: each proposal (best first, near-duplicates dropped, at most
       _CONFIRM_PER_FACE per wanted face) is cut out so the face is 30-60 px wide in a 64 px
       cell; nine cells make one 192 px mosaic for the full-range detector at its usual
       threshold, so what comes out is the same kind of detection (box, eye keypoints, score)
       the window pass gave, for 1/9 of a call each.
    """
    m = min_face(h, w, min_face_px)
    sizes = [m * _PROPOSE_LEVEL_STEP ** k for k in range(-(-len(_levels(h, w, min_face_px)) // 2))]
    if not sizes:
        return []
    scales = [_snap(min(1.0, _PROPOSE_FACE_PX / size)) for size in sizes]
    pad = _PROPOSE_PAD
    levels = []           # (sx, sy, skin integral) per level
    jobs: list[tuple[np.ndarray, int, int, int, int, int, int, tuple[int, int]]] = []
    # a linear last step: the first level's fractional shrink of a 1080p frame 13 -> 1.6 ms
    pyramid = _pyramid(image, scales if upright else scales[:1], scaled, cv2.INTER_LINEAR)
    for i, (src, sx, sy) in enumerate(pyramid if upright else []):
        padded = mirror_pad(src, pad)
        skin = _skin_integral(padded, colour=True)
        levels.append((sx, sy, skin, sizes[i]))
        jobs += _tile_jobs(padded, skin, len(levels) - 1, 0)
    if turned and sizes:
        # faces lying or upside down, >= 2x the smallest: the proposer on the level showing them
        # 14-56 px wide (half the first level's scale), turned by 1-3 quarter turns
        first, sx, sy = pyramid[0]
        src, ex, ey = shrink(first, 0.5)
        padded = mirror_pad(src, pad)
        levels.append((sx * ex, sy * ey, _skin_integral(padded, colour=True), 2 * sizes[0]))
        for k in (1, 2, 3):
            view = np.ascontiguousarray(np.rot90(padded, k))
            jobs += _tile_jobs(view, _skin_integral(view, colour=True), len(levels) - 1, k, padded.shape[:2])
    found = pmap(lambda j: _propose_rows(j[0][j[2]:j[4], j[1]:j[3]]), jobs)
    sure = [d.box for d in known if d.score >= _UPRIGHT_SURE]
    proposals = []
    for job, rows in zip(jobs, found):
        sx, sy, skin, size = levels[job[5]]
        for d in _rows_to_image(rows, job, sx, sy, pad):
            cx, cy = (d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2
            # inside a face the whole-image passes already found (not for turned views: the turned
            # whole-image passes size small turned faces badly, e.g. a 64 px upside-down face as 105 px)
            if not job[6] and any(b[0] <= cx <= b[2] and b[1] <= cy <= b[3] for b in sure):
                continue
            if skin is not None:      # the face's centre must show skin chroma
                lx, ly, r = round(cx * sx) + pad, round(cy * sy) + pad, int(_PROPOSE_FACE_PX // 2)
                if _area(skin, max(0, lx - r), max(0, ly - r), lx + r, ly + r) < _PROPOSE_MIN_SKIN_CENTRE:
                    continue
            proposals.append((d, size, job[6]))
    cells = _proposal_cells(proposals, h, w)
    per = (_DET_INPUT // _CONFIRM_CELL) ** 2
    cap = max(9, _CONFIRM_PER_FACE * max_faces)        # upright, turned: turned cells never crowd out upright ones
    mosaics = []
    for group in ([c for c in cells if not c[3]][:cap], [c for c in cells if c[3]][:cap]):
        group = sorted(group, key=lambda c: (c[3], c[2]))   # stable: a mosaic holds cells of one turn and scale
        mosaics += [group[i:i + per] for i in range(0, len(group), per)]
    confirmed = [d for found in pmap(lambda group: _confirm(image, scaled, group), mosaics) for d in found]
    return confirmed + _top_edge_proposals(proposals, confirmed)


def _top_edge_proposals(proposals: list[tuple[_Detection, float, int]],
                        confirmed: list[_Detection]) -> list[_Detection]:
    """Confident upright proposals centred on the top edge of the frame, also as candidates of
    their own (their confirmations, if any, failed on a turned ROI) (landmarks and verification decide): a small face cut by
    the top shows the full-range detector its lower half and that half's reflection in the
    confirmation cell's mirrored border, which is no face, while the proposer (seeing the
    level's mirrored border) scores it 0.5-0.9."""
    out: list[_Detection] = []
    for det, size, turn in proposals:
        cx, cy = (det.box[0] + det.box[2]) / 2, (det.box[1] + det.box[3]) / 2
        if turn or det.score < _TOP_EDGE_SCORE or not -_EDGE_SLACK * size <= cy < 0.25 * size:
            continue
        if any(abs((d.box[0] + d.box[2]) / 2 - cx) < size and (d.box[1] + d.box[3]) / 2 < size
               for d in out):
            continue
        out.append(_Detection(det.box.astype(np.float64), det.score, det.eyes, coarse=True))
    return out


def _tile_jobs(padded: np.ndarray, skin: np.ndarray | None, level: int, turn: int,
               unturned: tuple[int, int] | None = None) -> list[tuple[Any, ...]]:
    """Proposer jobs (array, x0, y0, x1, y1, level, turn, unturned shape) covering ``padded`` (a
    level, possibly turned by ``turn`` quarter turns from its ``unturned`` h, w): each big tile
    (:func:`.proposer.span`), or only its small windows showing skin chroma when they cost less."""
    from . import proposer

    ph, pw = padded.shape[:2]
    (th, ys), (tw, xs) = proposer.span(ph, _PROPOSE_OVERLAP), proposer.span(pw, _PROPOSE_OVERLAP)
    small = _PROPOSE_INPUT
    if max(th, small) > ph or max(tw, small) > pw:   # a level smaller than one tile: tiles reach past it
        padded = cv2.copyMakeBorder(padded, 0, max(0, th - ph, small - ph), 0, max(0, tw - pw, small - pw),
                                    cv2.BORDER_REPLICATE)
    shape = unturned or (ph, pw)
    wins: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for wy0, _ in _windows(max(ph, small), small, _PROPOSE_OVERLAP):
        for wx0, _ in _windows(max(pw, small), small, _PROPOSE_OVERLAP):
            if skin is None or _area(skin, wx0, wy0, wx0 + small, wy0 + small) >= _PROPOSE_MIN_SKIN:
                tile = (max(y for y in ys if y <= wy0 + small // 2), max(x for x in xs if x <= wx0 + small // 2))
                wins.setdefault(tile, []).append((wy0, wx0))
    jobs: list[tuple[Any, ...]] = []
    for y0 in ys:
        for x0 in xs:
            kept = wins.get((y0, x0), [])
            if len(kept) * small * small < _PROPOSE_TILE_FILL * th * tw:
                jobs += [(padded, wx0, wy0, wx0 + small, wy0 + small, level, turn, shape) for wy0, wx0 in kept]
            else:
                jobs.append((padded, x0, y0, x0 + tw, y0 + th, level, turn, shape))
    return jobs


def _detect_full(window: np.ndarray) -> np.ndarray:
    """The full-range BlazeFace at its usual threshold on an exactly 192 x 192 RGB window, run by
    LiteRT (:func:`.proposer.detect`): the same detections as MediaPipe's graph (no resize or
    letterbox at that size; tested), ~3.8 ms against ~4.7 ms a call. (k, 9) rows in window px."""
    from . import proposer

    return proposer.detect(np.ascontiguousarray(window[:, :, :3]), _MIN_SCORE, quietly, model="full")


def _propose_rows(tile: np.ndarray) -> np.ndarray:
    """The short-range BlazeFace (:mod:`.proposer`, LiteRT) on one tile: (k, 9) rows in tile px."""
    from . import proposer

    return proposer.detect(np.ascontiguousarray(tile), _PROPOSE_SCORE, quietly)


def _unturn(x: float, y: float, turn: int, h: int, w: int) -> tuple[float, float]:
    """A point of ``np.rot90(a, turn)`` -> the same point of ``a`` (h x w), continuous px."""
    k = turn % 4
    if k == 1:
        return w - y, x
    if k == 2:
        return w - x, h - y
    if k == 3:
        return y, h - x
    return x, y


def _rows_to_image(rows: np.ndarray, job: tuple[Any, ...], sx: float, sy: float, pad: int) -> list[_Detection]:
    """Proposer rows of one job's tile -> detections in image pixels (boxes and eyes mapped back
    through the tile origin, the level's turn, its mirrored border and its scale)."""
    _, x0, y0, _, _, _, turn, (lh, lw) = job
    found = []
    for r in rows.astype(np.float64):
        pts = [_unturn(px + x0, py + y0, turn, lh, lw) for px, py in
               ((r[1], r[2]), (r[3], r[4]), (r[5], r[6]), (r[7], r[8]))]
        img = [((px - pad) / sx, (py - pad) / sy) for px, py in pts]
        (ax, ay), (bx, by) = img[0], img[1]
        box = np.array([min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)])
        found.append(_Detection(box, float(r[0]), np.array([img[2], img[3]])))
    return found


def _snap(scale: float) -> float:
    """``scale`` lowered to the power of 1/2 within 5 % below it (exact 2x2 halvings are
    OpenCV's SIMD path: 1080p -> 1/2 in ~1 ms, against ~20 ms for a fractional 0.52), else kept."""
    power = 2.0 ** round(math.log2(scale))
    return power if scale * 0.95 <= power <= scale else scale


def _proposal_cells(proposals: list[tuple[_Detection, float, int]], h: int, w: int) -> list[tuple[float, float, float, int]]:
    """(cx, cy, side) in image pixels of the confirmation cell of each (proposal, level face
    size) worth one: the best first (ties by position, so the order never depends on thread
    timing), dropping those centred within half a face of a kept one of the same size, or
    centred outside the frame. The short-range boxes of small faces say little about their
    size (12-32 px faces all come out 18-22 px, measured), so the cell's scale comes from the
    level: its faces (size..2 size) are shown 30-60 px wide in the 64 px cell. A confident
    proposal (>= _PROPOSE_BIG) may be a face above the level's range (the proposer likes big
    faces: a 100 px face scores 0.96 at the 23 px level, 0.2-0.3 at its own): it gets a second
    cell at twice the size."""
    kept: list[tuple[float, float, float, int]] = []
    order = sorted(proposals, key=lambda p: (-round(p[0].score, 6), p[1], p[2], tuple(np.round(p[0].box, 3))))
    for det, size, turn in order:
        cx, cy = (det.box[0] + det.box[2]) / 2, (det.box[1] + det.box[3]) / 2
        m = _EDGE_SLACK * size         # a small face half out: it and its reflection centred on the edge
        if not (-m <= cx < w + m and -m <= cy < h + m):
            continue
        for face in (size, 2 * size) if det.score >= _PROPOSE_BIG else (size,):
            if not any(k[2] == face and k[3] == turn and math.hypot(cx - k[0], cy - k[1]) < 0.5 * face for k in kept):
                kept.append((cx, cy, face, turn))
    return [(cx, cy, size * _CONFIRM_CELL / _CONFIRM_FACE_PX, turn) for cx, cy, size, turn in kept]


def _confirm(image: np.ndarray | None, scaled: tuple[np.ndarray, float, float] | None,
             cells: list[tuple[float, float, float, int]]) -> list[_Detection]:
    """The full-range detector on one mosaic of up to 3x3 proposal cells (``image`` pixels, or
    those of ``scaled`` = (copy, sx, sy) when the image is not given); detections are mapped
    back to image pixels, those not centred well inside their own cell are dropped."""
    n = _DET_INPUT // _CONFIRM_CELL
    c = _CONFIRM_CELL
    mosaic = np.full((_DET_INPUT, _DET_INPUT, 3), 128, np.uint8)
    src, sx, sy = (image, 1.0, 1.0) if image is not None else scaled      # type: ignore[misc]
    for i, (cx, cy, side, turn) in enumerate(cells):      # a turned proposal's cell is turned upright
        cell = _cell(src, cx * sx, cy * sy, side * min(sx, sy), c)
        mosaic[(i // n) * c:(i // n + 1) * c, (i % n) * c:(i % n + 1) * c] = np.rot90(cell, turn) if turn else cell
    found = []
    for r in _detect_full(mosaic).astype(np.float64):
        x0, y0, x1, y1 = r[1:5]
        col, row = int((x0 + x1) / 2 // c), int((y0 + y1) / 2 // c)
        i = row * n + col
        if not (0 <= col < n and 0 <= row < n) or i >= len(cells):
            continue
        ox, oy = col * c, row * c
        if min(x0 - ox, y0 - oy, ox + c - x1, oy + c - y1) < -0.15 * c:     # spans two cells
            continue
        cx, cy, side, turn = cells[i]
        k = side / c

        def back(px: float, py: float, ox: int = ox, oy: int = oy, k: float = k,
                 cx: float = cx, cy: float = cy, side: float = side, turn: int = turn) -> tuple[float, float]:
            u, v = _unturn(px - ox, py - oy, turn, c, c)
            return cx - side / 2 + u * k, cy - side / 2 + v * k

        (ax, ay), (bx, by) = back(x0, y0), back(x1, y1)
        eyes = np.array([back(r[5], r[6]), back(r[7], r[8])])
        found.append(_Detection(np.array([min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)]), float(r[0]),
                                eyes, coarse=True))
    return found


def _cell(src: np.ndarray, cx: float, cy: float, side: float, out: int) -> np.ndarray:
    """The ``side`` x ``side`` square of ``src`` centred on (cx, cy) resized to ``out`` px; the
    part outside the frame is mirrored (a face cut by the frame becomes whole)."""
    h, w = src.shape[:2]
    x0, y0 = int(math.floor(cx - side / 2)), int(math.floor(cy - side / 2))
    x1, y1 = x0 + max(1, int(round(side))), y0 + max(1, int(round(side)))
    cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if cx1 - cx0 < 2 or cy1 - cy0 < 2:
        return np.full((out, out, 3), 128, np.uint8)
    crop = np.ascontiguousarray(src[cy0:cy1, cx0:cx1, :3])
    if (cx0, cy0, cx1, cy1) != (x0, y0, x1, y1):
        top, bottom, left, right = cy0 - y0, y1 - cy1, cx0 - x0, x1 - cx1
        if max(top, bottom) >= crop.shape[0] or max(left, right) >= crop.shape[1]:
            crop = cv2.copyMakeBorder(crop, top, bottom, left, right, cv2.BORDER_REPLICATE)
        else:
            crop = cv2.copyMakeBorder(crop, top, bottom, left, right, cv2.BORDER_REFLECT_101)
    shrinking = crop.shape[0] > out
    return cv2.resize(crop, (out, out), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def _skin_integral(rgb: np.ndarray, colour: bool = False) -> np.ndarray | None:
    """Integral image of the skin-chroma cells (Chai & Ngan's Cr/Cb box widened, nearly the locus
    that :mod:`.verify` requires of a face's cheeks), or None for a colourless image (grey faces
    are verified without colour, so nothing can be skipped) unless ``colour`` says the whole
    image was found colourful (:func:`_colourful`: then a grey backdrop is gated too).

    A window without a patch of skin chroma cannot hold a face that passes verification, so
    the window pass skips it: on a typical photo most windows are sky, walls, floor."""
    from .verify import GREY_CHROMA

    small, _, _ = shrink(rgb[:, :, :3], 1 / _SKIN_CELL)    # 4x4 means: chroma noise averages out
    ycc = cv2.cvtColor(small, cv2.COLOR_RGB2YCrCb)
    step = max(1, min(ycc.shape[:2]) // 64)
    sample = ycc[::step, ::step, 1:].astype(np.int16) - 128
    if not colour and float(np.abs(sample).sum(axis=2).mean()) < GREY_CHROMA:
        return None
    mask = cv2.inRange(ycc, (0, _SKIN_CR[0], _SKIN_CB[0]), (255, _SKIN_CR[1], _SKIN_CB[1]))
    return cv2.integral(mask // 255)


def _area(integral: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> int:
    """Skin pixels (in _SKIN_CELL x _SKIN_CELL cells) of the window [x0, x1) x [y0, y1)."""
    n = _SKIN_CELL
    h, w = integral.shape[0] - 1, integral.shape[1] - 1
    x0, y0 = min(w, x0 // n), min(h, y0 // n)
    x1, y1 = min(w, -(-x1 // n)), min(h, -(-y1 // n))
    return int(integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0])


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over the smaller box's area."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return float(iw * ih / max(smaller, 1e-6))


def _merge(dets: list[_Detection]) -> list[_Detection]:
    """Greedy NMS keeping the most confident of overlapping boxes (ties: larger, then position,
    so the result never depends on the order the passes finished in)."""
    kept: list[_Detection] = []
    order = sorted(dets, key=lambda d: (-round(d.score, 6), -(d.box[2] - d.box[0]),
                                        tuple(np.round(d.box, 3))))
    for det in order:
        same = next((k for k in kept if _overlap(det.box, k.box) > _MERGE_IOM), None)
        if same is None:
            kept.append(_Detection(det.box, det.score, det.eyes, coarse=det.coarse))
        else:
            same.alts.append(det)      # another pass's view: its eye keypoints may be better
    return kept


def _want_turns(dets: list[_Detection], tiles: bool) -> bool:
    """The second stage (whole image with a mirrored border, at 0/90/180/270 degrees: faces at
    any angle and cut by the frame) runs unless the upright pass is sure of a face and no
    window pass is needed (a portrait): upright portraits stay at one detector call. Faces
    turned 90-180 degrees score <= 0.72 upright (measured), upright ones >= 0.78."""
    return tiles or not any(d.score >= _UPRIGHT_SURE for d in dets)


def _want_tiles(dets: list[_Detection], h: int, w: int, min_face_px: int = 20) -> bool:
    """Tiles help unless the whole-image pass found exactly one face that is not small (when
    that one fails verification, :func:`detect_faces` looks for small faces after all)."""
    if not _levels(h, w, min_face_px):      # the whole-image pass already sees the smallest faces
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


def _landmarks(src: np.ndarray, roi: _Roi, scale: float = 1.0,
               border: int = cv2.BORDER_REFLECT_101) -> tuple[np.ndarray, float] | None:
    """(478 landmarks in image pixels, the model's face-presence score) inside ``roi`` (image
    pixels), or None when the ROI has no pixels. ``src`` is the image scaled by ``scale`` (a
    reduced decode) or the image itself."""
    from mediapipe.framework.formats import rect_pb2

    h, w = src.shape[:2]
    cx, cy, size = roi.cx * scale, roi.cy * scale, roi.size * scale
    half = size * (abs(math.cos(roi.angle)) + abs(math.sin(roi.angle))) / 2
    x0, y0 = int(math.floor(cx - half)), int(math.floor(cy - half))
    x1, y1 = int(math.ceil(cx + half)), int(math.ceil(cy + half))
    cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if cx1 - cx0 < 8 or cy1 - cy0 < 8:
        return None
    crop, sx, sy = src[cy0:cy1, cx0:cx1], 1.0, 1.0
    if (cx0, cy0, cx1, cy1) != (x0, y0, x1, y1):     # cut by the frame: mirror the missing part
        crop = cv2.copyMakeBorder(np.ascontiguousarray(crop), cy0 - y0, y1 - cy1, cx0 - x0, x1 - cx1,
                                  border)
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
    if result.landmarks is None or result.presence is None:
        return None
    pts = np.array([(p.x * cw, p.y * ch) for p in result.landmarks.landmark], dtype=np.float32)
    pts /= np.array([sx, sy], dtype=np.float32)
    pts += np.array([x0, y0], dtype=np.float32)
    return (pts / np.float32(scale) if scale != 1.0 else pts), float(result.presence)


def _needs_refine(first: _Roi, second: _Roi) -> bool:
    d_angle = abs((first.angle - second.angle + math.pi) % (2 * math.pi) - math.pi)
    shift = math.hypot(first.cx - second.cx, first.cy - second.cy)
    ratio = second.size / max(first.size, 1e-6)
    return d_angle > math.radians(8) or shift > 0.08 * second.size or not 0.8 < ratio < 1.25


def _face_from(det: _Detection, rgb: np.ndarray, scale: float = 1.0,
               shape: tuple[int, int] | None = None, check: bool = True) -> Face | None:
    """Landmarks for one detection, verified (:mod:`.verify`) unless ``check`` is False.
    ``rgb`` is the image, or a copy scaled by ``scale`` (then ``shape`` is the image's h, w).
    When the detector's eye keypoints were off (a rotated face: the landmark model then sees
    no face), the next views of the same face from other passes are tried (at most 2)."""
    for cand in [det, *sorted(det.alts, key=lambda d: -d.score)[:_ALTERNATES]]:
        face = _face_from_one(cand, rgb, scale, shape, check)
        if face is not None:
            face.score = det.score
            return face
    return None


def _face_from_one(det: _Detection, rgb: np.ndarray, scale: float,
                   shape: tuple[int, int] | None, check: bool) -> Face | None:
    """Landmarks and verification of one view. A candidate cut by the frame is seen with the
    missing part mirrored; when that fails, once more with the frame's edge rows/columns
    repeated instead (measured on the cut-face corpus: each border finds faces the other
    misses, mirroring more; the candidate must still pass every check)."""
    face, cut = _face_try(det, rgb, scale, shape, check, cv2.BORDER_REFLECT_101)
    if face is None and cut and check:
        face, _ = _face_try(det, rgb, scale, shape, check, cv2.BORDER_REPLICATE)
    if face is None and cut and check:
        face = _face_from_mirror(det, rgb, scale, shape)
    if face is None and cut and check:
        face = _face_from_upright(det, rgb, scale, shape)
    return face


def _face_from_upright(det: _Detection, rgb: np.ndarray, scale: float,
                       shape: tuple[int, int] | None) -> Face | None:
    """A cut candidate that failed every other try, landmarked as an upright face on its box.
    A small face cut at the top (eyes on or past the edge) and its reflection in a mirrored
    border make a symmetric pattern the detector boxes across the edge, with eye keypoints
    that say little (the ROI came out turned); the landmark model given the same box upright
    finds the face on an ROI the size of the box (Grace Hopper 24 px half above the frame: presence 1.0;
    on 1.5x the box, MediaPipe's usual ROI, 0.0-0.7, the face is too small in it)."""
    roi = _roi_from_points(det.box, det.eyes[0], det.eyes[1])
    h, w = shape or rgb.shape[:2]
    if abs(roi.angle) < math.radians(10) or roi.size > _UPRIGHT_RETRY * max(h, w):  # tried upright / not small
        return None
    cx, cy = (det.box[0] + det.box[2]) / 2, (det.box[1] + det.box[3]) / 2
    r = max(det.box[2] - det.box[0], det.box[3] - det.box[1]) / 3   # the box holds the face and its
    eyes = np.array([[cx - r / 2, cy], [cx + r / 2, cy]])           # reflection: ROI = the box
    seed = _Detection(box=np.array([cx - r, cy - r, cx + r, cy + r]), score=det.score, eyes=eyes, coarse=True)
    for border in (cv2.BORDER_REFLECT_101, cv2.BORDER_REPLICATE):
        face, _ = _face_try(seed, rgb, scale, shape, True, border)
        if face is not None:
            return face
    return None


def _reflected(det: _Detection, h: int, w: int) -> _Detection:
    """``det`` reflected about the frame edge its ROI reaches furthest past, eyes swapped (a
    mirror image): the turned whole-image passes see a face cut by the frame together with its
    reflection in the mirrored padding, and may box the reflection (upside down for a face cut
    at the top or bottom) instead of the face."""
    roi = _roi_from_points(det.box, det.eyes[0], det.eyes[1])
    half = roi.size * (abs(math.cos(roi.angle)) + abs(math.sin(roi.angle))) / 2
    over = {"left": half - roi.cx, "top": half - roi.cy, "right": roi.cx + half - w, "bottom": roi.cy + half - h}
    side = max(over, key=lambda k: over[k])
    box, eyes = det.box.astype(np.float64).copy(), det.eyes.astype(np.float64).copy()
    axis = 0 if side in ("left", "right") else 1
    m = 0.0 if side in ("left", "top") else 2.0 * ((w if axis == 0 else h) - 1)   # BORDER_REFLECT_101
    box[[axis, axis + 2]] = m - box[[axis + 2, axis]]
    eyes[:, axis] = m - eyes[:, axis]
    return _Detection(box=box, score=det.score, eyes=eyes[::-1].copy(), coarse=True)


def _face_from_mirror(det: _Detection, rgb: np.ndarray, scale: float,
                      shape: tuple[int, int] | None) -> Face | None:
    """A cut candidate that failed on both borders, tried as the mirror image of a face: the
    reflected ROI is landmarked with the edge replicated (the mirrored border shows the model
    the reflection again), and that mesh seeds an ordinary verified try on each border.
    Measured (faces 25/40/50 % outside each side, both people): 60/150 px 47/48 -> 48/48
    (Grace Hopper 150 px half above the top: mesh 0.08 F from the uncut face's); no-face
    corpus and its 76 edge crops: 0 accepted either way (with verify's texture floor)."""
    h, w = shape or (int(round(rgb.shape[0] / scale)), int(round(rgb.shape[1] / scale)))
    m = _reflected(det, h, w)
    got = _landmarks(rgb, _roi_from_points(m.box, m.eyes[0], m.eyes[1]), scale, cv2.BORDER_REPLICATE)
    if got is None or got[1] < _PRESENCE_FLOOR:
        return None
    pts = got[0][:468]
    seed = _Detection(box=np.r_[pts.min(axis=0), pts.max(axis=0)].astype(np.float64), score=det.score,
                      eyes=np.stack([pts[33], pts[263]]).astype(np.float64), coarse=True)
    for border in (cv2.BORDER_REFLECT_101, cv2.BORDER_REPLICATE):
        face, _ = _face_try(seed, rgb, scale, shape, True, border)
        if face is not None:
            return face
    return None


def _face_try(det: _Detection, rgb: np.ndarray, scale: float, shape: tuple[int, int] | None,
              check: bool, border: int) -> tuple[Face | None, bool]:
    """(the face or None, whether its ROI was cut by the frame)."""
    from .verify import face_checks, is_face, needs_stability

    roi = _roi_from_points(det.box, det.eyes[0], det.eyes[1])
    got = _landmarks(rgb, roi, scale, border)
    cut = _cut(rgb, roi, scale)
    if got is None or got[1] < _PRESENCE_FLOOR:
        return None, cut
    pts, presence = got
    refined = _roi_from_landmarks(pts)
    if det.coarse or _needs_refine(roi, refined):   # a mosaic's box: landmark where the mesh says
        cut = cut or _cut(rgb, refined, scale)
        got = _landmarks(rgb, refined, scale, border) if refined.size > 4 else None
        if got is None or got[1] < _PRESENCE_FLOOR:
            return None, cut
        pts, presence = got
    h, w = shape or rgb.shape[:2]
    lo = np.clip(np.floor(pts[:468].min(axis=0)), 0, [w - 1, h - 1]).astype(int)
    hi = np.clip(np.ceil(pts[:468].max(axis=0)), 0, [w - 1, h - 1]).astype(int)
    box = (int(lo[0]), int(lo[1]), int(hi[0] - lo[0] + 1), int(hi[1] - lo[1] + 1))
    checks = face_checks(rgb, pts, scale, presence, det.score)
    if check and not is_face(checks):
        return None, cut
    if not check or needs_stability(checks):
        checks["stability"] = _stability(rgb, pts, scale, border)
        if check and not is_face(checks):
            return None, cut
    return Face(box=box, score=det.score, landmarks=pts, presence=presence, checks=checks), cut


def _cut(src: np.ndarray, roi: _Roi, scale: float) -> bool:
    """The ROI (with its rotation margin) reaches outside the frame of ``src``."""
    h, w = src.shape[:2]
    half = roi.size * scale * (abs(math.cos(roi.angle)) + abs(math.sin(roi.angle))) / 2
    cx, cy = roi.cx * scale, roi.cy * scale
    return cx - half < 0 or cy - half < 0 or cx + half > w or cy + half > h


def _stability(rgb: np.ndarray, pts: np.ndarray, scale: float, border: int = cv2.BORDER_REFLECT_101) -> float:
    """How much the mesh moves when the landmark model sees the same place through a turned
    (+25 degrees) and enlarged (x1.15) window: mean point distance / F. A real face stays put,
    a face-like pattern's mesh is hallucinated and moves (or loses its presence score)."""
    roi = _roi_from_landmarks(pts)
    other = _Roi(roi.cx, roi.cy, roi.size * 1.15, roi.angle + math.radians(25))
    got = _landmarks(rgb, other, scale, border)
    if got is None or got[1] < _PRESENCE_FLOOR:
        return 1.0
    f = max(float(np.linalg.norm(pts[234] - pts[454])), 1.0)
    return float(np.linalg.norm(got[0][:468] - pts[:468], axis=1).mean() / f)


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
                 tiles: bool | None = None, turns: bool | None = None,
                 verify: bool = True) -> list[Face]:
    """Verified faces in an RGB(A)/grey uint8 or uint16 image, largest first.

    ``tiles``: None decides automatically (window pass when nothing, several faces or only a
    small face was found by the whole-image pass), True/False forces it on/off; ``turns``
    likewise for the quarter-turned whole-image passes (faces at any in-plane angle). Faces
    narrower than ``min_face_px`` are ignored; at most ``max_faces`` are returned. ``verify``
    False keeps candidates that fail :func:`.verify.is_face` (for calibration; their
    ``checks`` say why).
    """
    image = _as_rgb8(rgb)
    h, w = image.shape[:2]
    if min(h, w) < 8 or max_faces <= 0:
        return []
    whole = _whole_small(image)
    dets = _whole_pass(image, small=whole)
    want_tiles = tiles if tiles is not None else _want_tiles(dets, h, w, min_face_px)
    if turns if turns is not None else _want_turns(dets, want_tiles):
        dets += _whole_pass(image, turns=TURNS, edges=True, small=whole)
    if want_tiles:
        dets += _small_face_pass(image, h, w, min_face_px=min_face_px, known=dets, max_faces=max_faces)
    faces = _finish(dets, image, max_faces, min_face_px, (h, w), verify=verify)
    if want_tiles:
        faces = _turned_followup(faces, dets, image, h, w, None, min_face_px, max_faces, verify)
    elif tiles is None and not faces and _levels(h, w, min_face_px):
        # the whole-image pass's one large candidate was no face (the coffee photo: 1000 px at
        # 0.56): small faces may be there after all
        dets += _small_face_pass(image, h, w, min_face_px=min_face_px, max_faces=max_faces)
        faces = _finish(dets, image, max_faces, min_face_px, (h, w), verify=verify)
    return faces


def _extent(face: Face) -> float:
    """The shorter side of the face's landmark extent, outside the frame included (its box is
    clipped to the frame: a 24 px face half outside is 12 px of box)."""
    pts = face.landmarks[:468]
    return float(min(np.ceil(pts.max(axis=0)) - np.floor(pts.min(axis=0)) + 1))   # as the box, unclipped


def _centred_in(box: np.ndarray, h: int, w: int) -> bool:
    """The box's centre lies in the frame, or, for a small box (side <= _EDGE_SLACK_SIDE of the
    long side), just outside it (by <= _EDGE_SLACK of its side): a small face cut by the frame
    and its reflection in a mirrored border are boxed as one pattern centred on the edge, the
    face's own centre a few pixels either side of it. Not for bigger boxes: a 205 px candidate
    of the rocket's edge crops, centred just right of its 2060 x 3000 frame, passed verification
    (test_faces_edge_calibration.py)."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    side = max(box[2] - box[0], box[3] - box[1])
    m = _EDGE_SLACK * side if side <= _EDGE_SLACK_SIDE * max(h, w) else 0.0
    return -m <= cx < w + m and -m <= cy < h + m


def _select(dets: list[_Detection], max_faces: int, min_face_px: int, h: int, w: int) -> list[_Detection]:
    """Merged candidates worth landmarking: centred inside the h x w frame (not mirror images
    in the padding), the most confident ones first (false candidates are rejected by
    verification, so a cap by size would let them crowd out real faces)."""
    dets = [d for d in dets if _centred_in(d.box, h, w)]
    dets = [d for d in _merge(dets) if d.box[2] - d.box[0] >= min_face_px * 0.6]
    return dets[: _CANDIDATES_PER_FACE * max_faces]


def _finish(dets: list[_Detection], image: np.ndarray | None, max_faces: int, min_face_px: int,
            shape: tuple[int, int], done: dict[int, Face | None] | None = None,
            verify: bool = True) -> list[Face]:
    """Merge, landmark and verify (in parallel; ``done`` holds faces already landmarked, by id
    of their detection), filter, sort, dedupe."""
    h, w = shape
    dets = _select(dets, max_faces, min_face_px, h, w)
    done = {} if done is None else done
    todo = [d for d in dets if id(d) not in done]
    if todo:
        assert image is not None
        done.update(zip(map(id, todo), pmap(lambda d: _face_from(d, image, check=verify), todo)))
    faces = [f for f in (done[id(d)] for d in dets)
             if f is not None and _extent(f) >= min_face_px * 0.8]
    faces.sort(key=lambda f: (-f.cheek_width, f.box))
    return _dedupe(faces)[:max_faces]


class ScaledDetection:
    """Detection started on a reduced copy (e.g. a DCT-scaled JPEG decode) before the full image
    exists: :meth:`start` runs the whole-image pass and, when no window pass is needed, the
    landmarks of every face big enough to keep full landmark resolution at that scale;
    :meth:`finish` does the rest (window pass, smaller faces) on the full image.

    The result matches :func:`detect_faces` on the full image up to the resampling
    differences between a DCT-scaled decode and ``INTER_AREA`` (sub-pixel landmarks). It
    depends only on the bytes: never on which thread ran :meth:`start`.
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
        whole = _whole_small(small)
        self.dets = _whole_pass(small, sx, sy, small=whole)
        self.tiles = _want_tiles(self.dets, self.h, self.w, self.min_face_px)
        if _want_turns(self.dets, self.tiles):
            self.dets += _whole_pass(small, sx, sy, turns=TURNS, edges=True, small=whole)
        if not self.tiles:
            scale = min(sx, sy)
            for det in _select(self.dets, self.max_faces, self.min_face_px, self.h, self.w):
                if _lm_scale_ok(det, scale):
                    self.done[id(det)] = _face_from(det, small, scale, (self.h, self.w))
        return self

    def finish(self, rgb: np.ndarray) -> list[Face]:
        """The faces, given the full image (only read for windows and small faces)."""
        if min(self.h, self.w) < 8 or self.max_faces <= 0:
            return []
        image = _as_rgb8(rgb)
        dets = list(self.dets)
        if self.tiles:
            dets += _small_face_pass(image, self.h, self.w, self.scaled, self.min_face_px, dets, self.max_faces)
        faces = _finish(dets, image, self.max_faces, self.min_face_px, (self.h, self.w), self.done)
        if self.tiles:
            faces = _turned_followup(faces, dets, image, self.h, self.w, self.scaled, self.min_face_px,
                                     self.max_faces, True, self.done)
        elif not faces and _levels(self.h, self.w, self.min_face_px):     # see detect_faces
            dets += _small_face_pass(image, self.h, self.w, self.scaled, self.min_face_px, (), self.max_faces)
            faces = _finish(dets, image, self.max_faces, self.min_face_px, (self.h, self.w), self.done)
        return faces
