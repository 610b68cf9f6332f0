"""Codec contract: formats, orientation, metadata, alpha/grey/16-bit, limits and error classes."""

from __future__ import annotations

import io
import struct
import time
import tracemalloc
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image, ImageCms, ImageOps
from skimage import data as skdata

from cosbeauty.imaging import codec
from cosbeauty.imaging.codec import Limits, decode, encode, image_info, probe
from cosbeauty.imaging.errors import CorruptImage, ImageTooLarge, InvalidParameter, UnsupportedFormat

ALPHA_FORMATS = ("PNG", "WEBP", "TIFF")


def save(im: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **options)
    return out.getvalue()


def reopen(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    """A non-square crop so width/height swaps are visible."""
    return np.ascontiguousarray(skdata.astronaut()[:384, :256])


@pytest.fixture(scope="module")
def alpha_plane(photo) -> np.ndarray:
    h, w = photo.shape[:2]
    return ((np.arange(h)[:, None] * 3 + np.arange(w)[None, :] * 5) % 256).astype(np.uint8)


@pytest.fixture(scope="module")
def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def with_exif(photo: np.ndarray, orientation: int) -> Image.Image:
    im = Image.fromarray(photo)
    exif = im.getexif()
    exif[0x0112] = orientation
    exif[0x010F] = "TestMake"
    exif[0x0131] = "cosbeauty-tests"
    im.info["exif"] = exif.tobytes()
    return im


# ----------------------------------------------------------------------------- round-trips


@pytest.mark.parametrize("fmt", codec.FORMATS)
def test_rgb_round_trip_keeps_format_size_and_pixels(photo, fmt):
    src = save(Image.fromarray(photo), fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    decoded = decode(src)
    assert decoded.rgb.shape == photo.shape and decoded.rgb.dtype == np.uint8
    assert decoded.alpha is None and not decoded.grey
    assert (decoded.info.format, decoded.info.width, decoded.info.height) == (fmt, 256, 384)
    out = reopen(encode(decoded))
    assert (out.format, out.mode, out.size) == (fmt, "RGB", (256, 384))
    tolerance = 3.0 if fmt == "JPEG" else 0.0
    assert np.abs(np.asarray(out, dtype=float) - decoded.rgb).mean() <= tolerance


@pytest.mark.parametrize("fmt", ALPHA_FORMATS)
def test_alpha_is_byte_identical(photo, alpha_plane, fmt):
    rgba = np.dstack([photo, alpha_plane])
    src = save(Image.fromarray(rgba), fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    decoded = decode(src)
    assert np.array_equal(decoded.alpha, alpha_plane)
    out = reopen(encode(decoded))
    assert out.mode == "RGBA"
    assert np.array_equal(np.asarray(out)[:, :, 3], alpha_plane)


def test_lossy_webp_alpha_kept_and_rgb_close(photo, alpha_plane):
    decoded = decode(save(Image.fromarray(np.dstack([photo, alpha_plane])), "WEBP", quality=90))
    out = decode(encode(decoded))
    assert np.array_equal(out.alpha, decoded.alpha)


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_grey_alpha_stays_grey_alpha(photo, alpha_plane, fmt):
    la = np.dstack([photo[:, :, 1], alpha_plane])
    decoded = decode(save(Image.fromarray(la, "LA"), fmt))
    assert decoded.grey and np.array_equal(decoded.alpha, alpha_plane)
    assert np.array_equal(decoded.rgb[:, :, 0], decoded.rgb[:, :, 2])
    out = reopen(encode(decoded))
    assert out.mode == "LA" and np.array_equal(np.asarray(out), la)


def test_palette_with_transparency_decodes_rgba_and_stays_palette(photo):
    im = Image.fromarray(photo).quantize(64)
    im.info["transparency"] = 0
    decoded = decode(save(im, "PNG", transparency=0))
    expected = np.asarray(im.convert("RGBA"))
    assert np.array_equal(decoded.rgb, expected[:, :, :3])
    assert np.array_equal(decoded.alpha, expected[:, :, 3])
    out = reopen(encode(decoded))
    assert out.mode == "P" and np.array_equal(np.asarray(out.convert("RGBA")), expected)


def test_palette_without_transparency_decodes_rgb_and_stays_palette(photo):
    im = Image.fromarray(photo).quantize(64)
    decoded = decode(save(im, "PNG"))
    assert decoded.alpha is None and np.array_equal(decoded.rgb, np.asarray(im.convert("RGB")))
    changed = decoded.rgb.copy()
    changed[10:20, 10:20] = (255, 0, 255)           # a colour the palette lacks: nearest entry
    out = reopen(encode(decoded, changed))
    assert out.mode == "P" and np.array_equal(out.getpalette()[:192], im.getpalette()[:192])
    got = np.asarray(out.convert("RGB"))
    assert np.array_equal(got[20:], decoded.rgb[20:])          # untouched pixels: same colours
    assert not np.array_equal(got[10:20, 10:20], decoded.rgb[10:20, 10:20])


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "BMP", "TIFF"])
def test_grey_stays_single_channel(photo, fmt):
    grey = photo[:, :, 1]
    decoded = decode(save(Image.fromarray(grey), fmt))
    assert decoded.grey and decoded.rgb.shape == (384, 256, 3)
    assert np.array_equal(decoded.rgb[:, :, 0], decoded.rgb[:, :, 1])
    out = reopen(encode(decoded))
    assert out.mode == "L"
    if fmt != "JPEG":
        assert np.array_equal(np.asarray(out), grey)


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_16bit_grey_stays_16bit(photo, fmt):
    grey16 = photo[:, :, 0].astype(np.uint16) * 257 + 3
    decoded = decode(save(Image.fromarray(grey16), fmt))
    assert decoded.grey and decoded.rgb.dtype == np.uint16
    assert np.array_equal(decoded.rgb[:, :, 0], grey16)
    out = reopen(encode(decoded))
    assert out.mode.startswith("I;16") and np.array_equal(np.asarray(out).astype(np.uint16), grey16)


@pytest.mark.parametrize("ext", [".png", ".tiff"])
def test_16bit_colour_stays_16bit(photo, ext):
    rgb16 = photo.astype(np.uint16) * 257 + 1
    ok, buf = cv2.imencode(ext, cv2.cvtColor(rgb16, cv2.COLOR_RGB2BGR))
    decoded = decode(buf.tobytes())
    assert decoded.rgb.dtype == np.uint16 and np.array_equal(decoded.rgb, rgb16)
    back = cv2.imdecode(np.frombuffer(encode(decoded), np.uint8), cv2.IMREAD_UNCHANGED)
    assert back.dtype == np.uint16 and np.array_equal(cv2.cvtColor(back, cv2.COLOR_BGR2RGB), rgb16)


def test_16bit_to_8bit_format_rounds(photo):
    rgb16 = photo.astype(np.uint16) * 257
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb16, cv2.COLOR_RGB2BGR))
    out = reopen(encode(decode(buf.tobytes()), format="bmp"))
    assert np.array_equal(np.asarray(out), photo)


def test_cmyk_jpeg_is_converted_to_rgb(photo):
    src = save(Image.fromarray(photo).convert("CMYK"), "JPEG", quality=95)
    decoded = decode(src)
    assert decoded.info.mode == "CMYK" and decoded.rgb.shape == photo.shape and not decoded.grey
    assert np.abs(decoded.rgb.astype(float) - photo).mean() < 4
    assert reopen(encode(decoded)).mode == "RGB"


def test_cmyk_to_rgb_is_pillows_conversion_for_every_value():
    """codec.cmyk_to_rgb (OpenCV, used when the planes are kept) equals Pillow's CMYK -> RGB for
    every (ink, K) pair: the same rgb whichever decode path ran."""
    ink, k = np.meshgrid(np.arange(256, dtype=np.uint8), np.arange(256, dtype=np.uint8))
    cmyk = np.dstack([ink, ink[:, ::-1], ink.T, k])
    want = np.asarray(Image.fromarray(cmyk, "CMYK").convert("RGB"))
    assert np.array_equal(codec.cmyk_to_rgb(cmyk), want)
    assert np.array_equal(codec.ink_to_rgb(255 - cmyk), want)      # from libjpeg's inverted planes


@pytest.mark.parametrize("orientation", [1, 6])
def test_cmyk_jpeg_planes_kept_on_request(photo, orientation):
    """decode(keep_cmyk=True) keeps a CMYK JPEG's decoded planes in the stored frame (for the
    coefficient splice) and gives the same rgb as a plain decode; a plain decode keeps none."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    src = save(Image.fromarray(photo).convert("CMYK"), "JPEG", quality=95, exif=exif.tobytes())
    plain, kept = decode(src), decode(src, keep_cmyk=True)
    assert "cmyk" not in plain.extra
    assert np.array_equal(kept.extra["cmyk"], np.asarray(reopen(src)))
    assert kept.extra["cmyk"].shape == (384, 256, 4)
    assert np.array_equal(kept.rgb, plain.rgb) and kept.rgb.shape == ((256, 384, 3) if orientation == 6 else (384, 256, 3))
    assert plain.extra.keys() == kept.extra.keys() - {"cmyk"}
    assert "cmyk" not in decode(save(Image.fromarray(photo), "JPEG"), keep_cmyk=True).extra


def test_animated_webp_keeps_first_frame(photo):
    frames = [Image.fromarray(photo), Image.fromarray(255 - photo)]
    src = save(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    decoded = decode(src)
    assert decoded.extra["frames"] == 2 and np.array_equal(decoded.rgb, photo)


# ----------------------------------------------------------------------------- orientation and metadata


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_exif_orientation_applied_and_reset(photo, orientation, fmt):
    im = with_exif(photo, orientation)
    src = save(im, fmt, exif=im.info["exif"], **({"quality": 95} if fmt == "JPEG" else {}))
    expected = np.asarray(ImageOps.exif_transpose(reopen(src)).convert("RGB"))
    decoded = decode(src)
    assert decoded.info.orientation == orientation
    assert (decoded.info.height, decoded.info.width) == expected.shape[:2] == decoded.rgb.shape[:2]
    assert np.array_equal(decoded.rgb, expected) if fmt == "PNG" else \
        np.abs(decoded.rgb.astype(int) - expected).mean() < 1.0
    out = reopen(encode(decoded))
    exif = out.getexif()
    assert exif[0x0112] == 1 and exif[0x010F] == "TestMake" and exif[0x0131] == "cosbeauty-tests"
    assert out.size == (decoded.info.width, decoded.info.height)


def test_probe_reports_upright_size_and_orientation(photo):
    im = with_exif(photo, 6)
    info = probe(save(im, "JPEG", exif=im.info["exif"]))
    assert (info.width, info.height, info.orientation, info.format) == (384, 256, 6, "JPEG")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF"])
def test_icc_profile_kept(photo, srgb_icc, fmt):
    src = save(Image.fromarray(photo), fmt, icc_profile=srgb_icc)
    assert reopen(encode(decode(src))).info.get("icc_profile") == srgb_icc


def test_icc_kept_across_format_change(photo, srgb_icc):
    src = save(Image.fromarray(photo), "PNG", icc_profile=srgb_icc)
    assert reopen(encode(decode(src), format="jpg")).info.get("icc_profile") == srgb_icc


def test_16bit_png_keeps_icc_and_exif(photo, srgb_icc):
    rgb16 = Image.fromarray(photo)
    src = save(rgb16, "PNG", icc_profile=srgb_icc)
    ok, buf = cv2.imencodeWithMetadata(".png", photo[:, :, ::-1].astype(np.uint16) * 257,
                                       [cv2.IMAGE_METADATA_ICCP], [np.frombuffer(srgb_icc, np.uint8)])
    decoded = decode(buf.tobytes())
    assert decoded.extra["icc_profile"] == srgb_icc and src
    assert reopen(encode(decoded)).info.get("icc_profile") == srgb_icc


# ----------------------------------------------------------------------------- JPEG quality


@pytest.mark.parametrize("quality", [50, 75, 85, 95])
def test_jpeg_quality_estimated_and_tables_reused(photo, quality):
    src = save(Image.fromarray(photo), "JPEG", quality=quality)
    decoded = decode(src)
    assert decoded.info.quality == quality
    out = reopen(encode(decoded))
    assert out.quantization == reopen(src).quantization


@pytest.mark.parametrize("subsampling", [0, 1, 2])
def test_jpeg_subsampling_kept(photo, subsampling):
    from PIL import JpegImagePlugin

    src = save(Image.fromarray(photo), "JPEG", quality=90, subsampling=subsampling)
    out = reopen(encode(decode(src)))
    assert JpegImagePlugin.get_sampling(out) == subsampling


def test_jpeg_reencode_does_not_degrade_untouched_pixels(photo):
    src = save(Image.fromarray(photo), "JPEG", quality=90)
    first = decode(src)
    second = decode(encode(first))
    mse = np.mean((first.rgb.astype(float) - second.rgb) ** 2)
    assert 10 * np.log10(255 ** 2 / mse) > 40   # PSNR of one generation


def test_explicit_quality_and_range(photo):
    decoded = decode(save(Image.fromarray(photo), "PNG"))
    small, large = encode(decoded, format="JPEG", quality=30), encode(decoded, format="JPEG", quality=95)
    assert probe(small).quality == 30 and probe(large).quality == 95 and len(small) < len(large)
    with pytest.raises(InvalidParameter):
        encode(decoded, quality=0)


@pytest.mark.parametrize("name,expected", [("jpg", "JPEG"), ("Png", "PNG"), ("webp", "WEBP"),
                                           ("BMP", "BMP"), ("tif", "TIFF")])
def test_format_override(photo, name, expected):
    decoded = decode(save(Image.fromarray(photo), "PNG"))
    assert reopen(encode(decoded, format=name)).format == expected


def test_unknown_output_format_rejected(photo):
    with pytest.raises(InvalidParameter):
        encode(decode(save(Image.fromarray(photo), "PNG")), format="gif")


@pytest.mark.parametrize("fmt", ["JPEG", "BMP"])
def test_alpha_to_format_without_alpha_composites_on_white(photo, fmt):
    rgba = np.dstack([photo, np.zeros(photo.shape[:2], np.uint8)])
    out = reopen(encode(decode(save(Image.fromarray(rgba), "PNG")), format=fmt))
    assert out.mode == "RGB" and np.asarray(out).min() >= 250


def test_encode_accepts_processed_pixels(photo):
    decoded = decode(save(Image.fromarray(photo), "PNG"))
    out = reopen(encode(decoded, decoded.rgb.astype(np.float32) + 0.4))
    assert np.array_equal(np.asarray(out), photo)
    with pytest.raises(InvalidParameter):
        encode(decoded, photo[:, :, 0])


# ----------------------------------------------------------------------------- limits and errors


def png_header_only(width: int, height: int) -> bytes:
    """A valid-looking PNG declaring width x height with a tiny (bogus) IDAT."""
    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("side", [30_000, 7100])   # 900 MP (Pillow's hard error) and 50.4 MP (ours)
def test_decompression_bomb_refused_fast(side):
    bomb = png_header_only(side, side)
    tracemalloc.start()
    start = time.process_time()
    for call in (probe, decode, image_info):
        with pytest.raises(ImageTooLarge):
            call(bomb)
    cpu = time.process_time() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # refused from the header: a few ms of CPU (decoding even 50 MP would take seconds and ~150 MiB);
    # CPU time and a wide bound, so a busy machine does not fail it
    assert cpu < 0.5 and peak < 5 * 1024 * 1024


def test_custom_pixel_limit(photo):
    src = save(Image.fromarray(photo), "PNG")
    with pytest.raises(ImageTooLarge):
        decode(src, Limits(max_pixels=256 * 384 - 1))
    assert decode(src, Limits(max_pixels=256 * 384)).rgb.shape == photo.shape


def test_oversized_bytes_refused(photo):
    src = save(Image.fromarray(photo), "PNG")
    with pytest.raises(ImageTooLarge):
        decode(src, Limits(max_bytes=len(src) - 1))
    with pytest.raises(ImageTooLarge):
        probe(src + b"\0" * (32 * 1024 * 1024))


@pytest.mark.parametrize("payload", [b"", b"hello, world\n", bytes(range(256)) * 8,
                                     b"GIF89a" + b"\0" * 64, b"%PDF-1.4\n"])
def test_non_images_unsupported(payload):
    with pytest.raises(UnsupportedFormat):
        decode(payload)


def test_real_gif_unsupported(photo):
    with pytest.raises(UnsupportedFormat):
        probe(save(Image.fromarray(photo), "GIF"))


@pytest.mark.parametrize("fmt", codec.FORMATS)
def test_truncated_is_corrupt(photo, fmt):
    src = save(Image.fromarray(photo), fmt)
    with pytest.raises(CorruptImage):
        decode(src[: len(src) // 2])


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_garbage_body_is_corrupt(photo, fmt):
    src = bytearray(save(Image.fromarray(photo), fmt))
    src[40:] = bytes(len(src) - 40)
    with pytest.raises(CorruptImage):
        decode(bytes(src))


def test_header_only_signature_is_corrupt():
    with pytest.raises(CorruptImage):
        probe(b"\x89PNG\r\n\x1a\n" + b"\0" * 10)


def test_truncated_not_masked_by_pillow_flag(photo):
    src = save(Image.fromarray(photo), "PNG")
    with pytest.raises(CorruptImage):
        decode(src[: len(src) - 200])


# ----------------------------------------------------------------------------- image_info


def test_image_info_fields(photo):
    solid = np.zeros_like(photo)
    solid[:] = (200, 100, 50)
    im = with_exif(solid, 8)
    info = image_info(save(im, "JPEG", quality=80, exif=im.info["exif"]))
    assert (info.format, info.width, info.height, info.mode) == ("JPEG", 384, 256, "RGB")
    assert info.orientation == 8 and info.quality == 80
    r, g, b = (int(info.ave[i:i + 2], 16) for i in (2, 4, 6))
    assert info.ave.startswith("0x") and abs(r - 200) <= 2 and abs(g - 100) <= 2 and abs(b - 50) <= 2


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "BMP", "TIFF"])
def test_image_info_lossless_quality_and_ave(photo, fmt):
    info = image_info(save(Image.fromarray(photo), fmt, **({"lossless": True} if fmt == "WEBP" else {})))
    assert info.quality == 100 and info.format == fmt
    expected = photo.reshape(-1, 3).mean(axis=0)
    assert all(abs(int(info.ave[2 + 2 * i:4 + 2 * i], 16) - expected[i]) <= 3 for i in range(3))


def _cjpeg(rgb: np.ndarray, *args: str) -> bytes | None:
    import shutil
    import subprocess

    tool = shutil.which("cjpeg")
    if tool is None:
        return None
    ppm = b"P6 %d %d 255\n" % (rgb.shape[1], rgb.shape[0]) + np.ascontiguousarray(rgb).tobytes()
    done = subprocess.run([tool, *args], input=ppm, capture_output=True, check=False)
    return done.stdout if done.returncode == 0 else None


def test_jpeg_decode_is_opencvs_pixels(photo):
    """Plain JPEGs are decoded by TurboJPEG into numpy memory (no page-fault storm at 12 MP):
    the pixels must be OpenCV's, bit for bit, on every layout, full size and DCT-reduced."""
    rgb = np.ascontiguousarray(np.pad(photo, ((0, 5), (0, 3), (0, 0)), mode="reflect"))   # not MCU-aligned
    sources = {f"pillow sub{sub} prog{prog}": save(Image.fromarray(rgb), "JPEG", quality=90, subsampling=sub,
                                                   progressive=prog)
               for sub in (0, 1, 2) for prog in (False, True)}
    sources["grey"] = save(Image.fromarray(rgb[..., 1]), "JPEG", quality=90)
    for name, args in {"4:4:0": ["-sample", "1x2"], "4:1:1": ["-sample", "4x1"], "arithmetic": ["-arithmetic"],
                       "restart": ["-restart", "2"], "Adobe RGB": ["-rgb"],
                       "progressive arithmetic": ["-progressive", "-arithmetic"]}.items():
        made = _cjpeg(rgb, *args)
        if made is not None:
            sources[name] = made
    assert len(sources) >= 7
    reduced = {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}
    for name, data in sources.items():
        grey = name == "grey"
        flags = (cv2.IMREAD_UNCHANGED if grey else cv2.IMREAD_COLOR_RGB) | cv2.IMREAD_IGNORE_ORIENTATION
        expected = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
        got = decode(data)
        assert np.array_equal(got.rgb, expected if not grey else np.repeat(expected[..., None], 3, axis=2)), name
        info = probe(data)
        for factor, flag in reduced.items():
            want = cv2.imdecode(np.frombuffer(data, np.uint8),
                                (flag & ~cv2.IMREAD_COLOR) | cv2.IMREAD_COLOR_RGB | cv2.IMREAD_IGNORE_ORIENTATION)
            small = codec.decode_reduced(data, info, factor)
            assert small is not None and np.array_equal(small, want), (name, factor)


def test_jpeg_decode_avoids_page_faults():
    """12 MP JPEG: the decode writes into numpy memory (transparent huge pages where the kernel
    has them), not into a fresh OpenCV buffer faulted in page by page (~9400 minor faults, ~25
    ms of kernel time). Compared with a numpy array of the same size filled in the same process,
    so a kernel without huge pages (both fault page by page) does not fail it."""
    import resource

    from cosbeauty.imaging import jpeg_lossless

    if not jpeg_lossless.available():
        pytest.skip("libturbojpeg not installed")
    rgb = np.zeros((3000, 4000, 3), np.uint8)
    rgb[::7] = 200
    data = cv2.imencode(".jpg", rgb)[1].tobytes()

    def faults(fn) -> int:
        fn()                                            # warm: allocator state as in a server
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        fn()
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

    filled = faults(lambda: np.full((3000, 4000, 3), 7, np.uint8))
    decoded = faults(lambda: decode(data))
    assert decoded <= filled + 1000, (decoded, filled)
