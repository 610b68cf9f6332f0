"""Faces under colour casts, exposure and uneven light (issue #12, point 1 and the face corpus's recall;
round 15's second independent check, findings 1b and 7; docs/faces.md, "Colour casts and exposure").

Each face below was boxed by the detector (presence 1.0, a stable mesh) and then rejected for skin
colour alone: a warm cast, a magenta tint, saturation or a contrast curve took Grace Hopper's ruddy
cheeks past the skin locus's Cr limit (185), and in a brighter photo the clipped forehead's chroma fell
towards neutral while the cheeks kept theirs (chroma spread 29-37 > 25). :mod:`cosbeauty.imaging.
verify_light` measures a clipped patch against the path clipping takes and lets a wider locus count
as skin when the lips, the irises and the mesh's stability back it. Under light from above the lips
are red for their shade only; in a sepia photo they are not red at all (the face is judged as grey).

Whole images: the photo is the cast one, as a camera or a filter would give it, JPEG q90.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cosbeauty.imaging import detect_faces, verify, verify_light
from tests.imaging import corpus


def _gain(img: np.ndarray, g: tuple[float, float, float]) -> np.ndarray:
    return np.clip(img.astype(np.float32) * np.array(g, np.float32), 0, 255).astype(np.uint8)


def _saturation(img: np.ndarray, k: float) -> np.ndarray:
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 1] = np.clip(hsv[..., 1] * k, 0, 255)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)


def _s_curve(img: np.ndarray) -> np.ndarray:
    x = img.astype(np.float32) / 255
    return (255 / (1 + np.exp(-8 * (x - 0.5)))).astype(np.uint8)


CASTS = {
    "tungsten": lambda im: _gain(im, (1.0, 0.8, 0.55)),      # tungsten white balance
    "magenta": lambda im: _gain(im, (1.05, 0.8, 1.05)),
    "saturation-1.6": lambda im: _saturation(im, 1.6),
    "s-curve": _s_curve,                                       # a contrast filter
    "exposure-1.3": lambda im: _gain(im, (1.3, 1.3, 1.3)),
    "exposure-1.5": lambda im: _gain(im, (1.5, 1.5, 1.5)),
}


def _found(faces, cx: int, cy: int, px: int) -> bool:
    return any(abs(f.center[0] - cx) <= 0.5 * px and abs(f.center[1] - cy) <= 0.5 * px for f in faces)


@pytest.mark.parametrize("person, cast, px", [
    ("hopper", "tungsten", 96), ("hopper", "magenta", 96), ("hopper", "saturation-1.6", 200),
    ("hopper", "s-curve", 96), ("hopper", "exposure-1.3", 96), ("hopper", "exposure-1.5", 200),
    ("astronaut", "exposure-1.5", 96)])
def test_face_under_a_cast_found(person, cast, px):
    canvas = corpus.cover("retina", 1280, 720)       # a real photo the suite does not paste on elsewhere
    corpus.paste_round(canvas, corpus.heads()[person], px, 500, 360)
    img = corpus.decoded(corpus.jpeg_pil(CASTS[cast](canvas), 90))
    faces = detect_faces(img)
    assert _found(faces, 500, 360, px), [f.box for f in faces]
    assert all(_found([f], 500, 360, px) for f in faces)


def _sepia(img: np.ndarray) -> np.ndarray:
    m = np.array([[.393, .769, .189], [.349, .686, .168], [.272, .534, .131]], np.float32)
    return np.clip(img.astype(np.float32) @ m.T, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("person, px", [("hopper", 200), ("hopper", 48)])
def test_face_in_a_sepia_photo_found(person, px):
    """A one-hue photo: the lips are no redder than the skin (lip_cr -2.6 .. 0.1), so the colour test
    cannot pass; the whole image is one hue (:func:`verify_light.tinted`) and the face is judged as grey."""
    canvas = corpus.cover("retina", 1280, 720)
    corpus.paste_round(canvas, corpus.heads()[person], px, 500, 360)
    img = corpus.decoded(corpus.jpeg_pil(_sepia(canvas), 90))
    assert verify_light.tinted(img)
    faces = detect_faces(img)
    assert _found(faces, 500, 360, px), [f.box for f in faces]


def test_colour_photos_are_not_tinted():
    for name in ("retina", "coffee", "chelsea", "astronaut", "rocket"):
        assert not verify_light.tinted(corpus.cover(name, 640, 480)), name
    assert verify_light.tinted(_sepia(corpus.cover("coffee", 640, 480)))
    assert not verify_light.tinted(corpus.grey3(corpus.cover("coffee", 640, 480)))    # grey: no chroma at all


def test_face_in_a_brighter_photo_found():
    """test_faces_known_gaps.py's strict xfail of round 15 (Grace Hopper on the cat photo, 30 % brighter,
    OpenCV's JPEG q90): found now."""
    canvas = corpus.cover("chelsea", 1920, 1080)
    corpus.paste_round(canvas, corpus.heads()["hopper"], 128, 900, 500)
    brighter = _gain(canvas, (1.3, 1.3, 1.3))
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(brighter, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    faces = detect_faces(cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB))
    assert any(abs(f.center[0] - 900) < 40 for f in faces), [f.box for f in faces]


def _top_light(img: np.ndarray, cx: int, cy: int, px: int) -> np.ndarray:
    """Light from above on the head at (cx, cy): gain 1.25 at the forehead falling to 0.35 under the chin,
    feathered into the unlit photo (round 15's check_p_light.py)."""
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    inside = np.clip((1.0 - np.hypot((xx - cx) / px, (yy - cy) / px)) / 0.3, 0, 1)
    g = np.clip(1.25 - 0.9 * (yy - (cy - px / 2)) / px, 0.35, 1.25) * inside + (1 - inside)
    return np.clip(img.astype(np.float32) * g[..., None], 0, 255).astype(np.uint8)


@pytest.mark.parametrize("px", [64, 128])
def test_face_under_top_light_found(px):
    """The lower face in shade: the lips' Cr falls with their luminance (lip_cr -4.3) but they stay redder
    than the skin for their shade (``lip_rel`` 12-14, :func:`verify_light.lip_shade`)."""
    canvas = corpus.cover("retina", 1280, 720)
    corpus.paste_round(canvas, corpus.heads()["hopper"], px, 500, 360)
    img = corpus.decoded(corpus.jpeg_pil(_top_light(canvas, 500, 360, px), 90))
    faces = detect_faces(img)
    assert _found(faces, 500, 360, px), [f.box for f in faces]


def test_shaded_lips_ask_for_more():
    base = {"presence": 1.0, "order": 1.0, "eye_ratio": 0.6, "height_ratio": 1.1, "grey": 0.0, "skin_fraction": 1.0,
            "chroma_spread": 5.0, "lip_cr": -4.0, "lip_rel": 13.0, "lip_y": 0.57, "skin_texture": 10.0,
            "skin_fine": 3.0, "eye_dark": 0.6, "det_score": 0.9, "skin_tones": 0.3}
    assert verify.needs_stability(base)
    assert verify.reasons({**base, "stability": 0.03}) == []
    assert "shaded-lips" in verify.reasons({**base, "stability": 0.09})
    assert "shaded-lips" in verify.reasons({**base, "stability": 0.03, "skin_fraction": 0.95})
    assert "skin" in verify.reasons({**base, "stability": 0.03, "lip_y": 0.9})        # not in shade
    assert "skin" in verify.reasons({**base, "stability": 0.03, "lip_rel": 5.0})      # not red for its shade


def _patch(rgb: tuple[int, int, int], n: int = 25) -> tuple[np.ndarray, np.ndarray]:
    px = np.tile(np.array(rgb, np.uint8), (n, 1))
    ycc = cv2.cvtColor(px.reshape(-1, 1, 3), cv2.COLOR_RGB2YCrCb).reshape(-1, 3).astype(np.float32)
    return ycc, px


def _measure(colours: list[tuple[int, int, int]]) -> dict[str, float]:
    patches = [_patch(c) for c in colours]
    return verify_light.skin_colour([p[0] for p in patches], [p[1] for p in patches], verify.CR_RANGE, verify.CB_RANGE)


def test_clipped_patch_measured_against_the_path_to_white():
    skin = [(200, 140, 110)] * 5
    plain = _measure(skin + [(255, 235, 215), (255, 250, 245)])      # two clipped, washed-out patches
    assert plain["clipped"] == 2 and plain["spread_lit"] < 5 and plain["chroma_spread"] > 25
    off = _measure(skin + [(255, 200, 255), (200, 140, 110)])        # clipped, but magenta: not on the path
    assert off["clipped"] == 1 and off["spread_lit"] > 25
    assert _measure(skin + [(120, 160, 200)] * 2)["spread_lit"] > 25      # no clipping: as before
    assert _measure(skin + [(120, 160, 200)] * 2)["clipped"] == 0


def test_wider_locus_asks_for_more():
    base = {"presence": 1.0, "order": 1.0, "eye_ratio": 0.6, "height_ratio": 1.1, "grey": 0.0, "skin_fraction": 0.3,
            "skin_wide": 1.0, "chroma_spread": 5.0, "lip_cr": 6.0, "skin_texture": 10.0, "skin_fine": 3.0,
            "eye_dark": 0.6, "det_score": 0.9, "skin_tones": 0.3}
    assert verify.needs_stability(base)
    assert verify.reasons({**base, "stability": 0.03}) == []
    assert "wide-skin" in verify.reasons({**base, "stability": 0.09})
    assert "wide-skin" in verify.reasons({**base, "stability": 0.03, "lip_cr": 1.5})
    assert "wide-skin" in verify.reasons({**base, "stability": 0.03, "eye_dark": 0.1})
    assert "skin" in verify.reasons({**base, "stability": 0.03, "skin_wide": 0.8})
    assert not verify.needs_stability({**base, "skin_fraction": 1.0})          # in the strict locus: as before
