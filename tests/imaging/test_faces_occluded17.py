"""Dark masks (issue #12; round 16 left black and navy masks at 0/32): a face whose nose and mouth
are hidden by a black or navy mask is proposed by its upper face (:mod:`cosbeauty.imaging.detection.masked`:
skin over a non-skin band, eyes darker than the forehead, confirmed in its own 2 x 2 mosaic) and
verified on its visible upper face with views turned 15 degrees (the landmark model loses a
dark-masked face turned 25: :func:`cosbeauty.imaging.verify_occluded.second_views`). Drawn
look-alikes (skin ovals or boxes with two dots over a dark band) stay rejected.

Real photos: the suite's heads pasted on scikit-image backdrops, the mask drawn over their own
landmarks (cheek to cheek, from the nose bridge to the chin), as in tests/imaging/test_faces_occluded.py.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from cosbeauty.imaging import detect_faces
from tests.imaging import corpus

DARK = {"black": (28, 28, 32), "navy": (40, 50, 90)}


_backdrop = corpus.cover


def _masked(name: str, px: int, colour: str, backdrop: str, w: int = 1920, h: int = 1080) -> tuple[np.ndarray, tuple[int, int]]:
    """A JPEG q90 photo with a dark-masked face of ``px`` px centred at (760, 500) and that centre."""
    canvas = _backdrop(backdrop, w, h)
    cx, cy = 760, 500
    corpus.paste_round(canvas, corpus.heads()[name], px, cx, cy)
    lm = detect_faces(canvas)[0].landmarks
    poly = np.array([lm[i] for i in (234, 6, 454, 365, 152, 136)], np.float64)
    poly[1] = (lm[6] + lm[168]) / 2
    cv2.fillPoly(canvas, [poly.astype(np.int32)], DARK[colour], cv2.LINE_AA)
    return np.ascontiguousarray(corpus.decoded(corpus.jpeg_pil(canvas, 90))), (cx, cy)


def _near(faces: list, centre: tuple[int, int], px: int) -> list:
    return [f for f in faces if math.hypot(f.center[0] - centre[0], f.center[1] - centre[1]) < 0.5 * px]


@pytest.mark.parametrize("name, px, colour, backdrop", [
    ("hopper", 160, "black", "motorcycle"),      # round 16: no candidate, then stability 1.0 (25-degree view lost)
    ("hopper", 128, "navy", "retina"),
    ("hopper", 200, "black", "retina"),
])
def test_dark_masked_face_is_found(name: str, px: int, colour: str, backdrop: str) -> None:
    img, centre = _masked(name, px, colour, backdrop)
    faces = detect_faces(img)
    assert len(_near(faces, centre, px)) == 1, [(f.box, f.checks.get("stability")) for f in faces]
    assert len(faces) == 1


def _drawn(kind: str, noise: float) -> np.ndarray:
    """Drawn look-alikes of an upper face over a dark mask, JPEG q85: skin ovals with two eyes and
    brows over a black or navy mask, and no-person shapes (a skin box with two dots over a dark band)."""
    c = np.full((480, 960, 3), 235, np.uint8)
    r = 60
    for k, cx in enumerate((200, 480, 760)):
        cy = 240
        col = [(28, 28, 32), (40, 50, 90), (20, 20, 20)][k]
        if kind == "oval":
            cv2.ellipse(c, (cx, cy), (int(r * 0.8), r), 0, 0, 360, (224, 172, 140), -1, cv2.LINE_AA)
        else:
            cv2.rectangle(c, (cx - r, cy - r), (cx + r, cy + r), (214, 160, 128), -1)
        for ex in (-0.3, 0.3):
            cv2.circle(c, (int(cx + ex * r), int(cy - 0.15 * r)), r // 8, (40, 30, 30), -1, cv2.LINE_AA)
            if kind == "oval":
                cv2.line(c, (int(cx + ex * r - r * 0.15), int(cy - 0.35 * r)),
                         (int(cx + ex * r + r * 0.15), int(cy - 0.38 * r)), (60, 40, 30), 3, cv2.LINE_AA)
        if kind == "oval":
            pts = np.array([[cx - 0.8 * r, cy - 0.02 * r], [cx, cy - 0.1 * r], [cx + 0.8 * r, cy - 0.02 * r],
                            [cx + 0.6 * r, cy + 0.7 * r], [cx, cy + 0.95 * r], [cx - 0.6 * r, cy + 0.7 * r]], np.int32)
            cv2.fillPoly(c, [pts], col, cv2.LINE_AA)
        else:
            cv2.rectangle(c, (cx - r, cy + int(0.05 * r)), (cx + r, cy + int(1.1 * r)), col, -1)
    if noise:
        c = np.clip(c + np.random.default_rng(2).normal(0, noise, c.shape), 0, 255).astype(np.uint8)
    return corpus.decoded(corpus.jpeg_pil(c, 85))


@pytest.mark.parametrize("kind, noise", [("oval", 0.0), ("oval", 10.0), ("box", 0.0), ("box", 10.0)])
def test_drawn_dark_masked_faces_are_not_faces(kind: str, noise: float) -> None:
    assert detect_faces(_drawn(kind, noise)) == []
