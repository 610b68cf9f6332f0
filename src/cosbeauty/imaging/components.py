"""Bytes in, bytes out with an amount per retouch component (the library form of
``cosbeauty beautify --smoothing ... --teeth ...`` and of ``face-effect&type=face-beautify``).

:func:`cosbeauty.imaging.beautify` takes one ``strength`` and derives every component from the
tuned default curve (``RetouchParams.for_strength``); :func:`beautify_components` takes the
amounts themselves (a :class:`RetouchParams`, e.g. ``replace(RetouchParams.for_strength(0.5),
teeth=0)``) plus the reshape amounts, and runs the same retouch (``beauty.beautify_array``).
"""

from __future__ import annotations

import time

import numpy as np

from .beauty import RetouchParams, beautify_array
from .codec import decode, encode, normalize_format
from .limits import Limits
from .pipeline import FaceBox, Result

__all__ = ["RetouchParams", "beautify_components"]


def _check_amount(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    return float(value)


def _warp_alpha(alpha: np.ndarray, faces: list, slim: float, eyes: float) -> np.ndarray:
    """The reshape moves the picture; the alpha channel has to move with it, or a cut-out's
    transparent (black) surroundings are pulled inside its opaque outline. Same faces, same
    amounts, nothing else: the displacement field is the one the colour pixels got."""
    planes = np.ascontiguousarray(np.repeat(alpha[..., None], 3, axis=2))
    moved, _ = beautify_array(planes, 0.0, faces=faces, reshape=True, slim=slim, eyes=eyes, params=RetouchParams())
    return moved[..., 0]


def beautify_components(data: bytes, params: RetouchParams, *, slim: float = 0.0, eyes: float = 0.0,
                        limits: Limits = Limits(), format: str | None = None,  # noqa: A002
                        quality: int | None = None) -> Result:
    """Retouch every face with ``params`` (each component's amount in [0, 1]); ``slim`` and
    ``eyes`` in [0, 1] are the slim-face and eye-enlarging reshape (0: off).

    When nothing would change (every amount 0, or no face) and neither ``format`` nor
    ``quality`` asks for a re-encode, the input bytes are returned as they are.
    """
    slim, eyes = _check_amount("slim", slim), _check_amount("eyes", eyes)
    reshape = slim > 0 or eyes > 0
    timings: dict[str, float] = {}
    t = time.perf_counter()
    decoded = decode(data, limits)
    info = decoded.info
    timings["decode"] = (time.perf_counter() - t) * 1000
    out_format = normalize_format(format) if format else info.format
    keep = quality is None and out_format == info.format
    if keep and not params.any() and not reshape:
        return Result(data, info.format, info.width, info.height, [], timings)
    pixels, faces = beautify_array(decoded.rgb, 0.0, reshape=reshape, slim=slim, eyes=eyes, params=params,
                                   timings=timings)
    boxes = [FaceBox(*f.box, score=round(f.score, 4)) for f in faces]
    if keep and not faces:
        return Result(data, info.format, info.width, info.height, [], timings)
    if reshape and faces and decoded.alpha is not None:
        decoded.alpha = _warp_alpha(decoded.alpha, faces, slim, eyes)
    t = time.perf_counter()
    encoded = encode(decoded, pixels, format=out_format, quality=quality)
    timings["encode"] = (time.perf_counter() - t) * 1000
    return Result(encoded, out_format, info.width, info.height, boxes, timings)
