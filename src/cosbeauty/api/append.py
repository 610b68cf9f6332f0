"""APPEND Object (COS): ``POST /<key>?append&position=<n>`` adds the body to the end of an appendable
object. Position 0 creates it (Content-Type, Cache-Control, x-cos-meta-*, x-cos-acl ... of that
first request are kept); each later append must give the current length as position
(409 PositionNotEqualToLength otherwise, with ``x-cos-next-append-position``); objects written by
PUT, copy or multipart are not appendable (409 ObjectNotAppendable). The answer carries what COS
documents: ``x-cos-next-append-position``, the ETag ("unique identifier of the object", the one
HEAD/GET answer) and ``x-cos-content-sha1`` (hex SHA-1 of the chunk just appended), plus
``x-cos-hash-crc64ecma`` of the whole object.

Appended bytes are a new immutable blob each; the position check and the commit are one metadata
transaction, so concurrent appends at the same position cannot both succeed. As on COS, the ETag
of an appendable object is not the MD5 of its content (it chains the appended chunks' MD5s), and
buckets with versioning enabled refuse appends.
"""

from __future__ import annotations

import hashlib

from starlette.responses import Response

from cosbeauty.api.acl import read_grant_headers
from cosbeauty.api.bodies import receive_blob
from cosbeauty.api.context import Ctx, run
from cosbeauty.api.errors import CosError
from cosbeauty.api.object_meta import new_meta
from cosbeauty.api.responses import empty, quoted
from cosbeauty.storage import StorageError
from cosbeauty.storage.checksums import HEADER as CRC_HEADER

MAX_APPENDABLE = 5 * 1024**3        # COS: an appendable object is at most 5 GB


def _position(ctx: Ctx) -> int:
    raw = ctx.query.get("position", "")
    if not raw.isdigit():
        raise ctx.error("InvalidArgument", "APPEND needs position=<current length of the object>.")
    return int(raw)


async def append_object(ctx: Ctx) -> Response:
    position = _position(ctx)
    await ctx.app.authorizer.check(ctx, ["cos:AppendObject"])
    info = await run(ctx.app.backend.get_bucket, ctx.bucket)
    if info.attrs.get("versioning") == "Enabled":
        raise ctx.error("InvalidRequest", "APPEND Object is not supported on buckets with versioning enabled.")
    await read_grant_headers(ctx)
    received = await receive_blob(ctx, max_size=MAX_APPENDABLE - position, allow_inline=False)
    meta = new_meta(ctx, ctx.bucket, ctx.key, received.size, received.md5_hex, segments=received.segments,
                    crc64=received.crc64)
    sha1 = await run(_sha1_of, ctx, received.segments)      # before the commit: the blob is still ours alone
    try:
        whole = await run(ctx.app.backend.append_object, meta, position)
    except StorageError as exc:
        if exc.code not in ("PositionNotEqualToLength", "ObjectNotAppendable"):
            raise
        headers = {}
        try:
            current = await run(lambda: ctx.app.backend.get_object(ctx.bucket, ctx.key, with_inline=False))
            headers["x-cos-next-append-position"] = str(current.size)
        except StorageError:
            pass
        raise CosError(exc.code, exc.message, resource=ctx.resource(), headers=headers) from None
    return empty(200, {"etag": quoted(whole.etag), "x-cos-next-append-position": str(whole.size),
                       "x-cos-content-sha1": sha1,
                       CRC_HEADER: whole.headers.get(CRC_HEADER, "0")})


def _sha1_of(ctx: Ctx, segments: list) -> str:
    """Hex SHA-1 of the appended chunk, read back from its blob (blocking: a worker thread)."""
    digest = hashlib.sha1()
    for name, _ in segments:
        with ctx.app.backend.open_blob(name) as f:
            while block := f.read(1024 * 1024):
                digest.update(block)
    return digest.hexdigest()
