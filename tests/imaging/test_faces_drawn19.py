"""Only faces, round 19 (issue #12, point 1; docs/faces.md, "Only faces"): drawn faces are discs.

* ``disc`` (:mod:`.verify_disc`, :mod:`.verify_signs`): the strongest luminance edges around a candidate's
  mesh make one circle that hugs the mesh (radius 0.45-0.8 F, centred within 0.15 F) on >= 0.6 of 72
  rays: an emoji, a button. Real faces <= 0.46 (round 18's collection of 1,600 candidates in the frame),
  colour and grey: the rule reaches the grey drawn faces the selfie model cannot judge.
* cost: the selfie model (``person``) is no longer asked of a colour candidate the detector is sure of
  (>= 0.85) with skin of several tones (>= 0.15), nor of one the disc already rejects: the 12 MP group's
  real faces.

The end-to-end tests need the hook in :func:`.detection.landmarks._face_try` (``verify_drawn.opinions``);
without it they are skipped.
"""

from __future__ import annotations

import inspect
import os
import sys
from unittest import mock

import cv2
import numpy as np
import pytest
import skimage.data

from cosbeauty.imaging import beautify, detect_faces, verify, verify_drawn
from cosbeauty.imaging.detection import landmarks
from tests.imaging import corpus

_HOOKED = "verify_drawn.opinions" in inspect.getsource(landmarks._face_try)
_BENCH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench")
needs_hook = pytest.mark.skipif(not _HOOKED, reason="landmarks._face_try does not call verify_drawn.opinions yet")

_BASE = {"presence": 1.0, "order": 1.0, "eye_ratio": 0.64, "height_ratio": 1.1, "grey": 0.0, "skin_fraction": 1.0,
         "chroma_spread": 5.0, "lip_cr": 4.0, "skin_texture": 10.0, "skin_fine": 3.0, "eye_dark": 0.5,
         "det_score": 0.7, "skin_tones": 0.3, "stability": 0.06, "stability_presence": 1.0}


def _drawn_case(tag: str) -> bytes:
    """The bytes of one image of bench/nofaces_drawn.py (its main set)."""
    sys.path.insert(0, _BENCH)
    try:
        import nofaces_drawn
    finally:
        sys.path.remove(_BENCH)
    with mock.patch.dict(os.environ, {}):       # restored on exit
        os.environ.pop("HELD", None)
        for name, data in nofaces_drawn.cases():
            if name == tag:
                return data
    raise LookupError(tag)


def test_disc_thresholds():
    disc = {"disc": 0.97, "disc_r": 0.53, "disc_off": 0.06, "skin_tones": 0.116, "lip_y": 0.66}  # emoji-3-grey-q60
    assert verify.reasons({**_BASE, **disc}) == ["disc"]
    assert verify.reasons({**_BASE, **disc, "skin_tones": 0.345}) == ["disc"]     # lips 0.66: drawn
    avatar = {**_BASE, **disc, "skin_tones": 0.36, "lip_y": 0.82}     # Hopper cut to a circle: a real fill
    assert verify.reasons(avatar) == []
    grey = {**_BASE, "grey": 1.0, "chroma_spread": 0.0, "lip_cr": 0.0}
    assert "disc" in verify.reasons({**grey, **disc})                     # grey too
    assert verify.reasons({**_BASE, **disc, "disc": 0.46}) == []           # real faces <= 0.46
    assert verify.reasons({**_BASE, **disc, "disc_r": 1.04}) == []         # a circle wider than a face's oval
    assert verify.reasons({**_BASE, **disc, "disc_off": 0.2}) == []        # ... or beside the mesh
    cut = {**_BASE, **disc, "inside": 0.7, "lips_inside": 0.0}
    assert "disc" not in verify.reasons(cut)                               # cut: the window shows the mirror


def test_disc_measure_real_face_and_a_disc_on_its_mesh():
    """The measure alone: the astronaut's face in her photo is no disc; a flat disc drawn where her
    face is (the same mesh) is one."""
    from cosbeauty.imaging.verify_disc import disc, is_disc

    photo = skimage.data.astronaut()
    pts = detect_faces(photo)[0].landmarks
    window, mesh = verify_drawn.upright(photo, pts)
    real = disc(window, mesh)
    assert real["disc"] < 0.46 and not is_disc({**real, "skin_tones": 0.1})
    f = float(np.linalg.norm(mesh[234] - mesh[454]))
    centre = mesh[:468].mean(axis=0)
    drawn = np.full_like(window, 90)
    cv2.circle(drawn, (int(round(centre[0])), int(round(centre[1]))), int(round(0.58 * f)), (240, 200, 80), -1,
               cv2.LINE_AA)
    got = disc(drawn, mesh)
    assert got["disc"] >= 0.9 and is_disc({**got, "skin_tones": 0.1})
    assert disc(drawn, mesh) == got                                         # deterministic


def test_person_not_asked_of_a_sure_real_face():
    sure = {"grey": 0.0, "inside": 1.0, "stability": 0.028, "det_score": 0.91, "skin_tones": 0.37}
    assert verify_drawn.asked(sure) and not verify_drawn.person_wanted(sure)   # the 12 MP group's faces
    assert verify_drawn.person_wanted({**sure, "det_score": 0.785})           # the surest drawn one
    assert verify_drawn.person_wanted({**sure, "skin_tones": 0.085})          # onlyfaces4's sure smiley
    assert not verify_drawn.person_wanted({**sure, "grey": 1.0, "det_score": 0.5})
    assert verify_drawn.asked({**sure, "grey": 1.0})                          # grey: the disc
    assert verify_drawn.asked({**sure, "inside": 0.8})                        # round 20: cut ones, the disc in the frame
    assert not verify_drawn.person_wanted({**sure, "inside": 0.8, "det_score": 0.5})   # ... never the selfie model
    assert not verify_drawn.asked({"grey": 0.0, "inside": 1.0, "skin_tones": 0.3})   # sure: no cost


@needs_hook
@pytest.mark.parametrize("tag", ["emoji-3-grey-q60", "emoji-10-q85"])
def test_drawn_discs_come_back_byte_identical(tag):
    data = _drawn_case(tag)
    same = beautify(data, 0.5).data == data      # a bool: pytest would diff two JPEGs
    assert same


@needs_hook
def test_group_pays_fewer_person_calls_and_keeps_its_faces():
    canvas = np.clip(np.random.default_rng(3).normal(170, 10, (3000, 4000, 3)), 0, 255).astype(np.uint8)
    heads = list(corpus.heads().values())
    sizes = [60, 80, 100, 140, 200, 70, 90, 120, 160, 250]
    for i, s in enumerate(sizes):
        corpus.place(canvas, heads[i % 2], s, 400 + (i % 5) * 800, 900 + (i // 5) * 1200)
    calls = []
    real = verify_drawn._person

    def counted(window, mesh):
        calls.append(1)
        return real(window, mesh)

    with mock.patch.object(verify_drawn, "_person", counted):
        faces = detect_faces(canvas, max_faces=10)
    assert len(faces) == 10
    assert len(calls) <= 3                        # round 18: 7 calls (5 faces, two measured twice)
    assert all(f.checks.get("disc", 0.0) < 0.46 for f in faces)


@needs_hook
def test_real_faces_small_turned_grey_kept():
    for grey in (False, True):
        canvas = corpus.cover("coffee", 1920, 1080)
        if grey:
            canvas = corpus.grey3(canvas)
        heads = corpus.heads()
        truth = [(heads["astronaut"], 40, 400, 300, 0), (heads["hopper"], 40, 900, 700, 150),
                 (heads["astronaut"], 32, 1400, 400, 270), (heads["hopper"], 96, 1500, 800, 30)]
        for head, size, cx, cy, deg in truth:
            corpus.paste_round(canvas, corpus.grey3(head) if grey else head, size, cx, cy, deg)
        faces = detect_faces(corpus.decoded(corpus.jpeg_pil(canvas, 85)))
        for _, size, cx, cy, _ in truth[::3] if grey else truth:
            assert [f for f in faces if abs(f.center[0] - cx) < 0.6 * size and abs(f.center[1] - cy) < 0.6 * size]
        measured = [f.checks["disc"] for f in faces if "disc" in f.checks]
        assert measured and max(measured) < 0.46


@needs_hook
@pytest.mark.parametrize("grey", [False, True])
def test_real_face_cropped_to_a_circle_kept(grey):
    """An avatar: Grace Hopper cut to a circle 0.7 F wide on a flat ground -- a disc hugging the mesh
    (0.93) like an emoji's rim; her fill is a face's (tones >= 0.36, lips >= 0.82)."""
    photo = corpus.hopper()
    pts = detect_faces(photo)[0].landmarks
    f = float(np.linalg.norm(pts[234] - pts[454]))
    k = 60 / f
    small = cv2.resize(photo, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
    cx, cy = (pts[:468].mean(axis=0) * k).astype(int)
    big = np.full((600, 800, 3), 235, np.uint8)
    x0, y0 = 400 - cx, 300 - cy
    h, w = small.shape[:2]
    sx, sy, dx, dy = max(0, -x0), max(0, -y0), max(0, x0), max(0, y0)
    ww, hh = min(w - sx, 800 - dx), min(h - sy, 600 - dy)
    big[dy:dy + hh, dx:dx + ww] = small[sy:sy + hh, sx:sx + ww]
    canvas = np.full_like(big, 235)
    mask = np.zeros(big.shape[:2], np.uint8)
    cv2.circle(mask, (400, 300), 42, 1, -1, cv2.LINE_AA)
    canvas[mask > 0] = big[mask > 0]
    if grey:
        canvas = corpus.grey3(canvas)
    faces = detect_faces(canvas)
    assert [f for f in faces if abs(f.center[0] - 400) < 30 and abs(f.center[1] - 300) < 30]
