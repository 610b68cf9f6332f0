"""Response helpers shared by handlers: XML bodies, dates, ETags, object headers, blob streaming."""

from __future__ import annotations

import email.utils
import time
from typing import Iterator

import anyio
from starlette.responses import Response

from cosbeauty.api import xml
from cosbeauty.storage import ObjectMeta

# request headers stored with an object and returned on GET/HEAD
STORED_HEADERS = ("cache-control", "content-disposition", "content-encoding", "content-language", "expires")
META_PREFIXES = ("x-cos-meta-", "x-amz-meta-")
# S3 checksums of the whole body, verified on receipt (api/digests.py), stored and returned on a full
# GET/HEAD that asks for them (x-amz-checksum-mode: ENABLED)
CHECKSUM_HEADERS = ("x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-sha1", "x-amz-checksum-sha256")


def xml_response(root: str, body: dict, status: int = 200, headers: dict | None = None) -> Response:
    return Response(xml.render(root, body), status_code=status,
                    headers={"content-type": "application/xml", **(headers or {})})


def empty(status: int = 200, headers: dict | None = None) -> Response:
    return _Empty(status, headers)


class _Empty(Response):
    """``Response(b"", status_code=status, headers=headers)`` built directly: the same attributes and
    raw headers as Starlette's generic constructor makes (names lower-cased, latin-1; content-length
    0 unless given or the status has no body; no content-type), without its generic steps -- every
    PUT answers one of these."""

    def __init__(self, status_code: int, headers: dict | None) -> None:
        self.status_code = status_code
        self.background = None
        self.body = b""
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()] if headers else []
        if not (status_code < 200 or status_code in (204, 304)) and all(k != b"content-length" for k, _ in raw):
            raw.append((b"content-length", b"0"))
        self.raw_headers = raw


def http_date(ts: float) -> str:
    return email.utils.formatdate(ts, usegmt=True)


def iso_date(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts * 1000) % 1000:03d}Z"


def quoted(etag: str) -> str:
    return f'"{etag}"'


_STORED_NAMES = STORED_HEADERS + CHECKSUM_HEADERS
_STORED_SET = frozenset(_STORED_NAMES)
_META_PREFIX_LEN = len(META_PREFIXES[0])
assert all(len(prefix) == _META_PREFIX_LEN for prefix in META_PREFIXES)


def headers_to_store(headers: dict[str, str]) -> dict[str, str]:
    """System headers and user metadata (names normalised to x-cos-meta-*) from a request."""
    # most PUTs carry none of the stored headers: one set test instead of nine lookups
    out = {} if _STORED_SET.isdisjoint(headers) else {k: headers[k] for k in _STORED_NAMES if k in headers}
    if "content-encoding" in out:   # aws-chunked is the upload's framing, not the object's encoding
        kept = [t.strip() for t in out["content-encoding"].split(",") if t.strip().lower() not in ("aws-chunked", "")]
        if kept:
            out["content-encoding"] = ",".join(kept)
        else:
            del out["content-encoding"]
    for name, value in headers.items():
        if name.startswith(META_PREFIXES):      # both prefixes are 11 characters long
            out["x-cos-meta-" + name[_META_PREFIX_LEN:]] = value
    return out


def meta_size(headers: dict[str, str]) -> int:
    return sum(len(k) + len(v) for k, v in headers.items() if k.startswith("x-cos-meta-"))


def object_headers(meta: ObjectMeta, *, aws: bool = False, checksums: bool = False) -> dict[str, str]:
    """Response headers of an object; the stored S3 checksums only with ``checksums`` (a full-object
    GET/HEAD with x-amz-checksum-mode: ENABLED), as S3 answers."""
    out = {
        "content-type": meta.content_type,
        "etag": quoted(meta.etag),
        "last-modified": http_date(meta.mtime),
        "accept-ranges": "bytes",
    }
    if meta.storage_class != "STANDARD":        # COS and S3 omit the header for STANDARD
        out["x-amz-storage-class" if aws else "x-cos-storage-class"] = meta.storage_class
    if meta.tags:
        out["x-amz-tagging-count" if aws else "x-cos-tagging-count"] = str(len(meta.tags))
    if meta.version_id != "null":
        out["x-amz-version-id" if aws else "x-cos-version-id"] = meta.version_id
    for name, value in meta.headers.items():
        if name in CHECKSUM_HEADERS:
            if not checksums:
                continue
            # S3's x-amz-checksum-type: a multipart composite ("<base64>-<parts>") or a full-object value
            out["x-amz-checksum-type"] = "COMPOSITE" if "-" in value else "FULL_OBJECT"
        if aws and name.startswith("x-cos-meta-"):
            name = "x-amz-meta-" + name[len("x-cos-meta-"):]
        out[name] = value
    return out


class BlobResponse(Response):
    """Streams part of an object from storage, reading 1 MiB at a time off the event loop."""

    def __init__(self, chunks: Iterator[bytes], status_code: int, headers: dict[str, str], length: int) -> None:
        super().__init__(None, status_code=status_code, headers={**headers, "content-length": str(length)})
        self._chunks = chunks

    async def __call__(self, scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        if scope["method"] == "HEAD":
            await send({"type": "http.response.body", "body": b""})
            return
        sentinel = object()
        while True:
            chunk = await anyio.to_thread.run_sync(next, self._chunks, sentinel)
            if chunk is sentinel:
                break
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
