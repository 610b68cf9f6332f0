"""Crowds (issue #12: "every face ... is found (group photos, collages, crowds)"): more than ten
faces in one photo are all found and all retouched, through ``detect_faces`` and the bytes path
the server uses. Until this round at most 10 were (the largest), so a 20-face group photo came back
with 10 faces retouched and 10 untouched (an independent check: 1080p and 12 MP, 20 and 40 faces:
10 each). The cap is now :data:`cosbeauty.imaging.faces.MAX_FACES` (50): it still bounds the work
on one image (confirmation cells and landmarked candidates scale with it).
"""

from __future__ import annotations

import io

import cv2
import numpy as np
import skimage.data
from PIL import Image

from cosbeauty.imaging import beautify, detect_faces, faces as faces_mod
from tests.imaging import corpus


def crowd(n: int, seed: int = 0) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    """``n`` upright faces (both people, 32-60 px) in rows on the coffee photo at 1920x1080."""
    rng = np.random.default_rng(seed)
    canvas = cv2.resize(skimage.data.coffee(), (1920, 1080), interpolation=cv2.INTER_CUBIC)
    heads = list(corpus.heads().values())
    truth = []
    for i in range(n):
        s = int(rng.integers(32, 61))
        cx = 120 + (i % 8) * 225 + int(rng.integers(-20, 20))
        cy = 120 + (i // 8) * 190 + int(rng.integers(-20, 20))
        corpus.place(canvas, heads[i % 2], s, cx, cy)
        truth.append((s, cx, cy))
    return canvas, truth


def matched(boxes: list[tuple[float, float]], truth: list[tuple[int, int, int]]) -> int:
    return sum(any(abs(x - cx) < 0.6 * s and abs(y - cy) < 0.9 * s for x, y in boxes) for s, cx, cy in truth)


def test_default_cap_is_max_faces():
    assert faces_mod.MAX_FACES == 50
    assert faces_mod.ScaledDetection(1080, 1920).max_faces == faces_mod.MAX_FACES


def test_twenty_four_faces_all_found_and_retouched():
    canvas, truth = crowd(24)
    found = detect_faces(canvas)
    assert matched([f.center for f in found], truth) == 24 and len(found) == 24
    out = io.BytesIO()
    Image.fromarray(canvas).save(out, "JPEG", quality=90)
    result = beautify(out.getvalue(), 0.5)
    assert matched([(b.x + b.width / 2, b.y + b.height / 2) for b in result.faces], truth) == 24
    after = np.asarray(Image.open(io.BytesIO(result.data)).convert("RGB")).astype(np.int16)
    before = np.asarray(Image.open(out).convert("RGB")).astype(np.int16)
    for s, cx, cy in truth:                       # each face's skin changed, visibly on average
        patch = (slice(cy - s // 4, cy + s // 4), slice(cx - s // 4, cx + s // 4))
        assert np.abs(after[patch] - before[patch]).mean() > 0.5, (s, cx, cy)
