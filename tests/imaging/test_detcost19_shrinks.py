"""detection.imageops.shared_shrinks: within one image's detection each shrink of it is made once
(round 19, detection CPU), with the very same pixels and scales as without the scope."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cosbeauty.imaging.detection import imageops
from cosbeauty.imaging.detection.imageops import shared_shrinks, shrink

# (scale, last interpolation) as the passes ask them of a 12 MP frame: the whole-image copy, the
# proposal level, the grey window level, the colour tests' 4x4 cells, an exact half
ASKS = [(0.16, cv2.INTER_AREA), (0.2917, cv2.INTER_LINEAR), (1 / 3, cv2.INTER_AREA), (0.25, cv2.INTER_AREA),
        (0.5, cv2.INTER_AREA), (0.1386, cv2.INTER_AREA), (0.16, cv2.INTER_AREA), (0.25, cv2.INTER_AREA)]


@pytest.fixture(scope="module")
def frame() -> np.ndarray:
    rng = np.random.default_rng(19)
    return rng.integers(0, 256, (1501, 2001, 3), dtype=np.uint8)      # odd sides: halvings drop a row/column


def test_same_pixels_and_scales_inside_the_scope(frame):
    plain = [shrink(frame, s, last) for s, last in ASKS]
    with shared_shrinks(frame):
        shared = [shrink(frame[:, :, :3], s, last) for s, last in ASKS]     # a view of the same pixels too
    for (a, ax, ay), (b, bx, by) in zip(plain, shared):
        assert a.shape == b.shape and np.array_equal(a, b)
        assert (ax, ay) == (bx, by)


def test_each_halving_and_result_made_once(frame, monkeypatch):
    calls: list[tuple[tuple[int, ...], tuple[int, int]]] = []
    real = cv2.resize

    def counting(src, size, *args, **kwargs):
        calls.append((src.shape, tuple(size)))
        return real(src, size, *args, **kwargs)

    monkeypatch.setattr(imageops.cv2, "resize", counting)
    with shared_shrinks(frame):
        for s, last in ASKS:
            shrink(frame, s, last)
    halvings = [c for c in calls if c[1] == (c[0][1] // 2, c[0][0] // 2)]
    assert len(halvings) == len(set(halvings))          # 2001 -> 1000 -> 500 -> 250, each once
    assert len(calls) == len(set(calls))                # the repeated asks (0.16, 0.25) made nothing new
    calls.clear()
    for s, last in ASKS:                                # outside the scope: made every time, as before
        shrink(frame, s, last)
    assert len(calls) > len(set(calls))


def test_results_handed_out_are_copies(frame):
    with shared_shrinks(frame):
        first, _, _ = shrink(frame, 0.25)
        first[:] = 0                                    # a caller scribbling on its result
        again, _, _ = shrink(frame, 0.25)
        half, _, _ = shrink(frame, 0.5)
        half[:] = 0
        quarter, _, _ = shrink(frame, 0.25, cv2.INTER_LINEAR)
    assert np.array_equal(again, shrink(frame, 0.25)[0])
    assert np.array_equal(quarter, shrink(frame, 0.25, cv2.INTER_LINEAR)[0])


def test_other_images_and_threads_are_not_shared(frame):
    other = frame.copy()
    other[0, 0] ^= 255
    with shared_shrinks(frame):
        mine, _, _ = shrink(other, 0.5)
    assert np.array_equal(mine, shrink(other, 0.5)[0])
    assert imageops._shrinks.memo is None               # the scope ends with the block
