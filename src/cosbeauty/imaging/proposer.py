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
image size). Interpreters (``num_threads=1``: the parallelism is the caller's) are borrowed by one thread
at a time from a small shared pool of idle ones (memory does not grow with the number of
calling threads). ``ai_edge_litert`` is imported on first use only.
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import cv2
import numpy as np

__all__ = ["SIDES", "OVERLAP", "detect", "detect_near", "detect_weak", "span", "model_path", "release_idle", "idle_count"]

SIDES = (192, 256, 320, 384, 448)   # tile sides: a few shapes serve every image size (1080p and 12 MP
                                    # levels both get 448 x 384 tiles); bigger tiles run slower per pixel
OVERLAP = 64                         # tiles overlap by at least this (px): the largest face sought + margin
NMS_IOU = 0.3                        # MediaPipe's face detection NMS (weighted, IoU)
_IDLE = 12                           # idle interpreters kept (any thread may borrow one): ~5-35 MB each ...
_IDLE_PIXELS = 6 * 448 * 448         # ... holding at most this many input pixels in all (~200 bytes each):
                                     # what 6 of the largest tiles held when the cap was 6 interpreters.
                                     # A 1080p/12 MP mix uses 10 (5 shapes x 2 threads: 448x384, 384x256,
                                     # 320x320, 192x192 short and full; ~0.9 M px): with 6 kept, every image
                                     # rebuilt 2-4 of them (3-50 ms each)
_R = TypeVar("_R")


_FILES = {"short": "face_detection_short_range.tflite", "full": "face_detection_full_range_sparse.tflite"}
# per model: (stride, anchors per cell) of each anchor grid, in output order (MediaPipe's
# SsdAnchorsCalculator: strides 8,16,16,16 for the short-range model, 4 for the full-range one)
_GRIDS = {"short": ((8, 2), (16, 6)), "full": ((4, 1),)}
FULL_INPUT = 192                     # the full-range model's fixed input side (it has reshapes)


def model_path(model: str = "short") -> str:
    """The BlazeFace model file (``"short"``: short-range, ``"full"``: full-range) shipped in
    MediaPipe's wheel."""
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("mediapipe is not installed")
    return os.path.join(list(spec.submodule_search_locations)[0], "modules", "face_detection", _FILES[model])


def span(length: int, overlap: int = OVERLAP) -> tuple[int, list[int]]:
    """(tile side, tile starts) covering ``length`` px with tiles of one side from :data:`SIDES`
    overlapping by >= ``overlap`` px: the fewest pixels, then the fewest tiles. A length below
    the side gets one tile reaching past it (the caller pads)."""
    best: tuple[tuple[int, int], int, int] | None = None
    for side in SIDES:
        n = 1 if length <= side else math.ceil((length - overlap) / (side - overlap))
        key = (n * side, n)
        if best is None or key < best[0]:
            best = (key, side, n)
    assert best is not None
    _, side, n = best
    if n == 1:
        return side, [0]
    return side, [round(i * (length - side) / (n - 1)) for i in range(n)]


class _Model:
    """One interpreter for one model and input shape, with its tensor indices."""

    def __init__(self, h: int, w: int, model: str = "short") -> None:
        from ai_edge_litert.interpreter import Interpreter

        self.shape = (h, w, model)
        # the interpreter's buffers (XNNPACK's workspace, LiteRT's tensors: ~200 bytes per input
        # pixel) in mappings of their own, given back to the kernel when it goes, not in a malloc
        # arena that keeps freed buffers (tests/imaging/test_proposer_memory.py); only malloc as
        # tuned by ci.pool needs it (not loaded: not tuned, nothing to do)
        pool = sys.modules.get("cosbeauty.ci.pool")
        with pool.big_allocations_mapped() if pool is not None else contextlib.nullcontext():
            self.it = Interpreter(model_path=model_path(model), num_threads=1)
            if model == "short":
                self.it.resize_tensor_input(self.it.get_input_details()[0]["index"], [1, h, w, 3])
            self.it.allocate_tensors()
        outs = self.it.get_output_details()         # regressors [1, N, 16], scores [1, N, 1]
        self.i_reg = next(d["index"] for d in outs if d["shape"][-1] == 16)
        self.i_cls = next(d["index"] for d in outs if d["shape"][-1] == 1)
        self.i_in = self.it.get_input_details()[0]["index"]


_idle: OrderedDict[int, _Model] = OrderedDict()     # idle interpreters, least recently used first
_idle_lock = threading.Lock()


def _borrow(h: int, w: int, model: str, quiet: Callable[[Callable[[], Any]], Any] | None) -> _Model:
    """An idle interpreter for an h x w input, or a new one (LiteRT interpreters are not
    thread-safe: each is used by one thread at a time, then given back)."""
    with _idle_lock:
        for key, m in _idle.items():
            if m.shape == (h, w, model):
                del _idle[key]
                return m
    return quiet(lambda: _Model(h, w, model)) if quiet is not None else _Model(h, w, model)


def _give_back(net: _Model) -> None:
    """Keep at most :data:`_IDLE` idle interpreters of at most :data:`_IDLE_PIXELS` input pixels
    in all (the least recently used go)."""
    with _idle_lock:
        _idle[id(net)] = net
        while len(_idle) > _IDLE or sum(m.shape[0] * m.shape[1] for m in _idle.values()) > _IDLE_PIXELS:
            _idle.popitem(last=False)


def release_idle() -> None:
    """Drop every idle interpreter (their memory goes back to the kernel; borrowed ones stay with
    their threads). The CI worker pool calls it through :func:`.faces.release_idle` once the
    process has been idle for a few seconds; the next call builds the interpreters it needs again
    (3-50 ms each)."""
    with _idle_lock:
        dropped = list(_idle.values())
        _idle.clear()
    del dropped                                     # destroyed outside the lock


def idle_count() -> int:
    """How many idle interpreters are kept right now."""
    with _idle_lock:
        return len(_idle)


_anchor_cache: dict[tuple[int, int, str], np.ndarray] = {}
_anchor_lock = threading.Lock()


def anchors(h: int, w: int, model: str = "short") -> np.ndarray:
    """(N, 2) anchor centres in input pixels, in the model's output order: for the short-range
    model the stride-8 grid (2 anchors per cell) row by row, then the stride-16 grid (6 per
    cell); for the full-range one the stride-4 grid (1 per cell)."""
    with _anchor_lock:
        got = _anchor_cache.get((h, w, model))
        if got is None:
            parts = []
            for stride, per in _GRIDS[model]:
                ys, xs = np.meshgrid((np.arange(h // stride) + 0.5) * stride,
                                     (np.arange(w // stride) + 0.5) * stride, indexing="ij")
                grid = np.stack([xs.ravel(), ys.ravel()], axis=1)
                parts.append(np.repeat(grid, per, axis=0))
            got = _anchor_cache[(h, w, model)] = np.concatenate(parts).astype(np.float32)
        return got


def _invoke(tile: np.ndarray, model: str,
            quiet: Callable[[Callable[[], Any]], Any] | None) -> tuple[np.ndarray, np.ndarray]:
    """The model's raw outputs for one RGB uint8 tile: (score logits [N], regressors [N, 16])."""
    h, w = tile.shape[:2]
    if h % 16 or w % 16 or (model == "full" and (h, w) != (FULL_INPUT, FULL_INPUT)):
        raise ValueError(f"bad tile size for the {model} model: {w}x{h}")
    net = _borrow(h, w, model, quiet)
    try:
        # the input scaled to [-1, 1] straight into the interpreter's input buffer: the same float32
        # values as ``tile.astype(np.float32) * np.float32(2 / 255) - np.float32(1)`` (each step
        # rounded to float32 alike), without that copy and set_tensor's second one (~4 ms CPU on a
        # no-face 1080p photo: 1 M input pixels); the view is gone before invoke (LiteRT checks)
        view = net.it.tensor(net.i_in)()
        np.multiply(tile[None, :, :, :3], np.float32(2 / 255), out=view, dtype=np.float32)
        np.subtract(view, np.float32(1), out=view)
        del view
        net.it.invoke()
        return net.it.get_tensor(net.i_cls)[0, :, 0], net.it.get_tensor(net.i_reg)[0]   # copies
    finally:
        _give_back(net)


def _logit(p: float) -> float:
    return math.log(p / (1 - p)) if 0 < p < 1 else -100.0


def _rows(raw: np.ndarray, reg_all: np.ndarray, h: int, w: int, model: str, min_score: float) -> np.ndarray:
    """Decoded detections >= ``min_score`` after MediaPipe's weighted NMS (see :func:`detect`)."""
    idx = np.nonzero(raw >= _logit(min_score) - 1e-4)[0]
    if idx.size == 0:
        return np.zeros((0, 9), np.float32)
    scores = 1 / (1 + np.exp(-np.clip(raw[idx].astype(np.float64), -100, 100)))
    keep = scores >= min_score
    idx, scores = idx[keep], scores[keep]
    reg = reg_all[idx]
    anc = anchors(h, w, model)[idx]
    cx, cy = reg[:, 0] + anc[:, 0], reg[:, 1] + anc[:, 1]
    bw, bh = reg[:, 2], reg[:, 3]
    ok = (bw > 0) & (bh > 0)
    rows = np.stack([scores, cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2,
                     reg[:, 4] + anc[:, 0], reg[:, 5] + anc[:, 1],
                     reg[:, 6] + anc[:, 0], reg[:, 7] + anc[:, 1]], axis=1)[ok]
    return weighted_nms(rows, NMS_IOU)


def detect(tile: np.ndarray, min_score: float,
           quiet: Callable[[Callable[[], Any]], Any] | None = None, model: str = "short") -> np.ndarray:
    """Faces in one RGB uint8 tile (sides multiples of 16; exactly 192 x 192 for ``model="full"``,
    the full-range model) -> (k, 9) float array of score, x0, y0, x1, y1 (box), then the right
    and left eye keypoints (x, y), in tile pixels, after MediaPipe's weighted NMS; best first.
    ``quiet`` wraps the interpreter's construction (stderr filtering)."""
    h, w = tile.shape[:2]
    raw, reg = _invoke(tile, model, quiet)
    return _rows(raw, reg, h, w, model, min_score)


def detect_near(tile: np.ndarray, min_score: float, near: float,
                quiet: Callable[[Callable[[], Any]], Any] | None = None,
                model: str = "short") -> tuple[np.ndarray, np.ndarray]:
    """:func:`detect`'s rows (>= ``min_score``, exactly as it gives them), and from the same invoke
    the **near misses**: the rows in [``near``, ``min_score``) of a second weighted NMS over the
    anchors >= ``near`` (the first rows' groups are left out: only detections whose best anchor
    is under ``min_score``). Both (k, 9), best first."""
    h, w = tile.shape[:2]
    raw, reg = _invoke(tile, model, quiet)
    rows = _rows(raw, reg, h, w, model, min_score)
    low = _rows(raw, reg, h, w, model, near)
    return rows, low[low[:, 0] < min_score]


def detect_weak(tile: np.ndarray, min_score: float, weak: float,
                quiet: Callable[[Callable[[], Any]], Any] | None = None,
                low: float | None = None, bands: Sequence[tuple[float, float]] = ()) -> tuple[np.ndarray, np.ndarray]:
    """The short-range model's :func:`detect` rows (>= ``min_score``), and from the same invoke
    its **weak local maxima**: the cells of the stride-8 grid (the smallest faces' anchors) whose
    best anchor scores in [``weak``, ``min_score``) and no less than any of its 8 neighbours, each
    as a row of the same layout: that anchor's score, the box and eyes averaged over the anchors
    >= ``weak`` in its 3 x 3 cells, weighted by score (as the weighted NMS merges a detection's
    anchors). With ``low`` (< ``weak``), also the maxima in [``low``, ``weak``) whose cell centre's
    y lies in one of ``bands`` ((y0, y1) tile px), averaged over the anchors >= ``low`` (the rows
    from ``weak`` are unchanged). Best-first order is not kept for them (callers sort)."""
    h, w = tile.shape[:2]
    raw, reg_all = _invoke(tile, "short", quiet)
    rows = _rows(raw, reg_all, h, w, "short", min_score)
    gh, gw = h // 8, w // 8
    best = raw[: gh * gw * 2].reshape(gh, gw, 2).max(axis=2)
    weak_rows = _weak_maxima(raw, reg_all, best, h, w, weak, min_score, None)
    if low is not None and low < weak and bands:
        cy = (np.arange(gh) + 0.5) * 8
        rowmask = np.zeros(gh, bool)
        for y0, y1 in bands:
            rowmask |= (cy >= y0) & (cy < y1)
        if rowmask.any():
            weak_rows = np.concatenate([weak_rows, _weak_maxima(raw, reg_all, best, h, w, low, weak, rowmask)])
    return rows, weak_rows


def _weak_maxima(raw: np.ndarray, reg_all: np.ndarray, best: np.ndarray, h: int, w: int, weak: float,
                 below: float, rowmask: np.ndarray | None) -> np.ndarray:
    """:func:`detect_weak`'s maxima with a best anchor in [``weak``, ``below``) (only in the grid
    rows of ``rowmask`` when given), (k, 9) float32."""
    gh, gw = best.shape
    lw = _logit(weak)
    peak = (best >= lw) & (best < _logit(below))
    if rowmask is not None:
        peak &= rowmask[:, None]
    if peak.any():
        peak &= best >= cv2.dilate(best, np.ones((3, 3), np.uint8))   # 3x3 maxima (ties kept)
    ys, xs = np.nonzero(peak)
    if ys.size == 0:
        return np.zeros((0, 9), np.float32)
    nb_idx, nb_in = [], []
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            yy, xx = ys + dy, xs + dx
            inside = (yy >= 0) & (yy < gh) & (xx >= 0) & (xx < gw)
            cell = np.where(inside, yy * gw + xx, 0)
            for k in (0, 1):
                nb_idx.append(cell * 2 + k)
                nb_in.append(inside)
    idx = np.stack(nb_idx, axis=1)                                     # (peaks, 18) anchor indices
    raw_nb = raw[idx]
    wt = np.where(np.stack(nb_in, axis=1) & (raw_nb >= lw),
                  1 / (1 + np.exp(-np.clip(raw_nb.astype(np.float64), -100, 100))), 0.0)
    reg = reg_all[idx].astype(np.float64)                              # (peaks, 18, 16)
    anc = anchors(h, w, "short")[idx].astype(np.float64)              # (peaks, 18, 2)
    vals = np.concatenate([reg[..., 0:2] + anc, reg[..., 2:4], reg[..., 4:6] + anc, reg[..., 6:8] + anc], axis=2)
    v = (vals * wt[..., None]).sum(axis=1) / wt.sum(axis=1)[:, None]   # cx, cy, bw, bh, eyes
    score = 1 / (1 + np.exp(-np.clip(best[ys, xs].astype(np.float64), -100, 100)))
    ok = (v[:, 2] > 0) & (v[:, 3] > 0)
    weak_rows = np.stack([score, v[:, 0] - v[:, 2] / 2, v[:, 1] - v[:, 3] / 2, v[:, 0] + v[:, 2] / 2,
                          v[:, 1] + v[:, 3] / 2, v[:, 4], v[:, 5], v[:, 6], v[:, 7]], axis=1)[ok]
    return weak_rows.astype(np.float32)


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
