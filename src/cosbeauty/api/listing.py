"""GET Bucket: ListObjects (v1, ``marker``) and ListObjectsV2 (``list-type=2``, continuation tokens)."""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import quote

from starlette.responses import Response

from cosbeauty.api.flavour import is_s3_client, owner_xml
from cosbeauty.api.context import Ctx, run
from cosbeauty.api.errors import CosError
from cosbeauty.api.responses import iso_date, quoted, xml_response
from cosbeauty.storage import ListPage

MAX_KEYS = 1000


def parse_max_keys(value: str | None, name: str = "max-keys") -> int:
    if value is None or value == "":
        return MAX_KEYS
    try:
        n = int(value)
    except ValueError:
        raise CosError("InvalidArgument", f"{name} must be an integer, got {value!r}.") from None
    if n < 0:
        raise CosError("InvalidArgument", f"{name} must not be negative.")
    return min(n, MAX_KEYS)


_XML_SAFE = re.compile("[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*")


def _encoder(ctx: Ctx):
    enc = ctx.query.get("encoding-type", "")
    if enc not in ("", "url"):
        raise ctx.error("InvalidArgument", "encoding-type must be 'url'.")
    return (lambda s: quote(s, safe="/")) if enc == "url" else (lambda s: s)


def _contents(ctx: Ctx, page: ListPage, enc, owner: bool) -> list[dict]:
    out = []
    for obj in page.objects:
        item = {"Key": enc(obj.key), "LastModified": iso_date(obj.mtime), "ETag": quoted(obj.etag),
                "Size": obj.size}
        if owner:
            item["Owner"] = owner_xml(ctx)
        item["StorageClass"] = obj.storage_class
        out.append(item)
    return out


def _page(ctx: Ctx, prefix: str, delimiter: str, marker: str, max_keys: int) -> ListPage:
    if max_keys == 0:
        ctx.app.backend.get_bucket(ctx.bucket)
        return ListPage([], [], False, "")
    return ctx.app.backend.list_objects(ctx.bucket, prefix=prefix, delimiter=delimiter, marker=marker,
                                        max_keys=max_keys)


async def list_objects(ctx: Ctx) -> Response:
    if ctx.query.get("list-type") == "2":
        return await _list_v2(ctx)
    if "list-type" in ctx.query:
        raise ctx.error("InvalidArgument", "list-type must be 2.")
    q = ctx.query
    enc = _encoder(ctx)
    prefix, delimiter, marker = q.get("prefix", ""), q.get("delimiter", ""), q.get("marker", "")
    max_keys = parse_max_keys(q.get("max-keys"))
    page = await run(_page, ctx, prefix, delimiter, marker, max_keys)
    body: dict = {"Name": ctx.bucket}
    if "encoding-type" in q:
        body["EncodingType"] = q["encoding-type"]
    # S3 leaves ListObjects v1's own <Prefix> unencoded (botocore does not decode it); COS encodes
    # it (cos-python-sdk-v5 decodes it). Characters XML cannot carry are encoded either way.
    plain_prefix = is_s3_client(ctx) and _XML_SAFE.fullmatch(prefix) is not None
    body.update({"Prefix": prefix if plain_prefix else enc(prefix), "Marker": enc(marker), "MaxKeys": max_keys})
    if delimiter:        # only when the request gave one, as S3 and COS answer
        body["Delimiter"] = enc(delimiter)
    body["IsTruncated"] = page.truncated
    if page.truncated:
        body["NextMarker"] = enc(page.next_marker)
    body["Contents"] = _contents(ctx, page, enc, owner=True)
    body["CommonPrefixes"] = [{"Prefix": enc(p)} for p in page.prefixes]
    return xml_response("ListBucketResult", body)


def _encode_token(marker: str) -> str:
    return base64.urlsafe_b64encode(marker.encode()).decode()


def _decode_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise CosError("InvalidArgument", "The continuation token provided is incorrect.") from None


async def _list_v2(ctx: Ctx) -> Response:
    q = ctx.query
    enc = _encoder(ctx)
    prefix, delimiter = q.get("prefix", ""), q.get("delimiter", "")
    token = q.get("continuation-token")
    start_after = q.get("start-after", "")
    marker = _decode_token(token) if token is not None else start_after
    max_keys = parse_max_keys(q.get("max-keys"))
    page = await run(_page, ctx, prefix, delimiter, marker, max_keys)
    body: dict = {"Name": ctx.bucket, "Prefix": enc(prefix)}
    if "encoding-type" in q:
        body["EncodingType"] = q["encoding-type"]
    if start_after:
        body["StartAfter"] = enc(start_after)
    if token is not None:
        body["ContinuationToken"] = token
    body.update({"KeyCount": len(page.objects) + len(page.prefixes), "MaxKeys": max_keys})
    if delimiter:
        body["Delimiter"] = enc(delimiter)
    body["IsTruncated"] = page.truncated
    if page.truncated:
        body["NextContinuationToken"] = _encode_token(page.next_marker)
    body["Contents"] = _contents(ctx, page, enc, owner=q.get("fetch-owner") == "true")
    body["CommonPrefixes"] = [{"Prefix": enc(p)} for p in page.prefixes]
    return xml_response("ListBucketResult", body)
