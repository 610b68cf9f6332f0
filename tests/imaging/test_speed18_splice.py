"""Round 18 speed hook: the lossless splice's coefficient read starts while detection still runs.

``pipeline._decode_and_detect`` calls ``on_wait(decoded)`` when its thread has the full image and
would wait for the helper's detection; ``pipeline.beautify`` then opens and starts the splice
(libjpeg reads the source's coefficients on a splice thread) instead of after detection. The
output bytes are those of the late start; a splice started for an image without faces is
released (the splice threads stay free).
"""

from __future__ import annotations

import hashlib
import threading
import time

import cv2
import numpy as np
import pytest
import skimage.data

from cosbeauty.imaging import jpeg_lossless
from tests.imaging import corpus
from tests.imaging.scenes import one_face

pytestmark = pytest.mark.skipif(not jpeg_lossless.available(), reason="libturbojpeg missing")


def _jpeg(rgb: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()


def _slow_reduced_detection(monkeypatch) -> None:
    """The helper's detection made slower than the full decode, so ``on_wait`` is always called."""
    from cosbeauty.imaging import faces

    real = faces.ScaledDetection.start

    def slow(self, small):
        time.sleep(0.15)
        return real(self, small)

    monkeypatch.setattr(faces.ScaledDetection, "start", slow)


def test_splice_started_during_detection_same_bytes(monkeypatch) -> None:
    from cosbeauty.imaging import pipeline

    data = _jpeg(one_face(1920, 1080))
    late = pipeline.beautify(data, 0.5).data           # whatever the timing: the reference bytes
    _slow_reduced_detection(monkeypatch)
    started: list[str] = []
    real_start = jpeg_lossless.Splicer.start

    def start(self):
        started.append("early" if waiting.is_set() else "late")
        return real_start(self)

    waiting = threading.Event()
    real_detect = pipeline._decode_and_detect

    def detect(*args, **kwargs):
        on_wait = kwargs["on_wait"]

        def spied(decoded):
            waiting.set()
            try:
                on_wait(decoded)
            finally:
                waiting.clear()
        return real_detect(*args, **dict(kwargs, on_wait=spied))

    monkeypatch.setattr(jpeg_lossless.Splicer, "start", start)
    monkeypatch.setattr(pipeline, "_decode_and_detect", detect)
    result = pipeline.beautify(data, 0.5)
    assert started == ["early"]
    assert result.faces and hashlib.sha256(result.data).digest() == hashlib.sha256(late).digest()


def test_splice_of_a_photo_without_faces_is_released(monkeypatch) -> None:
    from cosbeauty.imaging import pipeline

    _slow_reduced_detection(monkeypatch)
    data = _jpeg(corpus._tile_to(skimage.data.rocket(), 1920, 1080))
    aborted: list[int] = []
    real_abort = jpeg_lossless.Splicer.abort
    monkeypatch.setattr(jpeg_lossless.Splicer, "abort", lambda self: (aborted.append(1), real_abort(self))[1])
    for _ in range(3):                                   # more than SPLICE_THREADS
        result = pipeline.beautify(data, 0.5)
        assert not result.faces and result.data == data
    assert len(aborted) == 3
    free = threading.Event()
    jpeg_lossless._splice_queue().put(free.set)          # a splice thread still serves the queue
    assert free.wait(10)
