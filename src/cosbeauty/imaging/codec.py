"""Decode/encode with EXIF orientation, alpha, grey, 16-bit, ICC/EXIF kept, and header-first limits.

Formats in and out: JPEG, PNG, WEBP, BMP, TIFF. Anything else (GIF, text, random bytes) is
``UnsupportedFormat``; bytes whose signature matches but whose header or data do not parse are
``CorruptImage``; inputs over ``Limits`` are ``ImageTooLarge`` -- decided from ``len(data)`` and the
header dimensions *before* any pixel is decoded, so decompression bombs cost ~a millisecond.

Decoding semantics (what ``Decoded`` holds):

* ``rgb`` is upright: the EXIF orientation (1..8) is applied; encoders write the pixels upright
  and the EXIF Orientation tag reset to 1, all other EXIF tags kept. XMP is dropped (it may
  carry a stale ``tiff:Orientation``).
* The ICC profile is kept byte-for-byte and pixels stay in the file's colour space (no colour
  management), except for CMYK/YCCK JPEGs and CMYK TIFFs: ``rgb`` is Pillow's naive inversion
  (no ICC transform). A CMYK TIFF written back as a TIFF stays CMYK with its profile (its ink kept
  wherever the pixels did not change, :func:`_encode_cmyk_tiff`); CMYK JPEGs are written back
  CMYK by the coefficient splice (:mod:`.jpeg_lossless`); any other output is RGB without the
  CMYK profile, as it no longer applies.
* Alpha (RGBA, LA, PA, P with transparency) goes to ``alpha`` and is written back unchanged by
  formats that carry alpha (PNG, WEBP, TIFF). JPEG and BMP output composite onto white (Pillow
  writes and reads 32-bit BMPs without an alpha mask, so BMP alpha would not survive).
* Greyscale sources (1, L, LA, I;16) give ``grey=True`` with ``rgb`` a 3-channel copy, and are
  written back single-channel.
* 16-bit PNG/TIFF decode to uint16 and are written back 16-bit by PNG/TIFF (other output formats
  get 8 bits, rounded).
* Palette PNGs (upright) are written back as palette PNGs with their own palette (as many
  entries as the file's): unchanged pixels keep their index, changed ones get the nearest
  palette colour. Other palette images
  become RGB(A); animated WebP, animated PNG (APNG) and multi-page TIFF keep
  their first frame only (the output is one still image).
* TIFF keeps its compression when it is lossless (none, LZW, Deflate, PackBits); a JPEG- or
  other lossy-compressed TIFF is written Deflate (every pixel kept exactly, a larger file).
* JPEG is re-encoded at the source's estimated IJG quality (per table: luma and chroma) and
  chroma subsampling, so untouched blocks do not visibly degrade; the source quantisation
  tables are in ``extra["qtables"]``.

Plain 8-bit JPEG and 16-bit colour PNG/TIFF use OpenCV (which releases the GIL); the header and
metadata always come from Pillow, which only reads the header on ``Image.open``.
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageFile

from cosbeauty.imaging.cmyk import cmyk_from_rgb, cmyk_to_rgb, ink_to_rgb  # noqa: F401  (cmyk_to_rgb: part of the codec API)
from cosbeauty.imaging.errors import CorruptImage, ImageError, ImageTooLarge, InvalidParameter, UnsupportedFormat
from cosbeauty.imaging.limits import Limits  # noqa: F401  (defined apart so the server starts without cv2)


@dataclass
class ImageInfo:
    """Header-level facts (cheap): what COS CI's ImageInfo reports."""
    format: str          # "JPEG", "PNG", "WEBP", "BMP", "TIFF"
    width: int           # upright (after EXIF orientation)
    height: int
    mode: str            # Pillow mode of the source
    orientation: int     # EXIF orientation 1..8 (1 when absent)
    quality: int         # estimated JPEG quality (100 for lossless formats)
    ave: str = ""        # average colour "0xRRGGBB" (filled by image_info, not by probe)


@dataclass
class Decoded:
    rgb: np.ndarray                 # H x W x 3, RGB order, uint8 (or uint16 for 16-bit sources), upright
    alpha: np.ndarray | None        # H x W, same dtype, None when the source has no alpha
    grey: bool                      # source was single-channel: encode back as grey
    info: ImageInfo
    extra: dict = field(default_factory=dict)   # icc_profile, exif (orientation reset), qtables, ...


FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "TIFF")
_ALIASES = {"JPG": "JPEG", "TIF": "TIFF", "MPO": "JPEG"}
_SIGNATURES = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"II+\x00", "TIFF"), (b"MM\x00+", "TIFF"),
)
DEFAULT_QUALITY = 90                 # JPEG/lossy WebP output when the source quality is unknown
PNG_COMPRESS_LEVEL = 3               # zlib level: near-6 size at about half the time
ORIENTATION_TAG = 0x0112
# IFD0 tags worth carrying from a TIFF source into another format's EXIF block.
_TIFF_DESCRIPTIVE_TAGS = (0x010E, 0x010F, 0x0110, 0x0112, 0x0131, 0x0132, 0x013B, 0x8298)

# Pillow's own bomb guard, consistent with our default limit; our header check is authoritative.
Image.MAX_IMAGE_PIXELS = Limits().max_pixels
warnings.simplefilter("error", Image.DecompressionBombWarning)
ImageFile.LOAD_TRUNCATED_IMAGES = False   # truncated data must raise, never decode to garbage

_LUMA_STD = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99])
_CHROMA_STD = np.full(64, 99)
_CHROMA_STD[[0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 24, 25]] = [17, 18, 24, 47, 18, 21, 26, 66, 24, 26, 56, 47, 66]
_CV_SAMPLING = {
    (1, 1): cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444, (2, 1): cv2.IMWRITE_JPEG_SAMPLING_FACTOR_422,
    (2, 2): cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420, (1, 2): cv2.IMWRITE_JPEG_SAMPLING_FACTOR_440,
    (4, 1): cv2.IMWRITE_JPEG_SAMPLING_FACTOR_411,
}


# ----------------------------------------------------------------------------- public API


def probe(data: bytes, limits: Limits = Limits()) -> ImageInfo:
    """Parse the header only; raise ImageTooLarge / UnsupportedFormat / CorruptImage."""
    im, fmt = _open(data, limits)
    return _info(im, fmt, data, _orientation(im, fmt, loaded=False))


def decode(data: bytes, limits: Limits = Limits(), *, keep_cmyk: bool = False) -> Decoded:
    """Decode to upright pixels plus what ``encode`` needs to write them back faithfully.

    ``keep_cmyk``: for a CMYK/YCCK JPEG, also keep its four decoded planes in ``extra["cmyk"]``
    (H x W x 4 uint8 as Pillow decodes them: 255 = full ink, in the *stored* frame, EXIF
    orientation not applied) -- what the coefficient splice of :mod:`.jpeg_lossless` needs, so it
    does not decode the source a second time. ``rgb`` is the same either way."""
    im, fmt = _open(data, limits)
    cmyk = None
    try:
        if _use_opencv(im, fmt, data):
            grey = _cv_grey(im, fmt)
            pixels, mode = _cv_decode(data, rgb_jpeg=fmt == "JPEG" and not grey, jpeg=fmt == "JPEG"), None
        elif fmt == "JPEG" and im.mode == "CMYK":
            pixels, cmyk = _cmyk_jpeg(im, data)
            grey, mode = False, "CMYK"
            cmyk = cmyk if keep_cmyk else None
        elif fmt == "TIFF" and im.mode == "CMYK":
            im.load()
            cmyk = np.asarray(im)
            pixels, grey, mode = cmyk_to_rgb(cmyk), False, "CMYK"
        else:
            im.load()
            pixels, grey, mode = _pil_pixels(im)
        orientation = _orientation(im, fmt, loaded=True)
        extra = _extra(im, fmt, data, converted_from_cmyk=mode == "CMYK")
        if fmt == "TIFF" and cmyk is not None:      # written back CMYK by a TIFF (_encode_cmyk_tiff)
            extra["tiff_cmyk"] = (_orient(cmyk, orientation), im.info.get("icc_profile") or None)
        elif cmyk is not None:
            extra["cmyk"] = cmyk
        if fmt == "PNG" and mode == "P" and orientation == 1:
            extra["palette"] = _palette_of(im)
    except ImageError:
        raise
    except Exception as exc:  # Pillow raises many types on hostile data
        raise CorruptImage(f"cannot decode {fmt} data: {exc}") from exc
    rgb, alpha = _split(_orient(pixels, orientation), grey)
    return Decoded(rgb=rgb, alpha=alpha, grey=grey, info=_info(im, fmt, data, orientation), extra=extra)


def encode(decoded: Decoded, rgb: np.ndarray | None = None, *, format: str | None = None,
           quality: int | None = None) -> bytes:
    """Encode ``rgb`` (default: decoded.rgb) with decoded's alpha/grey/metadata in its format (or ``format``)."""
    fmt = normalize_format(format) if format else decoded.info.format
    if quality is not None and not 1 <= quality <= 100:
        raise InvalidParameter(f"quality must be 1..100, got {quality}")
    if fmt == "PNG" and decoded.extra.get("palette") is not None:
        out = _encode_palette(decoded, decoded.rgb if rgb is None else rgb)
        if out is not None:
            return out
    if fmt == "TIFF" and decoded.extra.get("tiff_cmyk") is not None:
        out = _encode_cmyk_tiff(decoded, decoded.rgb if rgb is None else rgb)
        if out is not None:
            return out
    pixels = _output_pixels(decoded, decoded.rgb if rgb is None else rgb, fmt)
    if fmt == "JPEG":
        return _encode_jpeg(pixels, decoded, quality)
    if pixels.dtype == np.uint16 and pixels.ndim == 3:
        return _cv_encode_16bit(pixels, decoded, fmt)
    return _pil_encode(pixels, decoded, fmt, quality)


def decode_reduced(data: bytes, info: ImageInfo, factor: int) -> np.ndarray | None:
    """Upright RGB uint8 pixels of a plain JPEG scaled by 1/``factor`` (2, 4 or 8) in the DCT
    domain (libjpeg-turbo: much cheaper than a full decode). Size ceil(W/f) x ceil(H/f); one
    output pixel covers ``factor`` x ``factor`` source pixels. Call only after ``probe`` (the
    limits are checked from the header there); None when the data do not decode."""
    from .jpeg_lossless import decode_pixels

    reduced = {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}
    if info.format != "JPEG" or factor not in reduced:
        return None
    pixels = decode_pixels(data, factor) if info.mode in ("RGB", "L") else None   # OpenCV's pixels, see there
    if pixels is None:
        flags = (reduced[factor] & ~cv2.IMREAD_COLOR) | cv2.IMREAD_COLOR_RGB | cv2.IMREAD_IGNORE_ORIENTATION
        pixels = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    return None if pixels is None else _orient(pixels, info.orientation)


def image_info(data: bytes, limits: Limits = Limits()) -> ImageInfo:
    """probe() plus the average colour (COS ``Ave``), computed on a reduced decode."""
    info = probe(data, limits)
    info.ave = "0x" + "".join(f"{round(c):02X}" for c in _average_rgb(data, info, limits))
    return info


def normalize_format(name: str) -> str:
    """"jpg" -> "JPEG" etc.; raise InvalidParameter for formats we cannot write."""
    fmt = _ALIASES.get(name.strip().upper(), name.strip().upper())
    if fmt not in FORMATS:
        raise InvalidParameter(f"unsupported output format {name!r}; use one of {', '.join(FORMATS)}")
    return fmt


# ----------------------------------------------------------------------------- header


def _sniff(data: bytes) -> str | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return next((fmt for sig, fmt in _SIGNATURES if data.startswith(sig)), None)


def _open(data: bytes, limits: Limits) -> tuple[Image.Image, str]:
    """Open lazily (header only) and enforce the limits before any pixel is decoded."""
    if len(data) > limits.max_bytes:
        raise ImageTooLarge(f"image is {len(data)} bytes, limit {limits.max_bytes}")
    fmt = _sniff(data)
    if fmt is None:
        raise UnsupportedFormat("not a JPEG, PNG, WEBP, BMP or TIFF image")
    Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS or 0, limits.max_pixels)
    try:
        im = Image.open(io.BytesIO(data), formats=[fmt])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge(f"image dimensions exceed the pixel limit: {exc}") from exc
    except Exception as exc:  # UnidentifiedImageError, SyntaxError, struct.error, ...
        raise CorruptImage(f"cannot parse {fmt} header: {exc}") from exc
    width, height = im.size
    if width * height > limits.max_pixels:
        raise ImageTooLarge(f"image is {width}x{height} = {width * height} pixels, limit {limits.max_pixels}")
    if width < 1 or height < 1:
        raise CorruptImage(f"image has no pixels ({width}x{height})")
    return im, fmt


def _orientation(im: Image.Image, fmt: str, *, loaded: bool) -> int:
    """EXIF orientation; PNG's eXIf chunk may follow IDAT, so it is only read once loaded."""
    if fmt == "PNG" and not loaded and "exif" not in im.info:
        return 1
    value = im.getexif().get(ORIENTATION_TAG, 1)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _info(im: Image.Image, fmt: str, data: bytes, orientation: int) -> ImageInfo:
    width, height = im.size
    if orientation >= 5:
        width, height = height, width
    return ImageInfo(format=fmt, width=width, height=height, mode=im.mode,
                     orientation=orientation, quality=_source_quality(im, fmt, data)[0])


def _source_quality(im: Image.Image, fmt: str, data: bytes) -> tuple[int, int]:
    """(luma, chroma) quality: IJG estimate for JPEG, 100 for lossless, default for lossy WebP."""
    if fmt == "JPEG":
        return _estimate_jpeg_quality(getattr(im, "quantization", None) or {})
    if fmt == "WEBP" and not _webp_lossless(data):
        return DEFAULT_QUALITY, DEFAULT_QUALITY
    return 100, 100


def _ijg_tables(std: np.ndarray) -> np.ndarray:
    """(100, 64) tables libjpeg produces for quality 1..100 from a standard table."""
    q = np.arange(1, 101)[:, None]
    scale = np.where(q < 50, 5000 // q, 200 - 2 * q)
    return np.clip((std[None, :] * scale + 50) // 100, 1, 255)


_IJG_LUMA, _IJG_CHROMA = _ijg_tables(_LUMA_STD), _ijg_tables(_CHROMA_STD)


def _estimate_jpeg_quality(qtables: dict) -> tuple[int, int]:
    """Closest IJG quality per table (exact for libjpeg-made files); chroma falls back to luma."""
    def best(table, candidates: np.ndarray) -> int:
        diff = np.abs(candidates - np.asarray(table, dtype=np.int64)[None, :64]).sum(axis=1)
        return int(np.argmin(diff)) + 1

    if 0 not in qtables:
        return DEFAULT_QUALITY, DEFAULT_QUALITY
    luma = best(qtables[0], _IJG_LUMA)
    return luma, best(qtables[1], _IJG_CHROMA) if 1 in qtables else luma


def _webp_lossless(data: bytes) -> bool:
    """True when the (first) frame is VP8L: scan the RIFF chunks."""
    pos = 12
    while pos + 8 <= len(data):
        tag, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "little")
        if tag in (b"VP8 ", b"VP8L"):
            return tag == b"VP8L"
        if tag == b"ANMF":   # animation frame: its sub-chunks start after a 16-byte header
            pos += 8 + 16
            continue
        pos += 8 + size + (size & 1)
    return False


# ----------------------------------------------------------------------------- pixels


def _use_opencv(im: Image.Image, fmt: str, data: bytes) -> bool:
    """OpenCV for plain 8-bit JPEG (GIL released) and 16-bit colour PNG/TIFF (Pillow has no RGB;16)."""
    if fmt == "JPEG":
        return im.mode in ("RGB", "L")
    return _is_16bit_colour(im, fmt, data)


def _is_16bit_colour(im: Image.Image, fmt: str, data: bytes) -> bool:
    if fmt == "PNG":
        return data[24] == 16 and data[25] != 0          # IHDR bit depth, colour type (0 = grey)
    if fmt == "TIFF":
        bits = im.tag_v2.get(258, (8,))
        bits = bits if isinstance(bits, tuple) else (bits,)
        return max(bits) == 16 and not im.mode.startswith("I;16")
    return False


def _cv_grey(im: Image.Image, fmt: str) -> bool:
    return im.mode in ("L", "LA", "I;16", "I;16B") if fmt == "JPEG" else im.mode in ("LA", "I;16", "I;16B")


def _cv_decode(data: bytes, *, rgb_jpeg: bool, jpeg: bool = False) -> np.ndarray:
    """H x W (grey), H x W x 3 (RGB) or x 4 (RGBA) in storage orientation. ``jpeg``: a plain
    JPEG, decoded by TurboJPEG into numpy memory when it can (the same pixels as OpenCV's,
    without ~25 ms of page faults at 12 MP: :func:`.jpeg_lossless.decode_pixels`)."""
    if jpeg:
        from .jpeg_lossless import decode_pixels

        pixels = decode_pixels(data, grey=not rgb_jpeg)
        if pixels is not None:
            return pixels
    flags = (cv2.IMREAD_COLOR_RGB if rgb_jpeg else cv2.IMREAD_UNCHANGED) | cv2.IMREAD_IGNORE_ORIENTATION
    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if pixels is None:
        raise CorruptImage("image data is truncated or corrupt")
    if pixels.ndim == 3 and not rgb_jpeg:
        code = cv2.COLOR_BGRA2RGBA if pixels.shape[2] == 4 else cv2.COLOR_BGR2RGB
        pixels = cv2.cvtColor(pixels, code)
    return pixels


def _pil_pixels(im: Image.Image) -> tuple[np.ndarray, bool, str]:
    """Loaded Pillow image -> (array, grey, source mode), normalising every mode we accept."""
    mode = im.mode
    if mode in ("L", "RGB") and "transparency" in im.info:   # PNG tRNS colour key
        im = im.convert("LA" if mode == "L" else "RGBA")
    elif mode == "P" or mode == "PA":
        im = im.convert("RGBA" if mode == "PA" or "transparency" in im.info else "RGB")
    elif mode == "1":
        im = im.convert("L")
    elif mode in ("La", "RGBa"):
        im = im.convert(mode.upper())
    elif mode.startswith("I;16") or mode == "I":
        return np.clip(np.asarray(im), 0, 65535).astype(np.uint16), True, mode
    elif mode == "F":
        raise UnsupportedFormat("floating-point images are not supported")
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        im = im.convert("RGB")   # CMYK (naive inversion), YCbCr, LAB, HSV, RGBX
    return np.asarray(im), im.mode in ("L", "LA"), mode


def _cmyk_jpeg(im: Image.Image, data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(rgb, CMYK planes in Pillow's convention) of a CMYK/YCCK JPEG, both in the stored frame,
    the same arrays as Pillow's decode and conversion: libjpeg-turbo's TurboJPEG API decodes
    straight into an array when it can (:func:`.jpeg_lossless.decode_ink`), else Pillow."""
    from .jpeg_lossless import _ARITHMETIC_SOF, decode_ink, decode_ink_jpegio, sof_marker

    ink = decode_ink(data)
    if ink is None or ink.shape != (im.height, im.width, 4):
        try:
            im.load()
        except OSError:
            # Pillow cannot decode arithmetic-coded CMYK ("broken data stream"); TurboJPEG 2.1
            # refuses some of its samplings: libjpeg-turbo 3.2 (pyjpegio) decodes them
            ink = decode_ink_jpegio(data) if sof_marker(data) in _ARITHMETIC_SOF else None
            if ink is None or ink.shape != (im.height, im.width, 4):
                raise
        else:
            cmyk = np.asarray(im)
            return cmyk_to_rgb(cmyk), cmyk
    rgb = ink_to_rgb(ink)
    return rgb, cv2.bitwise_not(ink, dst=ink)


def _orient(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Apply EXIF orientation (same result as ImageOps.exif_transpose)."""
    ops = {
        2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
        5: lambda a: a.swapaxes(0, 1), 6: lambda a: a.swapaxes(0, 1)[:, ::-1],
        7: lambda a: a[::-1, ::-1].swapaxes(0, 1), 8: lambda a: a.swapaxes(0, 1)[::-1],
    }
    return np.ascontiguousarray(ops[orientation](pixels)) if orientation in ops else pixels


def _split(pixels: np.ndarray, grey: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """-> (H x W x 3 rgb, H x W alpha or None)."""
    if pixels.ndim == 2:
        return np.repeat(pixels[:, :, None], 3, axis=2), None
    channels = pixels.shape[2]
    alpha = np.ascontiguousarray(pixels[:, :, -1]) if channels in (2, 4) else None
    if grey or channels == 2:
        return np.repeat(pixels[:, :, :1], 3, axis=2), alpha
    return np.ascontiguousarray(pixels[:, :, :3]), alpha


# ----------------------------------------------------------------------------- metadata


def _extra(im: Image.Image, fmt: str, data: bytes, *, converted_from_cmyk: bool) -> dict:
    icc = None if converted_from_cmyk else im.info.get("icc_profile")
    extra: dict = {"icc_profile": icc or None, "exif": _exif_upright(im, fmt),
                   "quality": _source_quality(im, fmt, data), "frames": getattr(im, "n_frames", 1),
                   "lossless": fmt in ("PNG", "BMP", "TIFF") or (fmt == "WEBP" and _webp_lossless(data))}
    if fmt == "JPEG":
        extra["qtables"] = dict(getattr(im, "quantization", {}) or {})
        extra["subsampling"] = _jpeg_sampling(im)
    elif fmt == "TIFF":
        extra["compression"] = im.info.get("compression", "raw")
    return extra


def _exif_upright(im: Image.Image, fmt: str) -> bytes | None:
    """EXIF block to write: every tag kept, Orientation (if present) reset to 1."""
    exif = im.getexif()
    if fmt == "TIFF":   # a TIFF's IFD0 is mostly structure (strips, bits): keep descriptive tags
        kept = Image.Exif()
        for tag in _TIFF_DESCRIPTIVE_TAGS:
            if tag in exif:
                kept[tag] = exif[tag]
        exif = kept
    if not exif:
        return None
    if ORIENTATION_TAG in exif:
        exif[ORIENTATION_TAG] = 1
    return exif.tobytes()


def _jpeg_sampling(im: Image.Image) -> int:
    """OpenCV sampling-factor constant matching the source's luma sampling (4:2:0 if unusual)."""
    layers = getattr(im, "layer", None) or []
    if len(layers) == 3 and all(h == 1 and v == 1 for _, h, v, _ in layers[1:]):
        return _CV_SAMPLING.get((layers[0][1], layers[0][2]), cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420)
    return cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420


# ----------------------------------------------------------------------------- encode


def _output_pixels(decoded: Decoded, rgb: np.ndarray, fmt: str) -> np.ndarray:
    """Grey/alpha/bit-depth adaptation: H x W, H x W x 2|3|4 array ready for ``fmt``."""
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise InvalidParameter(f"rgb must be H x W x 3, got shape {rgb.shape}")
    dtype = decoded.rgb.dtype
    if rgb.dtype != dtype:
        rgb = np.clip(np.rint(rgb), 0, np.iinfo(dtype).max).astype(dtype)
    alpha = decoded.alpha
    if alpha is not None and alpha.shape != rgb.shape[:2]:
        raise InvalidParameter(f"rgb is {rgb.shape[:2]} but the alpha plane is {alpha.shape}")
    if fmt in ("JPEG", "BMP") and alpha is not None:
        rgb, alpha = _over_white(rgb, alpha), None
    if dtype == np.uint16 and fmt not in ("PNG", "TIFF"):
        rgb = ((rgb.astype(np.uint32) + 128) // 257).astype(np.uint8)
        alpha = None if alpha is None else ((alpha.astype(np.uint32) + 128) // 257).astype(np.uint8)
    colour = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)[:, :, None] if decoded.grey else rgb
    planes = colour if alpha is None else np.concatenate([colour, alpha[:, :, None]], axis=2)
    return planes[:, :, 0] if planes.shape[2] == 1 else planes


def _over_white(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    top = float(np.iinfo(rgb.dtype).max)
    a = alpha[:, :, None].astype(np.float32) / top
    return np.rint(rgb * a + top * (1.0 - a)).astype(rgb.dtype)


def _metadata(decoded: Decoded) -> tuple[list[int], list[np.ndarray]]:
    """OpenCV metadata lists: EXIF (raw TIFF block, no 'Exif' header) and ICC."""
    types, blocks = [], []
    exif, icc = decoded.extra.get("exif"), decoded.extra.get("icc_profile")
    if exif:
        types.append(cv2.IMAGE_METADATA_EXIF)
        blocks.append(np.frombuffer(exif.removeprefix(b"Exif\x00\x00"), np.uint8))
    if icc:
        types.append(cv2.IMAGE_METADATA_ICCP)
        blocks.append(np.frombuffer(icc, np.uint8))
    return types, blocks


def _jpeg_params(decoded: Decoded, quality: int | None) -> list[int]:
    if quality is not None:
        luma = chroma = quality
    elif decoded.info.format == "JPEG":
        luma, chroma = decoded.extra.get("quality", (DEFAULT_QUALITY, DEFAULT_QUALITY))
    else:
        luma = chroma = DEFAULT_QUALITY
    sampling = decoded.extra.get("subsampling", cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420)
    return [cv2.IMWRITE_JPEG_QUALITY, luma, cv2.IMWRITE_JPEG_LUMA_QUALITY, luma,
            cv2.IMWRITE_JPEG_CHROMA_QUALITY, chroma, cv2.IMWRITE_JPEG_SAMPLING_FACTOR, sampling]


def _encode_jpeg(pixels: np.ndarray, decoded: Decoded, quality: int | None) -> bytes:
    return JpegStrips(pixels, decoded, quality).result()


class JpegStrips:
    """A JPEG encode split into horizontal strips (restart intervals), so that it can run on
    two threads and start early: strips that will not change any more (outside the face rows)
    can be encoded while the faces are still being processed (:meth:`start_outside`).

    The strips are encoded with identical tables and spliced with RSTn markers; the file
    decodes to exactly the pixels of a one-piece encode. Images under
    ``JPEG_STRIP_MIN_PIXELS`` are encoded in one piece.
    """

    def __init__(self, pixels: np.ndarray, decoded: Decoded, quality: int | None) -> None:
        if quality is not None and not 1 <= quality <= 100:
            raise InvalidParameter(f"quality must be 1..100, got {quality}")
        self.pixels, self.decoded = pixels, decoded
        self.params = _jpeg_params(decoded, quality)
        mcu_w, mcu_h = (8, 8) if pixels.ndim == 2 else _MCU[self.params[-1]]
        self.rows = _jpeg_strips(pixels.shape[0], pixels.shape[1], mcu_w, mcu_h)
        self.interval = (self.rows[1] // mcu_h) * -(-pixels.shape[1] // mcu_w)
        self.parts: list[bytes | None] = [None] * (len(self.rows) - 1)
        self._early: Any = None                       # Future of the early strips
        self._early_strips: set[int] = set()

    def _encode(self, i: int) -> None:
        strip = self.pixels[self.rows[i]:self.rows[i + 1]]
        self.parts[i] = _cv_encode(".jpg", _to_bgr(strip), self.decoded if i == 0 else None, self.params)

    def start_outside(self, busy: list[tuple[int, int]]) -> None:
        """Encode, on the helper thread, the strips that share no row with ``busy`` ranges
        [y0, y1): the caller promises not to change those rows any more."""
        if len(self.parts) < 2:
            return
        free = [i for i in range(len(self.parts))
                if all(self.rows[i + 1] <= y0 or self.rows[i] >= y1 for y0, y1 in busy)]
        if free:
            from .faces import executor   # the shared helper thread (no MediaPipe import)

            self._early_strips = set(free)
            self._early = executor().submit(lambda: [self._encode(i) for i in free])

    def result(self) -> bytes:
        if len(self.parts) == 1:
            return _cv_encode(".jpg", _to_bgr(self.pixels), self.decoded, self.params)
        from .faces import pmap

        if self._early is not None and self._early.cancel():
            self._early, self._early_strips = None, set()   # never started: do it all here
        pmap(self._encode, [i for i in range(len(self.parts)) if i not in self._early_strips])
        if self._early is not None:                   # started: it owns its strips
            self._early.result()
        return _splice_jpeg(self.parts, self.pixels.shape[0], self.interval)


# JPEG MCU size (w, h) per OpenCV sampling constant.
_MCU = {cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444: (8, 8), cv2.IMWRITE_JPEG_SAMPLING_FACTOR_422: (16, 8),
        cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420: (16, 16), cv2.IMWRITE_JPEG_SAMPLING_FACTOR_440: (8, 16),
        cv2.IMWRITE_JPEG_SAMPLING_FACTOR_411: (32, 8)}
JPEG_STRIP_MIN_PIXELS = 1_000_000      # below this one encode call is as fast
JPEG_STRIPS = 8                        # strips per image (fewer when the MCU rows run out)


def _to_bgr(pixels: np.ndarray) -> np.ndarray:
    return pixels if pixels.ndim == 2 else cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)


def _jpeg_strips(h: int, w: int, mcu_w: int, mcu_h: int) -> list[int]:
    """Row boundaries of the horizontal strips ([0, h] = one piece).

    Every strip but the last has the same whole number of MCU rows, and at most 65535 MCUs
    (the largest restart interval). Depends only on the image geometry, so the output bytes
    never depend on thread timing.
    """
    if h * w < JPEG_STRIP_MIN_PIXELS or (os.cpu_count() or 1) < 2:
        return [0, h]
    mcu_rows, per_row = -(-h // mcu_h), -(-w // mcu_w)
    n = min(JPEG_STRIPS, mcu_rows)
    while -(-mcu_rows // n) * per_row > 65535:
        n += 1
    rows = -(-mcu_rows // n) * mcu_h
    if per_row > 65535 or rows >= h:
        return [0, h]
    return list(range(0, h, rows)) + [h]


def _splice_jpeg(parts: list[bytes], height: int, interval: int) -> bytes:
    """One baseline JPEG from strips encoded with identical tables: the first strip's headers
    (its metadata, SOF height patched, a DRI segment added), then each strip's entropy-coded
    data separated by RSTn markers. A restart resets the DC predictors exactly as a fresh
    encoder starts, so the result decodes to the same pixels as a one-piece encode."""
    head, body = _split_sos(parts[0])
    sof = _find_marker(head, (0xC0, 0xC1))
    head = bytearray(head)
    head[sof + 5:sof + 7] = height.to_bytes(2, "big")
    sos = _find_marker(bytes(head), (0xDA,))
    out = [bytes(head[:sos]), b"\xff\xdd\x00\x04" + interval.to_bytes(2, "big"), bytes(head[sos:]), body]
    for i, part in enumerate(parts[1:]):
        out.append(bytes((0xFF, 0xD0 + i % 8)))
        out.append(_split_sos(part)[1])
    out.append(b"\xff\xd9")
    return b"".join(out)


def _find_marker(data: bytes, codes: tuple[int, ...]) -> int:
    """Offset of the first segment with one of ``codes`` (walking segment lengths)."""
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            break
        code = data[pos + 1]
        if code in codes:
            return pos
        pos += 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
    raise CorruptImage("unexpected JPEG structure from the encoder")


def _split_sos(jpeg: bytes) -> tuple[bytes, bytes]:
    """(everything up to the end of the SOS header, entropy-coded data without EOI)."""
    sos = _find_marker(jpeg, (0xDA,))
    end = sos + 2 + int.from_bytes(jpeg[sos + 2:sos + 4], "big")
    if not jpeg.endswith(b"\xff\xd9"):
        raise CorruptImage("unexpected JPEG structure from the encoder")
    return jpeg[:end], jpeg[end:-2]


def _cv_encode_16bit(pixels: np.ndarray, decoded: Decoded, fmt: str) -> bytes:
    code = cv2.COLOR_RGBA2BGRA if pixels.shape[2] == 4 else cv2.COLOR_RGB2BGR
    image = cv2.cvtColor(pixels, code) if pixels.shape[2] in (3, 4) else pixels
    if fmt == "PNG":
        return _cv_encode(".png", image, decoded, [cv2.IMWRITE_PNG_COMPRESSION, PNG_COMPRESS_LEVEL])
    return _cv_encode(".tiff", image, decoded, [cv2.IMWRITE_TIFF_COMPRESSION, cv2.IMWRITE_TIFF_COMPRESSION_LZW])


def _cv_encode(ext: str, image: np.ndarray, decoded: Decoded | None, params: list[int]) -> bytes:
    types, blocks = _metadata(decoded) if ext != ".tiff" and decoded is not None else ([], [])
    ok, buf = cv2.imencodeWithMetadata(ext, image, types, blocks, params)
    if not ok:
        raise CorruptImage(f"OpenCV could not encode {ext}")
    return buf.tobytes()


def _palette_of(im: Image.Image) -> tuple[np.ndarray, np.ndarray, Any]:
    """(indices H x W uint8, palette n x 3 uint8 (the file's entries), tRNS info) of a palette PNG."""
    raw = im.getpalette() or []
    indices = np.asarray(im).copy()
    entries = np.array(raw[:768], np.uint8).reshape(-1, 3)
    palette = np.zeros((max(len(entries), int(indices.max(initial=0)) + 1), 3), np.uint8)
    palette[:len(entries)] = entries          # as many entries as the file's (a 64-colour PNG stays 64)
    return indices, palette, im.info.get("transparency")


def _encode_palette(decoded: Decoded, rgb: np.ndarray) -> bytes | None:
    """A palette PNG written back as a palette PNG with its own palette: every pixel whose colour
    did not change keeps its index (so the file decodes bit-identically outside the retouch),
    changed pixels get the nearest palette colour (Euclidean RGB, fully transparent entries
    excluded). None when ``rgb`` does not fit (another size, 16-bit)."""
    indices, palette, transparency = decoded.extra["palette"]
    if rgb.dtype != np.uint8 or rgb.shape[:2] != indices.shape or rgb.ndim != 3:
        return None
    changed = np.any(rgb != palette[indices], axis=2)
    out = indices.copy()
    if changed.any():
        candidates = np.ones(len(palette), bool)
        if isinstance(transparency, bytes):
            alpha = np.frombuffer(transparency, np.uint8)[:len(palette)]
            candidates[:len(alpha)] = alpha > 0
        elif isinstance(transparency, int) and 0 <= transparency < len(palette):
            candidates[transparency] = False
        colours, inverse = np.unique(rgb[changed], axis=0, return_inverse=True)
        pal = palette.astype(np.int32)
        pal[~candidates] = 1 << 20                      # never chosen
        d = ((colours[:, None, :].astype(np.int32) - pal[None]) ** 2).sum(axis=2)
        out[changed] = d.argmin(axis=1).astype(np.uint8)[inverse.ravel()]
    image = Image.fromarray(out, "P")
    image.putpalette(palette.ravel().tolist())
    options: dict = {"compress_level": PNG_COMPRESS_LEVEL}
    if transparency is not None:
        options["transparency"] = transparency
    if decoded.extra.get("icc_profile"):
        options["icc_profile"] = decoded.extra["icc_profile"]
    if decoded.extra.get("exif"):
        options["exif"] = decoded.extra["exif"]
    buf = io.BytesIO()
    image.save(buf, "PNG", **options)
    return buf.getvalue()


def _encode_cmyk_tiff(decoded: Decoded, rgb: np.ndarray) -> bytes | None:
    """A CMYK TIFF written back CMYK with its profile and compression: the source's ink wherever
    ``rgb`` is still its conversion, elsewhere ink that converts to ``rgb`` keeping the source's K
    where it can (:func:`.cmyk.cmyk_from_rgb`, as the CMYK JPEG splice). None when ``rgb`` does
    not fit (another size or depth) or there is alpha."""
    planes, icc = decoded.extra["tiff_cmyk"]
    if rgb.dtype != np.uint8 or rgb.shape != planes.shape[:2] + (3,) or decoded.alpha is not None:
        return None
    ink = cmyk_from_rgb(np.ascontiguousarray(rgb), planes).astype(np.uint8)
    options: dict = _format_options(decoded, "TIFF", None)
    if icc:
        options["icc_profile"] = icc
    if decoded.extra.get("exif"):
        options["exif"] = decoded.extra["exif"]
    out = io.BytesIO()
    Image.fromarray(ink, "CMYK").save(out, "TIFF", **options)
    return out.getvalue()


def _pil_encode(pixels: np.ndarray, decoded: Decoded, fmt: str, quality: int | None) -> bytes:
    image = Image.fromarray(pixels)
    options: dict = {}
    if decoded.extra.get("icc_profile"):
        options["icc_profile"] = decoded.extra["icc_profile"]
    if decoded.extra.get("exif") and fmt != "BMP":
        options["exif"] = decoded.extra["exif"]
    options.update(_format_options(decoded, fmt, quality))
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _format_options(decoded: Decoded, fmt: str, quality: int | None) -> dict:
    if fmt == "PNG":
        return {"compress_level": PNG_COMPRESS_LEVEL}
    if fmt == "WEBP":
        if quality is None and decoded.extra.get("lossless"):
            return {"lossless": True, "exact": True}
        return {"quality": quality or decoded.extra.get("quality", (DEFAULT_QUALITY,))[0], "exact": True}
    if fmt == "TIFF":
        compression = decoded.extra.get("compression", "raw")
        lossless = ("raw", "tiff_lzw", "tiff_adobe_deflate", "tiff_deflate", "packbits")
        return {"compression": compression if compression in lossless else "tiff_adobe_deflate"}
    return {}


# ----------------------------------------------------------------------------- average colour


def _average_rgb(data: bytes, info: ImageInfo, limits: Limits) -> tuple[float, float, float]:
    """Mean RGB (8-bit scale) from a reduced decode: JPEG DCT scaling, else a strided sample."""
    sample = None
    if info.format == "JPEG":
        im, _ = _open(data, limits)
        try:
            im.draft("RGB", (max(1, im.width // 8), max(1, im.height // 8)))
            sample = np.asarray(im.convert("RGB"))
        except Exception as exc:
            from .jpeg_lossless import _ARITHMETIC_SOF, sof_marker

            # Pillow's draft decode breaks on arithmetic coding past its first buffer ("broken
            # data stream"): the codec's own decode handles it (TurboJPEG, OpenCV, pyjpegio)
            if sof_marker(data) not in _ARITHMETIC_SOF:
                raise CorruptImage(f"cannot decode JPEG data: {exc}") from exc
    if sample is None:
        rgb = decode(data, limits).rgb
        step = max(1, int((rgb.shape[0] * rgb.shape[1] / 250_000) ** 0.5))
        sample = rgb[::step, ::step]
        if sample.dtype == np.uint16:
            sample = sample / 257.0
    mean = sample.reshape(-1, 3).mean(axis=0)
    return float(mean[0]), float(mean[1]), float(mean[2])
