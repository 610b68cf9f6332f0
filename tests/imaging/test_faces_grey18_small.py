"""Small turned grey faces (40 px at 1080p) of ``bench/faces_real.py --check angles --modes grey --sizes 40``:
24/48 found at round 17's end, every miss without a candidate; the bright-blob places of
:mod:`cosbeauty.imaging.detection.greysmall`, looked at turned, give them one."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cosbeauty.imaging import detect_faces
from cosbeauty.imaging.detection import greysmall
from tests.imaging import corpus


@pytest.mark.parametrize("person,deg", [("hopper", 90), ("astronaut", 195), ("hopper", 285)])
def test_grey_40px_turned_found(person: str, deg: int) -> None:
    img, cx, cy = corpus.grey_angle_case(person, 40, deg)
    faces = detect_faces(img)
    assert any(math.hypot(f.center[0] - cx, f.center[1] - cy) < 20 + 0.15 * f.cheek_width for f in faces)
    assert len(faces) == 1


@pytest.mark.parametrize("name", ["chelsea", "page"])
def test_grey_photo_without_face_gives_no_candidate(name: str) -> None:
    img = corpus.grey_jpeg(corpus.cover(name, 1920, 1080))
    assert greysmall.candidates(img, 1080, 1920) == []


def test_places_bright_blob_first() -> None:
    grey = np.full((540, 960), 100, np.uint8)
    grey[300:320, 600:620] = 200            # a bright 20 px blob
    grey[100:104, 100:104] = 140            # a faint small one
    got = greysmall.places(grey, 2)
    assert len(got) >= 1 and abs(got[0][0] - 609.5) < 8 and abs(got[0][1] - 309.5) < 8
