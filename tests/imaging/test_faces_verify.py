"""Only faces are edited (issue #12, point 1): every candidate is verified before a pixel changes.

* a no-face corpus (every bundled scikit-image/matplotlib sample without a person, a product
  photo, logos, LFW's non-face patches, synthetic textures and the rocket on 1080p/12 MP
  canvases) comes back byte-identical through ``beautify`` (JPEG and PNG);
* the rocket's logo (the reported false positive) is a detector candidate that verification
  rejects, with the reason;
* the face corpus keeps its recall (real photos, 24-120 px faces, LFW's real 25 px faces).
"""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
import skimage.data
from PIL import Image

from cosbeauty.imaging import beautify, detect_faces
from cosbeauty.imaging import verify
from tests.imaging import corpus


def jpeg(rgb: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", np.ascontiguousarray(rgb[:, :, ::-1]), [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def png(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "PNG", compress_level=1)
    return out.getvalue()


NO_FACE = list(corpus.no_face_images())


def test_no_face_corpus_is_big_enough():
    assert len(NO_FACE) >= 30


@pytest.mark.parametrize("name,img", NO_FACE, ids=[n for n, _ in NO_FACE])
def test_no_face_image_comes_back_byte_identical(name, img):
    data = jpeg(img)
    result = beautify(data, 1.0)
    assert result.faces == [] and result.data == data, f"{name}: {result.faces}"
    if img.shape[0] * img.shape[1] <= 1_000_000:
        data = png(img)
        assert beautify(data, 1.0).data == data


def test_rocket_logo_candidate_is_rejected_by_verification():
    rocket = skimage.data.rocket()
    candidates = detect_faces(rocket, verify=False)
    assert candidates, "the detector's candidate on the logo (the reported false positive)"
    logo = candidates[0]
    assert 300 < logo.center[0] < 340 and logo.presence > 0.99       # the landmark model is fooled
    assert "skin" in verify.reasons(logo.checks)                     # lips no redder than the 'skin'
    assert detect_faces(rocket) == []


def test_face_corpus_keeps_recall():
    for name, img in (("astronaut", corpus.astronaut()), ("hopper", corpus.hopper())):
        faces = detect_faces(img)
        assert len(faces) == 1, name
        assert verify.is_face(faces[0].checks)
    canvas = np.full((1080, 1920, 3), 128, np.uint8)
    sizes = [24, 28, 32, 40, 48, 64, 80, 100, 120]
    for hn, head in corpus.heads().items():
        canvas[:] = 128
        for s, x in zip(sizes, range(100, 1900, 190)):
            corpus.place(canvas, head, s, x, 540)
        found = detect_faces(canvas, max_faces=20)
        assert len(found) == len(sizes), hn


@pytest.mark.parametrize("size,least", [(25, 20), (48, 26)])
def test_real_lfw_faces_recall(size, least):
    """40 of the real 25x25 LFW faces of scikit-image (grey, tightly cropped: no hair or chin
    around them, which the detector misses most) on a 1080p canvas at their native 25 px and
    at 48 px. Measured: 23/40 and 29/40 found; the misses are the detector's (the candidates
    it does return pass verification, 1-2 per canvas excepted)."""
    faces = corpus.lfw_faces()
    canvas = np.full((1080, 1920, 3), 128, np.uint8)
    for i in range(40):
        r, c = divmod(i, 10)
        p = cv2.resize(faces[i], (size, size), interpolation=cv2.INTER_CUBIC)
        canvas[100 + r * 220:100 + size + r * 220, 100 + c * 180:100 + size + c * 180] = p[:, :, None]
    found = detect_faces(canvas, max_faces=60)
    print(f"LFW {size} px recall {len(found)}/40")
    assert len(found) >= least
    for f in found:                  # each found face is one of the pasted ones
        cx, cy = f.center
        c, r = round((cx - 100 - size / 2) / 180), round((cy - 100 - size / 2) / 220)
        assert abs(cx - (100 + c * 180 + size / 2)) < size and abs(cy - (100 + r * 220 + size / 2)) < size
