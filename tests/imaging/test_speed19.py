"""Round 19 speed work: the retouch's first stage (skin masks; spot exclusions and person
segmentation) starts while detection verifies the face (``cosbeauty.imaging.early``), with the
same bytes. Shipped switched off (``early.ENABLED``: no gain measured); the tests switch it on.

And ``pipeline.REDUCED_FIRST_MAX_PIXELS``: up to 2.5 MP the DCT-reduced decode runs on the calling
thread before the full decode (only the whole-image pass goes to the helper); the same bytes.

The landmark step calls ``early.mesh_ready`` with the mesh it is about to verify; on an image the
bytes path armed (one confident face from the reduced-image pass, no window pass) the first stage
is submitted on the helper pool, and the retouch takes its results when detection returns that
very face. Whatever ran when and where, the output must not change by a single byte.
"""

from __future__ import annotations

import hashlib
import inspect

import cv2
import numpy as np
import pytest

from cosbeauty.imaging import early as _early
from tests.imaging.scenes import one_face, six_faces

SHIPPED_ENABLED = _early.ENABLED          # read at import, before any test switches it


def _jpeg(rgb: np.ndarray, quality: int = 92) -> bytes:
    return cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()


@pytest.fixture(autouse=True)
def switched_on(monkeypatch) -> None:
    """The mechanism is off by default (``early.ENABLED``): these tests switch it on."""
    from cosbeauty.imaging import early

    monkeypatch.setattr(early, "ENABLED", True)


def test_off_by_default() -> None:
    """``early.ENABLED`` is False as shipped (round 19 measured no gain: see the module); off,
    the bytes path arms nothing."""
    from cosbeauty.imaging import early
    from cosbeauty.imaging.pipeline import beautify

    assert SHIPPED_ENABLED is False
    early.ENABLED = False                                  # restored by the fixture's monkeypatch
    before = dict(early.STATS)
    beautify(_jpeg(one_face(1920, 1080)), 0.5)
    assert early.STATS == before and not early._armed


@pytest.fixture(scope="module")
def portrait() -> tuple[np.ndarray, list]:
    from cosbeauty.imaging.faces import detect_faces

    rgb = one_face(1920, 1080)
    faces = detect_faces(rgb)
    assert len(faces) == 1
    return rgb, faces


def _retouched(rgb: np.ndarray, faces: list, strength: float, early_pts: np.ndarray | None,
               score: float = 0.9, wait: bool = False) -> tuple[np.ndarray, dict]:
    """apply_faces on a copy of ``rgb``; with ``early_pts``, the image armed and the hook called
    with those landmarks first (as the landmark step does); ``wait``: until the early jobs are
    done (else the retouch may find them not started, cancel them and compute them itself)."""
    from cosbeauty.imaging import early
    from cosbeauty.imaging.beauty import apply_faces, start_first_stage
    from cosbeauty.imaging.retouch import RetouchParams

    out = rgb.copy()
    armed = None
    if early_pts is not None:
        params = RetouchParams.for_strength(strength)
        armed = early.arm(out, (params, 255.0), start_first_stage(params, 255.0))
        early.mesh_ready(out[:, :, :3], early_pts, score)     # a view of the armed array, as detection sees it
        early.unregister(armed)
        if wait and armed.started is not None:
            armed.started.masks.result()
            armed.started.side.result()
    timings: dict = {}
    try:
        apply_faces(out, faces, strength, timings=timings, early=armed)
    finally:
        early.disarm(armed)
    return out, timings


@pytest.mark.parametrize("strength", [0.2, 0.5, 1.0])
def test_early_first_stage_same_pixels(portrait, strength: float) -> None:
    from cosbeauty.imaging import early

    rgb, faces = portrait
    before = dict(early.STATS)
    plain, _ = _retouched(rgb, faces, strength, None)
    done, timings = _retouched(rgb, faces, strength, faces[0].landmarks, wait=True)
    racing, _ = _retouched(rgb, faces, strength, faces[0].landmarks)      # taken while running, or cancelled
    assert early.STATS["started"] == before["started"] + 2
    assert early.STATS["used"] == before["used"] + 2
    assert "retouch.mask.early" in timings and "retouch.segment.early" in timings   # their results were used
    assert np.array_equal(plain, done)
    assert np.array_equal(plain, racing)
    assert not np.array_equal(plain, rgb)                      # the case retouches something


def test_other_landmarks_are_not_used(portrait) -> None:
    """A mesh that is not the returned face's (another candidate, a retry) is dropped."""
    from cosbeauty.imaging import early

    rgb, faces = portrait
    moved = faces[0].landmarks + np.float32(0.25)
    before = dict(early.STATS)
    plain, _ = _retouched(rgb, faces, 0.5, None)
    other, _ = _retouched(rgb, faces, 0.5, moved)
    assert early.STATS["started"] == before["started"] + 1
    assert early.STATS["used"] == before["used"]
    assert np.array_equal(plain, other)


def test_low_score_and_unarmed_images_start_nothing(portrait) -> None:
    from cosbeauty.imaging import early

    rgb, faces = portrait
    before = dict(early.STATS)
    _retouched(rgb, faces, 0.5, faces[0].landmarks, score=early.MIN_DET_SCORE - 0.01)
    early.mesh_ready(rgb, faces[0].landmarks, 0.99)            # not armed
    assert early.STATS == before
    assert not early._armed


def _hooked() -> bool:
    from cosbeauty.imaging.detection import landmarks

    return "early.mesh_ready" in inspect.getsource(landmarks._face_try)


@pytest.mark.skipif(not _hooked(), reason="the landmark step does not call early.mesh_ready (hook not applied)")
def test_bytes_path_portrait_uses_the_early_stage_same_bytes(monkeypatch) -> None:
    from cosbeauty.imaging import early
    from cosbeauty.imaging.pipeline import beautify

    data = _jpeg(one_face(1920, 1080))
    monkeypatch.setattr(early, "ENABLED", False)
    off = beautify(data, 0.5)
    monkeypatch.setattr(early, "ENABLED", True)
    before = dict(early.STATS)
    digests = {hashlib.sha256(beautify(data, 0.5).data).hexdigest() for _ in range(3)}
    assert early.STATS["used"] == before["used"] + 3
    assert digests == {hashlib.sha256(off.data).hexdigest()}
    assert not early._armed


def test_six_faces_are_not_armed() -> None:
    """Several faces (the window pass follows): nothing starts early, the output as before."""
    from cosbeauty.imaging import early
    from cosbeauty.imaging.pipeline import beautify

    data = _jpeg(six_faces(1920, 1080))
    before = dict(early.STATS)
    result = beautify(data, 0.5)
    assert len(result.faces) >= 2
    assert early.STATS == before
    assert not early._armed



def _decodes(data: bytes, monkeypatch) -> tuple[list[tuple[str, str]], bytes]:
    """(the decodes in call order: (which, thread name)), the output bytes) of one beautify."""
    import threading

    from cosbeauty.imaging import pipeline

    seen: list[tuple[str, str]] = []

    def recording(which: str, real):
        def call(*args, **kwargs):
            seen.append((which, threading.current_thread().name))
            return real(*args, **kwargs)
        return call

    monkeypatch.setattr(pipeline, "decode_reduced", recording("reduced", pipeline.decode_reduced))
    monkeypatch.setattr(pipeline, "decode", recording("full", pipeline.decode))
    return seen, pipeline.beautify(data, 0.5).data


@pytest.mark.parametrize("size, faces", [((1920, 1080), 1), ((1920, 1080), 6), ((2560, 1440), 1)],
                         ids=["1080p one face", "1080p six faces", "1440p one face"])
def test_reduced_decode_first_same_bytes(size: tuple[int, int], faces: int, monkeypatch) -> None:
    """Up to REDUCED_FIRST_MAX_PIXELS (1080p) the reduced decode runs on the calling thread before
    the full decode; above it (1440p: 3.7 MP) it is the helper's job as before. The bytes are the
    same as with the other placement."""
    import threading

    from cosbeauty.imaging import pipeline

    data = _jpeg((one_face if faces == 1 else six_faces)(*size))
    first = size[0] * size[1] <= pipeline.REDUCED_FIRST_MAX_PIXELS
    assert first == (size == (1920, 1080))
    seen, here = _decodes(data, monkeypatch)
    me = threading.current_thread().name
    if first:
        assert seen == [("reduced", me), ("full", me)]
    else:       # the helper's (or, pool busy, this thread's after the full decode)
        assert seen[0] == ("full", me) or seen[0][1] != me
    monkeypatch.setattr(pipeline, "REDUCED_FIRST_MAX_PIXELS", 0 if first else 10**9)     # the other placement
    seen, other = _decodes(data, monkeypatch)
    assert (seen[0] == ("reduced", me)) != first
    assert here == other
