"""``ci-process=NAME`` -> processor. A processor turns image bytes plus the request's query
parameters into a :class:`~cosbeauty.imaging.pipeline.Result` (or a result of the same shape:
``data``, ``format``, ``width``, ``height``, ``faces``).

Each process also declares what the HTTP layer needs to know about it: the query parameters it
reads (anything else is refused), how to validate them before any work, the CAM action that
authorizes it, whether ``ignore-error`` applies, how its answer is shaped on download (the image
itself, or Tencent's ``<Response><ResultImage>`` XML) and the name it is metered under.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from . import face_effects
from .errors import InvalidParameter
from .limits import Limits

if TYPE_CHECKING:   # the pipeline (OpenCV, numpy) loads on the first call, on a worker thread
    from .pipeline import Result

__all__ = ["Process", "Processor", "all_params", "get", "get_processor", "names", "register"]

Processor: TypeAlias = "Callable[[bytes, Mapping[str, str], Limits], Result]"

IMAGE, XML = "image", "xml"        # download answers: the processed image, or <Response> XML


@dataclass(frozen=True)
class Process:
    name: str
    fn: Processor
    params: tuple[str, ...]                              # query / rule parameters it reads
    validate: Callable[[Mapping[str, str]], Any]         # raises ImageError (400 / 501) when bad
    action: str                                          # CAM action, besides cos:GetObject/PutObject
    ignore_error: bool = True                            # accepts ignore-error=1 on download
    reply: str = IMAGE
    meter_as: Callable[[Mapping[str, str]], str] | None = None

    def op(self, params: Mapping[str, str]) -> str:
        """The process name in usage records."""
        return self.meter_as(params) if self.meter_as else self.name


_PROCESSES: dict[str, Process] = {}
_FLOAT = re.compile(r"[0-9]+(\.[0-9]*)?|\.[0-9]+")


def register(name: str, *, params: tuple[str, ...], validate: Callable[[Mapping[str, str]], Any], action: str,
             ignore_error: bool = True, reply: str = IMAGE,
             meter_as: Callable[[Mapping[str, str]], str] | None = None) -> Callable[[Processor], Processor]:
    """Decorator: make ``fn`` the processor for ``ci-process=name`` (exact, case-sensitive)."""
    def add(fn: Processor) -> Processor:
        if name in _PROCESSES:
            raise ValueError(f"processor {name!r} is already registered")
        _PROCESSES[name] = Process(name, fn, params, validate, action, ignore_error, reply, meter_as)
        return fn
    return add


def get(name: str) -> Process | None:
    """The process registered under exactly ``name`` (COS names are case-sensitive)."""
    return _PROCESSES.get(name)


def get_processor(name: str) -> Processor | None:
    process = _PROCESSES.get(name)
    return None if process is None else process.fn


def names() -> list[str]:
    return sorted(_PROCESSES)


def all_params() -> tuple[str, ...]:
    """Every parameter some process reads (what the ci-process endpoints declare)."""
    out: dict[str, None] = {}
    for process in _PROCESSES.values():
        out.update(dict.fromkeys(process.params))
    return tuple(out)


def parse_strength(params: Mapping[str, str], default: float = 0.5) -> float:
    """``strength`` query parameter: a plain decimal literal in [0, 1] (no sign, exponent, nan)."""
    raw = params.get("strength")
    if raw is None:
        return default
    text = raw.strip(" \t")   # str.strip() also drops \x1c-\x1f, which float() refuses (was a 500)
    if not _FLOAT.fullmatch(text):
        raise InvalidParameter(f"strength must be a decimal number in [0, 1], got {raw!r}")
    value = float(text)     # what pipeline.check_strength accepts, without importing the pipeline
    if not 0.0 <= value <= 1.0:
        raise InvalidParameter(f"strength must be in [0, 1], got {value!r}")
    return value


@register("AIFaceBeauty", params=("strength",), validate=parse_strength, action="ci:CreateAIFaceBeautifyJob")
def ai_face_beauty(data: bytes, params: Mapping[str, str], limits: Limits) -> Result:
    """Tencent CI ``AIFaceBeauty``: smooth, even and brighten every face; ``strength`` 0..1."""
    from .pipeline import beautify
    return beautify(data, parse_strength(params), limits=limits)


# ci:FaceEffect is the action the English page (and the older Chinese one) names; the current Chinese
# page names ci:CreateFaceEffectJob. The policy engine treats the two as one action (iam/policy.py).
register(face_effects.NAME, params=face_effects.PARAMS, validate=face_effects.parse_params, action="ci:FaceEffect",
         ignore_error=False, reply=XML, meter_as=face_effects.meter_name)(face_effects.process)
