"""Doubtful lips need skin all over (issue #12, point 1; verify.py, ``doubtful_lips``).

The rocket's logo (scikit-image ``rocket``, 640x427) cropped 20 px at the top was a verified
"face" (309, 120, 27, 33): its lips only 0.55 redder than its "skin" (doubtful, 0.5-2), its mesh
stable (0.088 F against a limit of 0.10), skin fraction 0.94. The whole photo and most crops were
rejected only because the logo sits right on the stability threshold. A candidate with doubtful
lips now also needs skin that is skin all over its 7 patches (skin fraction >= 0.98, the colour
cut rule's second sign): real doubtful-lip faces (small and JPEG-compressed, 8 skin tones) 1.00,
every one measured; the logo's doubtful and near-doubtful candidates over 200 crops, scales,
JPEG qualities and canvases <= 0.94 (docs/faces.md, "Only faces"). Here: the crop and its
neighbours come back byte-identical, and (slow) the calibration.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import skimage.data
from PIL import Image

from cosbeauty.imaging import beautify, detect_faces, verify
from tests.imaging import corpus

ROCKET = skimage.data.rocket()

CROPS = {
    "top20": lambda r: r[20:],           # the reported case
    "top15": lambda r: r[15:],
    "top18": lambda r: r[18:],
    "top22": lambda r: r[22:],
    "bottom8": lambda r: r[:-8],
    "top30-right20": lambda r: r[30:, :-20],
}


def png(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "PNG", compress_level=1)
    return out.getvalue()


@pytest.mark.parametrize("name", list(CROPS))
def test_rocket_logo_crops_come_back_byte_identical(name):
    img = np.ascontiguousarray(CROPS[name](ROCKET))
    faces = detect_faces(img)
    assert faces == [], [(f.box, {k: round(v, 3) for k, v in f.checks.items()}) for f in faces]
    data = png(img)
    result = beautify(data, 1.0)
    assert result.faces == [] and result.data == data


def test_top20_logo_is_rejected_for_its_skin_not_by_luck():
    """The candidate is still there and fails the doubtful-skin rule; when the rule came it passed
    every other check. Since round 16 verify_signs' loose-view and loose-skin reject it as well, since
    round 17 half-band too (its bridge 0.47 as dark as its "eyes", a stability view of 0.51)."""
    img = np.ascontiguousarray(ROCKET[20:])
    cands = [f for f in detect_faces(img, verify=False) if abs(f.box[0] - 309) < 10 and abs(f.box[1] - 120) < 10]
    assert cands, "the logo candidate is no longer proposed: this test checks nothing"
    checks = cands[0].checks
    assert verify.doubtful_lips(checks)
    why = verify.reasons(checks)
    assert "doubtful-skin" in why and set(why) <= {"doubtful-skin", "loose-view", "loose-skin", "half-band"}, why


def test_doubtful_lip_faces_still_found():
    """Small JPEG faces whose lips are doubtful (the astronaut at 24 px, q75; tone-shifted at 0.3x,
    q75) stay faces."""
    canvas = np.clip(np.random.default_rng(5).normal((150, 135, 110), 8, (400, 800, 3)), 0, 255).astype(np.uint8)
    head = corpus.astronaut()[20:260, 105:345]
    truth = []
    for i, s in enumerate((22, 24, 28, 32)):
        cx, cy = 100 + i * 200, 200
        corpus.place(canvas, head, s, cx, cy)
        truth.append((cx, cy, s))
    buf = io.BytesIO()
    Image.fromarray(canvas).save(buf, "JPEG", quality=75)
    img = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    faces = detect_faces(img)
    hit = [t for t in truth if any(abs(f.center[0] - t[0]) < 0.6 * t[2] and abs(f.center[1] - t[1]) < 0.7 * t[2]
                                   for f in faces)]
    assert len(hit) == len(truth), (hit, [(f.box, round(f.checks["lip_cr"], 2)) for f in faces])


@pytest.mark.slow
def test_doubtful_skin_calibration():
    """The data behind the threshold (a subset of docs/faces.md's collection): uncut colour
    candidates with doubtful lips (``verify=False``). Positives: both heads at 20-34 px, tone-shifted
    to 4 skin tones, JPEG q60/q75, on a 1280x720 canvas; negatives: the rocket's logo cropped 2-40 px
    at the top or bottom. Asserted: no positive that passes every other check has a skin fraction
    under 1.0 - 0.02 (a margin of at least one patch pixel in 50), no such logo candidate over 0.96."""
    pos, neg = [], []
    people = {"astronaut": (corpus.astronaut(), (20, 260, 105, 345)), "hopper": (corpus.hopper(), (60, 420, 80, 440))}
    rng = np.random.default_rng(7)
    for img, (y0, y1, x0, x1) in people.values():
        face = detect_faces(img)[0]
        for tone in (None, corpus.SKIN_TONES[2], corpus.SKIN_TONES[5], corpus.SKIN_TONES[7]):
            head = (img if tone is None else corpus.tone_shift(img, face, *tone))[y0:y1, x0:x1]
            for q in (60, 75):
                canvas = np.clip(rng.normal((150, 135, 110), 8, (720, 1280, 3)), 0, 255).astype(np.uint8)
                truth = []
                for i, s in enumerate((20, 22, 24, 26, 28, 34)):
                    cx, cy = 100 + i * 210, 360
                    corpus.place(canvas, head, s, cx, cy)
                    truth.append((cx, cy, s))
                buf = io.BytesIO()
                Image.fromarray(canvas).save(buf, "JPEG", quality=q)
                jp = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
                for f in detect_faces(jp, verify=False, max_faces=20):
                    if any(abs(f.center[0] - x) < 0.6 * s and abs(f.center[1] - y) < 0.7 * s for x, y, s in truth):
                        pos.append(f.checks)
    for d in range(2, 41, 2):
        for crop in (ROCKET[d:], ROCKET[:-d]):
            for f in detect_faces(np.ascontiguousarray(crop), verify=False):
                if abs(f.box[0] - 310) < 30:
                    neg.append(f.checks)
    others = lambda c: [w for w in verify.reasons(c) if w != "doubtful-skin"] == []  # noqa: E731
    near = lambda c: not c["grey"] and c["inside"] >= verify.CUT_INSIDE and c["lip_cr"] > 0  # noqa: E731
    real = [c["skin_fraction"] for c in pos if verify.doubtful_lips(c) and others(c)]
    logo = [c["skin_fraction"] for c in neg if near(c)]
    print(f"real doubtful-lip faces passing the other checks: {len(real)}, skin fraction min "
          f"{min(real, default=1.0):.3f}; logo candidates with lips redder than skin: {len(logo)}, "
          f"max {max(logo, default=0.0):.3f}")
    assert len(real) >= 6 and min(real) >= verify.MIN_SKIN_FRACTION_LOOSE + 0.02 - 1e-9
    assert logo and max(logo) <= verify.MIN_SKIN_FRACTION_LOOSE - 0.02
    assert not any(verify.is_face(c) for c in neg if verify.doubtful_lips(c))
