"""The models: MediaPipe graphs (full/short-range BlazeFace, FaceMesh with attention) built
lazily per thread with their native start-up chatter filtered off stderr (:func:`quietly`), and
the LiteRT detector calls of :mod:`..proposer` (:func:`_detect_full`, :func:`_propose_rows`).
MediaPipe and LiteRT are imported on first use only.
"""

from __future__ import annotations

import os
import sys
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

import numpy as np

from .threads import _HELPERS, _local, executor
from .common import _MIN_SCORE, _PROPOSE_SCORE

_R = TypeVar("_R")


_build_lock = threading.Lock()
_WARM_WAIT = 2.0     # s: the longest a caller waits for the helpers' first graphs (see _graphs)


def _graphs() -> tuple[Any, Any]:
    """This thread's (detector, landmarker) MediaPipe graphs, built on first use."""
    graphs = getattr(_local, "graphs", None)
    if graphs is None:
        graphs = _local.graphs = quietly(lambda: (_build_detector(), _build_landmarker()))
        if not threading.current_thread().name.startswith("cosbeauty-imaging"):
            # first graphs of a caller thread: warm the helpers too, and wait for them. Left to
            # finish in the background, a helper's build outlived the call: anyone swapping fd 2
            # meanwhile (pytest's capture between tests) took its redirect away under it, and
            # MediaPipe's chatter reached the real stderr (test_faces_determinism.py). Bounded: a
            # helper may be held by this caller's own work (a lossless splice waiting for its
            # patches); then its warm-up is withdrawn and it builds on first use, inside a call
            for job in [executor().submit(_graphs) for _ in range(_HELPERS)]:
                try:
                    job.result(timeout=_WARM_WAIT)
                except FutureTimeout:
                    job.cancel()
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


def _detect_full(window: np.ndarray) -> np.ndarray:
    """The full-range BlazeFace at its usual threshold on an exactly 192 x 192 RGB window, run by
    LiteRT (:func:`.proposer.detect`): the same detections as MediaPipe's graph (no resize or
    letterbox at that size; tested), ~3.8 ms against ~4.7 ms a call. (k, 9) rows in window px."""
    from .. import proposer

    return proposer.detect(np.ascontiguousarray(window[:, :, :3]), _MIN_SCORE, quietly, model="full")


def _propose_rows(tile: np.ndarray) -> np.ndarray:
    """The short-range BlazeFace (:mod:`.proposer`, LiteRT) on one tile: (k, 9) rows in tile px."""
    from .. import proposer

    return proposer.detect(np.ascontiguousarray(tile), _PROPOSE_SCORE, quietly)
