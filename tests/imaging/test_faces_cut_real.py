"""Faces cut by the frame on real photo backgrounds (issue #12, "faces cut by the frame, up to half
outside, are found"): a head photo pasted with a soft round mask (``corpus.paste_round``) on a
scikit-image photo scaled to cover 1920x1080, part of it past the frame, JPEG q85 (Pillow, 4:2:0),
decoded, through :func:`detect_faces` with default settings -- the cases of ``bench/faces_real.py
--check edges`` that round 14 lost.

A case is given as the bench gives it: the paste centre (cx, cy) of a head whose face is ``size``
px wide; the face's own landmark box comes from ``corpus.HEAD_FACE_BOX``, and the test asserts a
face whose landmark centre lies within 0.25 x size of that box's centre (the mesh on the face, not
on its reflection past the edge).
"""

from __future__ import annotations

import functools
import inspect

import numpy as np
import pytest

from cosbeauty.imaging import detect_faces
from cosbeauty.imaging import faces as faces_module
from cosbeauty.imaging.detection import closeup
from tests.imaging import corpus

W, H = 1920, 1080


@functools.cache
def _background(name: str) -> np.ndarray:
    return corpus.cover(name, W, H)


def scene(bg: str, person: str, size: int, cx: int, cy: int, grey: bool = False) -> np.ndarray:
    canvas = _background(bg).copy()
    corpus.paste_round(canvas, corpus.heads()[person], size, cx, cy)
    if grey:
        canvas = corpus.grey3(canvas)
    return corpus.decoded(corpus.jpeg_pil(canvas, 85))


def face_box(person: str, size: int, cx: int, cy: int) -> tuple[float, float, float, float]:
    """The pasted face's landmark box (unclipped) in canvas pixels."""
    s = max(4, round(size / 0.55))
    x0, y0, x1, y1 = corpus.HEAD_FACE_BOX[person]
    ox, oy = cx - s // 2, cy - s // 2
    return ox + x0 * s, oy + y0 * s, ox + x1 * s, oy + y1 * s


def paste_centre(person: str, size: int, side: str, out: float, along: int) -> tuple[int, int]:
    """The paste centre that puts the fraction ``out`` of the face's box width (height) past the
    ``side`` of the frame, its centre ``along`` px along that side."""
    s = max(4, round(size / 0.55))
    x0, y0, x1, y1 = (v * s - s // 2 for v in corpus.HEAD_FACE_BOX[person])     # relative to the paste centre
    if side in ("left", "right"):
        cx = -x1 + (1 - out) * (x1 - x0) if side == "left" else W - x0 - (1 - out) * (x1 - x0)
        return round(cx), round(along - (y0 + y1) / 2)
    cy = -y1 + (1 - out) * (y1 - y0) if side == "top" else H - y0 - (1 - out) * (y1 - y0)
    return round(along - (x0 + x1) / 2), round(cy)


def outside(box: tuple[float, float, float, float]) -> float:
    """The fraction of ``box``'s area outside the 1920x1080 frame."""
    x0, y0, x1, y1 = box
    vis = max(0.0, min(x1, W) - max(x0, 0)) * max(0.0, min(y1, H) - max(y0, 0))
    return 1.0 - vis / ((x1 - x0) * (y1 - y0))


def found(img: np.ndarray, person: str, size: int, cx: int, cy: int) -> bool:
    x0, y0, x1, y1 = face_box(person, size, cx, cy)
    fx, fy = (x0 + x1) / 2, (y0 + y1) / 2
    return any(np.hypot(f.center[0] - fx, f.center[1] - fy) <= 0.25 * size for f in detect_faces(img))


# Big faces whose centre is on the frame's edge: the detectors box face and reflection centred a few
# px past the edge, and candidates centred outside the frame were dropped unless small (round 14: no
# face). detection/onframe.py moves them onto the edge.
BIG_ON_EDGE = [      # bench: "300 hopp right 0.5 coffee" (53 % out), "300 hopp top 0.5 chelsea" (52 %), "300 astr top 0.5 chelsea" (57 %)
    ("coffee", "hopper", 300, "right", 626, 0.5),
    ("chelsea", "hopper", 300, "top", 1271, 0.5),
    ("chelsea", "astronaut", 300, "top", 1143, 0.5),
    ("coffee", "hopper", 300, "right", 626, 0.55),
    ("chelsea", "hopper", 300, "top", 1271, 0.55),
    ("chelsea", "astronaut", 300, "top", 1143, 0.55),
]


@pytest.mark.parametrize("bg,person,size,side,along,out", BIG_ON_EDGE)
def test_big_face_half_out_is_found(bg: str, person: str, size: int, side: str, along: int, out: float) -> None:
    cx, cy = paste_centre(person, size, side, out, along)
    assert abs(outside(face_box(person, size, cx, cy)) - out) < 0.01
    assert found(scene(bg, person, size, cx, cy), person, size, cx, cy)


# Small faces a quarter out at a corner (the bench's paste centre 10 px from both edges; the face's
# own box 15-45 % out): proposals 0.40-0.61, but their confirmation cells, mirrored on both axes,
# confirmed nothing, and the side cell 0.42-0.51 (< _NEAR_AGAIN). detection/confirm.py: a second side
# cell moved inward on both axes at a corner, and second-cell confirmations reaching past the frame
# kept from 0.4.
SMALL_CORNER = [
    ("chelsea", "astronaut", 40, 10, 1070),    # bottom-left
    ("chelsea", "hopper", 40, 10, 1070),       # bottom-left
    ("rocket", "hopper", 40, 1910, 1070),      # bottom-right
    ("grass", "astronaut", 40, 10, 10),        # top-left, on a grey photo (the colour pass of .mixed)
]


@pytest.mark.parametrize("bg,person,size,cx,cy", SMALL_CORNER)
def test_small_face_at_a_corner_is_found(bg: str, person: str, size: int, cx: int, cy: int) -> None:
    assert outside(face_box(person, size, cx, cy)) <= 0.5
    assert found(scene(bg, person, size, cx, cy), person, size, cx, cy)


# A face cut at a bottom corner is reflected upside down in the mirrored borders; with big
# candidates centred just past the edge kept (detection/onframe.py), the reflection's box gave a
# verified upside-down mesh centred outside the frame, and it took the face's place (Grace Hopper 300
# px 40-50 % out at a bottom corner, mesh 0.75 F off). A cut candidate's mesh must be centred in the
# frame (onframe.mesh_in_frame); the face's own view is then tried.
REFLECTED = [
    ("page", "hopper", 300, 1890, 1050),       # bench: "300 hopp br 0.4 page"
    ("grass", "hopper", 300, 0, 1080),         # bench: "300 hopp bl 0.5 grass"
]


@pytest.mark.parametrize("bg,person,size,cx,cy", REFLECTED)
def test_a_cut_face_is_not_retouched_with_its_reflections_mesh(bg: str, person: str, size: int, cx: int,
                                                                cy: int) -> None:
    faces = detect_faces(scene(bg, person, size, cx, cy))
    assert faces
    for f in faces:
        assert abs(f.roll) < 30
        assert 0 <= f.center[0] <= W and 0 <= f.center[1] <= H


# Close-ups (round 15's independent check): a face as wide as a square avatar / beauty crop, cut a
# few percent at the top and bottom, got no box from any whole-image pass (0/9 for Grace Hopper
# centred at 1.0-1.3x the width of 1080x1080). detection/closeup.py shows the detector the image
# smaller in a grey border when no face was found; it needs its hook in faces.py
# (/tmp/s15/cutreal/faces.py.patch), skipped without it.
HOOKED = "closeup" in inspect.getsource(faces_module)
CLOSEUPS = [("hopper", 1080, 1080, 1.0), ("hopper", 1080, 1080, 1.15), ("hopper", 1080, 1350, 1.3),
            ("astronaut", 1080, 1080, 1.0)]


@pytest.mark.skipif(not HOOKED, reason="faces.py without the closeup hook")
@pytest.mark.parametrize("person,w,h,k", CLOSEUPS)
def test_a_close_up_filling_the_frame_is_found(person: str, w: int, h: int, k: float) -> None:
    canvas = corpus.cover("retina", w, h)
    corpus.paste_round(canvas, corpus.heads()[person], round(k * w), w // 2, h // 2)
    faces = detect_faces(corpus.decoded(corpus.jpeg_pil(canvas, 90)))
    assert len(faces) == 1
    x0, y0, x1, y1 = face_box(person, round(k * w), w // 2, h // 2)
    assert np.hypot(faces[0].center[0] - (x0 + x1) / 2, faces[0].center[1] - (y0 + y1) / 2) < 0.1 * w
    assert abs(faces[0].roll) < 15


def test_closeup_candidates_are_big_boxes_only() -> None:
    """closeup.closeup_candidates keeps boxes >= MIN_SIDE of the short side (the rest are the other
    passes' faces): a 200 px face on a 1080p photo gives none."""
    canvas = _background("coffee").copy()
    corpus.paste_round(canvas, corpus.heads()["hopper"], 200, 960, 540)
    assert closeup.closeup_candidates(canvas, H, W) == []
    big = corpus.cover("retina", 1080, 1080)
    corpus.paste_round(big, corpus.heads()["hopper"], 1080, 540, 540)
    assert [d for d in closeup.closeup_candidates(big, 1080, 1080) if d.box[2] - d.box[0] >= 540]
