"""Grey faces at any angle on real photo backgrounds (issue #12, "any in-plane angle"): the cases of
``bench/faces_real.py --check angles --modes grey`` -- a head photo turned in the plane, pasted with a
soft round mask on a scikit-image photo scaled to cover 1920x1080, the whole image made grey, JPEG
q85, decoded, through :func:`detect_faces` with default settings.

Large grey faces turned 60-270 degrees had no candidate (12 of 48 at 300 px at the end of round 14):
every pass that looks at them shows them 16-32 px wide, where the full-range detector scores grey
faces weakly. :mod:`.detection.greybig` shows them ~45-55 px wide, turned.

Small upright grey faces (40 px on the bench photos, LFW 24/32 px) scored 0.35-0.40, just under the
window pass's threshold: :mod:`.detection.greynear` looks at those near misses once more, bigger.
"""

from __future__ import annotations

import math

import pytest

from cosbeauty.imaging import detect_faces
from cosbeauty.imaging.detection import greybig, greynear
from tests.imaging import corpus

W, H = 1920, 1080
bench_case = corpus.grey_angle_case


def found(person: str, face_px: int, deg: int) -> bool:
    """The face is found where it was pasted (within half a face), rolled as turned (+-25 degrees),
    and nothing else is."""
    img, cx, cy = bench_case(person, face_px, deg)
    faces = detect_faces(img)
    hits = [f for f in faces if math.hypot(f.center[0] - cx, f.center[1] - cy) < 0.5 * face_px]
    assert len(faces) == len(hits), f"{len(faces) - len(hits)} other faces"
    # roll: positive clockwise on screen, the head turned deg counter-clockwise
    return any(abs((f.roll + deg + 180) % 360 - 180) < 25 for f in hits)


# (person, face px, degrees): round 14's misses (no candidate at all for most)
BIG = [("astronaut", 300, 180), ("hopper", 300, 120), ("astronaut", 300, 90), ("hopper", 300, 165)]
BIG_MORE = [("astronaut", 300, 120), ("astronaut", 300, 150), ("astronaut", 300, 210), ("astronaut", 300, 240),
            ("astronaut", 300, 255), ("hopper", 300, 60), ("hopper", 300, 150)]
# not yet: the astronaut 300 px at 165 degrees on grass (its best turned window 0.57, under greybig.MIN_SCORE)


def test_a_big_grey_face_upside_down_gets_a_turned_candidate() -> None:
    """The grey astronaut 300 px upside down: no whole-image view scores it (0.48 upright with upright
    eyes; 23 px wide in the turned views with their border), the turned windows do, eyes turned."""
    img, cx, cy = bench_case("astronaut", 300, 180)
    got = [d for d in greybig.candidates(img, H, W)
           if math.hypot((d.box[0] + d.box[2]) / 2 - cx, (d.box[1] + d.box[3]) / 2 - cy) < 150]
    assert got and max(d.score for d in got) >= 0.7
    best = max(got, key=lambda d: d.score)
    (rx, ry), (lx, ly) = best.eyes
    roll = math.degrees(math.atan2(ly - ry, lx - rx))
    assert abs((roll + 180 + 180) % 360 - 180) < 30


def test_greybig_is_off_for_small_images() -> None:
    assert greybig.scale_for(300, 400) == 0.0
    assert 0.16 < greybig.scale_for(1080, 1920) < 0.17     # a 300 px face ~49 px wide


@pytest.mark.parametrize("case", BIG)
def test_big_grey_face_turned_on_a_real_background_is_found(case: tuple) -> None:
    assert found(*case)


@pytest.mark.slow
@pytest.mark.parametrize("case", BIG_MORE)
def test_big_grey_face_turned_on_a_real_background_is_found_more(case: tuple) -> None:
    assert found(*case)


# (person, face px, degrees): small upright grey faces round 14 missed (the window pass: 0.39-0.40)
SMALL_UPRIGHT = [("astronaut", 40, 0), ("astronaut", 40, 15)]


def test_a_near_miss_of_a_small_grey_face_gives_a_candidate() -> None:
    """The grey astronaut 40 px upright on coffee: the window pass's best detection there scores 0.40,
    under its threshold; looked at bigger it scores >= greynear.MIN_SCORE, boxed on the face."""
    from cosbeauty.imaging.detection.windows import _tile_pass

    img, cx, cy = bench_case("astronaut", 40, 0)
    near: list = []
    sure = _tile_pass(img, H, W, None, 20, near_out=near)
    assert not [d for d in sure if math.hypot((d.box[0] + d.box[2]) / 2 - cx, (d.box[1] + d.box[3]) / 2 - cy) < 20]
    got = [d for d in greynear.candidates(img, None, near, sure)
           if math.hypot((d.box[0] + d.box[2]) / 2 - cx, (d.box[1] + d.box[3]) / 2 - cy) < 20]
    assert got and 20 < got[0].box[2] - got[0].box[0] < 60


@pytest.mark.parametrize("case", SMALL_UPRIGHT)
def test_small_upright_grey_face_on_a_real_background_is_found(case: tuple) -> None:
    assert found(*case)
