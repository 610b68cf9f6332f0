"""Versioning: PUT/GET ``?versioning`` (Enabled / Suspended), version ids on PUT, copy and complete,
GET/HEAD/DELETE ``?versionId=``, delete markers, ListObjectVersions (``GET ?versions``: prefix,
delimiter, key-marker/version-id-marker, max-keys, encoding-type) -- the storage does the work
(storage/versions.py). A bucket that never had versioning enabled behaves exactly as before:
every object is its own ``null`` version and a delete removes the bytes.

Version ids are answered in ``x-cos-version-id`` (COS clients) or ``x-amz-version-id`` (S3 clients),
delete markers in ``x-cos-delete-marker`` / ``x-amz-delete-marker``.
"""

from __future__ import annotations

from starlette.responses import Response

from cosbeauty.api import xml
from cosbeauty.api.flavour import owner_xml
from cosbeauty.api.context import Ctx, run
from cosbeauty.api.errors import CosError
from cosbeauty.api.listing import _encoder, parse_max_keys
from cosbeauty.api.responses import empty, http_date, iso_date, quoted, xml_response
from cosbeauty.storage import ObjectMeta, StorageError

ATTR = "versioning"
NULL = "null"


def s3_style(ctx: Ctx) -> bool:
    return bool(ctx.identity and ctx.identity.scheme.startswith("sigv")) or any(
        k.startswith("x-amz-") for k in ctx.headers)


def header(ctx: Ctx, name: str) -> str:
    """``version-id`` -> ``x-amz-version-id`` for S3 clients, ``x-cos-version-id`` otherwise."""
    return ("x-amz-" if s3_style(ctx) else "x-cos-") + name


def version_headers(ctx: Ctx, version_id: str | None) -> dict[str, str]:
    """The version id of what a write created (omitted for the null version of an unversioned bucket)."""
    return {header(ctx, "version-id"): version_id} if version_id and version_id != NULL else {}


def requested_version(ctx: Ctx) -> str | None:
    vid = ctx.query.get("versionId")
    if vid is not None and not vid:
        raise ctx.error("InvalidArgument", "versionId must not be empty.")
    return vid


def copy_source_version(ctx: Ctx) -> str | None:
    """``versionId`` of x-cos-copy-source / x-amz-copy-source (``/bucket/key?versionId=...``)."""
    from urllib.parse import unquote
    value = ctx.header("x-cos-copy-source") or ctx.header("x-amz-copy-source") or ""
    _, sep, vid = value.partition("?versionId=")
    return unquote(vid) if sep and vid else None


def load(ctx: Ctx, *, with_inline: bool) -> ObjectMeta:
    """The object a GET/HEAD (or CI) request names: current, or ``?versionId=``. A delete marker is
    404 NoSuchKey when current and 405 MethodNotAllowed when named, with the delete-marker header."""
    vid = requested_version(ctx)
    try:
        meta = ctx.app.backend.get_object(ctx.bucket, ctx.key, with_inline=with_inline, version_id=vid)
    except StorageError as exc:
        if exc.code == "NoSuchKey" and exc.message and "delete marker" in exc.message:
            raise CosError("NoSuchKey", resource=ctx.resource(),
                           headers={header(ctx, "delete-marker"): "true"}) from None
        raise
    if meta.delete_marker:
        raise CosError("MethodNotAllowed", "The specified version is a delete marker.", resource=ctx.resource(),
                       headers={header(ctx, "delete-marker"): "true", header(ctx, "version-id"): meta.version_id,
                                "last-modified": http_date(meta.mtime)})
    return meta


async def fetch(ctx: Ctx, *, with_inline: bool) -> ObjectMeta:
    """``load`` in a worker thread: a metadata read is a PostgreSQL round trip in cluster mode (and a
    SQLite query embedded), never run on the event loop. Every async handler uses this."""
    return await run(lambda: load(ctx, with_inline=with_inline))


async def delete(ctx: Ctx, cond) -> Response:
    """DELETE Object (current or ``?versionId=``)."""
    result = await run(lambda: ctx.app.backend.delete_object(ctx.bucket, ctx.key, cond, requested_version(ctx)))
    headers = version_headers(ctx, result.version_id)
    if result.version_id == NULL and result.delete_marker:
        headers[header(ctx, "version-id")] = NULL
    if result.delete_marker:
        headers[header(ctx, "delete-marker")] = "true"
    return empty(204, headers)


async def get_versioning(ctx: Ctx) -> Response:
    status = (await run(ctx.app.backend.get_bucket, ctx.bucket)).attrs.get(ATTR)
    return xml_response("VersioningConfiguration", {"Status": status} if status else {})


async def put_versioning(ctx: Ctx) -> Response:
    root = xml.parse(await ctx.read_body(64 * 1024), "VersioningConfiguration")
    status = xml.child_text(root, "Status")
    if status not in ("Enabled", "Suspended"):
        raise ctx.error("MalformedXML", "Status must be Enabled or Suspended.")
    if root.find("MfaDelete") is not None and xml.child_text(root, "MfaDelete") == "Enabled":
        raise ctx.error("NotImplemented", "MFA delete is not implemented by this server.")
    await run(lambda: ctx.app.backend.update_bucket(ctx.bucket, attrs={ATTR: status}))
    return empty(200)


async def list_versions(ctx: Ctx) -> Response:
    q = ctx.query
    enc = _encoder(ctx)
    prefix, delimiter = q.get("prefix", ""), q.get("delimiter", "")
    key_marker, vid_marker = q.get("key-marker", ""), q.get("version-id-marker", "")
    if vid_marker and not key_marker:
        raise ctx.error("InvalidArgument", "A version-id-marker cannot be specified without a key-marker.")
    max_keys = parse_max_keys(q.get("max-keys"))
    if max_keys == 0:
        await run(ctx.app.backend.get_bucket, ctx.bucket)
    page = await run(lambda: ctx.app.backend.list_object_versions(
        ctx.bucket, prefix=prefix, delimiter=delimiter, key_marker=key_marker, version_id_marker=vid_marker,
        max_keys=max_keys)) if max_keys else None
    owner = owner_xml(ctx)
    body: dict = {"Name": ctx.bucket}
    if "encoding-type" in q:
        body["EncodingType"] = q["encoding-type"]
    body.update({"Prefix": enc(prefix), "KeyMarker": enc(key_marker), "VersionIdMarker": vid_marker,
                 "MaxKeys": max_keys})
    if delimiter:
        body["Delimiter"] = enc(delimiter)
    body["IsTruncated"] = bool(page and page.truncated)
    if page and page.truncated:
        body["NextKeyMarker"] = enc(page.next_key_marker)
        body["NextVersionIdMarker"] = page.next_version_id_marker
    entries = page.versions if page else []
    body["Version"] = [{"Key": enc(e.key), "VersionId": e.version_id, "IsLatest": e.is_latest,
                        "LastModified": iso_date(e.mtime), "ETag": quoted(e.etag), "Size": e.size,
                        "StorageClass": e.storage_class, "Owner": owner}
                       for e in entries if not e.delete_marker]
    body["DeleteMarker"] = [{"Key": enc(e.key), "VersionId": e.version_id, "IsLatest": e.is_latest,
                             "LastModified": iso_date(e.mtime), "Owner": owner}
                            for e in entries if e.delete_marker]
    body["CommonPrefixes"] = [{"Prefix": enc(p)} for p in (page.prefixes if page else [])]
    return xml_response("ListVersionsResult", body)
