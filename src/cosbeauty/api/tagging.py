"""Tagging: PUT/GET/DELETE ``?tagging`` on buckets and objects, and the ``x-cos-tagging`` /
``x-amz-tagging`` header (``k1=v1&k2=v2``, URL-encoded) on PUT Bucket, PUT Object, copy
(with ``x-cos-tagging-directive: Copy|Replaced``) and multipart initiate.

Storage: bucket tags in ``attrs["tags"]`` (``{key: value}``, None = none); object tags in
``ObjectMeta.tags``. Limits as COS documents them: keys 1-128 characters, values 0-256, at most
10 tags on an object and 50 on a bucket, keys unique; bad tags are ``InvalidTag``.
"""

from __future__ import annotations

from urllib.parse import unquote_plus

from starlette.responses import Response

from cosbeauty.api import xml
from cosbeauty.api.context import Ctx, run
from cosbeauty.api.errors import CosError
from cosbeauty.api.responses import empty, xml_response
from cosbeauty.api.versioning import fetch, requested_version, version_headers

ATTR = "tags"
MAX_KEY = 128
MAX_VALUE = 256
MAX_OBJECT_TAGS = 10
MAX_BUCKET_TAGS = 50
MAX_BODY = 64 * 1024


def validate(tags: list[tuple[str, str]], limit: int) -> dict[str, str]:
    if len(tags) > limit:
        raise CosError("InvalidTag", f"At most {limit} tags are allowed here; got {len(tags)}.")
    out: dict[str, str] = {}
    for key, value in tags:
        if not 1 <= len(key) <= MAX_KEY:
            raise CosError("InvalidTag", f"A tag key must be 1-{MAX_KEY} characters long.")
        if len(value) > MAX_VALUE:
            raise CosError("InvalidTag", f"A tag value may be at most {MAX_VALUE} characters long.")
        if key in out:
            raise CosError("InvalidTag", f"Tag key {key!r} is given more than once.")
        out[key] = value
    return out


def tags_from_header(ctx: Ctx, limit: int = MAX_OBJECT_TAGS) -> dict[str, str]:
    """Tags from ``x-cos-tagging`` / ``x-amz-tagging`` ({} when absent)."""
    value = ctx.headers.get("x-cos-tagging") or ctx.headers.get("x-amz-tagging")
    if not value:
        return {}
    pairs = []
    for item in value.split("&"):
        if not item:
            raise CosError("InvalidTag", "x-cos-tagging must look like key1=value1&key2=value2.")
        key, _, tag_value = item.partition("=")      # "key" alone: an empty value, as S3 reads it
        try:
            pairs.append((unquote_plus(key, errors="strict"), unquote_plus(tag_value, errors="strict")))
        except UnicodeDecodeError:
            raise CosError("InvalidTag", "x-cos-tagging is not valid UTF-8 once percent-decoded.") from None
    return validate(pairs, limit)


def tags_for_copy(ctx: Ctx, source_tags: dict[str, str]) -> dict[str, str]:
    directive = (ctx.header("x-cos-tagging-directive") or ctx.header("x-amz-tagging-directive") or "Copy").lower()
    if directive not in ("copy", "replace", "replaced"):
        raise CosError("InvalidArgument", "x-cos-tagging-directive must be Copy or Replaced.")
    return dict(source_tags) if directive == "copy" else tags_from_header(ctx)


async def _tags_from_body(ctx: Ctx, limit: int) -> dict[str, str]:
    return tags_from_xml(await ctx.read_body(MAX_BODY), limit)


def tags_from_xml(data: bytes, limit: int = MAX_OBJECT_TAGS) -> dict[str, str]:
    """Tags of a ``<Tagging><TagSet><Tag>...`` document (a ?tagging body, POST Object's tagging field)."""
    root = xml.parse(data, "Tagging")
    tag_set = root.find("TagSet")
    if tag_set is None:
        raise CosError("MalformedXML", "Tagging needs a <TagSet>.")
    pairs = []
    for node in tag_set:
        if node.tag != "Tag" or node.find("Key") is None:
            raise CosError("MalformedXML", "Each element of <TagSet> must be a <Tag> with a <Key>.")
        pairs.append(((xml.child_text(node, "Key") or ""), (xml.child_text(node, "Value") or "")))
    return validate(pairs, limit)


def _render(tags: dict[str, str]) -> Response:
    return xml_response("Tagging", {"TagSet": {"Tag": [{"Key": k, "Value": tags[k]} for k in sorted(tags)]}})


# -- bucket -----------------------------------------------------------------------------------
async def put_bucket_tagging(ctx: Ctx) -> Response:
    tags = await _tags_from_body(ctx, MAX_BUCKET_TAGS)
    await run(lambda: ctx.app.backend.update_bucket(ctx.bucket, attrs={ATTR: tags or None}))
    return empty(204)


async def get_bucket_tagging(ctx: Ctx) -> Response:
    tags = (await run(ctx.app.backend.get_bucket, ctx.bucket)).attrs.get(ATTR)
    if not tags:
        raise ctx.error("NoSuchTagSet", "There is no tag set associated with the bucket.")
    return _render(tags)


async def delete_bucket_tagging(ctx: Ctx) -> Response:
    await run(lambda: ctx.app.backend.update_bucket(ctx.bucket, attrs={ATTR: None}))
    return empty(204)


# -- object -----------------------------------------------------------------------------------
async def put_object_tagging(ctx: Ctx) -> Response:
    tags = await _tags_from_body(ctx, MAX_OBJECT_TAGS)
    vid = requested_version(ctx)
    meta = await run(lambda: ctx.app.backend.update_object(ctx.bucket, ctx.key, tags=tags, version_id=vid))
    return empty(200, version_headers(ctx, meta.version_id))


async def get_object_tagging(ctx: Ctx) -> Response:
    meta = await fetch(ctx, with_inline=False)
    response = _render(meta.tags)
    response.headers.update(version_headers(ctx, meta.version_id))
    return response


async def delete_object_tagging(ctx: Ctx) -> Response:
    vid = requested_version(ctx)
    meta = await run(lambda: ctx.app.backend.update_object(ctx.bucket, ctx.key, tags={}, version_id=vid))
    return empty(204, version_headers(ctx, meta.version_id))
