"""Only faces, round 20 (issue #12, point 1; docs/faces.md, "Only faces"): drawn faces whose rim is one tone.

Round 19's ``disc`` (:mod:`.verify_disc`) needed the candidate in the frame, a circle 0.45-0.8 F wide and a
drawn fill by the skin patches (one tone or dark lips). Round 20:

* the rays are looked at **inside the frame only** (the upright window's border is the image's mirror: an
  emoji at the frame's edge and its reflection are two discs), with a floor of 36 rays of 72;
* ``disc_flat``: the spread of the fill just inside the circle (24 sectors of the ring 0.82-0.93 r,
  luminance medians, (p90 - p10) / median). An emoji's or a button's rim is filled with one tone (drawn
  candidates <= 0.21); a real face's outline has hair, forehead, cheeks, ears and background just inside
  it (real faces >= 0.30 on every collected candidate, avatars cropped to a circle included). With a flat
  rim the disc rule holds whatever the skin patches read, on circles up to 1.1 F (buttons whose holes
  make the mesh), and for candidates cut by the frame (:func:`.verify_drawn.asked` asks them too).

The end-to-end tests need the hook in :func:`.detection.landmarks._face_try` (``verify_drawn.opinions``).
"""

from __future__ import annotations

import os
import sys
from unittest import mock

import cv2
import numpy as np
import pytest
import skimage.data

from cosbeauty.imaging import beautify, detect_faces, verify, verify_drawn
from tests.imaging import corpus
from tests.imaging.test_faces_drawn19 import _BASE, _BENCH, needs_hook  # the same hook check and base checks


def _held_case(tag: str, seed: str) -> bytes:
    """The bytes of one image of bench/nofaces_drawn.py's held-out set (HELD=60 SEED=seed)."""
    sys.path.insert(0, _BENCH)
    try:
        import nofaces_drawn
    finally:
        sys.path.remove(_BENCH)
    with mock.patch.dict(os.environ, {"HELD": "60", "SEED": seed}):       # restored on exit
        for name, data in nofaces_drawn.cases():
            if name == tag:
                return data
    raise LookupError(tag)


def test_flat_rim_thresholds():
    # held-emoji-12-q35 (SEED=4242): its skin patches read as a face's (tones 0.345, lips 0.914), its rim is one tone
    emoji = {"disc": 0.78, "disc_r": 0.556, "disc_off": 0.045, "skin_tones": 0.345, "lip_y": 0.914,
             "disc_flat": 0.031, "disc_rays": 72.0}
    assert verify.reasons({**_BASE, **emoji}) == ["disc"]
    assert verify.reasons({**_BASE, **emoji, "disc_flat": 0.31}) == []        # real faces >= 0.318
    assert verify.reasons({**_BASE, **emoji, "disc": 0.55, "disc_flat": 0.2}) == []   # no circle, not that flat
    # held-button-22-grey-webp50 (4242): the holes make a mesh smaller than the button (a circle 1.04 F)
    button = {**emoji, "disc": 1.0, "disc_r": 1.042, "disc_off": 0.087, "disc_flat": 0.047, "skin_tones": 0.68,
              "lip_y": 0.93}
    assert verify.reasons({**_BASE, **button}) == ["disc"]
    assert verify.reasons({**_BASE, **button, "disc_r": 1.2}) == []          # wider: not that circle
    # held-button-58-grey-webp50 (5151): the strongest edges are the holes; the outermost ones make the rim
    rim = {**button, "disc": 0.0, "disc_r": 0.70, "disc_off": 0.097, "disc_flat": 0.143,
           "rim": 0.64, "rim_r": 0.96, "rim_off": 0.09, "rim_flat": 0.059}
    assert verify.reasons({**_BASE, **rim}) == ["disc"]
    assert verify.reasons({**_BASE, **rim, "rim_flat": 0.478}) == []         # an avatar's (astronaut, 1.0 F circle)
    # held-emoji-9-q95 (4242): cut by the frame (45 % outside), the rays in the frame (38 of 72) on one circle
    cut = {**_BASE, **emoji, "inside": 0.55, "lips_inside": 1.0, "disc": 0.763, "disc_r": 0.527, "disc_off": 0.111,
           "disc_flat": 0.141, "disc_rays": 38.0, "skin_tones": 0.235, "lip_y": 0.547}
    assert "disc" in verify.reasons(cut)
    assert "disc" not in verify.reasons({**cut, "disc_rays": 29.0})          # too little of it in the frame
    assert "disc" not in verify.reasons({**cut, "disc_flat": 0.4})           # a cut real face's rim
    # held-emoji-1-grey-q60 (4242): cut, its mesh fitted to the emoji and its mirror: fewer rays on a circle
    # further off, the ring inside it one tone
    flatter = {**cut, "grey": 1.0, "disc": 0.40, "disc_r": 0.51, "disc_off": 0.25, "disc_flat": 0.010,
               "disc_rays": 35.0}
    assert "disc" in verify.reasons(flatter)
    assert "disc" not in verify.reasons({**flatter, "disc_flat": 0.318})     # Hopper cropped to a circle, cut


def test_cut_candidates_are_asked_without_the_selfie_model():
    cut = {"grey": 0.0, "inside": 0.6, "stability": 0.05, "det_score": 0.6, "skin_tones": 0.3}
    assert verify_drawn.asked(cut)
    assert not verify_drawn.person_wanted(cut)        # no-person is a rule for candidates in the frame


def _disc_at_the_edge() -> tuple[np.ndarray, np.ndarray]:
    """A flat disc drawn on the astronaut's face (its mesh), the image cut 0.25 F right of the mesh's centre."""
    photo = np.ascontiguousarray(skimage.data.astronaut())
    pts = detect_faces(photo)[0].landmarks
    f = float(np.linalg.norm(pts[234] - pts[454]))
    centre = pts[:468].mean(axis=0)
    drawn = np.full_like(photo, 90)
    cv2.circle(drawn, (int(round(centre[0])), int(round(centre[1]))), int(round(0.58 * f)), (240, 200, 80), -1,
               cv2.LINE_AA)
    return np.ascontiguousarray(drawn[:, :int(centre[0] + 0.25 * f)]), pts


def test_disc_over_the_rays_in_the_frame():
    from cosbeauty.imaging.verify_disc import disc

    image, pts = _disc_at_the_edge()
    window, mesh, frame = verify_drawn.upright_framed(image, pts)
    mirrored = disc(window, mesh)                      # round 19: the disc and its mirror image: no circle
    framed = disc(window, mesh, frame)
    assert mirrored["disc"] < 0.6
    assert framed["disc"] >= 0.9 and 36 <= framed["disc_rays"] < 72 and framed["disc_flat"] < 0.05
    assert disc(window, mesh, frame) == framed          # deterministic


def test_real_faces_rim_is_not_flat():
    """The astronaut in her photo and Grace Hopper: whatever circle the rays find, the ring inside it is
    not one tone."""
    from cosbeauty.imaging.verify_disc import disc

    for photo in (skimage.data.astronaut(), corpus.hopper()):
        pts = detect_faces(photo)[0].landmarks
        got = disc(*verify_drawn.upright_framed(photo, pts))
        assert got["disc_flat"] > 0.3 or got["disc"] < 0.45


@needs_hook
@pytest.mark.parametrize("tag", ["held-emoji-12-q35", "held-button-22-grey-webp50", "held-emoji-25-grey-q60"])
def test_held_out_discs_come_back_byte_identical(tag):
    data = _held_case(tag, "4242")
    same = beautify(data, 0.5).data == data      # a bool: pytest would diff two JPEGs
    assert same


def _avatar(grey: bool, radius: float, cx: int, cy: int) -> np.ndarray:
    """Grace Hopper 60 px wide (F) cropped to a circle ``radius`` F on a flat ground, her face's centre at
    (cx, cy) of an 800x600 frame (part of it may be beyond the frame)."""
    photo = corpus.hopper()
    pts = detect_faces(photo)[0].landmarks
    f = float(np.linalg.norm(pts[234] - pts[454]))
    k = 60 / f
    small = cv2.resize(photo, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
    fx, fy = (pts[:468].mean(axis=0) * k).astype(int)
    big = np.full((600, 800, 3), 235, np.uint8)
    x0, y0 = cx - fx, cy - fy
    h, w = small.shape[:2]
    sx, sy, dx, dy = max(0, -x0), max(0, -y0), max(0, x0), max(0, y0)
    ww, hh = min(w - sx, 800 - dx), min(h - sy, 600 - dy)
    big[dy:dy + hh, dx:dx + ww] = small[sy:sy + hh, sx:sx + ww]
    canvas = np.full_like(big, 235)
    mask = np.zeros(big.shape[:2], np.uint8)
    cv2.circle(mask, (cx, cy), int(round(radius * 60)), 1, -1, cv2.LINE_AA)
    canvas[mask > 0] = big[mask > 0]
    return corpus.grey3(canvas) if grey else canvas


@needs_hook
@pytest.mark.parametrize("grey", [False, True])
@pytest.mark.parametrize("radius,cx", [(0.7, 400), (0.8, 785)])
def test_avatar_kept_in_the_frame_and_at_its_edge(grey, radius, cx):
    faces = detect_faces(_avatar(grey, radius, cx, 300))
    assert [f for f in faces if abs(f.center[0] - cx) < 30 and abs(f.center[1] - 300) < 30]
