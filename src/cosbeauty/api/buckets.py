"""Service and bucket endpoints: GET Service (COS filters and paging), PUT/HEAD/DELETE Bucket,
GET ?location."""

from __future__ import annotations

import base64
import binascii

from starlette.responses import Response

from cosbeauty.api import xml
from cosbeauty.api.acl import BUCKET_ACLS, object_acl_from_request, read_grant_headers
from cosbeauty.api.flavour import owner_xml
from cosbeauty.api import bucket_names
from cosbeauty.api.context import Ctx, run
from cosbeauty.api.responses import empty, iso_date, xml_response
from cosbeauty.api.tagging import tags_from_header

MAX_BUCKET_LIST = 2000       # COS: max-keys of GET Service is at most 2000
_RANGES = {"lt": lambda c, t: c < t, "gt": lambda c, t: c > t, "lte": lambda c, t: c <= t,
           "gte": lambda c, t: c >= t}


def _filters(ctx: Ctx):
    """COS GET Service filters: region, tagkey+tagvalue (any tag of the bucket), create-time+range."""
    q = ctx.query
    region = q.get("region", "")
    tagkey, tagvalue = q.get("tagkey"), q.get("tagvalue")
    if (tagkey is None) != (tagvalue is None):
        raise ctx.error("InvalidArgument", "tagkey and tagvalue must be given together.")
    created, rng = q.get("create-time"), q.get("range")
    if (created is None) != (rng is None):
        raise ctx.error("InvalidArgument", "create-time and range must be given together.")
    if rng is not None and rng not in _RANGES:
        raise ctx.error("InvalidArgument", "range must be one of lt, gt, lte, gte.")
    try:
        threshold = float(created) if created is not None else None
    except ValueError:
        raise ctx.error("InvalidArgument", "create-time must be a Unix timestamp in seconds.") from None

    def keep(b) -> bool:
        if region and region != ctx.app.config.region:
            return False
        if tagkey is not None and b.attrs.get("tags", {}).get(tagkey) != tagvalue:
            return False
        return threshold is None or _RANGES[rng](int(b.created), threshold)
    return keep


MAX_S3_BUCKET_LIST = 10000   # S3 ListBuckets: max-buckets 1..10000


async def _s3_list_buckets(ctx: Ctx) -> Response:
    """S3 ListBuckets paging: max-buckets, continuation-token, prefix, bucket-region."""
    q = ctx.query
    region = ctx.app.config.region
    raw = q.get("max-buckets") or str(MAX_S3_BUCKET_LIST)
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_S3_BUCKET_LIST:
        raise ctx.error("InvalidArgument", f"max-buckets must be between 1 and {MAX_S3_BUCKET_LIST}.")
    limit = int(raw)
    token = q.get("continuation-token")
    after = ""
    if token:
        try:
            after = base64.urlsafe_b64decode(token.encode()).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise ctx.error("InvalidArgument", "The continuation token provided is incorrect.") from None
    prefix = q.get("prefix", "")
    wanted_region = q.get("bucket-region")
    matches = [b for b in await run(ctx.app.backend.list_buckets) if b.name > after and b.name.startswith(prefix)
               and (wanted_region is None or wanted_region == region)]
    page = matches[:limit]
    body: dict = {"Owner": owner_xml(ctx), "Buckets": {"Bucket": [
        {"Name": b.name, "CreationDate": iso_date(b.created), "BucketRegion": region} for b in page]}}
    if len(matches) > limit:
        body["ContinuationToken"] = base64.urlsafe_b64encode(page[-1].name.encode()).decode()
    if "prefix" in q:
        body["Prefix"] = prefix
    return xml_response("ListAllMyBucketsResult", body)


async def list_buckets(ctx: Ctx) -> Response:
    if any(k in ctx.query for k in ("max-buckets", "continuation-token", "prefix", "bucket-region")):
        return await _s3_list_buckets(ctx)
    region = ctx.app.config.region
    keep = _filters(ctx)
    marker = ctx.query.get("marker", "")
    raw_max = ctx.query.get("max-keys") or str(MAX_BUCKET_LIST)
    try:
        max_keys = int(raw_max)
    except ValueError:
        raise ctx.error("InvalidArgument", f"max-keys must be an integer, got {raw_max!r}.") from None
    if not 1 <= max_keys <= MAX_BUCKET_LIST:
        raise ctx.error("InvalidArgument", f"max-keys must be between 1 and {MAX_BUCKET_LIST}.")
    matches = [b for b in await run(ctx.app.backend.list_buckets) if b.name > marker and keep(b)]
    page, truncated = matches[:max_keys], len(matches) > max_keys
    buckets = [{"Name": b.name, "Location": region, "CreationDate": iso_date(b.created), "BucketType": "cos"}
               for b in page]
    body: dict = {"Owner": owner_xml(ctx), "Buckets": {"Bucket": buckets}}
    if "marker" in ctx.query or "max-keys" in ctx.query:
        body.update({"Marker": marker, "MaxKeys": max_keys, "IsTruncated": truncated})
        if truncated:
            body["NextMarker"] = page[-1].name
    return xml_response("ListAllMyBucketsResult", body)


async def put_bucket(ctx: Ctx) -> Response:
    bucket_names.check_new(ctx.bucket, ctx.app.config.bucket_names, ctx.app.config.appid)
    await read_grant_headers(ctx)
    acl, grants = object_acl_from_request(ctx, BUCKET_ACLS, "private")
    tags = tags_from_header(ctx, limit=50)
    body = await ctx.read_body(64 * 1024)
    if body.strip():
        xml.parse(body, "CreateBucketConfiguration")
    owner = ctx.principal.name if ctx.principal else ""
    await run(ctx.app.backend.create_bucket, ctx.bucket, owner, acl)
    if tags or grants:
        await run(lambda: ctx.app.backend.update_bucket(ctx.bucket, attrs={"tags": tags or None,
                                                                           "grants": grants or None}))
    return empty(200, {"location": "/" + ctx.bucket})


async def head_bucket(ctx: Ctx) -> Response:
    await run(ctx.app.backend.get_bucket, ctx.bucket)
    return empty(200, {"x-cos-bucket-region": ctx.app.config.region})


async def delete_bucket(ctx: Ctx) -> Response:
    await run(ctx.app.backend.delete_bucket, ctx.bucket)
    return empty(204)


async def get_location(ctx: Ctx) -> Response:
    await run(ctx.app.backend.get_bucket, ctx.bucket)
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint>{ctx.app.config.region}</LocationConstraint>'
    return Response(body.encode(), media_type="application/xml")
