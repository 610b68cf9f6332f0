"""responses.empty() builds its Response directly: it must equal Starlette's generic constructor."""

from __future__ import annotations

import pytest
from starlette.responses import Response

from cosbeauty.api.responses import empty


@pytest.mark.parametrize("status", [200, 201, 204, 206, 304, 100, 404, 412])
@pytest.mark.parametrize("headers", [None, {}, {"ETag": '"abc"', "x-cos-hash-crc64ecma": "12"},
                                     {"content-length": "7", "X-Cos-Version-Id": "v1"},
                                     {"Content-Length": "0", "Location": "http://h/é"}])
def test_empty_is_starlettes_response(status, headers):
    ours, theirs = empty(status, headers), Response(b"", status_code=status, headers=headers)
    assert isinstance(ours, Response)
    assert ours.raw_headers == theirs.raw_headers
    assert (ours.status_code, ours.body, ours.background, ours.media_type) == \
        (theirs.status_code, theirs.body, theirs.background, theirs.media_type)
    assert dict(ours.headers) == dict(theirs.headers)


def test_empty_headers_stay_mutable():
    response = empty(200, {"etag": '"x"'})
    response.headers["x-cos-request-id"] = "r"
    assert (b"x-cos-request-id", b"r") in response.raw_headers
