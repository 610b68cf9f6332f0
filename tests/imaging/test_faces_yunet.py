"""The YuNet proposal stage (:mod:`cosbeauty.imaging.yunet`, issue #12 points 3 and 7).

* the ctypes binding gives the same rows as ``yuface``'s own wrapper, the same rows on every
  call and from two threads at once, with the right eye (subject's) on the image's left;
* with YuNet unavailable the BlazeFace window proposal pass still finds the small faces (the
  fallback for platforms without the ``yuface`` wheel);
* a skin-free backdrop is not scanned (:func:`faces._skin_bands`), the region of a face on it is.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from cosbeauty.imaging import detect_faces, faces, yunet
from tests.imaging import corpus
from tests.imaging.test_faces_small import grid_canvas, recall

pytestmark = pytest.mark.skipif(not yunet.available(), reason="yuface (libfacedetection) not installed")


def _bgr(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rgb[:, :, ::-1])


def test_binding_matches_wrapper_and_is_deterministic():
    from yuface.yuface import detect as wrapper

    canvas, _ = grid_canvas(1280, 720, [20, 30, 40, 60])
    bgr = _bgr(canvas)
    rows = yunet.detect(bgr)
    assert len(rows) >= 8
    assert np.array_equal(rows, np.asarray(wrapper(bgr))[:, :15])
    with ThreadPoolExecutor(2) as pool:
        again = list(pool.map(lambda _: yunet.detect(bgr), range(4)))
    assert all(np.array_equal(rows, r) for r in again)


def test_eye_order_matches_blazeface():
    rows = yunet.detect(_bgr(corpus.hopper()))
    best = rows[np.argmax(rows[:, 0])]
    assert best[0] >= 80
    assert best[5] < best[7]            # the subject's right eye is on the image's left (keypoint 0)


def test_fallback_without_yunet_finds_small_faces(monkeypatch):
    canvas, truth = grid_canvas(1920, 1080, [24, 32, 48])
    monkeypatch.setattr(yunet, "available", lambda: False)
    found = detect_faces(canvas, max_faces=20)
    assert all(v == 2 for v in recall(found, truth).values())


def test_skin_bands_skip_plain_backdrop():
    canvas = np.full((1080, 1920, 3), (90, 140, 200), np.uint8)      # sky blue: no skin chroma
    assert faces._skin_bands(canvas, 40) == []
    corpus.place(canvas, corpus.heads()["hopper"], 60, 450, 750)
    bands = faces._skin_bands(canvas, 40)
    assert len(bands) == 1
    x0, y0, x1, y1 = bands[0]
    assert x0 <= 420 and x1 >= 480 and y0 <= 710 and y1 >= 790
    assert (x1 - x0) * (y1 - y0) < 0.1 * 1920 * 1080
