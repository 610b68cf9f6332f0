"""Faces cut by the frame AND turned, and small faces in panoramas (issue #12; round 15's independent
check, items 4 and 9).

Cut and turned: a head photo turned 90/180/270 degrees pasted with a soft round mask
(``corpus.paste_round``) on a scikit-image photo covering 1920x1080, 30 % of its nominal width past
the frame (its centre 0.2 x size inside), JPEG q85, decoded, through :func:`detect_faces`. Round 15's
code found none of these cases: the proposal pass's upright cells there are centred on the edge, on
face and reflection, and were never looked at turned where the face is (``detection/edgeturn.py``).

Cut-out people in a lossy WebP with alpha: detection on the colour composited over grey (a hook).

Panorama: a 6000x1000 photo with faces of 48 and 60 px; the proposal pass looked for faces from 1.2 %
of the long side (72 px) and found neither (``proposals.smallest``: from 41 px now).
"""

from __future__ import annotations

import functools
import inspect
import io
import math

import cv2
import numpy as np
import pytest
from PIL import Image

from cosbeauty.imaging import beautify, detect_faces, pipeline
from cosbeauty.imaging import faces as faces_module
from cosbeauty.imaging.detection import edgeturn
from tests.imaging import corpus

W, H = 1920, 1080


@functools.cache
def _background(name: str, w: int = W, h: int = H) -> np.ndarray:
    return corpus.cover(name, w, h)


def _centre(size: int, side: str) -> tuple[int, int]:
    """The paste centre putting 30 % of the face's nominal width past ``side`` (as the check did)."""
    off = int(size * 0.2)
    return {"l": (off, 430), "r": (W - off, 650), "t": (800, off), "b": (1150, H - off)}[side]


def _scene(bg: str, person: str, size: int, degrees: int, side: str) -> tuple[np.ndarray, int, int]:
    cx, cy = _centre(size, side)
    canvas = _background(bg).copy()
    corpus.paste_round(canvas, corpus.heads()[person], size, cx, cy, degrees)
    return corpus.decoded(corpus.jpeg_pil(canvas, 85)), cx, cy


def _found(img: np.ndarray, cx: int, cy: int, size: int) -> bool:
    return any(math.hypot(f.center[0] - cx, f.center[1] - cy) <= 0.5 * size for f in detect_faces(img))


CUT_TURNED = [     # round 15: no face (no candidate, or the turned face's upright box only)
    ("coffee", "hopper", 48, 180, "l"),
    ("chelsea", "astronaut", 48, 180, "l"),
    ("coffee", "astronaut", 96, 180, "b"),
    ("coffee", "astronaut", 96, 90, "l"),
]


@pytest.mark.parametrize("bg,person,size,degrees,side", CUT_TURNED)
def test_cut_and_turned_face_is_found(bg: str, person: str, size: int, degrees: int, side: str) -> None:
    img, cx, cy = _scene(bg, person, size, degrees, side)
    assert _found(img, cx, cy, size)


# Found by an edge candidate that another pass's candidate overlaps: deferred, landmarked alone after the
# faces are finished (small.later_faces), once faces.py passes the ``later`` list (the lead's hook,
# /tmp/s16/turncut/hook.diff); skipped until then.
CUT_TURNED_LATER = [
    ("chelsea", "astronaut", 48, 90, "t"),
    ("chelsea", "hopper", 48, 270, "t"),
    ("coffee", "hopper", 160, 270, "b"),
]


@pytest.mark.skipif("later_faces" not in inspect.getsource(faces_module), reason="faces.py does not run small.later_faces yet")
@pytest.mark.parametrize("bg,person,size,degrees,side", CUT_TURNED_LATER)
def test_cut_and_turned_face_behind_another_candidate_is_found(bg: str, person: str, size: int, degrees: int,
                                                              side: str) -> None:
    img, cx, cy = _scene(bg, person, size, degrees, side)
    assert _found(img, cx, cy, size)


def test_edge_candidate_does_not_crowd_out_a_found_face() -> None:
    """The astronaut 48 px at 270 degrees, 30 % out at the right, was found by an alternate view of a
    candidate of the proposal pass; added as that candidate's alternates, the edge candidates were
    tried first and failed (lost). Edge candidates another candidate overlaps are not merged with it
    (:func:`.edgeturn.candidates`)."""
    img, cx, cy = _scene("coffee", "astronaut", 48, 270, "r")
    assert _found(img, cx, cy, 48)


def test_edge_places_are_moved_inward_and_enlarged() -> None:
    cells = [(3.0, 500.0, 90.0, 0), (900.0, 500.0, 90.0, 0), (1915.0, 10.0, 45.0, 0), (5.0, 500.0, 90.0, 1)]
    places = edgeturn.edge_places(cells, H, W)
    assert places == [(3.0 + 0.2 * 90, 500.0, 1.4 * 90, 0), (1915.0 - 0.2 * 45, 10.0, 1.4 * 45, 0)]


@pytest.mark.parametrize("bg", ["coffee", "chelsea"])
def test_small_faces_in_a_panorama_are_found(bg: str) -> None:
    """6000x1000: the astronaut 60 and 48 px (1 % and 0.8 % of the long side, 6 and 4.8 % of the
    height); round 15: neither found."""
    canvas = _background(bg, 6000, 1000).copy()
    truth = [(300, 500, 60), (4800, 300, 48)]
    for cx, cy, size in truth:
        corpus.paste_round(canvas, corpus.heads()["astronaut"], size, cx, cy)
    faces = detect_faces(corpus.decoded(corpus.jpeg_pil(canvas, 85)))
    for cx, cy, size in truth:
        assert any(math.hypot(f.center[0] - cx, f.center[1] - cy) <= 0.5 * size for f in faces), (cx, cy, size)


@pytest.mark.skipif(not hasattr(pipeline, "_seen"), reason="pipeline does not composite alpha for detection yet")
@pytest.mark.parametrize("bg", ["coffee", "chelsea"])
def test_cut_out_people_in_a_lossy_webp_with_alpha_are_found(bg: str) -> None:
    """Two people cut out (alpha 0 around two ellipses), lossy WebP: libwebp fills the colour under
    alpha 0 with rows smeared from the visible edge, and round 15's code missed the 80 px astronaut
    beside Grace Hopper 200 px (found in the same RGBA as PNG). Detection sees the image composited
    over mid grey (``pipeline._seen``; the lead's hook /tmp/s16/turncut/hook_alpha.diff)."""
    canvas = _background(bg, 1200, 900).copy()
    corpus.paste_round(canvas, corpus.heads()["hopper"], 200, 400, 420)
    corpus.paste_round(canvas, corpus.heads()["astronaut"], 80, 900, 300)
    alpha = np.zeros((900, 1200), np.uint8)
    cv2.ellipse(alpha, (400, 470), (190, 300), 0, 0, 360, 255, -1, cv2.LINE_AA)
    cv2.ellipse(alpha, (900, 330), (80, 120), 0, 0, 360, 255, -1, cv2.LINE_AA)
    out = io.BytesIO()
    Image.fromarray(np.dstack([canvas, alpha])).save(out, "WEBP", quality=80)
    faces = beautify(out.getvalue(), 0.5).faces
    for cx, cy, size in ((400, 420, 200), (900, 300, 80)):
        assert any(math.hypot(f.x + f.width / 2 - cx, f.y + f.height / 2 - cy) <= 0.5 * size for f in faces), (cx, cy)
