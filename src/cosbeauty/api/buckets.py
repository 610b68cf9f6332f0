"""Service and bucket endpoints: GET Service, PUT/HEAD/DELETE Bucket, GET ?location."""

from __future__ import annotations

from starlette.responses import Response

from cosbeauty.api import xml
from cosbeauty.api.acl import canned_acl_from_request, owner_xml
from cosbeauty.api.addressing import check_bucket_name
from cosbeauty.api.context import Ctx, run
from cosbeauty.api.responses import empty, iso_date, xml_response


async def list_buckets(ctx: Ctx) -> Response:
    region = ctx.app.config.region
    buckets = [
        {"Name": b.name, "Location": region, "CreationDate": iso_date(b.created), "BucketType": "cos"}
        for b in ctx.app.backend.list_buckets()
    ]
    return xml_response("ListAllMyBucketsResult", {
        "Owner": owner_xml(ctx),
        "Buckets": {"Bucket": buckets},
    })


async def put_bucket(ctx: Ctx) -> Response:
    check_bucket_name(ctx.bucket, ctx.app.config.appid)
    acl = canned_acl_from_request(ctx, default="private")
    body = await ctx.read_body(64 * 1024)
    if body.strip():
        xml.parse(body, "CreateBucketConfiguration")
    owner = ctx.principal.name if ctx.principal else ""
    await run(ctx.app.backend.create_bucket, ctx.bucket, owner, acl)
    return empty(200, {"location": "/" + ctx.bucket})


async def head_bucket(ctx: Ctx) -> Response:
    ctx.app.backend.get_bucket(ctx.bucket)
    return empty(200, {"x-cos-bucket-region": ctx.app.config.region})


async def delete_bucket(ctx: Ctx) -> Response:
    await run(ctx.app.backend.delete_bucket, ctx.bucket)
    return empty(204)


async def get_location(ctx: Ctx) -> Response:
    ctx.app.backend.get_bucket(ctx.bucket)
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint>{ctx.app.config.region}</LocationConstraint>'
    return Response(body.encode(), media_type="application/xml")
