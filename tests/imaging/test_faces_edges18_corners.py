"""Big faces cut at a corner: the corner mosaic (issue #12, must-have 4; round 18).

Grace Hopper 300 px a quarter out at the top-right corner of the coffee photo (``bench/faces_real.py
--check edges``: a quarter out on each axis, ~44 % of the face outside) had no candidate near her on
1ae2d16: the turned whole-image pass sees her ~23 px wide beside three reflections. The corner mosaic
(:mod:`.detection.corners`: each corner's square 0.3 x the short side with a mirrored border, four in
one detector call) boxes her at 0.85-0.90.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from cosbeauty.imaging import faces, pipeline
from cosbeauty.imaging.detection import corners
from cosbeauty.imaging.detection.whole import _whole_small
from tests.imaging import corpus

W, H = 1920, 1080


def corner_case(bg: str, person: str, size: int, frac: float, corner: str) -> tuple[np.ndarray, int, int]:
    """The bench's corner case (decoded JPEG q85) and the face's centre."""
    off = round(size * (0.5 - frac))
    cx = off if corner[1] == "l" else W - off
    cy = off if corner[0] == "t" else H - off
    canvas = corpus.cover(bg, W, H)
    corpus.paste_round(canvas, corpus.heads()[person], size, cx, cy)
    return corpus.decoded(corpus.jpeg_pil(canvas, 85)), cx, cy


def _near(dets, cx: float, cy: float, size: int) -> list:
    return [d for d in dets if math.hypot((d.box[0] + d.box[2]) / 2 - cx, (d.box[1] + d.box[3]) / 2 - cy) <= 0.5 * size]


def test_corner_mosaic_boxes_a_big_face_a_quarter_out() -> None:
    img, cx, cy = corner_case("coffee", "hopper", 300, 0.25, "tr")
    small, sx, sy = _whole_small(img)
    got = _near(corners.corner_pass(small, sx, sy, H, W), cx, cy, 300)
    assert got and max(d.score for d in got) >= 0.6
    box = max(got, key=lambda d: d.score).box
    assert 200 <= box[2] - box[0] <= 400          # the face's size, in image pixels


def test_corner_mosaic_maps_each_quadrant_back() -> None:
    """A face pasted whole near each corner is boxed where it is (the quadrant's mapping)."""
    for corner in ("tl", "tr", "bl", "br"):
        img, cx, cy = corner_case("rocket", "astronaut", 240, -0.1, corner)     # inside, 0.6 x its size from both edges
        small, sx, sy = _whole_small(img)
        assert _near(corners.corner_pass(small, sx, sy, H, W), cx, cy, 240), corner


def test_corner_mosaic_off_and_small_images() -> None:
    img = np.zeros((300, 500, 3), np.uint8)
    assert corners.corner_pass(img, 1.0, 1.0, 300, 500) == []       # short side < MIN_SHORT


@pytest.mark.skipif(not hasattr(faces, "corners"), reason="faces.py does not call the corner pass yet (lead's hook)")
def test_big_face_a_quarter_out_at_a_corner_is_found() -> None:
    off = round(300 * 0.25)
    canvas = corpus.cover("coffee", W, H)
    corpus.paste_round(canvas, corpus.heads()["hopper"], 300, W - off, off)
    found = pipeline.beautify(corpus.jpeg_pil(canvas, 85), 0.5).faces
    assert [f for f in found if math.hypot(f.x + f.width / 2 - (W - off), f.y + f.height / 2 - off) <= 150 + 0.15 * f.width]


@pytest.mark.skipif(not hasattr(faces, "corners"), reason="faces.py does not call the corner pass yet (lead's hook)")
def test_big_face_half_out_at_the_right_near_a_corner_is_found() -> None:
    """The astronaut 300 px half out at the right of the coffee photo, 242 px from the top (bench: "300 astr
    right 0.5 coffee"): her meshes are centred 1-6 px past the edge (no slack there), the corner mosaic's box
    gives one centred in the frame."""
    canvas = corpus.cover("coffee", W, H)
    corpus.paste_round(canvas, corpus.heads()["astronaut"], 300, W, 242)
    found = pipeline.beautify(corpus.jpeg_pil(canvas, 85), 0.5).faces
    assert [f for f in found if math.hypot(f.x + f.width / 2 - W, f.y + f.height / 2 - 242) <= 150 + 0.15 * f.width]
