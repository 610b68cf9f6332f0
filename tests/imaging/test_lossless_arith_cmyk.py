"""Arithmetic-coded four-component JPEGs (issue #12, point 5): decoded, beautified and spliced
losslessly like the Huffman-coded ones, and written back arithmetic-coded, CMYK, with their
profile.

Pillow 13 cannot decode any of them past its first input buffer ("broken data stream": its
suspending data source and libjpeg's arithmetic decoder); TurboJPEG 2.1 decodes the layouts its
API knows (YCCK and CMYK sampled alike), and libjpeg-turbo 3.2 as pyjpegio bundles it decodes
the rest (CMYK with only its first component subsampled). The test files are the Huffman-coded
ones of ``test_lossless_cmyk`` re-coded by libjpeg's own coefficient I/O (pyjpegio, pure Python
here: the same coefficients, so the same pixels).
"""

from __future__ import annotations

import io
import os
import tempfile

import numpy as np
import pytest
from PIL import Image

from cosbeauty.imaging import beautify, codec, jpeg_lossless
from tests.imaging.test_lossless_cmyk import ICC, c_only_variant, make, mcu_of, outside_mask

pytestmark = [pytest.mark.skipif(not jpeg_lossless.available(), reason="libturbojpeg0 not installed"),
              pytest.mark.skipif(not jpeg_lossless._jpegio_available(), reason="pyjpegio not installed")]

ARITHMETIC_SOF = (0xC9, 0xCA)


def arithmetic(data: bytes) -> bytes:
    """``data`` with its coefficients re-coded arithmetically (libjpeg, through pyjpegio)."""
    import jpegio

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "in.jpg"), os.path.join(tmp, "out.jpg")
        with open(src, "wb") as f:
            f.write(data)
        jpeg = jpegio.read(src)
        jpeg.arith_code = 1
        jpeg.optimize_coding = False
        jpeg.write(dst)
        with open(dst, "rb") as f:
            out = f.read()
    assert jpeg_lossless.sof_marker(out) in ARITHMETIC_SOF
    return out


def ink(data: bytes) -> np.ndarray:
    """The four planes libjpeg-turbo 3.2 (pyjpegio) decodes, Pillow's convention (255 = full ink)."""
    import jpegio

    with tempfile.NamedTemporaryFile(suffix=".jpg") as f:
        f.write(data)
        f.flush()
        planes = jpegio.read(f.name, read_spatial=True).spatial_arrays
    assert len(planes) == 4
    return 255 - np.stack(planes, axis=-1).astype(np.uint8)


SOURCES = {
    "c-only-420": lambda: c_only_variant("baseline", 2),
    "c-only-422": lambda: c_only_variant("baseline", 1),
    "c-only-progressive": lambda: c_only_variant("progressive", 2),
    "c-only-restart": lambda: c_only_variant("restart", 2),
    "ycck-420": lambda: make("ycck-420"),
    "cmyk-444": lambda: make("cmyk-444"),
}


@pytest.mark.parametrize("kind", list(SOURCES))
def test_arithmetic_cmyk_decodes_like_its_huffman_twin(kind):
    huffman = SOURCES[kind]()
    data = arithmetic(huffman)
    with pytest.raises(OSError, match="broken data stream"):
        Image.open(io.BytesIO(data)).load()                 # why the codec needs another decoder
    want = codec.decode(huffman, keep_cmyk=True)
    for keep in (True, False):
        got = codec.decode(data, keep_cmyk=keep)
        assert got.info.mode == "CMYK" and got.rgb.shape == want.rgb.shape
        assert np.array_equal(got.rgb, want.rgb)
        if keep:
            assert np.array_equal(got.extra["cmyk"], want.extra["cmyk"])
    assert np.array_equal(ink(data), np.asarray(Image.open(io.BytesIO(huffman))))


@pytest.mark.parametrize("kind", list(SOURCES))
def test_arithmetic_cmyk_is_spliced_and_stays_arithmetic(kind):
    """Beautified (it was refused as a corrupt image for the C-only layouts), spliced: the
    output is arithmetic-coded CMYK with the source's sampling, tables, Adobe transform,
    progressive mode, restart interval, profile and comment; its decoded planes equal the
    source's outside the changed MCUs (+ one MCU of upsampling reach)."""
    huffman = SOURCES[kind]()
    data = arithmetic(huffman)
    result = beautify(data, 1.0)
    assert len(result.faces) == 1
    out = result.data
    assert out != data
    assert jpeg_lossless.sof_marker(out) == jpeg_lossless.sof_marker(data)
    assert jpeg_lossless.restart_interval(out) == jpeg_lossless.restart_interval(data)
    src, dst = Image.open(io.BytesIO(data)), Image.open(io.BytesIO(out))
    assert dst.mode == "CMYK" and dst.size == src.size
    assert dst.layer == src.layer and dst.quantization == src.quantization
    assert dst.info.get("adobe_transform") == src.info.get("adobe_transform")
    assert dst.info.get("icc_profile") == ICC and dst.info.get("comment") == b"kept?"
    a, b = ink(data).astype(np.int16), ink(out).astype(np.int16)
    mcu = mcu_of(src)
    changed = jpeg_lossless.changed_mcus(a, b, mcu)
    assert 0 < changed.mean() < 0.1
    outside = outside_mask(changed, mcu, a.shape)
    assert int(np.any(a != b, axis=2)[outside].sum()) == 0
    # the same retouch as the Huffman-coded twin's (same pixels in, same new blocks)
    twin = beautify(huffman, 1.0)
    assert [f.__dict__ for f in twin.faces] == [f.__dict__ for f in result.faces]
    assert np.array_equal(ink(out), np.asarray(Image.open(io.BytesIO(twin.data))))


def test_arithmetic_cmyk_other_output_is_re_encoded():
    """Asked for PNG (or a quality): decoded through the fallback and re-encoded as asked."""
    data = arithmetic(c_only_variant("baseline", 2))
    result = beautify(data, 1.0, format="png")
    assert result.format == "PNG" and len(result.faces) == 1
    assert Image.open(io.BytesIO(result.data)).size == (1200, 900)


def test_truncated_arithmetic_cmyk_is_corrupt():
    from cosbeauty.imaging.errors import CorruptImage

    data = arithmetic(c_only_variant("baseline", 2))
    with pytest.raises(CorruptImage):
        codec.decode(data[: len(data) // 2], keep_cmyk=True)


@pytest.mark.parametrize("kind", ["rgb", "c-only-420", "ycck-420"])
def test_image_info_of_arithmetic_jpeg(kind):
    """COS imageInfo's average colour: Pillow's DCT-scaled draft decode fails on arithmetic
    coding past its first buffer too (RGB included); the average then comes from the codec's
    decode, within 2 levels of the Huffman-coded twin's draft average."""
    import cv2
    from skimage import data as skdata

    if kind == "rgb":
        out = io.BytesIO()
        Image.fromarray(cv2.resize(skdata.astronaut(), (1600, 1200))).save(out, "JPEG", quality=90)
        huffman = out.getvalue()
    else:
        huffman = SOURCES[kind]()
    data = arithmetic(huffman)
    got, want = codec.image_info(data), codec.image_info(huffman)
    assert (got.width, got.height, got.format) == (want.width, want.height, want.format)
    def rgb(ave: str) -> np.ndarray:
        return np.array([int(ave[i:i + 2], 16) for i in (2, 4, 6)])

    assert np.abs(rgb(got.ave) - rgb(want.ave)).max() <= 2, (got.ave, want.ave)
