"""The proposal pass's detector (imaging/proposer.py): MediaPipe's short-range BlazeFace run by
LiteRT on big tiles instead of MediaPipe's graph on 128 px windows (and the full-range model on
exactly 192 px inputs: confirmation mosaics, grey windows).

* on a 128 x 128 input it gives exactly MediaPipe's detections (same scores, boxes, eyes): the
  anchors, the [-1, 1] input range, the decoding and the weighted NMS are MediaPipe's;
* on a big tile (fully convolutional: a denser anchor grid) faces anywhere are found where they are;
* tiles cover a length with the overlap asked for; results are byte-identical across calls and
  threads; LiteRT runs next to MediaPipe in one process; ``import cosbeauty.imaging`` does not
  import LiteRT.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from cosbeauty.imaging import faces, proposer
from tests.imaging import corpus

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def windows(n: int, side: int, seed: int = 1) -> list[tuple[np.ndarray, int, int, int]]:
    """``n`` noisy canvases with one face (both people in turn): (canvas, face px, cx, cy)."""
    rng = np.random.default_rng(seed)
    heads = list(corpus.heads().values())
    out = []
    for i in range(n):
        canvas = np.clip(rng.normal(160, 12, (side, side, 3)), 0, 255).astype(np.uint8)
        s = int(rng.integers(14, 60))
        cx, cy = (int(v) for v in rng.integers(30, side - 30, 2))
        corpus.place(canvas, heads[i % 2], s, cx, cy)
        out.append((canvas, s, cx, cy))
    return out


def test_same_detections_as_mediapipe_on_128px_windows():
    compared = 0
    for canvas, _s, _cx, _cy in windows(10, 128):
        ours = proposer.detect(canvas, faces._PROPOSE_SCORE, faces.quietly)
        theirs = faces._detect_in(canvas, 0, 0, proposer=True)       # MediaPipe's graph
        assert len(ours) == len(theirs)
        for row, det in zip(ours, sorted(theirs, key=lambda d: -d.score)):
            assert row[0] == pytest.approx(det.score, abs=1e-5)
            assert np.allclose(row[1:5], det.box, atol=0.05)
            assert np.allclose(row[5:9], det.eyes.ravel(), atol=0.05)
            compared += 1
    assert compared >= 10


def test_full_range_same_detections_as_mediapipe_on_192px_windows():
    """The full-range model through LiteRT (confirmation mosaics, the grey window pass) on an
    exactly 192 px input: MediaPipe's detections (no resize or letterbox at that size)."""
    rng = np.random.default_rng(4)
    heads = list(corpus.heads().values())
    compared = 0
    for _ in range(8):
        canvas = np.clip(rng.normal(150, 15, (192, 192, 3)), 0, 255).astype(np.uint8)
        for k in range(int(rng.integers(1, 5))):
            corpus.place(canvas, heads[k % 2], int(rng.integers(25, 70)), int(rng.integers(30, 162)),
                         int(rng.integers(30, 162)))
        ours = faces._detect_full(canvas)
        theirs = sorted(faces._detect_in(canvas, 0, 0), key=lambda d: -d.score)     # MediaPipe's graph
        assert len(ours) == len(theirs)
        for row, det in zip(ours, theirs):
            assert row[0] == pytest.approx(det.score, abs=1e-5)
            assert np.allclose(row[1:5], det.box, atol=0.05)
            assert np.allclose(row[5:9], det.eyes.ravel(), atol=0.05)
            compared += 1
    assert compared >= 8


def test_faces_found_anywhere_on_a_big_tile():
    rng = np.random.default_rng(2)
    canvas = np.clip(rng.normal(160, 12, (368, 432, 3)), 0, 255).astype(np.uint8)
    heads = list(corpus.heads().values())
    placed = [(16, 50, 60), (20, 380, 90), (28, 200, 300), (40, 330, 270), (14, 110, 200), (24, 410, 340)]
    for i, (s, x, y) in enumerate(placed):
        corpus.place(canvas, heads[i % 2], s, x, y)
    rows = proposer.detect(canvas, faces._PROPOSE_SCORE, faces.quietly)
    for s, x, y in placed:
        near = [r for r in rows if abs((r[1] + r[3]) / 2 - x) < 0.5 * s and abs((r[2] + r[4]) / 2 - y) < 0.5 * s]
        assert near, (s, x, y)


def test_detect_weak_same_rows_plus_the_weak_maxima_of_the_stride_8_map():
    """proposer.detect_weak: the rows of detect (same invoke, byte-identical) and the local maxima
    of the stride-8 score map in [weak, min_score), boxed where their anchors are; none when the
    band is empty. (What they find: test_faces_small's
    faces the proposer scores weakly.)"""
    rng = np.random.default_rng(7)
    heads = list(corpus.heads().values())
    counted = 0
    for i in range(4):
        canvas = np.clip(rng.normal(160, 12, (256, 320, 3)), 0, 255).astype(np.uint8)
        corpus.place(canvas, heads[i % 2], 14 + 4 * i, int(rng.integers(40, 280)), int(rng.integers(40, 216)))
        rows = proposer.detect(canvas, 0.15, faces.quietly)
        same, weak = proposer.detect_weak(canvas, 0.15, 0.05, faces.quietly)
        assert same.tobytes() == rows.tobytes()
        assert weak.dtype == np.float32 and weak.shape[1] == 9 and len(weak) > 0
        assert ((weak[:, 0] >= 0.05 - 1e-6) & (weak[:, 0] < 0.15)).all()
        assert (weak[:, 3] > weak[:, 1]).all() and (weak[:, 4] > weak[:, 2]).all()
        centres = np.stack([(weak[:, 1] + weak[:, 3]) / 2, (weak[:, 2] + weak[:, 4]) / 2], axis=1)
        assert (centres > -32).all() and (centres[:, 0] < 352).all() and (centres[:, 1] < 288).all()
        assert len(proposer.detect_weak(canvas, 0.15, 0.15, faces.quietly)[1]) == 0
        counted += len(weak)
    assert counted >= 8


def test_detect_near_same_rows_plus_the_near_misses():
    """proposer.detect_near (the confirmation mosaics' near misses): the rows of detect (same
    invoke, byte-identical) and, from a second NMS at the lower score, only the rows in [near,
    min_score); on the full-range model too."""
    rng = np.random.default_rng(11)
    heads = list(corpus.heads().values())
    counted = 0
    for i in range(4):
        canvas = np.clip(rng.normal(160, 12, (192, 192, 3)), 0, 255).astype(np.uint8)
        corpus.place(canvas, heads[i % 2], 16 + 8 * i, int(rng.integers(50, 142)), int(rng.integers(50, 142)))
        for model, hi in (("short", 0.9), ("full", 0.9)):
            rows = proposer.detect(canvas, hi, faces.quietly, model=model)
            same, near = proposer.detect_near(canvas, hi, 0.05, faces.quietly, model=model)
            assert same.tobytes() == rows.tobytes()
            assert near.dtype == np.float32 and near.shape[1] == 9
            assert ((near[:, 0] >= 0.05 - 1e-6) & (near[:, 0] < hi)).all()
            assert (np.diff(near[:, 0]) <= 0).all()
            counted += len(near)
    assert counted >= 4


@pytest.mark.parametrize("length", [100, 128, 129, 300, 448, 449, 615, 688, 907, 1199, 2400])
def test_tiles_cover_with_overlap(length):
    side, starts = proposer.span(length)
    assert side in proposer.SIDES and side % 16 == 0
    assert starts[0] == 0 and (starts[-1] + side >= length)
    for a, b in zip(starts, starts[1:]):
        assert a + side - b >= proposer.OVERLAP


def test_deterministic_across_calls_and_threads():
    tile = windows(1, 256, seed=5)[0][0]
    tile[::7] = 200                       # something to detect besides the face
    first = proposer.detect(tile, 0.05, faces.quietly).tobytes()
    with ThreadPoolExecutor(3) as pool:
        outs = set(pool.map(lambda _: proposer.detect(tile, 0.05, faces.quietly).tobytes(), range(9)))
    assert outs == {first}


def test_import_is_lazy_and_litert_lives_with_mediapipe():
    code = ("import sys, numpy as np; import cosbeauty.imaging; "
            "assert 'ai_edge_litert' not in sys.modules, 'imported eagerly'; "
            "from cosbeauty.imaging import faces, proposer; "
            "faces._graphs(); "                                  # MediaPipe's TFLite first
            "r = proposer.detect(np.full((128, 128, 3), 128, np.uint8), 0.5, faces.quietly); "
            "print(len(r), 'ai_edge_litert' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": os.path.join(ROOT, "src")})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0", "True"]
    assert out.stderr.strip() == "", out.stderr
