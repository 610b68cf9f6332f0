"""The last two colour angle misses of ``bench/faces_real.py --check angles`` (round 17: 142/144): Hopper
96 px turned 105 and 195 degrees on the chelsea photo had no candidate; the best unexplained proposal
cells looked at wide every 45 degrees (:mod:`cosbeauty.imaging.detection.widecells`) give them one."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

from cosbeauty.imaging import detect_faces
from cosbeauty.imaging.detection import widecells
from cosbeauty.imaging.detection.common import _Detection
from tests.imaging import corpus


@functools.cache
def colour_angle_case(person: str, face_px: int, deg: int) -> tuple[np.ndarray, int, int]:
    """The colour image of ``bench/faces_real.py --check angles``' case (JPEG q85, decoded), the face's centre."""
    i = deg // 15
    cx, cy = 400 + (i * 137) % 1100, 300 + (i * 71) % 480
    img = corpus.cover(corpus.REAL_BACKDROPS[i % len(corpus.REAL_BACKDROPS)], 1920, 1080)
    corpus.paste_round(img, corpus.heads()[person], face_px, cx, cy, deg)
    return corpus.decoded(corpus.jpeg_pil(img, 85)), cx, cy


@pytest.mark.parametrize("deg", [105, 195])
def test_hopper_96_turned_on_chelsea_found(deg: int) -> None:
    img, cx, cy = colour_angle_case("hopper", 96, deg)
    faces = detect_faces(img)
    assert any(math.hypot(f.center[0] - cx, f.center[1] - cy) < 48 for f in faces)
    assert len(faces) == 1


def test_places_skip_explained_and_near_cells() -> None:
    todo = [(100.0, 100.0, 45.0, 0), (110.0, 100.0, 89.0, 0), (500.0, 500.0, 45.0, 0), (900.0, 100.0, 45.0, 0),
            (20.0, 1060.0, 45.0, 0)]     # the last one's view reaches past the frame
    got = [_Detection(np.array([480.0, 480.0, 520.0, 520.0]), 0.9, np.zeros((2, 2)))]
    assert widecells.places(todo, got, 1080, 1920) == [(100.0, 100.0, widecells.SIDE * 45.0), (900.0, 100.0, widecells.SIDE * 45.0)]


def test_places_at_most_one_call() -> None:
    todo = [(100 + 170.0 * i, 100.0, 45.0, 0) for i in range(10)]
    assert len(widecells.places(todo, [], 1080, 1920)) == widecells.PLACES
