"""Ctx's request parsing takes shortcuts (no unquote without a percent-escape, no split without a
query); what it reads must equal the general reading for every raw path and header list."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

import pytest

from cosbeauty.api.context import Ctx


def _reference(raw: bytes | None, path: str) -> tuple[str, str, bool]:
    """(raw_path, path, bad input) as Ctx read them before the shortcuts."""
    raw_path = raw.decode("latin-1").split("?", 1)[0] if raw else path
    if not raw:
        return raw_path, path, False
    try:
        return raw_path, unquote_to_bytes(raw.split(b"?", 1)[0]).decode("utf-8"), False
    except UnicodeDecodeError:
        return raw_path, path, True


def _ctx(raw: bytes | None, path: str = "/scope-path", headers=()) -> Ctx:
    scope = {"type": "http", "method": "PUT", "path": path, "raw_path": raw, "query_string": b"",
             "headers": list(headers)}
    return Ctx(None, scope, None, "rid")      # type: ignore[arg-type]


@pytest.mark.parametrize("raw", [None, b"", b"/", b"/k", b"/a%20b", b"/a%2Fb?x=1", b"/a?b?c", b"?x", b"/%zz",
                                 b"/\xc3\xa9", b"/\xff", b"/%ff", b"/a%3Fb", b"/k?", b"/%E4%BD%A0?acl"])
def test_path_reading_matches_the_general_one(raw):
    ctx = _ctx(raw)
    raw_path, path, bad = _reference(raw, "/scope-path")
    assert (ctx.raw_path, ctx.path, ctx.bad_input is not None) == (raw_path, path, bad)


def test_repeated_headers_join_with_commas_and_names_fold():
    ctx = _ctx(b"/k", headers=[(b"X-Cos-Meta-A", b"1"), (b"x-cos-meta-a", b"2"), (b"Host", b"h\xe9"),
                               (b"x-cos-meta-a", b"")])
    assert ctx.headers == {"x-cos-meta-a": "1,2,", "host": "h\xe9"}
