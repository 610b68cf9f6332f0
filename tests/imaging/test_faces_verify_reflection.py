"""Faces cut between the eyes and the mouth (verify_cut.py, the "reflection" rule; issue #12, point 1).

A candidate the frame cuts below its eyes and above its lips is seen by the landmark model with
its lower half in the mirrored border. Lettering on the 12 MP rocket's bottom edge and its
reflection made such "faces" that passed every other check. The rule: symmetry of the visible
upper face >= 0.45, or presence >= 0.85 with the missing part filled flat (the candidate is a
face by itself, without its reflection). Here: the measures, the rocket's crops, real faces cut
so, and (slow) the calibration the thresholds were chosen on (docs/faces.md, "Only faces").
"""

from __future__ import annotations

import functools

import cv2
import numpy as np
import pytest

from cosbeauty.imaging import detect_faces, verify, verify_cut
from cosbeauty.imaging.detection import finish
from tests.imaging import corpus
from tests.imaging.test_faces_edge import cut_face_canvas, grey
from tests.imaging.test_faces_verify_cut_skin import bottom_crop


def test_pairs_are_mirror_images():
    assert len(verify_cut._LEFT) == len(verify_cut._RIGHT) == 173
    pairs = dict(zip(verify_cut._LEFT, verify_cut._RIGHT))
    for a, b in ((33, 263), (50, 280), (205, 425), (117, 346), (70, 300), (159, 386), (145, 374)):
        assert pairs[a] == b
    assert not set(verify_cut._LEFT) & set(verify_cut._RIGHT)


def test_symmetry_of_a_mirrored_and_of_a_lopsided_pattern():
    face = detect_faces(corpus.astronaut())[0]
    pts = face.landmarks
    img = corpus.astronaut()
    assert verify_cut.symmetry(img, pts, face.cheek_width) > 0.6      # 0.75 measured
    lopsided = img.copy()
    cx = int(face.center[0])
    lopsided[:, cx:] = np.random.default_rng(0).integers(0, 255, lopsided[:, cx:].shape, dtype=np.uint8)
    assert verify_cut.symmetry(lopsided, pts, face.cheek_width) < 0.3
    assert verify_cut.symmetry(img[:5], pts, face.cheek_width) is None     # < MIN_PAIRS in the frame


def test_rule_thresholds():
    assert verify_cut.reflection_fails({"symmetry": 0.3, "flat_presence": 0.1})
    assert not verify_cut.reflection_fails({"symmetry": 0.3, "flat_presence": 0.9})   # a face by itself
    assert not verify_cut.reflection_fails({"symmetry": 0.6, "flat_presence": 0.0})   # symmetric
    assert not verify_cut.reflection_fails({"symmetry": 0.3})                         # not looked at
    assert not verify_cut.reflection_fails({})
    assert verify_cut.reflection_fails({"eyes_inside": 0.5, "flat_presence": 0.3})    # cut through the eyes
    cut = {"inside": 0.5, "eyes_inside": 1.0}
    assert verify_cut.needs_flat_view({**cut, "symmetry": 0.3}, verify.CUT_INSIDE)
    assert not verify_cut.needs_flat_view({**cut, "symmetry": 0.6}, verify.CUT_INSIDE)
    assert not verify_cut.needs_flat_view({**cut, "symmetry": 0.3, "flat_presence": 0.9}, verify.CUT_INSIDE)
    assert verify_cut.needs_flat_view({"inside": 0.5, "eyes_inside": 0.5}, verify.CUT_INSIDE)
    assert not verify_cut.needs_flat_view({"inside": 0.5, "eyes_inside": 0.0}, verify.CUT_INSIDE)
    assert not verify_cut.needs_flat_view({"inside": 0.95, "eyes_inside": 0.5}, verify.CUT_INSIDE)


def test_flat_fill_keeps_the_frame_and_fills_the_rest():
    img = np.zeros((20, 30, 3), np.uint8)
    img[:, :, 0] = 200
    crop, x0, y0 = verify_cut.flat_fill(img, 25.0, 15.0, 10.0)
    assert (x0, y0) == (15, 5) and crop.shape == (20, 20, 3)
    assert (crop[:, :, 0] == 200).all() and (crop[:, :, 1] == 0).all()


# Round 16 changed what these crops give and how their candidates are judged: the proposal pass now
# looks for faces from 20 px in such a 4000 x 150 strip (proposals.smallest, for panoramas), where the
# lettering is not proposed, and verify_signs' cut-texture rejects it as well. The rule is calibrated
# on the lettering as round 15's levels propose it, "every other check" meaning the checks older than
# the rule (LATER: signs added since that reject the lettering too).
LATER = {"cut-texture"}


@pytest.fixture
def round15_levels(monkeypatch: pytest.MonkeyPatch) -> None:
    from cosbeauty.imaging.detection import proposals, windows

    monkeypatch.setattr(proposals, "smallest", windows.min_face)


def _only_rule(checks: dict) -> bool:
    return [r for r in verify.reasons(checks) if r != "reflection" and r not in LATER] == []


@pytest.mark.parametrize("d", [10, 32, 37])
def test_the_lettering_fails_only_the_reflection_rule(d, round15_levels):
    """verify=False keeps every candidate; the one on the lettering passes every other check of
    its try (but round 16's cut-texture) and fails the reflection rule once detection.finish's flat
    view is taken."""
    img = bottom_crop(d)
    cands = [f for f in detect_faces(img, verify=False) if "symmetry" in f.checks and f.checks["symmetry"] < 0.45
             and _only_rule(f.checks)]
    assert cands
    for f in cands:
        assert not finish._flat_view(f, img)
        assert "reflection" in verify.reasons(f.checks), {k: round(v, 3) for k, v in f.checks.items()}
        assert f.checks["flat_presence"] < 0.2


@functools.cache
def _photo_cut(name: str, frac: float) -> tuple[np.ndarray, tuple[float, float, float]]:
    img = corpus.astronaut() if name == "astronaut" else corpus.hopper()
    face = detect_faces(img)[0]
    eye_y = float(face.landmarks[[33, 263], 1].mean())
    y = int(eye_y + frac * (float(face.landmarks[13][1]) - eye_y))
    return np.ascontiguousarray(img[:y]), (*face.center, face.cheek_width)


@pytest.mark.parametrize("name", ["astronaut", "hopper"])
@pytest.mark.parametrize("frac", [0.7, 0.9])
@pytest.mark.parametrize("scale", [1.0, 0.4])
def test_photo_cut_between_eyes_and_mouth_still_found(name, frac, scale):
    """The photos cut 70/90 % of the way from the eyes to the mouth (found before the rule too;
    at 45 % the astronaut at full size is not found either way)."""
    img, (cx, cy, f) = _photo_cut(name, frac)
    if scale != 1.0:
        img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    faces = detect_faces(img)
    assert any(abs(x.center[0] - cx * scale) < 0.3 * f * scale for x in faces), [x.box for x in faces]


def _quantiles(values: list[float]) -> str:
    if not values:
        return "-"
    q = np.percentile(values, [0, 1, 5, 50])
    return f"n={len(values)} min {q[0]:.3f} p1 {q[1]:.3f} p5 {q[2]:.3f} median {q[3]:.3f}"


def _in_scope(faces: list, image: np.ndarray) -> list[dict]:
    """Candidates in the rule's scope that pass every other check, their flat view taken."""
    out = []
    for f in faces:
        if "symmetry" in f.checks and _only_rule(f.checks):
            if verify_cut.needs_flat_view(f.checks, verify.CUT_INSIDE):
                finish._flat_view(f, image)
            out.append(f.checks)
    return out


@pytest.mark.slow
def test_reflection_calibration(round15_levels):
    """The data behind the thresholds (a subset of the collection in docs/faces.md), candidates
    taken with ``verify=False``, in scope (cut, both irises in the frame, lips out) and passing
    every other check. Negatives: the 12 MP rocket cut just under its bottom lettering
    (d = 4..59); positives: both people 24-64 px cut at the bottom by 25-50 % of the face (colour
    and grey), the two photos cut between eyes and mouth at 3 heights and 2 scales, LFW's real
    faces at 64 px cut at 60 % of their height. Asserted: no negative passes; at most 1 positive
    fails (the rule's one known loss: an LFW face 24 % in the frame)."""
    neg, pos = [], []
    for d in range(4, 60):
        img = bottom_crop(d)
        neg += _in_scope(detect_faces(img, verify=False), img)
    for name in ("astronaut", "hopper"):
        for colour in (True, False):
            for size in (24, 32, 48, 64):
                for out in (0.25, 0.4, 0.5):
                    canvas, cx, cy = cut_face_canvas(name, size, "bottom", out, colour)
                    pos += _in_scope([f for f in detect_faces(canvas, verify=False)
                                      if abs(f.center[0] - cx) < 0.5 * size], canvas)
        for frac in (0.45, 0.7, 0.9):
            for scale in (1.0, 0.4):
                img, (cx, cy, f) = _photo_cut(name, frac)
                if scale != 1.0:
                    img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
                for im in (img, grey(img)):
                    pos += _in_scope([x for x in detect_faces(im, verify=False)
                                      if abs(x.center[0] - cx * scale) < 0.3 * f * scale], im)
    faces = corpus.lfw_faces()
    for base in (0, 40):
        canvas = np.full((400, 1920, 3), 128, np.uint8)
        cut = int(round(64 * 0.6))
        xs = []
        for i in range(10):
            p = cv2.resize(faces[base + i], (64, 64), interpolation=cv2.INTER_CUBIC)
            canvas[400 - cut:, 60 + i * 185:124 + i * 185] = p[:cut, :, None]
            xs.append(92 + i * 185)
        pos += _in_scope([f for f in detect_faces(canvas, max_faces=20, verify=False)
                          if min(abs(f.center[0] - x) for x in xs) < 32], canvas)
    for what, rows in (("real faces", pos), ("rocket lettering", neg)):
        print(f"{what}: {len(rows)} candidates in scope passing the other checks")
        print(f"  symmetry       {_quantiles([c['symmetry'] for c in rows])}")
        print(f"  flat presence  {_quantiles([c['flat_presence'] for c in rows if 'flat_presence' in c])}")
    accepted = [c for c in neg if not verify_cut.reflection_fails(c)]
    lost = [c for c in pos if verify_cut.reflection_fails(c)]
    print("no-face accepted:", len(accepted), "; real candidates lost:", len(lost))
    assert neg and len(pos) >= 50
    assert accepted == [] and len(lost) <= 1


@pytest.mark.parametrize("name,top", [("microaneurysms", 60), ("lfw-non-faces", 20)])
def test_pattern_and_its_reflection_cut_through_the_eyes_rejected(name, top):
    """No-face corpus images cropped at the top: a dot (or an LFW non-face patch's stroke) and
    its reflection in the mirrored border, the frame's edge on the 'face's' midline, were
    accepted (one iris outside, stability 0.15 F, iris dark: the grey cut rules passed them);
    the flat view rejects them (presence 0.27 / 0.37 with the missing part filled flat)."""
    img = np.ascontiguousarray(dict(corpus.no_face_images())[name][top:])
    faces = detect_faces(img)
    assert faces == [], [(f.box, {k: round(v, 3) for k, v in f.checks.items()}) for f in faces]
