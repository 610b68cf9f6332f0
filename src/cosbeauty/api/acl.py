"""Canned ACLs on buckets and objects: ``x-cos-acl`` / ``x-amz-acl`` headers and GET/PUT ``?acl``."""

from __future__ import annotations

from starlette.responses import Response

from cosbeauty.api import xml
from cosbeauty.api.context import Ctx, run
from cosbeauty.api.errors import CosError
from cosbeauty.api.responses import empty, xml_response

BUCKET_ACLS = ("private", "public-read", "public-read-write")
OBJECT_ACLS = ("default",) + BUCKET_ACLS
ALL_USERS = "http://cam.qcloud.com/groups/global/AllUsers"


def owner_xml(ctx: Ctx) -> dict:
    appid = ctx.app.config.appid
    uin = f"qcs::cam::uin/{appid}:uin/{appid}"
    return {"ID": uin, "DisplayName": appid}


def canned_acl_from_request(ctx: Ctx, default: str, allowed=BUCKET_ACLS) -> str:
    value = ctx.header("x-cos-acl") or ctx.header("x-amz-acl")
    if value is None:
        return default
    if value not in allowed:
        raise ctx.error("InvalidArgument", f"Unsupported ACL {value!r}; use one of {', '.join(allowed)}.")
    return value


def _acl_from_body(body: bytes) -> str:
    """Reduce an AccessControlPolicy document to the canned ACL it expresses."""
    root = xml.parse(body, "AccessControlPolicy")
    perms = set()
    for grant in root.iter("Grant"):
        grantee = grant.find("Grantee")
        uri = xml.child_text(grantee, "URI", "") if grantee is not None else ""
        if uri == ALL_USERS:
            perms.add(xml.child_text(grant, "Permission", ""))
    if {"WRITE", "FULL_CONTROL"} & perms:
        return "public-read-write"
    if "READ" in perms:
        return "public-read"
    return "private"


def _policy(ctx: Ctx, acl: str) -> Response:
    owner = owner_xml(ctx)
    grants = [{"Grantee": {"ID": owner["ID"], "DisplayName": owner["DisplayName"]}, "Permission": "FULL_CONTROL"}]
    if acl in ("public-read", "public-read-write"):
        grants.append({"Grantee": {"URI": ALL_USERS}, "Permission": "READ"})
    if acl == "public-read-write":
        grants.append({"Grantee": {"URI": ALL_USERS}, "Permission": "WRITE"})
    return xml_response("AccessControlPolicy", {"Owner": owner, "AccessControlList": {"Grant": grants}},
                        headers={"x-cos-acl": acl})


async def _requested_acl(ctx: Ctx, allowed) -> str:
    acl = canned_acl_from_request(ctx, default="", allowed=allowed)
    if acl:
        return acl
    body = await ctx.read_body(64 * 1024)
    if not body.strip():
        raise CosError("InvalidRequest", "Give an x-cos-acl header or an AccessControlPolicy body.")
    return _acl_from_body(body)


async def get_bucket_acl(ctx: Ctx) -> Response:
    return _policy(ctx, ctx.app.backend.get_bucket(ctx.bucket).acl)


async def put_bucket_acl(ctx: Ctx) -> Response:
    acl = await _requested_acl(ctx, BUCKET_ACLS)
    await run(lambda: ctx.app.backend.update_bucket(ctx.bucket, acl=acl))
    return empty(200)


async def get_object_acl(ctx: Ctx) -> Response:
    meta = ctx.app.backend.get_object(ctx.bucket, ctx.key, with_inline=False)
    acl = meta.acl if meta.acl != "default" else ctx.app.backend.get_bucket(ctx.bucket).acl
    return _policy(ctx, acl)


async def put_object_acl(ctx: Ctx) -> Response:
    acl = await _requested_acl(ctx, OBJECT_ACLS)
    await run(lambda: ctx.app.backend.update_object(ctx.bucket, ctx.key, acl=acl))
    return empty(200)
