"""New object metadata from a request's headers -- shared by PUT, copy, multipart and Cloud Infinite
results (its own module, so api/ci.py and api/objects.py do not import each other)."""

from __future__ import annotations

import time

from cosbeauty.api.acl import object_acl_from_request, writer_grants
from cosbeauty.api.context import Ctx
from cosbeauty.api.responses import headers_to_store, meta_size
from cosbeauty.api.tagging import tags_from_header
from cosbeauty.storage import ObjectMeta
from cosbeauty.storage.checksums import HEADER as CRC_HEADER

MAX_USER_META = 2 * 1024


def new_meta(ctx: Ctx, bucket: str, key: str, size: int, etag: str, *, segments=(), inline=None,
             headers: dict | None = None, crc64: int | None = None, tags: dict | None = None) -> ObjectMeta:
    """Object metadata from the request headers (content type, stored headers, ACL, user meta),
    with the CRC-64 COS reports in ``x-cos-hash-crc64ecma``."""
    stored = headers_to_store(ctx.headers) if headers is None else headers
    chunked = getattr(ctx.identity, "chunked", None)
    if headers is None and chunked is not None:
        stored.update(chunked.verified)      # an aws-chunked upload's trailing checksum, verified
    if crc64 is not None:
        stored[CRC_HEADER] = str(crc64)
    if meta_size(stored) > MAX_USER_META:
        raise ctx.error("InvalidArgument", f"User metadata may be at most {MAX_USER_META} bytes.")
    acl, grants = object_acl_from_request(ctx)
    request = ctx.headers
    return ObjectMeta(bucket=bucket, key=key, size=size, etag=etag, mtime=time.time(),
                      content_type=request.get("content-type") or "application/octet-stream",
                      headers=stored, acl=acl, grants=writer_grants(ctx, grants),
                      storage_class=(request.get("x-cos-storage-class") or request.get("x-amz-storage-class")
                                     or "STANDARD").upper(),
                      segments=list(segments), inline=inline,
                      tags=tags_from_header(ctx) if tags is None else tags)
