"""Bucket policy: PUT/GET/DELETE ``/?policy``. The document (COS or S3 JSON, see
:mod:`cosbeauty.iam.bucket_policy`) is validated on PUT (MalformedPolicy with the reason) and
stored verbatim in ``attrs["policy"]``; GET returns it as it was put. The authorizer
(api/policy.py) evaluates it with user policies and ACLs, explicit deny winning."""

from __future__ import annotations

from starlette.responses import Response

from cosbeauty.api.context import Ctx, run
from cosbeauty.api.errors import CosError
from cosbeauty.api.responses import empty
from cosbeauty.iam.bucket_policy import MAX_POLICY_BYTES, compile_policy
from cosbeauty.iam.policy import PolicyError

ATTR = "policy"


async def put_bucket_policy(ctx: Ctx) -> Response:
    body = await ctx.read_body(MAX_POLICY_BYTES)
    try:
        text = body.decode("utf-8")
        compile_policy(text, ctx.app.config.region, ctx.app.config.appid)
    except (UnicodeDecodeError, PolicyError) as exc:
        raise CosError("MalformedPolicy", f"The bucket policy is not valid: {exc}", resource=ctx.resource()) from None
    await run(lambda: ctx.app.backend.update_bucket(ctx.bucket, attrs={ATTR: text}))
    return empty(204)


async def get_bucket_policy(ctx: Ctx) -> Response:
    text = ctx.app.backend.get_bucket(ctx.bucket).attrs.get(ATTR)
    if not text:
        raise ctx.error("NoSuchBucketPolicy", "The bucket policy does not exist.")
    return Response(text.encode(), media_type="application/json")


async def delete_bucket_policy(ctx: Ctx) -> Response:
    await run(lambda: ctx.app.backend.update_bucket(ctx.bucket, attrs={ATTR: None}))
    return empty(204)
