"""Small grey faces turned in the plane (40 px at 1080p; round 20): ``bench/faces_real.py --check angles
--modes grey --sizes 40`` missed the grey astronaut at 75 and 345 degrees on the grass photo and at 240
and 330 degrees on the page photo at round 19's end, none with a candidate.
:mod:`cosbeauty.imaging.detection.greysmall`'s places now come from bright blobs and from discs unlike
their ring taken in turn (on the page photo the face is no brighter than the paper: 104th / 52nd as a
bright blob, 22nd / 18th as a disc), and a place whose cell scores best upright (the 345-degree face:
0.84-0.91 upright, 0.62 at best turned) is an upright candidate where the window pass detected nothing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cosbeauty.imaging import detect_faces
from cosbeauty.imaging.detection import greysmall
from cosbeauty.imaging.detection.common import _Detection
from tests.imaging import corpus


@pytest.mark.parametrize("deg", [75, 240, 330, 345])
def test_grey_astronaut_40px_found(deg: int) -> None:
    img, cx, cy = corpus.grey_angle_case("astronaut", 40, deg)
    faces = detect_faces(img)
    assert any(math.hypot(f.center[0] - cx, f.center[1] - cy) < 20 + 0.15 * f.cheek_width for f in faces)
    assert len(faces) == 1


def test_places_take_a_dark_disc_on_a_bright_page() -> None:
    grey = np.full((540, 960), 230, np.uint8)
    grey[300:316, 600:616] = 120            # a darker 16 px patch on white paper: no bright blob
    grey[100:108, 100:108] = 250            # a faint bright one
    got = greysmall.places(grey, 2)
    assert any(abs(x - 607.5) < 10 and abs(y - 307.5) < 10 for x, y in got)


def test_upright_candidate_only_where_the_window_pass_saw_nothing() -> None:
    img, cx, cy = corpus.grey_angle_case("astronaut", 40, 345)
    got = greysmall.candidates(img, 1080, 1920)
    near = [d for d in got if math.hypot((d.box[0] + d.box[2]) / 2 - cx, (d.box[1] + d.box[3]) / 2 - cy) < 20]
    assert near
    seen = _Detection(np.array([cx - 12.0, cy - 12.0, cx + 12.0, cy + 12.0]), 0.5, np.zeros((2, 2)))
    assert not [d for d in greysmall.candidates(img, 1080, 1920, known=[seen])
                if math.hypot((d.box[0] + d.box[2]) / 2 - cx, (d.box[1] + d.box[3]) / 2 - cy) < 20]


@pytest.mark.parametrize("name", ["page", "grass", "rocket", "coffee"])
def test_grey_photo_without_face_gives_no_candidate(name: str) -> None:
    img = corpus.grey_jpeg(corpus.cover(name, 1920, 1080))
    assert greysmall.candidates(img, 1080, 1920) == []
