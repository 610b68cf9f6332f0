"""The library side of face-effect: ``cosbeauty.imaging.face_effect`` / ``beautify_components``,
the mapping of Tencent's four levels onto the retouch components, and parameter parsing."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import cosbeauty.imaging as imaging
from cosbeauty.imaging import face_effects
from cosbeauty.imaging.errors import InvalidParameter
from tests.ci.conftest import encode
from tests.imaging.corpus import hopper


@pytest.fixture(scope="module")
def photo() -> bytes:
    return encode(hopper(), ".png")


def test_public_names():
    from cosbeauty.imaging import registry  # noqa: F401  (imports the face_effects module)
    assert callable(imaging.face_effect) and imaging.face_effect is face_effects.face_effect
    assert imaging.FaceEffectResult is face_effects.FaceEffectResult
    assert callable(imaging.beautify_components)


def test_level_mapping():
    spec = face_effects.parse_params({"type": "face-beautify"})
    assert (spec.whitening, spec.smoothing, spec.face_lifting, spec.eye_enlarging) == (30, 10, 70, 70)
    params = face_effects.retouch_params(spec)
    curve = imaging.RetouchParams.for_strength(0.1)
    assert params.whitening == 0.3
    assert (params.smoothing, params.spots, params.lines, params.eyebags, params.tone) == (
        curve.smoothing, curve.spots, curve.lines, curve.eyebags, curve.tone)
    assert (params.rosy, params.eyes, params.teeth) == (0, 0, 0)       # not in Tencent's API
    off = face_effects.retouch_params(face_effects.FaceEffectSpec("face-beautify", 0, 0, 0, 0))
    assert not off.any()


@pytest.mark.parametrize("params,error", [
    ({"type": "face-beautify", "whitening": "100"}, None),
    ({"type": "face-beautify", "whitening": "0100"}, InvalidParameter),       # at most three digits
    ({"type": "face-beautify", "smoothing": "+5"}, InvalidParameter),
    ({"type": "face-beautify", "gender": "1"}, None),                         # only acts with its own type
    ({"type": "face-beautify", "age": "81"}, InvalidParameter),
    ({"type": "face-gender-transformation", "gender": "1"}, face_effects.EffectNotImplemented),
    ({"type": "face-gender-transformation"}, InvalidParameter),
])
def test_parse_params(params, error):
    if error is None:
        face_effects.parse_params(params)
    else:
        with pytest.raises(error):
            face_effects.parse_params(params)


def test_library_matches_levels(photo):
    default = imaging.face_effect(photo)
    assert default.format == "PNG" and len(default.faces) == 1 and default.mask is None
    same = imaging.face_effect(photo, whitening=30, smoothing=10, face_lifting=70, eye_enlarging=70)
    assert same.data == default.data
    assert imaging.face_effect(photo, whitening=0, smoothing=0, face_lifting=0, eye_enlarging=0).data == photo
    with pytest.raises(InvalidParameter):
        imaging.face_effect(photo, whitening=101)
    with pytest.raises(face_effects.EffectNotImplemented):
        imaging.face_effect(photo, "face-age-transformation")


def test_library_segmentation(photo):
    out = imaging.face_effect(photo, "face-segmentation")
    cut = cv2.imdecode(np.frombuffer(out.data, np.uint8), cv2.IMREAD_UNCHANGED)
    mask = cv2.imdecode(np.frombuffer(out.mask, np.uint8), cv2.IMREAD_UNCHANGED)
    assert cut.shape == (600, 512, 4) and mask.shape == (600, 512)
    assert mask[150:280, 210:330].min() == 255 and mask[:80, 450:].max() == 0   # face in, backdrop out


def test_beautify_components_single_component(photo):
    """One component at a time changes the picture; all zero is the input, as bytes."""
    zero = imaging.RetouchParams()
    assert imaging.beautify_components(photo, zero).data == photo
    from dataclasses import replace
    src = hopper().astype(int)
    only_white = imaging.beautify_components(photo, replace(zero, whitening=1.0))
    img = cv2.cvtColor(cv2.imdecode(np.frombuffer(only_white.data, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    assert (img.astype(int) - src)[150:330, 170:360].mean() > 2          # brighter face
    assert np.array_equal(img[:, :60], hopper()[:, :60])                  # lossless background untouched
    with pytest.raises(ValueError):
        imaging.beautify_components(photo, zero, slim=1.5)


@pytest.mark.parametrize("scale", [0.6, 0.35])
def test_segmentation_of_a_small_person(scale):
    """A person filling little of the frame: the second pass on the box around them gives the
    mask the whole photo gets (IoU >= 0.9); one pass alone gave 0.78 and 0.59."""
    from skimage import data as skdata

    from cosbeauty.imaging.segmentation import person_mask
    canvas = cv2.resize(skdata.coffee(), (1000, 700), interpolation=cv2.INTER_LINEAR)
    small = cv2.resize(hopper(), None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    h, w = small.shape[:2]
    y0, x0 = 700 - h, 500 - w // 2
    canvas[y0:, x0:x0 + w] = small
    truth = np.zeros(canvas.shape[:2], bool)
    truth[y0:, x0:x0 + w] = person_mask(small) > 0.5
    found = person_mask(canvas) > 0.5
    assert (found & truth).sum() / (found | truth).sum() >= 0.9


def test_cli_reshape_amounts(tmp_path, photo):
    """``cosbeauty beautify --slim/--enlarge-eyes``: face-effect's faceLifting/eyeEnlarging amounts."""
    from cosbeauty.cli import main as cli_main
    src = tmp_path / "h.png"
    src.write_bytes(photo)
    outs = {}
    for name, flags in (("slim", ["--slim", "1", "--enlarge-eyes", "0"]), ("eyes", ["--enlarge-eyes", "1", "--slim", "0"])):
        out = tmp_path / f"{name}.png"
        assert cli_main(["beautify", str(src), "-o", str(out), "--strength", "0", *flags]) == 0
        outs[name] = np.abs(cv2.imread(str(out)).astype(int) - cv2.imread(str(src))).max(axis=2) > 8
    from cosbeauty.imaging import detect_faces
    (face,) = detect_faces(hopper())
    r = int(0.08 * face.cheek_width)

    def around(mask: np.ndarray, *points: int) -> int:
        return sum(int(mask[int(y) - r:int(y) + r, int(x) - r:int(x) + r].sum())
                   for x, y in face.landmarks[list(points)])
    eyes_pts, jaw_pts = (468, 473), (172, 397, 136, 365)
    assert around(outs["slim"], *jaw_pts) > 4 * max(1, around(outs["slim"], *eyes_pts))      # the jaw moves
    assert around(outs["eyes"], *eyes_pts) > 4 * max(1, around(outs["eyes"], *jaw_pts))      # the eyes grow
    with pytest.raises(SystemExit) as exc:
        cli_main(["beautify", str(src), "--slim", "2"])
    assert exc.value.code == 2


def test_cli_equivalent_of_the_default_face_effect(tmp_path, photo):
    """The documented CLI spelling of face-effect's defaults gives the same bytes (PNG)."""
    from cosbeauty.cli import main as cli_main
    src, out = tmp_path / "h.png", tmp_path / "out.png"
    src.write_bytes(photo)
    assert cli_main(["beautify", str(src), "-o", str(out), "--strength", "0.1",
                     "--retouch", "whitening=0.3,rosy=0,eyes=0,teeth=0", "--slim", "0.7", "--enlarge-eyes", "0.7"]) == 0
    assert out.read_bytes() == imaging.face_effect(photo).data


def test_reshape_moves_the_alpha_too(photo):
    """Beautifying a cut-out (segmentation's RGBA PNG): the reshape warps the alpha with the colour,
    so no transparent (black) surrounding is pulled inside the opaque outline (598 such pixels
    at faceLifting/eyeEnlarging 100 when only the colour moved)."""
    cut = imaging.face_effect(photo, "face-segmentation").data
    out = imaging.face_effect(cut, whitening=0, smoothing=0, face_lifting=100, eye_enlarging=100)
    rgba = cv2.imdecode(np.frombuffer(out.data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert rgba.shape[2] == 4 and len(out.faces) == 1
    black_opaque = (rgba[..., :3].max(axis=2) == 0) & (rgba[..., 3] > 128)
    assert black_opaque.sum() == 0


def _edge_inputs() -> dict[str, bytes]:
    import io

    from PIL import Image
    h = hopper()

    def pil(img, fmt: str, **kw) -> bytes:
        buf = io.BytesIO()
        img.save(buf, fmt, **kw)
        return buf.getvalue()
    rotated = Image.fromarray(np.ascontiguousarray(np.rot90(h)))
    exif = rotated.getexif()
    exif[0x0112] = 6                        # stored turned: upright after rotating 90 degrees clockwise
    return {"grey-jpeg": pil(Image.fromarray(h).convert("L"), "JPEG"),
            "png16": cv2.imencode(".png", cv2.cvtColor(h, cv2.COLOR_RGB2BGR).astype(np.uint16) * 257)[1].tobytes(),
            "bmp": pil(Image.fromarray(h), "BMP"),
            "rgba-png": pil(Image.fromarray(np.dstack([h, np.full(h.shape[:2], 200, np.uint8)])), "PNG"),
            "exif-jpeg": pil(rotated, "JPEG", exif=exif, quality=95)}


@pytest.mark.parametrize("name", ["grey-jpeg", "png16", "bmp", "rgba-png", "exif-jpeg"])
def test_edge_inputs(name, photo):
    """Grey, 16-bit, BMP, alpha and EXIF-rotated inputs: beautify keeps what the codec keeps;
    segmentation answers an upright 8-bit RGBA PNG whose mask matches the plain photo's."""
    data = _edge_inputs()[name]
    out = imaging.face_effect(data)
    img = cv2.imdecode(np.frombuffer(out.data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert len(out.faces) == 1 and (out.width, out.height) == (512, 600)
    expected = {"grey-jpeg": ((600, 512), np.uint8), "png16": ((600, 512, 3), np.uint16),
                "bmp": ((600, 512, 3), np.uint8), "rgba-png": ((600, 512, 4), np.uint8),
                "exif-jpeg": ((600, 512, 3), np.uint8)}[name]
    assert (img.shape, img.dtype) == expected
    plain = cv2.imdecode(np.frombuffer(imaging.face_effect(photo, "face-segmentation").mask, np.uint8), 0)
    seg = imaging.face_effect(data, "face-segmentation")
    cut = cv2.imdecode(np.frombuffer(seg.data, np.uint8), cv2.IMREAD_UNCHANGED)
    mask = cv2.imdecode(np.frombuffer(seg.mask, np.uint8), 0)
    assert cut.shape == (600, 512, 4) and cut.dtype == np.uint8
    scale = 200 / 255 if name == "rgba-png" else 1.0       # the source's own alpha multiplies in
    agree = np.abs(mask.astype(float) - plain * scale) < 64
    assert agree.mean() > 0.97


def test_parse_params_fuzz():
    """Any text in any parameter: a valid spec or InvalidParameter/EffectNotImplemented, nothing else;
    a level is accepted exactly when it is 1-3 ASCII digits with a value in [0, 100]."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    names = st.sampled_from(["type", "whitening", "smoothing", "faceLifting", "eyeEnlarging", "gender", "age"])
    values = st.one_of(st.text(max_size=6), st.integers(-5, 1000).map(str),
                       st.sampled_from(list(face_effects.TYPES)))

    @settings(max_examples=400, deadline=None)
    @given(st.dictionaries(names, values, max_size=7))
    def check(params):
        try:
            spec = face_effects.parse_params(params)
        except (InvalidParameter, face_effects.EffectNotImplemented):
            return
        assert spec.type in (face_effects.BEAUTIFY, face_effects.SEGMENTATION)
        for name in face_effects.LEVELS:
            if name in params:
                raw = params[name]
                assert raw.isascii() and raw.isdigit() and len(raw) <= 3 and 0 <= int(raw) <= 100
    check()
