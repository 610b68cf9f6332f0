"""Faces partly hidden, round 18 (issue #12; docs/faces.md, "Occluded faces"):

* **hair over one eye** (round 15's ``check_b_occl`` hair band; test_faces_known_gaps' strict xfail):
  a dark lock from the forehead over one eye and the bridge made round 16's ``one-band`` read one dark
  band (the astronaut) and put a skin patch on the lock (Grace Hopper: chroma spread 41). Such a
  candidate is judged on its other side (:mod:`cosbeauty.imaging.verify_hair`): one eye under a dark
  cover with no iris, the other a dark iris in a lighter eye, red lips, the patches off the cover
  skin of one colour, and a stable mesh (the stability test always runs for it);
* **dark-masked faces whose 15-degree views lose the face** (the astronaut at 160 px): looked at
  through views turned 10 degrees and not enlarged, both within 0.06 F
  (:func:`cosbeauty.imaging.verify_occluded.second_views`; needs the landmarks hook's zoom).

Drawn look-alikes stay rejected: cartoon faces with a lock over one eye, the dark-masked drawings of
test_faces_occluded17.
"""

from __future__ import annotations

import inspect
import math

import cv2
import numpy as np
import pytest

from cosbeauty.imaging import detect_faces, verify_hair, verify_occluded
from cosbeauty.imaging.detection import landmarks
from tests.imaging import corpus

LOCK = (45, 30, 22)
_ZOOM_HOOK = "zoom" in inspect.getsource(landmarks._face_try)


def _hair(person: str, px: int, lock_colour: tuple[int, int, int] = LOCK, backdrop: str = "motorcycle",
          cx: int = 700, cy: int = 520) -> np.ndarray:
    """test_faces_known_gaps' case: the head on a backdrop at 1080p, a lock from the forehead over
    its right eye and the bridge, JPEG q90."""
    canvas = corpus.cover(backdrop, 1920, 1080)
    corpus.paste_round(canvas, corpus.heads()[person], px, cx, cy)
    clean = [f for f in detect_faces(corpus.decoded(corpus.jpeg_pil(canvas, 90)))
             if math.hypot(f.center[0] - cx, f.center[1] - cy) < 0.5 * px]
    assert clean, "the face without the hair is no longer found: this test checks nothing"
    lm = clean[0].landmarks
    up = lm[10] - lm[152]
    lock = np.array([lm[10] + up * 0.15, lm[454] + up * 0.35, (lm[33] + lm[133]) / 2 - up * 0.12,
                     lm[234] - up * 0.05], np.int32)
    cv2.fillPoly(canvas, [lock], lock_colour, cv2.LINE_AA)
    return corpus.decoded(corpus.jpeg_pil(canvas, 90))


@pytest.mark.parametrize("person, px, colour, backdrop", [
    ("astronaut", 64, LOCK, "motorcycle"), ("astronaut", 256, LOCK, "motorcycle"), ("hopper", 128, LOCK, "motorcycle"),
    ("hopper", 128, (100, 70, 45), "retina"),     # a mid-brown lock: the covered eye 0.50 darker than the cheeks
])
def test_face_with_hair_over_one_eye_found(person: str, px: int, colour: tuple[int, int, int], backdrop: str) -> None:
    faces = detect_faces(_hair(person, px, colour, backdrop))
    near = [f for f in faces if math.hypot(f.center[0] - 700, f.center[1] - 520) < 0.5 * px]
    assert len(near) == 1 and len(faces) == 1, [(f.box, f.checks.get("stability")) for f in faces]
    assert verify_hair.wanted(near[0].checks) and near[0].checks["stability"] <= verify_hair.MAX_INSTABILITY


def _drawn_locks(noise: float) -> np.ndarray:
    """Round 14's cartoon faces (skin ovals, eyes with irises, brows, a nose line, red lips; 48-320 px)
    with a dark lock over one eye and the bridge on the 80, 210 and 320 px ones, noise ``noise``, JPEG
    q85. (With a lock, some are accepted without this round's rule, by HEAD 1ae2d16's own rules: the
    48 px one without noise, the 130 px one with noise 8 when all five have a lock, the 210 px one with
    noise 8 here: drawn faces are round 18's "drawn" helper's gap, docs/faces.md "Only faces".)"""
    _, c = next(iter(corpus.drawn_faces()))
    c = c.copy()
    for i, s in enumerate((48, 80, 130, 210, 320)):
        cx, cy = 180 + i * 360, 560
        if s in (48, 130):
            continue
        lock = np.array([[cx + 0.1 * s, cy - 0.65 * s], [cx + 0.35 * s, cy - 0.45 * s],
                         [cx - 0.05 * s, cy - 0.05 * s], [cx - 0.45 * s, cy - 0.05 * s]], np.int32)
        cv2.fillPoly(c, [lock], LOCK, cv2.LINE_AA)
    if noise:
        c = np.clip(c + np.random.default_rng(3).normal(0, noise, c.shape), 0, 255).astype(np.uint8)
    return corpus.decoded(corpus.jpeg_pil(c, 85))


def test_drawn_faces_with_a_lock_over_one_eye_are_not_faces() -> None:
    assert detect_faces(_drawn_locks(0.0)) == []


def test_drawn_faces_with_a_lock_and_noise_not_taken_by_the_one_eye_rule() -> None:
    """With noise the cartoons pass ``drawn`` (fine texture) and ``flat``; before round 18's
    MIN_SHOW_EYE / MAX_SHOW_IRIS all five were accepted through the one-eye rule (their visible eye's
    contour is its white: 0.04-0.16 darker than the cheeks, iris 0.47-0.99 darker than the contour)."""
    faces = detect_faces(_drawn_locks(8.0))
    assert not [f.box for f in faces if verify_hair.wanted(f.checks)]
    assert len(faces) <= 1         # HEAD 1ae2d16 accepts the 210 px one by its own rules


def test_one_eye_rule_thresholds() -> None:
    """Only the one-band family is forgiven, only with a held mesh; a masked face's views untouched."""
    checks = {"grey": 0.0, "inside": 1.0, "presence": 1.0, "lips_inside": 1.0, "lip_cr": 6.0,
              "hide_eye": 0.83, "show_eye": 0.36, "hide_iris": 0.83, "show_iris": 0.60,
              "show_skin": 1.0, "show_spread": 4.0}
    assert verify_hair.wanted(checks)
    assert verify_hair.forgive(checks, ["one-band"]) == []                  # before the stability test
    assert verify_hair.forgive({**checks, "stability": 0.07, "stability_presence": 1.0}, ["one-band", "skin"]) == []
    assert verify_hair.forgive({**checks, "stability": 0.095, "stability_presence": 1.0}, ["one-band"]) == ["one-band"]
    assert verify_hair.forgive({**checks, "stability": 0.05, "stability_presence": 0.8}, ["one-band"]) == ["one-band"]
    assert verify_hair.forgive(checks, ["one-band", "drawn"]) == ["one-band", "drawn"]
    for key, value in (("hide_iris", 0.97), ("show_iris", 0.40), ("show_iris", 0.8), ("show_eye", 0.15),
                       ("lip_cr", 1.5), ("show_spread", 30.0),
                       ("hide_eye", 0.5), ("presence", 0.9), ("grey", 1.0), ("inside", 0.85)):
        assert not verify_hair.wanted({**checks, key: value}), key
    assert not verify_occluded.masked(checks)


def _dark_masked(person: str, px: int, colour: tuple[int, int, int], backdrop: str) -> np.ndarray:
    canvas = corpus.cover(backdrop, 1920, 1080)
    corpus.paste_round(canvas, corpus.heads()[person], px, 760, 500)
    lm = detect_faces(canvas)[0].landmarks
    poly = np.array([lm[i] for i in (234, 6, 454, 365, 152, 136)], np.float64)
    poly[1] = (lm[6] + lm[168]) / 2
    cv2.fillPoly(canvas, [poly.astype(np.int32)], colour, cv2.LINE_AA)
    return corpus.decoded(corpus.jpeg_pil(canvas, 90))


@pytest.mark.skipif(not _ZOOM_HOOK, reason="landmarks._face_try's second_views hook passes no zoom yet")
@pytest.mark.parametrize("backdrop, colour", [("motorcycle", (40, 50, 90)), ("retina", (28, 28, 32))])
def test_dark_masked_astronaut_found_through_unenlarged_views(backdrop: str, colour: tuple[int, int, int]) -> None:
    faces = detect_faces(_dark_masked("astronaut", 160, colour, backdrop))
    near = [f for f in faces if math.hypot(f.center[0] - 760, f.center[1] - 500) < 80]
    assert len(near) == 1 and len(faces) == 1, [(f.box, f.checks.get("stability")) for f in faces]
    assert near[0].checks["stability"] <= verify_occluded.MAX_TIGHT


def test_tight_views_only_after_a_lost_view() -> None:
    """The unenlarged views are asked only when a 15-degree view lost the face, and must both hold."""
    masked = {"grey": 0.0, "inside": 1.0, "presence": 1.0, "up_skin": 1.0, "low_match": 0.05, "up_spread": 5.0,
              "up_texture": 20.0, "up_eye_dark": 0.5, "stability": 1.0, "stability_presence": 0.0}
    assert verify_occluded.masked(masked)
    calls: list[tuple[float, float]] = []

    def view(degrees: float, zoom: float = 1.15) -> tuple[float, float]:
        calls.append((degrees, zoom))
        if zoom == 1.15:
            return (0.05, 1.0) if degrees < 0 else (1.0, 0.04)
        return (0.03, 0.98) if degrees < 0 else (0.096, 0.81)     # the drawn box over a black band at +10

    checks = dict(masked)
    verify_occluded.second_views(checks, view)
    assert checks["stability"] == 1.0 and len(calls) == 4
    calls.clear()
    checks = dict(masked)
    verify_occluded.second_views(checks, lambda d, zoom=1.15: (0.05, 1.0) if zoom == 1.15 else (1.0, 0.0))
    assert checks["stability"] == 0.05
    checks = dict(masked)
    verify_occluded.second_views(checks, lambda d, zoom=1.15: (1.0, 0.1) if zoom == 1.15 and d > 0 else (0.03, 0.98))
    assert checks["stability"] == 0.03 and checks["stability_presence"] == 0.98
