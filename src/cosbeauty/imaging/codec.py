"""Decode/encode with EXIF orientation, alpha, grey, 16-bit, ICC/EXIF kept, and header-first limits.

INTERFACE STUB -- to be implemented (owner: codec work). Signatures are the contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 32 * 1024 * 1024      # input size
    max_pixels: int = 50_000_000           # width * height, checked from the header


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


def probe(data: bytes, limits: Limits = Limits()) -> ImageInfo:
    """Parse the header only; raise ImageTooLarge / UnsupportedFormat / CorruptImage."""
    raise NotImplementedError


def decode(data: bytes, limits: Limits = Limits()) -> Decoded:
    raise NotImplementedError


def encode(decoded: Decoded, rgb: np.ndarray | None = None, *, format: str | None = None,
           quality: int | None = None) -> bytes:
    """Encode ``rgb`` (default: decoded.rgb) with decoded's alpha/grey/metadata in its format (or ``format``)."""
    raise NotImplementedError


def image_info(data: bytes, limits: Limits = Limits()) -> ImageInfo:
    """probe() plus the average colour (COS ``Ave``)."""
    raise NotImplementedError
