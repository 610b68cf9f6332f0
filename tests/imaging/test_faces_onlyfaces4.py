"""Only faces, round 17 (issue #12, point 1; docs/faces.md, "Only faces"): the two non-faces round 16 left
accepted, each now rejected by ``half-band`` (:mod:`.verify_signs`), the real faces beside them still found.

* the motorcycle's engine badge (scikit-image's stereo pair, about (957, 768) on the 1920x1080 cover)
  once a face rolled past 60 degrees is found in the same photo (the turned proposal scan then looks
  there): a stable mesh (0.055-0.084 F) the stability view is sure of (1.0), but its bridge between the
  "eyes" 0.61-0.83 as dark as the eyes and its eyes 0.53-0.54 F apart;
* a chrome spot on the same photo 1.5x over-exposed (about (1622, 728)): moving 0.067 F (under
  ``loose-view``'s 0.07 F) with a view of 0.60, its bridge 0.67 as dark as its eyes.

Real faces: an uncut colour face's bridge is at most 0.11 as dark as its eyes (730 accepted candidates:
round 16's forced-stability collection and round 15's stored crops); grey faces, a proxy for other people
(LFW, glasses), reach 1.28, but those beyond 0.4 have eyes >= 0.597 F apart and a view >= 0.883.

A plain smiley drawn in a skin colour (two oval eyes, an arc mouth) saved as a JPEG.
The PNG is rejected as ``flat`` (skin texture 0); JPEG q85 rings around the features, and on a 40-96 px
disc every skin patch of the mesh is near a feature, so it shows texture 2.0-4.5 and fine texture 1.9-4.4
(real faces reach 2.3 / 1.1: dark tone-shifted and small faces), one tone 0.10-0.12 (real colour >= 0.177,
LFW's grey faces >= 0.129). Round 17's new no-face set (/tmp/s17/onlyfaces/nofaces17.py) has 8 of 162
images edited this way (emoji, two- and four-hole buttons), its held-out drawn set 17 of 60. A strict xfail
until round 18; rejected since by ``no-person`` (``verify_drawn``: selfie segmentation sees no person there).
"""

from __future__ import annotations

import inspect
import math

import cv2
import numpy as np
import skimage.data

from cosbeauty.imaging import beautify, verify
from tests.imaging import corpus

_SHADING = "verify_grey.shading(" in inspect.getsource(verify.face_checks)


def _motorcycle(w: int, h: int) -> np.ndarray:
    photo = corpus._rgb(skimage.data.stereo_motorcycle()[0])
    k = max(w / photo.shape[1], h / photo.shape[0])
    big = cv2.resize(photo, (math.ceil(photo.shape[1] * k), math.ceil(photo.shape[0] * k)), interpolation=cv2.INTER_CUBIC)
    y0, x0 = (big.shape[0] - h) // 2, (big.shape[1] - w) // 2
    return np.ascontiguousarray(big[y0:y0 + h, x0:x0 + w])


def _near(face, x: float, y: float, r: float) -> bool:
    return math.hypot(face.x + face.width / 2 - x, face.y + face.height / 2 - y) <= r


def test_engine_badge_not_accepted_beside_a_face_rolled_270_degrees():
    canvas = _motorcycle(1920, 1080)
    corpus.paste_round(canvas, corpus.heads()["astronaut"], 160, 960, 540, 270)
    faces = beautify(corpus.jpeg_pil(canvas, 90), 0.5).faces
    assert [f for f in faces if _near(f, 960, 540, 100)], "the turned astronaut is found"
    assert [(f.x, f.y, f.width, f.height) for f in faces if _near(f, 957, 768, 60)] == []


def test_chrome_spot_not_accepted_in_an_over_exposed_photo():
    canvas = _motorcycle(1920, 1080)
    corpus.paste_round(canvas, corpus.heads()["astronaut"], 32, 700, 500)
    bright = np.clip(canvas.astype(np.float32) * 1.5, 0, 255).astype(np.uint8)
    faces = beautify(corpus.jpeg_pil(bright, 90), 0.5).faces
    assert [(f.x, f.y, f.width, f.height) for f in faces if not _near(f, 700, 500, 40)] == []


def test_half_band_thresholds():
    base = {"presence": 1.0, "order": 1.0, "eye_ratio": 0.64, "height_ratio": 1.1, "grey": 0.0, "skin_fraction": 1.0,
            "chroma_spread": 5.0, "lip_cr": 4.0, "skin_texture": 10.0, "skin_fine": 3.0, "eye_dark": 0.5,
            "det_score": 0.7, "skin_tones": 0.3, "stability": 0.06, "stability_presence": 1.0,
            "shade_eyes": 0.29, "shade_bridge": 0.24, "shade_mouth": 0.31}
    assert verify.reasons({**base, "eye_ratio": 0.542}) == ["half-band"]              # the engine badge
    assert verify.reasons(base) == []                   # eyes apart like a face's (real with such a bridge >= 0.597)
    assert verify.reasons({**base, "eye_ratio": 0.542, "shade_bridge": 0.03}) == []    # two eyes: a face's bridge
    chrome = {**base, "stability": 0.067, "shade_eyes": 0.189, "shade_bridge": 0.127, "shade_mouth": 0.391}
    assert verify.reasons({**chrome, "stability_presence": 0.604}) == ["half-band"]
    assert verify.reasons({**chrome, "stability_presence": 0.9}) == []
    assert verify.reasons({**chrome, "stability_presence": 0.604, "shade_bridge": 0.07}) == []
    assert verify.reasons({**base, "eye_ratio": 0.542, "inside": 0.7, "lips_inside": 0.0}) == []   # cut: its own rules
    grey = {**base, "grey": 1.0, "chroma_spread": 0.0, "lip_cr": 0.0, "eye_ratio": 0.542}
    assert "half-band" not in verify.reasons(grey)       # grey faces have their own shading rules


def test_skin_coloured_smiley_in_a_jpeg_comes_back_byte_identical():
    s = 64
    tile = np.zeros((s, s, 3), np.uint8)
    cv2.circle(tile, (s // 2, s // 2), s // 2 - 1, (224, 172, 138), -1, cv2.LINE_AA)
    for sx in (-1, 1):
        cv2.ellipse(tile, (s // 2 + sx * 11, 24), (4, 6), 0, 0, 360, (40, 30, 20), -1, cv2.LINE_AA)
    cv2.ellipse(tile, (s // 2, 37), (14, 9), 0, 20, 160, (120, 30, 30), 2, cv2.LINE_AA)
    yy, xx = np.mgrid[0:s, 0:s]
    alpha = np.clip((s / 2 - np.hypot(xx - s / 2 + 0.5, yy - s / 2 + 0.5)) / 1.5, 0, 1)[..., None]
    canvas = np.full((720, 1280, 3), 128, np.uint8)
    canvas[300:300 + s, 600:600 + s] = (canvas[300:300 + s, 600:600 + s] * (1 - alpha) + tile * alpha).astype(np.uint8)
    data = corpus.jpeg_pil(canvas, 85)
    same = beautify(data, 0.5).data == data     # a bool: with CI=true pytest would diff the two JPEGs (48 s)
    assert same


def test_shading_is_measured_for_colour_faces():
    assert _SHADING
