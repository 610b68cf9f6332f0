"""Only faces, round 18 (issue #12, point 1; docs/faces.md, "Only faces"): drawn faces (emoji) of round 17's
no-face set (``bench/nofaces_drawn.py``) rejected by a second opinion from a model trained on people:
``no-person`` (:mod:`.verify_drawn`, :mod:`.verify_signs`) -- MediaPipe's selfie segmentation, shown a
doubtful colour candidate upright, sees no person over its mesh (< 0.9; real colour faces >= 0.987).

* drawn: three images the bytes path edited on 1ae2d16 (colour emoji, PNG and JPEG q35/q95) come back
  byte-identical;
* real: small and turned colour faces that get the stability test (so are measured) are still found with
  the measure >= 0.95, a grey face is found and never measured (grey faces without a head around them,
  LFW's crops, read 0: the rule is colour only).

The end-to-end tests need the hook in :func:`.detection.landmarks._face_try` (the measure is taken there
once a doubtful candidate passed every other check); without it they are skipped.
"""

from __future__ import annotations

import inspect
import os
import sys
from unittest import mock

import numpy as np
import pytest
import skimage.data

from cosbeauty.imaging import beautify, detect_faces, verify, verify_drawn
from cosbeauty.imaging.detection import landmarks
from tests.imaging import corpus

_HOOKED = "verify_drawn" in inspect.getsource(landmarks._face_try)
_BENCH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench")
needs_hook = pytest.mark.skipif(not _HOOKED, reason="landmarks._face_try does not call verify_drawn yet")


def _drawn_case(tag: str, held: bool) -> bytes:
    """The bytes of one image of bench/nofaces_drawn.py (``held``: its held-out set, HELD=60 SEED=4242)."""
    sys.path.insert(0, _BENCH)
    try:
        import nofaces_drawn
    finally:
        sys.path.remove(_BENCH)
    with mock.patch.dict(os.environ, {"HELD": "60", "SEED": "4242"} if held else {}):   # restored on exit
        if not held:
            os.environ.pop("HELD", None)
        for name, data in nofaces_drawn.cases():
            if name == tag:
                return data
    raise LookupError(tag)


@needs_hook
@pytest.mark.parametrize("tag,held", [("emoji-8-q35", False), ("held-emoji-17-png", True),
                                      ("held-emoji-57-q95", True)])
def test_colour_emoji_come_back_byte_identical(tag, held):
    data = _drawn_case(tag, held)
    same = beautify(data, 0.5).data == data      # a bool: pytest would diff two JPEGs
    assert same


@needs_hook
def test_real_colour_faces_small_and_turned_kept_with_a_margin():
    canvas = corpus.cover("coffee", 1920, 1080)
    heads = corpus.heads()
    truth = [(heads["astronaut"], 40, 400, 300, 0), (heads["hopper"], 40, 900, 700, 150),
             (heads["astronaut"], 32, 1400, 400, 270), (heads["hopper"], 96, 1500, 800, 30)]
    for head, size, cx, cy, deg in truth:
        corpus.paste_round(canvas, head, size, cx, cy, deg)
    faces = detect_faces(corpus.decoded(corpus.jpeg_pil(canvas, 85)))
    for _, size, cx, cy, _ in truth:
        assert [f for f in faces if abs(f.center[0] - cx) < 0.6 * size and abs(f.center[1] - cy) < 0.6 * size]
    measured = [f.checks["person"] for f in faces if "person" in f.checks]
    assert measured and min(measured) >= 0.95          # real colour faces >= 0.987, the limit 0.9


@needs_hook
def test_grey_face_found_and_not_measured():
    canvas = corpus.grey3(corpus.cover("chelsea", 1920, 1080))
    corpus.paste_round(canvas, corpus.grey3(corpus.heads()["hopper"]), 64, 700, 500, 45)
    faces = detect_faces(corpus.decoded(corpus.jpeg_pil(canvas, 85)))
    near = [f for f in faces if abs(f.center[0] - 700) < 40 and abs(f.center[1] - 500) < 40]
    assert near and all("person" not in f.checks for f in near)


def test_no_person_thresholds():
    base = {"presence": 1.0, "order": 1.0, "eye_ratio": 0.64, "height_ratio": 1.1, "grey": 0.0, "skin_fraction": 1.0,
            "chroma_spread": 5.0, "lip_cr": 4.0, "skin_texture": 10.0, "skin_fine": 3.0, "eye_dark": 0.5,
            "det_score": 0.7, "skin_tones": 0.3, "stability": 0.06, "stability_presence": 1.0}
    assert verify.reasons(base) == []                                  # not measured: no opinion
    assert verify.reasons({**base, "person": 0.99}) == []              # real colour faces >= 0.99
    assert verify.reasons({**base, "person": 0.62}) == ["no-person"]   # held-emoji-17 (PNG, 18 px)
    assert verify.reasons({**base, "person": 0.87}) == ["no-person"]   # the highest drawn one rejected
    grey = {**base, "grey": 1.0, "chroma_spread": 0.0, "lip_cr": 0.0, "person": 0.0}
    assert "no-person" not in verify.reasons(grey)                     # grey: LFW's crops read 0
    cut = {**base, "inside": 0.7, "lips_inside": 0.0, "person": 0.0}
    assert "no-person" not in verify.reasons(cut)                      # cut: the window shows the mirror


def test_wanted_only_doubtful_colour_candidates_in_the_frame():
    assert verify_drawn.wanted({"grey": 0.0, "inside": 1.0, "stability": 0.05})
    assert verify_drawn.wanted({"grey": 0.0, "inside": 1.0, "skin_tones": 0.085})   # one tone: onlyfaces4's smiley
    assert not verify_drawn.wanted({"grey": 0.0, "inside": 1.0, "skin_tones": 0.3})  # a sure face: no cost
    assert not verify_drawn.wanted({"grey": 1.0, "inside": 1.0, "stability": 0.05})
    assert not verify_drawn.wanted({"grey": 0.0, "inside": 0.8, "stability": 0.05})


def test_person_on_a_photo_face():
    """The measure itself, no pipeline: the astronaut's face in her photo is a person, the same twice."""
    photo = skimage.data.astronaut()
    faces = detect_faces(photo)
    assert faces and verify_drawn.person(photo, faces[0].landmarks) >= 0.99
    assert len(verify_drawn.upright(photo, faces[0].landmarks)[1]) == 468
    np.testing.assert_equal(verify_drawn.person(photo, faces[0].landmarks),
                            verify_drawn.person(photo, faces[0].landmarks))     # deterministic


def test_a_close_up_is_not_measured():
    """A face wider than half the frame's short side gets no ``person`` (the window would show its
    reflections: test_faces_cut_real's close-ups of Grace Hopper were lost when it did, round 18)."""
    photo = skimage.data.astronaut()
    pts = detect_faces(photo)[0].landmarks
    assert "person" in verify_drawn.measures(photo, pts)
    x0, y0 = (int(v) for v in pts[:468].min(axis=0))
    x1, y1 = (int(v) for v in pts[:468].max(axis=0))
    crop = np.ascontiguousarray(photo[y0:y1, x0:x1])
    assert verify_drawn.measures(crop, pts - np.float32([x0, y0])) == {}
