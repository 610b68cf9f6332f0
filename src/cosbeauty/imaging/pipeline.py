"""Bytes in, bytes out: decode -> detect -> beautify -> encode, with per-stage timings."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from .codec import Limits, decode, encode, normalize_format, probe
from .errors import InvalidParameter

__all__ = ["FaceBox", "Result", "beautify", "check_strength"]

STAGES = ("decode", "detect", "mask", "filter", "blend", "encode")


@dataclass(frozen=True)
class FaceBox:
    """A beautified face, JSON-friendly (image pixels of the upright output)."""

    x: int
    y: int
    width: int
    height: int
    score: float


@dataclass
class Result:
    data: bytes
    format: str
    width: int
    height: int
    faces: list[FaceBox] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)   # milliseconds per stage


def check_strength(strength: Any) -> float:
    """``strength`` as a float in [0, 1]; anything else raises InvalidParameter."""
    if isinstance(strength, bool) or not isinstance(strength, (int, float)):
        raise InvalidParameter(f"strength must be a number in [0, 1], got {strength!r}")
    value = float(strength)
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise InvalidParameter(f"strength must be in [0, 1], got {strength!r}")
    return value


def beautify(data: bytes, strength: float = 0.5, *, limits: Limits = Limits(),
             format: str | None = None, quality: int | None = None, **options: Any) -> Result:
    """Beautify every face in an encoded image.

    ``options`` go to :func:`beautify_array` (``reshape``, ``slim``, ``eyes``). When
    ``strength`` is 0 or no face is found, the input bytes are returned unchanged (unless a
    different output ``format`` or an explicit ``quality`` was asked for: then the untouched
    pixels are re-encoded).
    """
    from .beauty import beautify_array

    strength = check_strength(strength)
    timings = dict.fromkeys(STAGES, 0.0)
    keep_bytes = quality is None
    if strength == 0 and not options.get("reshape") and keep_bytes:
        info = probe(data, limits)
        if format is None or normalize_format(format) == info.format:
            return Result(data, info.format, info.width, info.height, [], timings)
    t = time.perf_counter()
    decoded = decode(data, limits)
    timings["decode"] = (time.perf_counter() - t) * 1000
    info = decoded.info
    out_format = normalize_format(format) if format else info.format
    skip = strength == 0 and not options.get("reshape")
    pixels, faces = beautify_array(decoded.rgb, strength, faces=[] if skip else None,
                                   timings=timings, **options)
    boxes = [FaceBox(*f.box, score=round(f.score, 4)) for f in faces]
    if not faces and keep_bytes and out_format == info.format:
        return Result(data, info.format, info.width, info.height, [], timings)
    t = time.perf_counter()
    encoded = encode(decoded, pixels, format=out_format, quality=quality)
    timings["encode"] = (time.perf_counter() - t) * 1000
    return Result(encoded, out_format, info.width, info.height, boxes, timings)
