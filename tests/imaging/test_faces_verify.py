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
    at 48 px. Measured: 22/40 and 29/40 found; the misses are the detector's (the candidates
    it does return pass verification, 1-2 per canvas excepted; at 25 px 23/40 before the grey
    shading rule, verify_grey: the face it drops has its mesh on its cheeks)."""
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


def jpeg_round_trip(rgb: np.ndarray, quality: int) -> np.ndarray:
    data = cv2.imencode(".jpg", np.ascontiguousarray(rgb[:, :, ::-1]), [cv2.IMWRITE_JPEG_QUALITY, quality])[1]
    return np.ascontiguousarray(cv2.imdecode(data, cv2.IMREAD_COLOR)[:, :, ::-1])


@pytest.mark.parametrize("l_star,b_star,scale,quality", [(36, 17, 0.3, 75), (42, 18, 0.3, 75), (26, 13, 0.5, 60)])
def test_small_jpeg_faces_with_faint_lips_are_kept(l_star, b_star, scale, quality):
    """JPEG's 4:2:0 chroma smears the 2-3 px lips of a small face into the skin: the tone-shifted
    astronaut at 0.3x / 0.5x (faces 28 / 46 px wide) measured lips 0.58-1.65 Cr above the skin
    and was lost to the old single limit (2.0). Now lips in 0.5..2 are doubtful, not rejected:
    the face is kept when its mesh is stable (verify.doubtful_lips; docs/faces.md, "Only faces")."""
    astronaut = corpus.astronaut()
    face = detect_faces(astronaut)[0]
    shifted = corpus.tone_shift(astronaut, face, l_star, b_star)
    small = cv2.resize(shifted, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    faces = detect_faces(jpeg_round_trip(small, quality))
    assert len(faces) == 1
    checks = faces[0].checks
    assert verify.MIN_LIP_CR_DOUBT <= checks["lip_cr"] < verify.MIN_LIP_CR and verify.doubtful_lips(checks)
    assert checks["stability"] <= verify.MAX_INSTABILITY


def test_half_size_astronaut_lips_have_a_margin():
    """The astronaut at 256 px (a 48 px face), JPEG q90: the lip test that lost it once (1.997
    against a limit of 2.0 after a 0.0003 change of its detection) now averages the lip area with
    the 8 squares: >= 3 (measured 3.77), clear of the 2.0 that needs no stability test."""
    half = jpeg_round_trip(cv2.resize(corpus.astronaut(), (256, 256), interpolation=cv2.INTER_AREA), 90)
    faces = detect_faces(half)
    assert len(faces) == 1
    assert faces[0].checks["lip_cr"] >= verify.MIN_LIP_CR + 1.0, faces[0].checks


def test_rocket_logo_at_jpeg_q75_fails_lips_and_stability():
    """The one no-face candidate whose lips land near the doubtful band (the rocket's logo, JPEG
    q75: lips 0.37 above its 'skin'): rejected by two signals, the lip floor (0.5) and the
    stability its doubtful lips call for (0.125 > 0.10)."""
    rocket = jpeg_round_trip(skimage.data.rocket(), 75)
    candidates = detect_faces(rocket, verify=False)
    assert candidates
    for c in candidates:
        why = verify.reasons(c.checks)
        assert "skin" in why and "stability" in why, (why, c.checks)
    assert detect_faces(rocket) == []
