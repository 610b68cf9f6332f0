"""Tencent Cloud Infinite ``ci-process=face-effect``, as its API page documents it
(tencentcloud.com/document/product/1045/73051, cloud.tencent.com/document/product/436/121109):

* ``type=face-beautify``: ``whitening`` (default 30), ``smoothing`` (default 10), ``faceLifting``
  (default 70), ``eyeEnlarging`` (default 70), integers 0..100; 0 turns the effect off.
* ``type=face-segmentation``: portrait cut-out; the image must be under 2000 x 2000 px.
* ``type=face-gender-transformation`` / ``face-age-transformation``: generative face editing,
  not implemented here (``NotImplemented``, never a silent stand-in). Their own parameters
  (``gender`` 0/1, ``age`` 10..80) are still validated.
* Input: PNG, JPEG or BMP whose base64 form is at most 5 MB (so at most 3,932,160 bytes).
  The beautify parameters only act with ``type=face-beautify`` (Tencent's SDK sends its
  defaults with every type, so they are accepted, range-checked, and have no effect elsewhere).

The reply is ``<Response><ResultImage>base64</ResultImage>[<ResultMask>base64</ResultMask>]
</Response>``: the beautified image (input format) or, for segmentation, the person over a
transparent background (PNG, RGBA) plus the mask (greyscale PNG, 255 = person).

How the four levels map onto the retouch (docs/ci.md, "face-effect"):
``whitening`` -> the whitening tone curve (continued onto the neck); ``smoothing`` -> the
skin clean-up family at strength ``smoothing/100`` of the default curve (smoothing, spots,
lines, eye bags, redness); ``faceLifting`` -> slim-face reshape; ``eyeEnlarging`` -> eye
enlargement. Rosy, eye brightening and teeth whitening are not part of Tencent's API: off.

This module is light at import (the server's registry imports it); the image libraries load
on the first call, on a worker thread.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import ImageError, ImageTooLarge, InvalidParameter, UnsupportedFormat
from .limits import Limits

if TYPE_CHECKING:
    from .retouch.params import RetouchParams

__all__ = ["BEAUTIFY", "SEGMENTATION", "TYPES", "PARAMS", "LEVELS", "EffectNotImplemented", "FaceEffectResult",
           "FaceEffectSpec", "face_effect", "parse_params", "process", "retouch_params"]

NAME = "face-effect"
BEAUTIFY = "face-beautify"
GENDER = "face-gender-transformation"
AGE = "face-age-transformation"
SEGMENTATION = "face-segmentation"
TYPES = (BEAUTIFY, GENDER, AGE, SEGMENTATION)
LEVELS = {"whitening": 30, "smoothing": 10, "faceLifting": 70, "eyeEnlarging": 70}   # documented defaults
PARAMS = ("type", *LEVELS, "gender", "age")
FORMATS = ("JPEG", "PNG", "BMP")                 # "PNG, JPG, JPEG, BMP; GIF is not supported"
MAX_BASE64_BYTES = 5 * 1024 * 1024               # "after base64 encoding must not exceed 5MB"
MAX_INPUT_BYTES = MAX_BASE64_BYTES // 4 * 3      # 3,932,160 raw bytes encode to exactly 5 MiB
SEGMENTATION_MAX_SIDE = 2000                     # "resolution must be less than 2000*2000"
PNG_LEVEL = 1              # zlib level of the cut-out: 3x faster than 3, 7 % larger; with libpng's fast
                           # row filters another 2x (1999 px square: 755 -> 386 ms, +1 % size)
_INT = re.compile(r"[0-9]{1,3}")


class EffectNotImplemented(ImageError):
    """A face-effect type Tencent offers that this server does not implement."""

    code = "NotImplemented"
    status = 501


@dataclass(frozen=True)
class FaceEffectSpec:
    """One validated face-effect request."""

    type: str
    whitening: int = LEVELS["whitening"]
    smoothing: int = LEVELS["smoothing"]
    face_lifting: int = LEVELS["faceLifting"]
    eye_enlarging: int = LEVELS["eyeEnlarging"]

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise InvalidParameter(f"type must be one of {', '.join(TYPES)}; got {self.type!r}")
        for name in ("whitening", "smoothing", "face_lifting", "eye_enlarging"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
                raise InvalidParameter(f"{name} must be an integer in [0, 100], got {value!r}")

    @property
    def reshape(self) -> bool:
        return self.face_lifting > 0 or self.eye_enlarging > 0


@dataclass
class FaceEffectResult:
    """``data`` is ResultImage (the bytes of an image), ``mask`` ResultMask (segmentation only)."""

    data: bytes
    format: str
    width: int
    height: int
    faces: list = field(default_factory=list)       # FaceBox per beautified face
    mask: bytes | None = None
    timings: dict[str, float] = field(default_factory=dict)


def _integer(params: Mapping[str, str], name: str, lo: int, hi: int) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    if not _INT.fullmatch(raw) or not lo <= int(raw) <= hi:
        raise InvalidParameter(f"{name} must be an integer in [{lo}, {hi}], got {raw!r}")
    return int(raw)


def parse_params(params: Mapping[str, str]) -> FaceEffectSpec:
    """Validate the query (or Pic-Operations rule) parameters. Raises InvalidParameter (400) or,
    for the generative types, EffectNotImplemented (501) -- after checking their parameters."""
    kind = params.get("type")
    if kind is None or kind == "":
        raise InvalidParameter(f"face-effect needs a type: {', '.join(TYPES)}.")
    if kind not in TYPES:
        raise InvalidParameter(f"Unsupported face-effect type {kind!r}; Tencent's types are {', '.join(TYPES)}.")
    levels = {name: _integer(params, name, 0, 100) for name in LEVELS}
    gender = _integer(params, "gender", 0, 1)
    age = _integer(params, "age", 10, 80)
    if kind in (GENDER, AGE):
        needed, value = ("gender", gender) if kind == GENDER else ("age", age)
        if value is None:
            raise InvalidParameter(f"type={kind} needs the {needed} parameter.")
        raise EffectNotImplemented(f"face-effect type={kind} (generative face editing) is not implemented by "
                                   f"this server; supported: {BEAUTIFY}, {SEGMENTATION}.")
    given = {key: value for key, value in levels.items() if value is not None}
    return FaceEffectSpec(kind, whitening=given.get("whitening", LEVELS["whitening"]),
                          smoothing=given.get("smoothing", LEVELS["smoothing"]),
                          face_lifting=given.get("faceLifting", LEVELS["faceLifting"]),
                          eye_enlarging=given.get("eyeEnlarging", LEVELS["eyeEnlarging"]))


def meter_name(params: Mapping[str, str]) -> str:
    """Usage-record process name: ``face-effect/<type>``."""
    return f"{NAME}/{params.get('type', '')}"


def retouch_params(spec: FaceEffectSpec) -> RetouchParams:
    """The retouch amounts for ``spec`` (the reshape is separate: ``face_lifting``/``eye_enlarging``)."""
    from dataclasses import replace

    from .retouch.params import RetouchParams
    clean = RetouchParams.for_strength(spec.smoothing / 100)
    return replace(clean, whitening=spec.whitening / 100, rosy=0.0, eyes=0.0, teeth=0.0)


# ------------------------------------------------------------------------------- processing


def _limits(limits: Limits) -> Limits:
    return Limits(max_bytes=min(limits.max_bytes, MAX_INPUT_BYTES), max_pixels=limits.max_pixels)


def _check_input(data: bytes, spec: FaceEffectSpec, limits: Limits) -> Any:
    from .codec import probe
    if len(data) > limits.max_bytes:
        raise ImageTooLarge(f"face-effect accepts images up to {limits.max_bytes} bytes (Tencent: 5 MB once "
                            f"base64 encoded); this one is {len(data)} bytes.")
    info = probe(data, limits)
    if info.format not in FORMATS:
        raise UnsupportedFormat(f"face-effect accepts PNG, JPEG and BMP images, not {info.format}.")
    if spec.type == SEGMENTATION and max(info.width, info.height) >= SEGMENTATION_MAX_SIDE:
        raise ImageTooLarge(f"face-segmentation needs an image under {SEGMENTATION_MAX_SIDE}x"
                            f"{SEGMENTATION_MAX_SIDE} px; this one is {info.width}x{info.height}.")
    return info


def _beautify(data: bytes, spec: FaceEffectSpec, limits: Limits) -> FaceEffectResult:
    from .components import beautify_components
    out = beautify_components(data, retouch_params(spec), slim=spec.face_lifting / 100,
                              eyes=spec.eye_enlarging / 100, limits=limits)
    return FaceEffectResult(out.data, out.format, out.width, out.height, out.faces, None, out.timings)


def _png(pixels: Any) -> bytes:
    import cv2
    import numpy as np
    img = pixels if pixels.ndim == 2 else cv2.cvtColor(pixels, cv2.COLOR_RGBA2BGRA)
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(img), [cv2.IMWRITE_PNG_COMPRESSION, PNG_LEVEL,
                                                                cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FAST_FILTERS])
    if not ok:      # pragma: no cover - OpenCV encodes any uint8 array as PNG
        raise RuntimeError("PNG encoding failed")
    return buf.tobytes()


def _segment(data: bytes, limits: Limits, timings: dict) -> FaceEffectResult:
    import numpy as np

    from .codec import decode
    from .segmentation import cutout, person_mask

    t = time.perf_counter()
    decoded = decode(data, limits)
    rgb = decoded.rgb
    peak = 65535.0 if rgb.dtype == np.uint16 else 255.0
    rgb8 = rgb if rgb.dtype == np.uint8 else np.rint(rgb / 257.0).astype(np.uint8)
    timings["decode"] = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    alpha = person_mask(rgb8)
    if decoded.alpha is not None:       # already transparent in the source stays transparent
        alpha = alpha * (decoded.alpha.astype(np.float32) / np.float32(peak))
    timings["segment"] = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    rgba = cutout(rgb8, alpha)
    image, mask = _png(rgba), _png(rgba[..., 3])
    timings["encode"] = (time.perf_counter() - t) * 1000
    h, w = rgb8.shape[:2]
    return FaceEffectResult(image, "PNG", w, h, [], mask, timings)


def run(data: bytes, spec: FaceEffectSpec, limits: Limits = Limits()) -> FaceEffectResult:
    """Apply a validated ``spec`` to encoded image bytes, within Tencent's documented limits
    (and ``limits``, whichever is tighter)."""
    limits = _limits(limits)
    _check_input(data, spec, limits)
    if spec.type == SEGMENTATION:
        return _segment(data, limits, {})
    if spec.type == BEAUTIFY:
        return _beautify(data, spec, limits)
    raise EffectNotImplemented(f"face-effect type={spec.type} is not implemented by this server.")


def process(data: bytes, params: Mapping[str, str], limits: Limits) -> FaceEffectResult:
    """The ``ci-process=face-effect`` processor (registry signature)."""
    return run(data, parse_params(params), limits)


def face_effect(data: bytes, type: str = BEAUTIFY, *, whitening: int = LEVELS["whitening"],  # noqa: A002
                smoothing: int = LEVELS["smoothing"], face_lifting: int = LEVELS["faceLifting"],
                eye_enlarging: int = LEVELS["eyeEnlarging"], limits: Limits = Limits()) -> FaceEffectResult:
    """Library form of ``ci-process=face-effect`` (same defaults, ranges and limits).

    >>> out = face_effect(open("me.jpg", "rb").read(), whitening=50, smoothing=40)
    >>> cut = face_effect(data, "face-segmentation")   # cut.data: RGBA PNG, cut.mask: grey PNG
    """
    if type in (GENDER, AGE):
        raise EffectNotImplemented(f"face-effect type={type} is not implemented by this server.")
    spec = FaceEffectSpec(type, whitening, smoothing, face_lifting, eye_enlarging)
    return run(data, spec, limits)
