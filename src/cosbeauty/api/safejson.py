"""JSON from clients (Pic-Operations, admin API bodies, policies) with a nesting limit.

``json.loads`` recurses once per level, so a document nested a few thousand deep raises
RecursionError (a 500) instead of an answer. :func:`check_depth` scans the text once, linearly,
and refuses more than ``MAX_DEPTH`` levels before anything is parsed.
"""

from __future__ import annotations

import json

from cosbeauty.api.errors import CosError

MAX_DEPTH = 32


def check_depth(text: str | bytes, what: str, max_depth: int = MAX_DEPTH) -> None:
    """Raise InvalidArgument if arrays/objects in ``text`` nest deeper than ``max_depth``."""
    if isinstance(text, bytes):
        text = text.decode("latin-1")   # only the ASCII structure matters here
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > max_depth:
                raise CosError("InvalidArgument", f"{what}: JSON nested too deep (more than {max_depth} levels).")
        elif char in "]}":
            depth -= 1


def loads(text: str | bytes, what: str, max_depth: int = MAX_DEPTH) -> object:
    """``json.loads`` after :func:`check_depth`; malformed JSON -> InvalidArgument naming ``what``."""
    check_depth(text, what, max_depth)
    try:
        return json.loads(text)
    except (UnicodeError, ValueError) as exc:
        raise CosError("InvalidArgument", f"{what}: not valid JSON ({exc}).") from None
