"""Object endpoints: PUT (and PUT copy), GET (ranges, conditions, response-* overrides), HEAD,
DELETE, and multi-object delete."""

from __future__ import annotations

import email.utils
import re
from urllib.parse import unquote

from starlette.responses import Response

from cosbeauty.api import addressing, xml
from cosbeauty.api.acl import read_grant_headers
from cosbeauty.api.bodies import drop, receive_blob
from cosbeauty.api.conditions import precheck, write_condition
from cosbeauty.api.context import Ctx, run
from cosbeauty.api.errors import CosError
from cosbeauty.api.object_meta import new_meta
from cosbeauty.api.scope import RESPONSE_OVERRIDES
from cosbeauty.api import versioning
from cosbeauty.api.tagging import tags_for_copy, tags_from_header
from cosbeauty.api.responses import (
    CHECKSUM_HEADERS, BlobResponse, empty, iso_date, object_headers, quoted, xml_response,
)
from cosbeauty.storage import ObjectMeta, StorageError
from cosbeauty.storage.blobs import INLINE_MAX
from cosbeauty.storage.checksums import HEADER as CRC_HEADER

MAX_DELETE_KEYS = 1000


def _is_aws(ctx: Ctx) -> bool:
    return bool(ctx.identity and ctx.identity.scheme.startswith("sigv4")) or any(
        k.startswith("x-amz-") for k in ctx.headers)


# -- PUT ------------------------------------------------------------------------------------
async def put_object(ctx: Ctx) -> Response:
    headers = ctx.headers
    if headers.get("x-cos-copy-source") or headers.get("x-amz-copy-source"):
        return await copy_object(ctx)
    if headers.get("pic-operations") is not None:
        from cosbeauty.api import ci
        return await ci.put_with_pic_operations(ctx)
    await ctx.app.authorizer.check(ctx, ["cos:PutObject"])
    meta = await store_body(ctx, ctx.bucket, ctx.key)
    return empty(200, {"etag": quoted(meta.etag), CRC_HEADER: meta.headers[CRC_HEADER],
                       **versioning.version_headers(ctx, meta.version_id),
                       **{k: v for k, v in meta.headers.items() if k in CHECKSUM_HEADERS}})


async def store_body(ctx: Ctx, bucket: str, key: str) -> ObjectMeta:
    """Receive the request body as object ``bucket/key`` and commit it (used by PUT and CI)."""
    declared = ctx.declared_length()
    if declared is None or declared > INLINE_MAX:
        # fail fast, before reading (and writing to disk) a body; a small body is held in memory and
        # its commit answers NoSuchBucket itself, which spares a metadata read
        await run(ctx.app.backend.get_bucket, bucket)
    cond = write_condition(ctx)
    if cond is not None:
        await run(precheck, ctx, bucket, key, cond)
    tags_from_header(ctx)                # bad tags fail before the body too
    await read_grant_headers(ctx)        # and bad grants (a grant to a sub-account reads the IAM store)
    received = await receive_blob(ctx, max_size=ctx.app.config.max_object_size, declared=declared)
    try:
        meta = new_meta(ctx, bucket, key, received.size, received.md5_hex,
                        segments=received.segments, inline=received.inline, crc64=received.crc64)
    except BaseException as exc:
        await drop(ctx, received, exc)
        raise
    await ctx.app.backend.put_object_async(meta, cond)
    return meta


_SOURCE_HOST = re.compile(r"^(?P<bucket>[^./]+)\.cos\.[a-z0-9-]+\.myqcloud\.com/(?P<key>.+)$")


def parse_copy_source(ctx: Ctx, value: str) -> tuple[str, str]:
    value = value.split("?versionId=", 1)[0]
    try:        # strict: replacement characters would make different keys collide (%ff%fe)
        decoded = unquote(value, errors="strict")
    except UnicodeDecodeError:
        raise ctx.error("InvalidArgument", "x-cos-copy-source is not valid UTF-8 once percent-decoded; "
                                           "object keys are UTF-8.") from None
    m = _SOURCE_HOST.match(decoded)
    if m:
        bucket, key = m["bucket"], m["key"]
    else:
        bucket, _, key = decoded.lstrip("/").partition("/")
    if not bucket or not key:
        raise ctx.error("InvalidArgument", "x-cos-copy-source must be <bucket>-<appid>.cos.<region>.myqcloud.com/<key> "
                                           "or /<bucket>/<key>.")
    addressing.check_bucket_name(bucket)
    addressing.check_key(key, ctx.app.config.max_key_bytes)
    return bucket, key


def copy_source(ctx: Ctx) -> tuple[str, str]:
    return parse_copy_source(ctx, ctx.header("x-cos-copy-source") or ctx.header("x-amz-copy-source") or "")


def clone_blobs(ctx: Ctx, src: ObjectMeta) -> tuple[list, bytes | None]:
    """New blobs carrying ``src``'s bytes (hard links), so the copy owns its storage."""
    if src.inline is not None or not src.segments:
        return [], src.inline or b""
    return [[ctx.app.backend.link_blob(name), size] for name, size in src.segments], None


async def copy_object(ctx: Ctx) -> Response:
    src_bucket, src_key = copy_source(ctx)
    await ctx.app.authorizer.check(ctx, ["cos:GetObject"], bucket=src_bucket, key=src_key)
    await ctx.app.authorizer.check(ctx, ["cos:PutObject"])
    await run(ctx.app.backend.get_bucket, ctx.bucket)
    await read_grant_headers(ctx)
    src_version = versioning.copy_source_version(ctx)
    src = await run(lambda: ctx.app.backend.get_object(src_bucket, src_key, version_id=src_version))
    if src.delete_marker:
        raise ctx.error("InvalidRequest", "The copy source version is a delete marker.")
    check_conditions(ctx, src, copy=True)
    directive = (ctx.header("x-cos-metadata-directive") or ctx.header("x-amz-metadata-directive") or "Copy")
    if directive.lower() not in ("copy", "replaced", "replace"):
        raise ctx.error("InvalidArgument", "x-cos-metadata-directive must be Copy or Replaced.")
    replace = directive.lower() != "copy"
    if (src_bucket, src_key) == (ctx.bucket, ctx.key) and not replace:
        raise ctx.error("InvalidRequest", "Copying an object onto itself needs x-cos-metadata-directive: Replaced.")
    segments, inline = await run(clone_blobs, ctx, src)
    src_crc = src.headers.get(CRC_HEADER)
    cond = write_condition(ctx)
    meta = new_meta(ctx, ctx.bucket, ctx.key, src.size, src.etag, segments=segments, inline=inline,
                    headers=None if replace else dict(src.headers),
                    crc64=None if src_crc is None else int(src_crc), tags=tags_for_copy(ctx, src.tags))
    if not replace:
        meta.content_type = src.content_type
    await run(ctx.app.backend.put_object, meta, cond)
    headers = versioning.version_headers(ctx, meta.version_id)
    if src_version:
        headers[versioning.header(ctx, "copy-source-version-id")] = src_version
    return xml_response("CopyObjectResult", {"ETag": quoted(meta.etag), "LastModified": iso_date(meta.mtime)},
                        headers=headers)


# -- GET / HEAD -------------------------------------------------------------------------------
def _parse_http_date(value: str) -> float | None:
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def _etag_matches(header: str, etag: str) -> bool:
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or quoted(etag) in tags or etag in tags


def check_conditions(ctx: Ctx, meta: ObjectMeta, copy: bool = False) -> None:
    """If-Match / If-None-Match / If-(Un)Modified-Since, in RFC 7232 order. With ``copy``, the
    x-cos-copy-source-if-* (or x-amz-copy-source-if-*) headers, which fail with 412 only."""
    h = ctx.headers

    def get(name: str) -> str | None:
        if not copy:
            return h.get(name)
        return h.get("x-cos-copy-source-" + name) or h.get("x-amz-copy-source-" + name)
    mtime = int(meta.mtime)
    if_match, if_none = get("if-match"), get("if-none-match")
    if if_match is not None and not _etag_matches(if_match, meta.etag):
        raise ctx.error("PreconditionFailed")
    if if_match is None:
        since = get("if-unmodified-since")
        ts = _parse_http_date(since) if since else None
        if ts is not None and mtime > ts:
            raise ctx.error("PreconditionFailed")
    if if_none is not None and _etag_matches(if_none, meta.etag):
        if ctx.method in ("GET", "HEAD") and not copy:
            raise CosError("NotModified", headers={"etag": quoted(meta.etag)})
        raise ctx.error("PreconditionFailed")
    if if_none is None:
        since = get("if-modified-since")
        ts = _parse_http_date(since) if since else None
        if ts is not None and mtime <= ts:
            if copy:
                raise ctx.error("PreconditionFailed")
            raise CosError("NotModified", headers={"etag": quoted(meta.etag)})


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(value: str | None, size: int) -> tuple[int, int] | None:
    """(start, end_exclusive) for a single byte range; None to serve the whole object."""
    if not value:
        return None
    m = _RANGE.match(value.strip().replace(" ", ""))
    if not m or (not m[1] and not m[2]):
        return None   # malformed or multi-range: ignored, like S3
    if not m[1]:
        n = int(m[2])
        if n == 0:
            raise CosError("InvalidRange", headers={"content-range": f"bytes */{size}"})
        return max(0, size - n), size
    start = int(m[1])
    end = int(m[2]) + 1 if m[2] else size
    if start >= size or (m[2] and int(m[2]) < start):
        raise CosError("InvalidRange", headers={"content-range": f"bytes */{size}"})
    return start, min(end, size)


def _checksum_mode(ctx: Ctx) -> bool:
    return (ctx.header("x-amz-checksum-mode") or "").upper() == "ENABLED"


async def get_object(ctx: Ctx) -> Response:
    meta = await versioning.fetch(ctx, with_inline=True)
    check_conditions(ctx, meta)
    headers = object_headers(meta, aws=_is_aws(ctx), checksums=_checksum_mode(ctx) and not ctx.header("range"))
    for param, header in RESPONSE_OVERRIDES.items():
        if param in ctx.query:
            headers[header] = ctx.query[param]
    rng = parse_range(ctx.header("range"), meta.size)
    status = 200
    start, end = 0, meta.size
    if rng is not None:
        start, end = rng
        status = 206
        headers["content-range"] = f"bytes {start}-{end - 1}/{meta.size}"
    if meta.inline is not None:
        body = b"" if ctx.method == "HEAD" else meta.inline[start:end]
        headers["content-length"] = str(end - start)
        return Response(body, status_code=status, headers=headers)
    chunks = ctx.app.backend.iter_object(meta, start, end)
    return BlobResponse(chunks, status, headers, end - start)


async def head_object(ctx: Ctx) -> Response:
    meta = await versioning.fetch(ctx, with_inline=False)
    check_conditions(ctx, meta)
    headers = object_headers(meta, aws=_is_aws(ctx), checksums=_checksum_mode(ctx))
    headers["content-length"] = str(meta.size)
    return Response(b"", status_code=200, headers=headers)


# -- DELETE -----------------------------------------------------------------------------------
async def delete_object(ctx: Ctx) -> Response:
    return await versioning.delete(ctx, write_condition(ctx, delete=True))


async def delete_multiple(ctx: Ctx) -> Response:
    body = await ctx.read_body(2 * 1024 * 1024)
    root = xml.parse(body, "Delete")
    quiet = (xml.child_text(root, "Quiet", "false") or "").lower() == "true"
    keys = [xml.child_text(o, "Key", strip=False) for o in root.findall("Object")]   # keys are exact
    version_ids = [xml.child_text(o, "VersionId") for o in root.findall("Object")]
    if not keys or len(keys) > MAX_DELETE_KEYS:
        raise ctx.error("MalformedXML", f"Delete between 1 and {MAX_DELETE_KEYS} objects per request.")
    await run(ctx.app.backend.get_bucket, ctx.bucket)
    deleted, errors = [], []
    for key, version_id in zip(keys, version_ids):
        try:
            if not key:
                raise CosError("InvalidArgument", "An empty key cannot be deleted.")
            addressing.check_key(key, ctx.app.config.max_key_bytes)
            await ctx.app.authorizer.check(ctx, ["cos:DeleteObject"], key=key)
            result = await run(ctx.app.backend.delete_object, ctx.bucket, key, None, version_id or None)
            entry: dict = {"Key": key}
            if version_id:
                entry["VersionId"] = version_id
            if result.delete_marker:
                entry["DeleteMarker"] = True
                if not version_id:
                    entry["DeleteMarkerVersionId"] = result.version_id
            deleted.append(entry)
        except CosError as err:
            errors.append({"Key": key, "Code": err.code, "Message": err.message})
        except StorageError as err:
            errors.append({"Key": key, "Code": err.code, "Message": err.message or err.code})
    body_dict: dict = {}
    if not quiet:
        body_dict["Deleted"] = deleted
    body_dict["Error"] = errors
    return xml_response("DeleteResult", body_dict)
