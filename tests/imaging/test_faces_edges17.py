"""Faces cut by the frame at a corner, boxed with their reflections (issue #12, must-have 4; round 17).

``bench/faces_real.py --check edges`` places a face 25/40/50 % of its size past each side and corner
of a 1920x1080 scikit-image photo (soft round paste, JPEG q85). Grace Hopper 96 px a quarter out at
the bottom-right corner (a quarter out on each axis: about 44 % of the face outside, within the
issue's "up to half") had candidates 118-147 px wide, face and reflections, and every landmark try
on them gave presence < 0.5: the ROI (1.5x the box) showed the face at half the size the model
expects. :func:`.detection.cutbox.wide_tries` landmarks such a candidate upright on an ROI the size
of its box (moved onto the frame, :func:`.detection.onframe.onto_frame`).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

from cosbeauty.imaging import pipeline
from cosbeauty.imaging.detection import cutbox
from tests.imaging import corpus

W, H = 1920, 1080


@functools.cache
def _background(name: str) -> np.ndarray:
    return corpus.cover(name, W, H)


def _scene(bg: str, person: str, size: int, frac: float, corner: str, grey: bool = False) -> tuple[bytes, int, int]:
    """The bench's corner case: the face's centre (0.5 - ``frac``) x ``size`` from both edges of ``corner``."""
    off = round(size * (0.5 - frac))
    cx = off if corner[1] == "l" else W - off
    cy = off if corner[0] == "t" else H - off
    canvas = _background(bg).copy()
    corpus.paste_round(canvas, corpus.heads()[person], size, cx, cy)
    if grey:
        canvas = np.repeat(canvas.mean(axis=2, keepdims=True).astype(np.uint8), 3, axis=2)
    return corpus.jpeg_pil(canvas, 85), cx, cy


def _hits(data: bytes, cx: int, cy: int, size: int) -> list:
    """The faces the server's bytes path (``pipeline.beautify``, as the bench) finds near (cx, cy)."""
    faces = pipeline.beautify(data, 0.5).faces
    return [f for f in faces if math.hypot(f.x + f.width / 2 - cx, f.y + f.height / 2 - cy) <= 0.5 * size]


CORNER_QUARTER = [("rocket", "hopper", 96, "br")]


@pytest.mark.parametrize("bg,person,size,corner", CORNER_QUARTER)
def test_face_a_quarter_out_at_a_corner_is_found(bg: str, person: str, size: int, corner: str) -> None:
    img, cx, cy = _scene(bg, person, size, 0.25, corner)
    assert _hits(img, cx, cy, size)


def test_wide_tries_off_loses_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The case above is found by the wide tries (the switch off: not found)."""
    monkeypatch.setattr(cutbox, "WIDE", False)
    img, cx, cy = _scene("rocket", "hopper", 96, 0.25, "br")
    assert not _hits(img, cx, cy, 96)
