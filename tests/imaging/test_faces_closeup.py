"""A face that fills the frame (a close-up, an avatar or beauty crop) is found (round 15's
independent check: Grace Hopper centred in a 1080x1080 square at 1.0-1.3x its width, 0/9): the
whole image is also looked at zoomed out inside a flat border (``detection/closeup.py``)."""

from __future__ import annotations

import numpy as np
import pytest

from cosbeauty.imaging import beautify, detect_faces
from tests.imaging import corpus


def close_up(person: str, w: int, h: int, frac: float, background: str = "stereo_motorcycle") -> tuple[np.ndarray, int]:
    canvas = corpus.cover(background, w, h) if background != "stereo_motorcycle" else _motorcycle(w, h)
    s = int(frac * w)
    corpus.paste_round(canvas, corpus.heads()[person], s, w // 2, h // 2)
    return canvas, s


def _motorcycle(w: int, h: int) -> np.ndarray:
    import cv2
    import skimage.data

    left = skimage.data.stereo_motorcycle()[0]
    k = max(w / left.shape[1], h / left.shape[0])
    big = cv2.resize(left, (int(np.ceil(left.shape[1] * k)), int(np.ceil(left.shape[0] * k))), interpolation=cv2.INTER_CUBIC)
    y0, x0 = (big.shape[0] - h) // 2, (big.shape[1] - w) // 2
    return np.ascontiguousarray(big[y0:y0 + h, x0:x0 + w])


def centred(faces, w: int, h: int, s: int) -> bool:
    return any(abs(f.center[0] - w / 2) < 0.25 * s and abs(f.center[1] - h / 2) < 0.35 * s for f in faces)


@pytest.mark.parametrize("frac", [1.0, 1.15, 1.3])
@pytest.mark.parametrize("person", ["hopper", "astronaut"])
def test_close_up_square_found_through_the_bytes_path(person, frac):
    canvas, s = close_up(person, 1080, 1080, frac)
    result = beautify(corpus.jpeg_pil(canvas, 90), 0.5)
    assert len(result.faces) == 1
    box = result.faces[0]
    assert abs(box.x + box.width / 2 - 540) < 0.25 * s and abs(box.y + box.height / 2 - 540) < 0.35 * s


@pytest.mark.parametrize("size", [(1080, 1350), (800, 800)])
def test_close_up_hopper_found_by_detect_faces(size):
    w, h = size
    canvas, s = close_up("hopper", w, h, 1.15, "coffee")
    assert centred(detect_faces(corpus.decoded(corpus.jpeg_pil(canvas, 90))), w, h, s)
