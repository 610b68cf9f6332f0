"""Occluded faces (issue #12, round 15's independent check, item 5): a face whose nose and mouth
are hidden by a mask is found (:mod:`cosbeauty.imaging.verify_occluded`: judged on the visible
upper face), its retouch keeps to the visible skin (:mod:`cosbeauty.imaging.retouch.visible`: the
skin model learnt on the forehead's colour, not the mask's), and drawn masked faces stay rejected.

Real photos: the suite's heads (astronaut, Grace Hopper) pasted on scikit-image backdrops, a mask
drawn over their own landmarks (cheek to cheek, from the nose bridge to the chin) as in round
15's check (/tmp/s15/redteam/check_b_occl.py). Before: each masked face here was rejected for
skin (its cheek patches lie on the mask) and, given to the retouch, toned green.
"""

from __future__ import annotations


import cv2
import numpy as np
import pytest

from cosbeauty.imaging import beautify_array, detect_faces
from tests.imaging import corpus

MASKS = {"blue": (178, 205, 228), "white": (236, 236, 232)}


_backdrop = corpus.cover


def _masked(name: str, px: int, colour: str, backdrop: str, quality: int | None,
            w: int = 1280, h: int = 720) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """(the photo with a masked face, the mask's polygon, the face's centre)."""
    canvas = _backdrop(backdrop, w, h)
    cx, cy = w // 2 - 60, h // 2
    corpus.paste_round(canvas, corpus.heads()[name], px, cx, cy)
    lm = detect_faces(canvas)[0].landmarks
    poly = np.array([lm[i] for i in (234, 6, 454, 365, 152, 136)], np.float64)
    poly[1] = (lm[6] + lm[168]) / 2
    poly = poly.astype(np.int32)
    cv2.fillPoly(canvas, [poly], MASKS[colour], cv2.LINE_AA)
    if quality is not None:
        canvas = corpus.decoded(corpus.jpeg_pil(canvas, quality))
    return np.ascontiguousarray(canvas), poly, (cx, cy)


def _near(faces: list, centre: tuple[int, int], px: int) -> list:
    return [f for f in faces if np.hypot(f.center[0] - centre[0], f.center[1] - centre[1]) < 0.5 * px]


@pytest.mark.parametrize("name, px, colour, backdrop, quality", [
    ("hopper", 128, "blue", "motorcycle", 90),     # round 15's check: rejected for skin + flat
    ("hopper", 96, "white", "motorcycle", 90),
    ("astronaut", 200, "white", "motorcycle", None),
    ("astronaut", 160, "white", "retina", 90),
    ("hopper", 200, "white", "immunohistochemistry", 90),
])
def test_masked_face_is_found(name: str, px: int, colour: str, backdrop: str, quality: int | None) -> None:
    img, _, centre = _masked(name, px, colour, backdrop, quality)
    faces = detect_faces(img)
    assert len(_near(faces, centre, px)) == 1, [(f.box, f.checks.get("low_match")) for f in faces]
    assert len(faces) == 1


def test_retouch_keeps_the_mask_and_the_skin_tone() -> None:
    """The mask is not smoothed or toned, the visible skin is not tinted by the mask's colour
    (before: the skin model's centre fell between skin and mask: Grace Hopper's forehead went
    green, the mask changed by up to 17 levels)."""
    img, poly, centre = _masked("hopper", 160, "blue", "motorcycle", None)
    faces = _near(detect_faces(img, verify=False), centre, 160)
    assert faces
    out, _ = beautify_array(img, 1.0, faces=faces[:1])
    inside = np.zeros(img.shape[:2], np.uint8)
    cv2.fillPoly(inside, [poly], 1)
    inside = cv2.erode(inside, np.ones((7, 7), np.uint8)).astype(bool)
    change = np.abs(out.astype(int) - img.astype(int)).max(axis=2)
    assert change[inside].max() <= 8 and (change[inside] > 2).mean() < 0.02
    lm = faces[0].landmarks
    f = faces[0].cheek_width
    x, y, r = int(lm[151][0]), int(lm[151][1]), int(0.08 * f)
    ycc = [cv2.cvtColor(np.ascontiguousarray(a[y - r:y + r, x - r:x + r]), cv2.COLOR_RGB2YCrCb).reshape(-1, 3)
           .astype(float).mean(axis=0) for a in (img, out)]
    shift = ycc[1] - ycc[0]
    assert abs(shift[1]) <= 3 and abs(shift[2]) <= 3, shift      # Cr, Cb of the forehead


@pytest.mark.parametrize("noise", [0.0, 8.0])
def test_drawn_masked_faces_are_not_faces(noise: float) -> None:
    """Skin-coloured ovals with eyes, brows and a mask (blue, white, black), JPEG q85: the upper
    face must be skin with a real face's texture (flat paint 0-2, with noise sigma 8 <= 6.6;
    real masked faces >= 9)."""
    c = np.full((480, 960, 3), 235, np.uint8)
    r = 60
    for k, cx in enumerate((200, 480, 760)):
        cy = 240
        cv2.ellipse(c, (cx, cy), (int(r * 0.8), r), 0, 0, 360, (224, 172, 140), -1, cv2.LINE_AA)
        for ex in (-0.3, 0.3):
            cv2.circle(c, (int(cx + ex * r), int(cy - 0.15 * r)), r // 8, (40, 30, 30), -1, cv2.LINE_AA)
            cv2.line(c, (int(cx + ex * r - r * 0.15), int(cy - 0.35 * r)),
                     (int(cx + ex * r + r * 0.15), int(cy - 0.38 * r)), (60, 40, 30), 3, cv2.LINE_AA)
        col = [(178, 205, 228), (236, 236, 232), (28, 28, 32)][k]
        pts = np.array([[cx - 0.8 * r, cy - 0.02 * r], [cx, cy - 0.1 * r], [cx + 0.8 * r, cy - 0.02 * r],
                        [cx + 0.6 * r, cy + 0.7 * r], [cx, cy + 0.95 * r], [cx - 0.6 * r, cy + 0.7 * r]], np.int32)
        cv2.fillPoly(c, [pts], col, cv2.LINE_AA)
    if noise:
        c = np.clip(c + np.random.default_rng(1).normal(0, noise, c.shape), 0, 255).astype(np.uint8)
    img = corpus.decoded(corpus.jpeg_pil(c, 85))
    assert detect_faces(img) == []
