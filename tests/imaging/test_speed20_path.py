"""Round 20 (path): work moved to where a thread would idle, and one wasted landmark call removed,
the same faces and bytes.

* ``ScaledDetection.start`` no longer landmarks faces on the reduced copy: ``finish`` never used
  those faces (``_select`` makes new candidates) and landmarked the full image again; a close-up
  through the bytes path paid one landmark call (and its checks) for nothing.
* Above ``pipeline.REDUCED_FIRST_MAX_PIXELS`` the helper, done with the reduced detection while the
  full decode still runs, computes the beside look's cells there (``ScaledDetection.pending``;
  ``finish`` then only makes the look's mosaic) and starts the splice's coefficient read (before:
  only when the full decode ended first).
"""

from __future__ import annotations

import hashlib
import threading
import time

import cv2
import numpy as np
import pytest

from cosbeauty.imaging import jpeg_lossless
from tests.imaging import corpus
from tests.imaging.scenes import one_face


def _jpeg(rgb: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()


def _closeup(w: int, h: int, frac: float = 0.95) -> np.ndarray:
    canvas = np.full((h, w, 3), 128, np.uint8)
    corpus.place(canvas, corpus.heads()["hopper"], int(frac * min(w, h)), w // 2, h // 2)
    return canvas


def _fingerprint(faces: list) -> list[tuple]:
    return [(f.box, round(f.score, 6), f.presence, hashlib.sha1(np.asarray(f.landmarks).tobytes()).hexdigest())
            for f in faces]


def test_closeup_landmarked_on_the_full_image_only(monkeypatch) -> None:
    """A close-up (Hopper 0.95 x 1080 px) through the bytes path: every landmark try reads the
    full image (before: one on the DCT-reduced 540 px copy too, never used); found, the same
    bytes call after call."""
    from cosbeauty.imaging import pipeline
    from cosbeauty.imaging.detection import landmarks

    data = _jpeg(_closeup(1080, 1080))
    seen: list[tuple[int, int]] = []
    real = landmarks._face_try

    def spied(det, rgb, *args, **kwargs):
        seen.append(rgb.shape[:2])
        return real(det, rgb, *args, **kwargs)

    monkeypatch.setattr(landmarks, "_face_try", spied)
    first = pipeline.beautify(data, 0.5)
    assert len(first.faces) == 1
    assert seen and set(seen) == {(1080, 1080)}
    assert pipeline.beautify(data, 0.5).data == first.data


def test_beside_cells_made_in_start_same_faces(monkeypatch) -> None:
    """``pending`` true during start: the beside look's cells are made there (on the reduced copy,
    as finish would) and finish does not make them again; the faces are those of a detection
    that made them in finish, bit for bit."""
    from cosbeauty.imaging import codec, faces
    from cosbeauty.imaging.detection import beside

    data = _jpeg(one_face(4000, 3000))
    info = codec.probe(data)
    small = codec.decode_reduced(data, info, 8)
    full = codec.decode(data).rgb
    calls: list[str] = []
    real = beside.cells
    monkeypatch.setattr(beside, "cells", lambda *a, **k: (calls.append(threading.current_thread().name), real(*a, **k))[1])

    early = faces.ScaledDetection(info.height, info.width)
    early.pending = lambda: True
    early.start(small)
    assert early.beside is not None and early.cells is not None and len(calls) == 1
    got = early.finish(full)
    assert len(calls) == 1                      # not made again
    late = faces.ScaledDetection(info.height, info.width)
    late.start(small)
    assert late.cells is None and len(calls) == 1
    ref = late.finish(full)
    assert len(calls) == 2
    assert got and _fingerprint(got) == _fingerprint(ref)


def test_nothing_pending_nothing_early(monkeypatch) -> None:
    """``pending`` false (the full image is there) or unset: start makes no cells."""
    from cosbeauty.imaging import codec, faces

    data = _jpeg(one_face(1920, 1080))
    info = codec.probe(data)
    small = codec.decode_reduced(data, info, 4)
    done = faces.ScaledDetection(info.height, info.width)
    done.pending = lambda: False
    assert done.start(small).cells is None
    assert faces.ScaledDetection(info.height, info.width).start(small).cells is None


@pytest.mark.skipif(not jpeg_lossless.available(), reason="libturbojpeg missing")
def test_splice_read_starts_while_the_full_decode_runs(monkeypatch) -> None:
    """1440p (3.7 MP, above REDUCED_FIRST_MAX_PIXELS) with the full decode made slow: the helper is
    done with the reduced detection first and the splice's coefficient read starts then, while
    the full decode still runs (before: after detection); the same bytes as without."""
    from cosbeauty.imaging import pipeline

    data = _jpeg(one_face(2560, 1440))
    reference = pipeline.beautify(data, 0.5).data
    decoding = threading.Event()
    real_decode = pipeline.decode

    def slow_decode(*args, **kwargs):
        decoding.set()
        try:
            time.sleep(0.4)
            return real_decode(*args, **kwargs)
        finally:
            decoding.clear()

    starts: list[bool] = []
    real_start = jpeg_lossless.Splicer.start
    monkeypatch.setattr(jpeg_lossless.Splicer, "start", lambda self: (starts.append(decoding.is_set()), real_start(self))[1])
    monkeypatch.setattr(pipeline, "decode", slow_decode)
    result = pipeline.beautify(data, 0.5)
    assert starts == [True]
    assert result.faces and result.data == reference


@pytest.mark.skipif(not jpeg_lossless.available(), reason="libturbojpeg missing")
def test_idle_work_off_same_bytes(monkeypatch) -> None:
    """``pipeline.IDLE_WORK`` off (round 19's order) and on give the same bytes (4000x3000)."""
    from cosbeauty.imaging import pipeline

    data = _jpeg(one_face(4000, 3000))
    on = pipeline.beautify(data, 0.5)
    monkeypatch.setattr(pipeline, "IDLE_WORK", False)
    off = pipeline.beautify(data, 0.5)
    assert on.faces and on.data == off.data


@pytest.mark.skipif(not jpeg_lossless.available(), reason="libturbojpeg missing")
def test_no_splice_left_waiting_when_the_full_decode_fails(monkeypatch) -> None:
    """4000x3000 whose full decode fails while the helper still detects: the helper, done later,
    starts no splice (one started after the caller's cleanup would hold a splice thread forever,
    waiting for blocks); the splice threads stay free."""
    from cosbeauty.imaging import faces, pipeline
    from cosbeauty.imaging.errors import CorruptImage

    data = _jpeg(one_face(4000, 3000))
    real_start = faces.ScaledDetection.start

    def slow(self, small):
        time.sleep(0.3)
        return real_start(self, small)

    def broken(*args, **kwargs):
        raise CorruptImage("test: the full decode fails")

    started, aborted = [], []
    real_splice_start, real_abort = jpeg_lossless.Splicer.start, jpeg_lossless.Splicer.abort
    monkeypatch.setattr(jpeg_lossless.Splicer, "start", lambda self: (started.append(1), real_splice_start(self))[1])
    monkeypatch.setattr(jpeg_lossless.Splicer, "abort", lambda self: (aborted.append(1), real_abort(self))[1])
    monkeypatch.setattr(faces.ScaledDetection, "start", slow)
    monkeypatch.setattr(pipeline, "decode", broken)
    with pytest.raises(CorruptImage):
        pipeline.beautify(data, 0.5)
    time.sleep(1.5)                                      # the helper's detection ends meanwhile
    assert len(started) == len(aborted)
    for _ in range(jpeg_lossless.SPLICE_THREADS):        # every splice thread serves the queue
        free = threading.Event()
        jpeg_lossless._splice_queue().put(free.set)
        assert free.wait(10)
