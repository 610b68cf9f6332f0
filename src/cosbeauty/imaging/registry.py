"""``ci-process=NAME`` -> processor. A processor turns image bytes plus the request's query
parameters into a :class:`~cosbeauty.imaging.pipeline.Result`."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeAlias

from .errors import InvalidParameter
from .limits import Limits

if TYPE_CHECKING:   # the pipeline (OpenCV, numpy) loads on the first call, on a worker thread
    from .pipeline import Result

__all__ = ["Processor", "get_processor", "names", "register"]

Processor: TypeAlias = "Callable[[bytes, Mapping[str, str], Limits], Result]"

_PROCESSORS: dict[str, Processor] = {}
_FLOAT = re.compile(r"[0-9]+(\.[0-9]*)?|\.[0-9]+")


def register(name: str) -> Callable[[Processor], Processor]:
    """Decorator: make ``fn`` the processor for ``ci-process=name`` (exact, case-sensitive)."""
    def add(fn: Processor) -> Processor:
        if name in _PROCESSORS:
            raise ValueError(f"processor {name!r} is already registered")
        _PROCESSORS[name] = fn
        return fn
    return add


def get_processor(name: str) -> Processor | None:
    """The processor registered under exactly ``name`` (COS names are case-sensitive)."""
    return _PROCESSORS.get(name)


def names() -> list[str]:
    return sorted(_PROCESSORS)


def parse_strength(params: Mapping[str, str], default: float = 0.5) -> float:
    """``strength`` query parameter: a plain decimal literal in [0, 1] (no sign, exponent, nan)."""
    raw = params.get("strength")
    if raw is None:
        return default
    if not _FLOAT.fullmatch(raw.strip()):
        raise InvalidParameter(f"strength must be a decimal number in [0, 1], got {raw!r}")
    value = float(raw)      # what pipeline.check_strength accepts, without importing the pipeline
    if not 0.0 <= value <= 1.0:
        raise InvalidParameter(f"strength must be in [0, 1], got {value!r}")
    return value


@register("AIFaceBeauty")
def ai_face_beauty(data: bytes, params: Mapping[str, str], limits: Limits) -> Result:
    """Tencent CI ``AIFaceBeauty``: smooth, even and brighten every face; ``strength`` 0..1."""
    from .pipeline import beautify
    return beautify(data, parse_strength(params), limits=limits)
