"""Small colour faces half above the frame (issue #12: "cut by the frame, up to half outside"; round 20).

At round 19's end ``bench/faces_real.py --check edges --modes colour`` had no candidate for the astronaut
40 px half above the frame on chelsea: greyedge's top strip (grey images only) scores it 0.69.
:mod:`.detection.colouredge` runs that strip's first level on colour images, only in the tiles where the
top rows' chroma stands out from the backdrop.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

from cosbeauty.imaging import pipeline
from cosbeauty.imaging.detection import colouredge
from tests.imaging import corpus

W, H = 1920, 1080


@functools.cache
def _case(person: str, cx: int) -> bytes:
    canvas = corpus.cover("chelsea", W, H)
    corpus.paste_round(canvas, corpus.heads()[person], 40, cx, 0)
    return corpus.jpeg_pil(canvas, 85)


def _near(x: float, y: float, w: float, h: float, cx: int, cy: int, size: int) -> bool:
    return math.hypot(x + w / 2 - cx, y + h / 2 - cy) <= 0.5 * size + 0.15 * w


@pytest.mark.parametrize("person,cx", [("astronaut", 1143), ("hopper", 1271)])
def test_a_40px_colour_face_half_above_the_frame_is_found(person: str, cx: int) -> None:
    """bench/faces_real.py: '40 astr top 0.5 chelsea' (missed before) and '40 hopp top 0.5 chelsea'."""
    faces = pipeline.beautify(_case(person, cx), 0.5).faces
    assert [_near(f.x, f.y, f.width, f.height, cx, 0, 40) for f in faces] == [True]


def test_the_strip_proposes_the_face() -> None:
    img = corpus.decoded(_case("astronaut", 1143))
    got = colouredge.candidates(img, None, H, W)
    assert got and all(d.coarse and d.score >= colouredge.MIN_SCORE for d in got)
    assert any(_near(d.box[0], d.box[1], d.box[2] - d.box[0], d.box[3] - d.box[1], 1143, 0, 40) for d in got)


@functools.cache
def _photo(bg: str) -> np.ndarray:
    return corpus.decoded(corpus.jpeg_pil(corpus.cover(bg, W, H), 85))


@pytest.mark.parametrize("bg,most", [("coffee", 6), ("chelsea", 0), ("rocket", 4), ("brick", 0), ("page", 0),
                                     ("grass", 0)])
def test_few_cues_and_no_candidate_on_the_colour_bench_photos(bg: str, most: int) -> None:
    img = _photo(bg)
    assert len(colouredge.cues(img, 1.0)) <= most
    assert colouredge.candidates(img, None, H, W) == []


def test_small_images_pay_nothing() -> None:
    img = _photo("coffee")[:900, :1200]
    assert colouredge.candidates(np.ascontiguousarray(img), None, 900, 1200) == []
