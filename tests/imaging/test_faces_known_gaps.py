"""Known gaps of face detection found by round 14's independent check on unseen inputs (docs/faces.md,
"An independent check on unseen inputs"), kept as strict xfails: each turns into a failure the day
it is fixed, so the fix comes with its test already written.

* a small face beside one big face on a skin-coloured backdrop: one sure big face takes the portrait
  fast path (``candidates._want_tiles``), whose look for small faces (round 15, ``detection/beside.py``:
  skin-chroma blobs outside the big face) finds no blob on the cat photo's fur (colour sweep 73/90,
  the cat photo 6/18; grey photos: no skin cue, not looked for).
Fixed since, with its test moved to the fixing helper's file: a gravel stone accepted once a real
face is in the picture (round 15, ``verify_signs`` loose-eyes: ``test_faces_verify_withface.py``).
Fixed since and kept here as a plain test: a face in a 30 % brighter photo (round 15's second check;
found since round 16); hair over one eye (round 15's check_b_occl; rejected by round 16's ``one-band``
and ``skin``, found since round 18: ``verify_hair``, more cases in ``test_faces_occluded18.py``).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import skimage.data

from cosbeauty.imaging import detect_faces
from tests.imaging import corpus


def paste_round(canvas: np.ndarray, person: str, face_px: int, cx: int, cy: int) -> None:
    """The head photo pasted with a soft round mask, its face ``face_px`` wide, at (cx, cy)."""
    s = round(face_px / 0.55)
    tile = cv2.resize(corpus.heads()[person], (s, s), interpolation=cv2.INTER_AREA).astype(np.float32)
    yy, xx = np.mgrid[0:s, 0:s]
    alpha = np.clip((1.0 - np.hypot(xx - s / 2 + 0.5, yy - s / 2 + 0.5) / (s / 2)) / 0.12, 0, 1)[..., None]
    y0, x0 = cy - s // 2, cx - s // 2
    sub = canvas[y0:y0 + s, x0:x0 + s].astype(np.float32)
    canvas[y0:y0 + s, x0:x0 + s] = np.clip(sub * (1 - alpha) + tile * alpha + 0.5, 0, 255).astype(np.uint8)


def cover(name: str, w: int, h: int) -> np.ndarray:
    photo = corpus._rgb(getattr(skimage.data, name)())
    k = max(w / photo.shape[1], h / photo.shape[0])
    big = cv2.resize(photo, (int(np.ceil(photo.shape[1] * k)), int(np.ceil(photo.shape[0] * k))),
                     interpolation=cv2.INTER_CUBIC)
    y0, x0 = (big.shape[0] - h) // 2, (big.shape[1] - w) // 2
    return np.ascontiguousarray(big[y0:y0 + h, x0:x0 + w])


def jpeg_round_trip(rgb: np.ndarray, quality: int = 90) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


@pytest.mark.xfail(strict=True, reason="beside look: no skin blob stands out on the cat's skin-coloured fur")
def test_small_face_beside_a_big_face_found():
    canvas = cover("chelsea", 1920, 1080)
    paste_round(canvas, "astronaut", 400, 1305, 486)
    paste_round(canvas, "hopper", 64, 372, 711)
    faces = detect_faces(jpeg_round_trip(canvas))
    assert any(abs(f.center[0] - 372) < 40 and abs(f.center[1] - 711) < 50 for f in faces), [f.box for f in faces]


def test_small_face_beside_a_big_face_found_when_the_small_pass_runs():
    """The same photo with the small-face pass forced: found (so the gap is the fast path's)."""
    canvas = cover("chelsea", 1920, 1080)
    paste_round(canvas, "astronaut", 400, 1305, 486)
    paste_round(canvas, "hopper", 64, 372, 711)
    faces = detect_faces(jpeg_round_trip(canvas), tiles=True)
    assert any(abs(f.center[0] - 372) < 40 and abs(f.center[1] - 711) < 50 for f in faces)


def test_face_in_a_brighter_photo_found():
    """Round 15's strict xfail: Hopper in a 30 % brighter photo was found and rejected for skin
    (chroma_spread 32 > 25 on clipped cheek patches). Found since round 16 (HEAD 65a7cb1: through
    verify_occluded, the lower face's chroma being far from the clipped forehead's; the exposure
    rules judge clipped patches themselves: tests/imaging/test_faces_exposure.py)."""
    canvas = cover("chelsea", 1920, 1080)
    paste_round(canvas, "hopper", 128, 900, 500)
    assert any(abs(f.center[0] - 900) < 40 for f in detect_faces(jpeg_round_trip(canvas)))     # found as it is
    brighter = np.clip(canvas.astype(np.float32) * 1.3, 0, 255).astype(np.uint8)
    faces = detect_faces(jpeg_round_trip(brighter))
    assert any(abs(f.center[0] - 900) < 40 and abs(f.center[1] - 500) < 40 for f in faces), [f.box for f in faces]


def test_face_with_hair_over_one_eye_found():
    canvas = corpus.cover("motorcycle", 1920, 1080)
    corpus.paste_round(canvas, corpus.heads()["astronaut"], 128, 700, 520)
    clean = [f for f in detect_faces(corpus.decoded(corpus.jpeg_pil(canvas, 90))) if abs(f.center[0] - 700) < 64]
    assert clean, "the face without the hair is no longer found: this test checks nothing"
    lm = clean[0].landmarks
    up = lm[10] - lm[152]
    lock = np.array([lm[10] + up * 0.15, lm[454] + up * 0.35, (lm[33] + lm[133]) / 2 - up * 0.12, lm[234] - up * 0.05], np.int32)
    cv2.fillPoly(canvas, [lock], (45, 30, 22), cv2.LINE_AA)
    faces = detect_faces(corpus.decoded(corpus.jpeg_pil(canvas, 90)))
    found = any(abs(f.center[0] - 700) < 64 and abs(f.center[1] - 520) < 64 for f in faces)
    assert found
