"""Modes kept by the write-back (issue #12, point 5: "PNG/WebP/TIFF keep their mode where the
format allows"), found by round 15's independent check:

* a CMYK TIFF came back as an RGB TIFF (its CMYK profile dropped): it now stays CMYK with its
  profile and compression, its ink unchanged wherever the retouch changed nothing (K kept where
  it can be, as in the CMYK JPEG splice);
* a palette PNG with 64 colours came back with a 256-entry palette: the palette now keeps its
  size (changed pixels get the nearest of its own entries).
"""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from cosbeauty.imaging import beautify, codec
from tests.imaging.test_lossless import photo

ICC_CMYK = b"\x00\x00\x02\x0cfake-cmyk-profile-for-the-test" + bytes(200)


def scene() -> np.ndarray:
    """Grace Hopper (face ~200 px) on a 1200x900 textured canvas (test_lossless.py's photo)."""
    return photo()


def save(im: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **options)
    return out.getvalue()


def test_cmyk_tiff_round_trip_is_identical():
    cmyk = Image.fromarray(scene()).convert("CMYK")
    src = save(cmyk, "TIFF", compression="tiff_lzw", icc_profile=ICC_CMYK)
    out = Image.open(io.BytesIO(codec.encode(codec.decode(src))))
    assert out.mode == "CMYK" and out.info.get("compression") == "tiff_lzw"
    assert out.info.get("icc_profile") == ICC_CMYK
    assert np.array_equal(np.asarray(out), np.asarray(cmyk))


def test_cmyk_tiff_retouched_stays_cmyk_and_keeps_the_ink_outside():
    cmyk = Image.fromarray(scene()).convert("CMYK")
    planes = np.asarray(cmyk).copy()
    planes[..., 3] = np.minimum(planes[..., 3] + 40, 255)        # real K under the picture
    cmyk = Image.fromarray(planes, "CMYK")
    src = save(cmyk, "TIFF", compression="tiff_adobe_deflate", icc_profile=ICC_CMYK)
    result = beautify(src, 0.8)
    assert len(result.faces) == 1
    out = Image.open(io.BytesIO(result.data))
    assert out.format == "TIFF" and out.mode == "CMYK" and out.info.get("icc_profile") == ICC_CMYK
    got = np.asarray(out)
    before_rgb = np.asarray(cmyk.convert("RGB"))
    after_rgb = np.asarray(out.convert("RGB"))
    changed = np.any(before_rgb != after_rgb, axis=2)
    assert 0.001 < changed.mean() < 0.2                          # the face, not the frame
    same = ~changed
    assert np.array_equal(got[same], planes[same])                # ink kept bit for bit outside
    box = result.faces[0]
    outside = np.ones(changed.shape, bool)
    outside[max(0, box.y - box.height):box.y + 2 * box.height, max(0, box.x - box.width):box.x + 2 * box.width] = False
    assert not changed[outside].any()


def test_palette_png_keeps_its_palette_size():
    im = Image.fromarray(scene()).quantize(64, dither=Image.Dither.NONE)
    src = save(im, "PNG")
    decoded = codec.decode(src)
    rgb = decoded.rgb.copy()
    rgb[10:20, 10:20] = (255, 0, 255)                            # a colour the palette lacks
    out = Image.open(io.BytesIO(codec.encode(decoded, rgb)))
    assert out.mode == "P"
    assert len(out.getpalette()) == len(im.getpalette()) == 64 * 3
    assert out.getpalette() == im.getpalette()
    want = np.asarray(im).copy()
    got = np.asarray(out)
    assert np.array_equal(got[20:], want[20:]) and (got[10:20, 10:20] < 64).all()


def cv_jpeg(rgb: np.ndarray, sampling: int) -> bytes:
    return cv2.imencode(".jpg", np.ascontiguousarray(rgb[:, :, ::-1]),
                        [cv2.IMWRITE_JPEG_QUALITY, 90, cv2.IMWRITE_JPEG_SAMPLING_FACTOR, sampling])[1].tobytes()


def sampling_of(data: bytes) -> list[tuple[int, int]]:
    return [(h, v) for _, h, v, _ in Image.open(io.BytesIO(data)).layer]


@pytest.mark.parametrize("sampling,factors", [(cv2.IMWRITE_JPEG_SAMPLING_FACTOR_440, (1, 2)),
                                              (cv2.IMWRITE_JPEG_SAMPLING_FACTOR_411, (4, 1))])
def test_jpeg_with_4_4_0_or_4_1_1_sampling_is_retouched_not_a_crash(sampling, factors):
    """A 4:2:2 camera JPEG turned by ``jpegtran -rotate 90`` is 4:4:0; 4:1:1 comes from some
    cameras and cjpeg. Both raised KeyError in the coefficient splice (round 15's independent
    check: a 500 through the API). Pillow's encoder cannot write those samplings with the
    source's tables, so they are re-encoded, keeping the sampling (docs/faces.md)."""
    src = cv_jpeg(scene(), sampling)
    assert sampling_of(src)[0] == factors
    result = beautify(src, 0.5)
    assert len(result.faces) == 1 and result.format == "JPEG"
    assert sampling_of(result.data)[0] == factors
