"""Lossless outside the retouch (issue #12, point 5).

JPEG in, JPEG out: only the MCUs in which the retouch changed a pixel get new DCT coefficients
(libjpeg-turbo's transformer with a coefficient filter, imaging/jpeg_lossless.py); decoding
input and output gives bit-identical pixels outside those MCUs (+ one MCU for the decoder's
chroma upsampling). Quantisation tables, sampling, progressive mode and the APPn/COM markers
(EXIF, ICC, COM) are kept. The old path (decode + re-encode) changed 12-70 % of the pixels.
Other formats: lossless PNG/TIFF/WebP-lossless change nothing outside either; modes kept
(grey, alpha, 16-bit, palette; a CMYK TIFF stays CMYK: test_codec_modes.py).
"""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from cosbeauty.imaging import beautify, codec, jpeg_lossless
from tests.imaging import corpus

pytestmark = pytest.mark.skipif(not jpeg_lossless.available(), reason="libturbojpeg0 not installed")

ICC = b"\x00\x00\x02\x0cfake-icc-profile-for-the-test" + bytes(200)


def photo() -> np.ndarray:
    """Grace Hopper on a 1200x900 textured canvas (face ~200 px): most of the frame is not face."""
    rng = np.random.default_rng(5)
    canvas = cv2.GaussianBlur(rng.integers(0, 256, (900, 1200, 3), dtype=np.uint8), (0, 0), 1.5)
    canvas[150:750, 300:812] = corpus.hopper()
    return canvas


def save_jpeg(rgb: np.ndarray, **options) -> bytes:
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "cosbeauty-test"
    Image.fromarray(rgb).save(out, "JPEG", exif=exif.tobytes(), icc_profile=ICC, comment=b"kept?", **options)
    return out.getvalue()


def outside_mask(before: np.ndarray, after: np.ndarray, mcu: tuple[int, int]) -> np.ndarray:
    """Pixels outside the changed MCUs dilated by one MCU."""
    changed = jpeg_lossless.changed_mcus(before, after, mcu).astype(np.uint8)
    grown = cv2.dilate(changed, np.ones((3, 3), np.uint8)).astype(bool)
    full = np.kron(grown, np.ones((mcu[1], mcu[0]), bool))[:before.shape[0], :before.shape[1]]
    return ~full


JPEGS = {
    "baseline-420": {"quality": 90},
    "baseline-444": {"quality": 92, "subsampling": 0},
    "baseline-422": {"quality": 85, "subsampling": 1},
    "progressive-420": {"quality": 90, "progressive": True},
    "grey": {"quality": 90, "grey": True},
}


@pytest.mark.parametrize("name", list(JPEGS))
def test_jpeg_outside_the_retouch_is_bit_identical(name):
    options = dict(JPEGS[name])
    rgb = photo()
    if options.pop("grey", False):
        rgb = np.ascontiguousarray(np.repeat(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)[:, :, None], 3, axis=2))
        out = io.BytesIO()
        Image.fromarray(rgb[:, :, 0]).save(out, "JPEG", icc_profile=None, comment=b"kept?", **options)
        data = out.getvalue()
    else:
        data = save_jpeg(rgb, **options)
    result = beautify(data, 1.0)
    assert len(result.faces) == 1
    src, dst = Image.open(io.BytesIO(data)), Image.open(io.BytesIO(result.data))
    assert dst.quantization == src.quantization
    assert dst.layer == src.layer                                           # sampling
    assert bool(dst.info.get("progressive")) == bool(src.info.get("progressive"))
    for key in ("exif", "icc_profile", "comment"):
        assert dst.info.get(key) == src.info.get(key), key
    before, after = codec.decode(data).rgb, codec.decode(result.data).rgb
    mcu = (8 * max(h for _, h, _, _ in src.layer), 8 * max(v for _, _, v, _ in src.layer))
    outside = outside_mask(before, after, mcu)
    changed_outside = int(np.any(before != after, axis=2)[outside].sum())
    changed = int(np.any(before != after, axis=2).sum())
    print(name, "changed px", changed, "of", before.shape[0] * before.shape[1], "outside boxes", changed_outside)
    assert changed_outside == 0
    assert 0 < changed < 0.1 * before.shape[0] * before.shape[1]
    x, y, w, h = result.faces[0].x, result.faces[0].y, result.faces[0].width, result.faces[0].height
    assert np.any(before[y:y + h, x:x + w] != after[y:y + h, x:x + w])       # the face was retouched


def test_jpeg_with_restart_markers_and_no_face_keeps_its_bytes():
    rgb = photo()
    rgb[150:750, 300:812] = 120                      # no face: the input bytes come back
    data = cv2.imencode(".jpg", rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90,
                                                  cv2.IMWRITE_JPEG_RST_INTERVAL, 4])[1].tobytes()
    assert beautify(data, 1.0).data == data


STORED = {3: lambda a: a[::-1, ::-1], 5: lambda a: a.swapaxes(0, 1), 6: lambda a: a[:, ::-1].swapaxes(0, 1),
          8: lambda a: a[::-1].swapaxes(0, 1)}       # upright -> stored for EXIF orientation o


@pytest.mark.parametrize("orientation", sorted(STORED))
def test_exif_rotated_jpeg_keeps_its_orientation_and_untouched_blocks(orientation):
    """A JPEG stored turned, with an EXIF orientation: the splice works in the stored frame, so
    the output keeps the orientation tag, the tables and every untouched block (the re-encode
    path wrote it upright with orientation 1, changing every pixel)."""
    upright = photo()
    stored = np.ascontiguousarray(STORED[orientation](upright))
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    Image.fromarray(stored).save(out, "JPEG", quality=90, exif=exif.tobytes(), icc_profile=ICC)
    data = out.getvalue()
    assert codec.decode(data).rgb.shape == upright.shape            # decoded upright
    result = beautify(data, 1.0)
    assert len(result.faces) == 1
    src, dst = Image.open(io.BytesIO(data)), Image.open(io.BytesIO(result.data))
    assert dst.info.get("exif") == src.info.get("exif") and dst.getexif()[0x0112] == orientation
    assert dst.quantization == src.quantization and dst.size == src.size
    a, b = np.asarray(src), np.asarray(dst)                          # stored pixels
    outside = outside_mask(a, b, (16, 16))
    assert int(np.any(a != b, axis=2)[outside].sum()) == 0
    assert 0 < jpeg_lossless.changed_mcus(a, b, (16, 16)).mean() < 0.1


@pytest.mark.parametrize("orientation", range(1, 9))
def test_stored_view_and_box_invert_the_decoders_orientation(orientation):
    rng = np.random.default_rng(orientation)
    stored = rng.integers(0, 255, (37, 53, 3), dtype=np.uint8)
    upright = codec._orient(stored, orientation)
    assert np.array_equal(jpeg_lossless.stored_view(upright, orientation), stored)
    h, w = upright.shape[:2]
    for _ in range(5):
        x0, y0 = int(rng.integers(0, w - 1)), int(rng.integers(0, h - 1))
        x1, y1 = int(rng.integers(x0 + 1, w + 1)), int(rng.integers(y0 + 1, h + 1))
        sx0, sy0, sx1, sy1 = jpeg_lossless.stored_box((x0, y0, x1, y1), orientation, w, h)
        assert np.array_equal(jpeg_lossless.stored_view(upright[y0:y1, x0:x1], orientation),
                              stored[sy0:sy1, sx0:sx1])


def test_explicit_quality_takes_the_reencode_path():
    """quality= asks for a re-encode (new tables)."""
    data = save_jpeg(photo(), quality=90)
    out = beautify(data, 0.5, quality=80)
    assert Image.open(io.BytesIO(out.data)).quantization != Image.open(io.BytesIO(data)).quantization


@pytest.mark.parametrize("fmt,mode", [("PNG", "RGB"), ("PNG", "RGBA"), ("PNG", "L"), ("PNG", "I;16"),
                                      ("TIFF", "RGB"), ("WEBP", "RGB-lossless"), ("PNG", "P")])
def test_lossless_formats_change_nothing_outside_and_keep_their_mode(fmt, mode):
    rgb = photo()
    if mode == "RGBA":
        im = Image.fromarray(np.dstack([rgb, np.full(rgb.shape[:2], 200, np.uint8)]))
    elif mode == "L":
        im = Image.fromarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    elif mode == "I;16":
        im = Image.fromarray((cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.uint16) * 257))
    elif mode == "P":
        im = Image.fromarray(rgb).quantize(256)
    else:
        im = Image.fromarray(rgb)
    out = io.BytesIO()
    im.save(out, fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    data = out.getvalue()
    result = beautify(data, 1.0)
    assert len(result.faces) == 1
    src, dst = Image.open(io.BytesIO(data)), Image.open(io.BytesIO(result.data))
    expected_mode = src.mode                              # palette stays palette (own palette)
    assert dst.mode == expected_mode and dst.format == fmt
    a = np.asarray(src.convert("RGBA" if "A" in src.mode else "RGB")).astype(np.int32)
    b = np.asarray(dst.convert("RGBA" if "A" in src.mode else "RGB")).astype(np.int32)
    diff = np.any(a != b, axis=2)
    x, y, w, h = result.faces[0].x, result.faces[0].y, result.faces[0].width, result.faces[0].height
    m = max(w, h)
    diff[max(0, y - m):y + h + m, max(0, x - m):x + w + m] = False      # the face and its margin
    assert int(diff.sum()) == 0


def test_cmyk_jpeg_stays_cmyk_with_its_profile_and_untouched_blocks():
    """An Adobe CMYK JPEG comes back CMYK with its ICC profile; outside the retouched MCUs its
    four planes decode bit-identically; inside, the retouch is there (RGB within JPEG error of
    the array pipeline's result). The old path returned an RGB JPEG (62 levels off on 89 %)."""
    from cosbeauty.imaging import beautify_array, detect_faces

    out = io.BytesIO()
    Image.fromarray(photo()).convert("CMYK").save(out, "JPEG", quality=90, icc_profile=ICC)
    data = out.getvalue()
    result = beautify(data, 1.0)
    assert len(result.faces) == 1
    src, dst = Image.open(io.BytesIO(data)), Image.open(io.BytesIO(result.data))
    assert dst.mode == "CMYK" and dst.info.get("icc_profile") == ICC
    assert dst.quantization == src.quantization and dst.layer == src.layer
    a, b = np.asarray(src).astype(np.int16), np.asarray(dst).astype(np.int16)
    changed = jpeg_lossless.changed_mcus(a, b, (8, 8))
    assert 0 < changed.mean() < 0.1
    decoded = codec.decode(data).rgb
    expected, _ = beautify_array(decoded, 1.0, faces=detect_faces(decoded))
    got = np.asarray(dst.convert("RGB")).astype(np.int16)
    assert np.percentile(np.abs(got - expected), 99.9) <= 4


def sof_marker(jpeg: bytes) -> int:
    pos = 2
    while pos + 4 <= len(jpeg) and jpeg[pos] == 0xFF:
        code = jpeg[pos + 1]
        if 0xC0 <= code <= 0xCF and code not in (0xC4, 0xC8, 0xCC):
            return code
        pos += 2 + int.from_bytes(jpeg[pos + 2:pos + 4], "big")
    return 0


@pytest.mark.parametrize("progressive", [False, True])
def test_arithmetic_coded_jpeg_stays_arithmetic_with_untouched_blocks(progressive):
    """An arithmetic-coded source (SOF9/SOF10, made with libjpeg-turbo's jpegtran) is spliced
    like any other and comes back arithmetic-coded (TurboJPEG's transformer writes Huffman; the
    output goes through ``jpegtran -arithmetic``, lossless); untouched blocks decode identically."""
    import shutil
    import subprocess

    if shutil.which("jpegtran") is None:
        pytest.skip("jpegtran (libjpeg-turbo-progs) not installed")
    args = ["jpegtran", "-copy", "all", "-arithmetic"] + (["-progressive"] if progressive else [])
    data = subprocess.run(args, input=save_jpeg(photo(), quality=90), capture_output=True, check=True).stdout
    assert sof_marker(data) == (0xCA if progressive else 0xC9)
    result = beautify(data, 1.0)
    assert len(result.faces) == 1
    assert sof_marker(result.data) == sof_marker(data)
    before, after = codec.decode(data).rgb, codec.decode(result.data).rgb
    assert int(np.any(before != after, axis=2)[outside_mask(before, after, (16, 16))].sum()) == 0
    assert np.any(before != after)


def test_restart_markers_kept():
    """A source with a restart interval (DRI, RSTn markers) keeps it: TurboJPEG's transformer
    drops it, so the splice output goes through ``jpegtran -restart`` (libjpeg-turbo-progs)."""
    import shutil

    if shutil.which("jpegtran") is None:
        pytest.skip("jpegtran (libjpeg-turbo-progs) not installed")
    data = cv2.imencode(".jpg", photo()[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90,
                                                      cv2.IMWRITE_JPEG_RST_INTERVAL, 4])[1].tobytes()
    assert jpeg_lossless.restart_interval(data) == 4
    result = beautify(data, 1.0)
    assert len(result.faces) == 1
    assert jpeg_lossless.restart_interval(result.data) == 4
    assert sum(result.data.count(bytes((0xFF, 0xD0 + i))) for i in range(8)) > 100
    before, after = codec.decode(data).rgb, codec.decode(result.data).rgb
    assert int(np.any(before != after, axis=2)[outside_mask(before, after, (16, 16))].sum()) == 0
