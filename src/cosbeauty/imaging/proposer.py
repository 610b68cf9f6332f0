"""The proposal pass's detector: MediaPipe's short-range BlazeFace run by LiteRT on big tiles.

MediaPipe's graph runs the short-range model (``face_detection_short_range.tflite``) on a
128 x 128 input, but the network is fully convolutional: LiteRT (``ai-edge-litert``) runs it on
any input whose sides are multiples of 16 and returns the same two tensors for a denser anchor
grid, ``regressors`` [1, N, 16] and ``classificators`` [1, N, 1] with
N = (H/8)(W/8)*2 + (H/16)(W/16)*6 (stride 8 with 2 anchors per cell, then stride 16 with 6).
One invoke on a 320 x 384 tile replaces the ~12 overlapping 128 px windows (and their MediaPipe
graph overhead) that covered the same pixels: ~70 ns per input pixel against ~180 ns per new
pixel for the windows.

Decoding is MediaPipe's (``face_detection.pbtxt`` / ``face_detection_short_range.pbtxt``):
input RGB scaled to [-1, 1]; SSD anchors with strides 8, 16, 16, 16, a fixed anchor size and
offset 0.5 (anchor centres at (i + 0.5) * stride px); x/y/w/h scales 128 = the 128 model's input
side, so the raw offsets are input pixels; keypoints after the 4 box values (6 of them, x/y);
scores ``sigmoid(clip(raw, -100, 100))``; weighted non-maximum suppression at IoU 0.3.

Tiles have a side from :data:`SIDES` chosen per level dimension (fewest pixels for the needed
overlap), so a thread needs at most a few interpreter shapes (allocating one costs 3-50 ms and
~10-30 MB; a whole 1080p level at once would cost ~150 ms and 140 MB, and a new shape for every
image size). Interpreters are per thread (``num_threads=1``: the parallelism is the caller's),
kept in a small LRU cache. ``ai_edge_litert`` is imported on first use only.
"""

from __future__ import annotations

import importlib.util
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

__all__ = ["MAX_SIDE", "OVERLAP", "detect", "span", "model_path"]

MIN_SIDE, MAX_SIDE = 128, 448      # tile sides (multiples of 16): big tiles run a little slower per pixel
OVERLAP = 64                         # tiles overlap by at least this (px): the largest face sought + margin
NMS_IOU = 0.3                        # MediaPipe's face detection NMS (weighted, IoU)
_CACHE = 6                           # interpreters (tile shapes) kept per thread
_local = threading.local()
_R = TypeVar("_R")


def model_path() -> str:
    """The short-range BlazeFace model file shipped in MediaPipe's wheel."""
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("mediapipe is not installed")
    return os.path.join(list(spec.submodule_search_locations)[0], "modules", "face_detection",
                        "face_detection_short_range.tflite")


def span(length: int, overlap: int = OVERLAP) -> tuple[int, list[int]]:
    """(tile side, tile starts) covering ``length`` px with the fewest tiles of one side (a
    multiple of 16, at most :data:`MAX_SIDE`) overlapping by >= ``overlap`` px. A length below
    :data:`MIN_SIDE` gets one tile reaching past it (the caller pads)."""
    n = 1 if length <= MAX_SIDE else math.ceil((length - overlap) / (MAX_SIDE - overlap))
    side = max(MIN_SIDE, -(-(length + (n - 1) * overlap) // (16 * n)) * 16)
    if n == 1:
        return side, [0]
    return side, [round(i * (length - side) / (n - 1)) for i in range(n)]


def _interpreter(h: int, w: int, quiet: Callable[[Callable[[], Any]], Any] | None = None) -> Any:
    """This thread's interpreter for an h x w input (LRU cache of :data:`_CACHE` shapes)."""
    cache: OrderedDict[tuple[int, int], Any] | None = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = OrderedDict()
    it = cache.get((h, w))
    if it is not None:
        cache.move_to_end((h, w))
        return it

    def build() -> Any:
        from ai_edge_litert.interpreter import Interpreter

        interp = Interpreter(model_path=model_path(), num_threads=1)
        interp.resize_tensor_input(interp.get_input_details()[0]["index"], [1, h, w, 3])
        interp.allocate_tensors()
        return interp

    it = quiet(build) if quiet is not None else build()
    outs = {d["name"]: d["index"] for d in it.get_output_details()}
    _local.indices = getattr(_local, "indices", {})
    _local.indices[(h, w)] = (it.get_input_details()[0]["index"], outs["regressors"], outs["classificators"])
    cache[(h, w)] = it
    while len(cache) > _CACHE:
        old, _ = cache.popitem(last=False)
        _local.indices.pop(old, None)
    return it


_anchor_cache: dict[tuple[int, int], np.ndarray] = {}
_anchor_lock = threading.Lock()


def anchors(h: int, w: int) -> np.ndarray:
    """(N, 2) anchor centres in input pixels, in the model's output order: the stride-8 grid
    (2 anchors per cell) row by row, then the stride-16 grid (6 per cell)."""
    with _anchor_lock:
        got = _anchor_cache.get((h, w))
        if got is None:
            parts = []
            for stride, per in ((8, 2), (16, 6)):
                ys, xs = np.meshgrid((np.arange(h // stride) + 0.5) * stride,
                                     (np.arange(w // stride) + 0.5) * stride, indexing="ij")
                grid = np.stack([xs.ravel(), ys.ravel()], axis=1)
                parts.append(np.repeat(grid, per, axis=0))
            got = _anchor_cache[(h, w)] = np.concatenate(parts).astype(np.float32)
        return got


def detect(tile: np.ndarray, min_score: float,
           quiet: Callable[[Callable[[], Any]], Any] | None = None) -> np.ndarray:
    """Faces in one RGB uint8 tile (sides multiples of 16) -> (k, 9) float array of
    score, x0, y0, x1, y1 (box), then the right and left eye keypoints (x, y), in tile pixels,
    after MediaPipe's weighted NMS; best first. ``quiet`` wraps the interpreter's construction
    (stderr filtering)."""
    h, w = tile.shape[:2]
    if h % 16 or w % 16:
        raise ValueError(f"tile sides must be multiples of 16, got {w}x{h}")
    it = _interpreter(h, w, quiet)
    i_in, i_reg, i_cls = _local.indices[(h, w)]
    x = tile[None, :, :, :3].astype(np.float32)
    x *= np.float32(2 / 255)
    x -= np.float32(1)
    it.set_tensor(i_in, x)
    it.invoke()
    raw = it.get_tensor(i_cls)[0, :, 0]
    logit = math.log(min_score / (1 - min_score)) if 0 < min_score < 1 else -100.0
    idx = np.nonzero(raw >= logit - 1e-4)[0]
    if idx.size == 0:
        return np.zeros((0, 9), np.float32)
    scores = 1 / (1 + np.exp(-np.clip(raw[idx].astype(np.float64), -100, 100)))
    keep = scores >= min_score
    idx, scores = idx[keep], scores[keep]
    reg = it.get_tensor(i_reg)[0][idx]
    anc = anchors(h, w)[idx]
    cx, cy = reg[:, 0] + anc[:, 0], reg[:, 1] + anc[:, 1]
    bw, bh = reg[:, 2], reg[:, 3]
    ok = (bw > 0) & (bh > 0)
    rows = np.stack([scores, cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2,
                     reg[:, 4] + anc[:, 0], reg[:, 5] + anc[:, 1],
                     reg[:, 6] + anc[:, 0], reg[:, 7] + anc[:, 1]], axis=1)[ok]
    return weighted_nms(rows, NMS_IOU)


def weighted_nms(rows: np.ndarray, iou: float) -> np.ndarray:
    """MediaPipe's WEIGHTED non-maximum suppression: the best remaining detection absorbs every
    remaining one overlapping it by IoU > ``iou``; its box and keypoints become their
    score-weighted mean, its score stays. ``rows``: score, box (4), keypoints (...)."""
    order = np.lexsort((np.arange(len(rows)), -rows[:, 0]))    # best first, ties by anchor index
    rest = rows[order].astype(np.float64)
    out = []
    while len(rest):
        top = rest[0]
        ix0 = np.maximum(top[1], rest[:, 1])
        iy0 = np.maximum(top[2], rest[:, 2])
        ix1 = np.minimum(top[3], rest[:, 3])
        iy1 = np.minimum(top[4], rest[:, 4])
        inter = np.clip(ix1 - ix0, 0, None) * np.clip(iy1 - iy0, 0, None)
        area = (rest[:, 3] - rest[:, 1]) * (rest[:, 4] - rest[:, 2])
        union = (top[3] - top[1]) * (top[4] - top[2]) + area - inter
        sim = np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)
        same = sim > iou
        same[0] = True
        group = rest[same]
        wts = group[:, :1]
        merged = (group[:, 1:] * wts).sum(axis=0) / wts.sum()
        out.append(np.concatenate([[top[0]], merged]))
        rest = rest[~same]
    return np.array(out, np.float32).reshape(-1, rows.shape[1])
