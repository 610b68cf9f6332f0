"""Round 19 speed work: ``pipeline.REDUCED_FIRST_MAX_PIXELS``: up to 2.5 MP the DCT-reduced decode
runs on the calling thread before the full decode (only the whole-image pass goes to the helper);
the same bytes.

(Round 19 also tried starting the retouch's first stage while detection verified the face: no gain
measured, removed; docs/beauty.md.)
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.imaging.scenes import one_face, six_faces


def _jpeg(rgb: np.ndarray, quality: int = 92) -> bytes:
    return cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()


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
