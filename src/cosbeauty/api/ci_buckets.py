"""Cloud Infinite bucket activation over HTTP, as the SDK calls it on the CI host
(``<bucket>.ci.<region>.myqcloud.com``):

* ``POST /picbucket`` / ``DELETE /picbucket`` -- bind / unbind the bucket (``ci_open_pic_bucket``,
  ``ci_close_pic_bucket``); ``GET /picbucket`` on ``ci.<region>.myqcloud.com`` lists bound buckets
  (``ci_get_pic_bucket``);
* ``POST /ai_bucket`` / ``DELETE /ai_bucket`` / ``GET /ai_bucket`` -- the same for AI content
  recognition (``ci_open_ai_bucket`` ...), which AIFaceBeauty needs.
"""

from __future__ import annotations

from starlette.responses import Response

from cosbeauty.api.context import Ctx, run
from cosbeauty.api.responses import iso_date, xml_response
from cosbeauty.ci.activation import state, update_job

_ELEMENT = {"picbucket": "PicBucket", "ai_bucket": "AiBucket"}
_FLAG = {"picbucket": "bound", "ai_bucket": "ai"}


def _entry(ctx: Ctx, info) -> dict:
    return {"BucketId": info.name, "Name": info.name, "Region": ctx.target.region or ctx.app.config.region,
            "CreateTime": iso_date(info.created)}


async def _set(ctx: Ctx, on: bool) -> Response:
    kind = ctx.key
    backend = ctx.app.backend

    def write():        # check, write and read back in one worker-thread hop
        backend.get_bucket(ctx.bucket)
        backend.db.write(update_job(ctx.bucket, **{_FLAG[kind]: on}))
        return backend.get_bucket(ctx.bucket) if on else None
    info = await run(write)
    body: dict = {"RequestId": ctx.request_id}
    if on:
        body[_ELEMENT[kind]] = _entry(ctx, info)
    else:       # DeleteCIBucket / DeleteAIBucket answer which bucket was unbound
        body["BucketName"] = ctx.bucket
    return xml_response("Response", body)


async def open_bucket(ctx: Ctx) -> Response:
    return await _set(ctx, True)


async def close_bucket(ctx: Ctx) -> Response:
    return await _set(ctx, False)


def _int(value: str, default: int) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return default


async def list_buckets(ctx: Ctx) -> Response:
    kind = ctx.key
    q = {k.lower(): v for k, v in ctx.query.items()}
    names = {n.strip() for n in q.get("bucketnames", "").split(",") if n.strip()}
    fuzzy = q.get("bucketname", "")
    page, size = _int(q.get("pagenumber", ""), 1), _int(q.get("pagesize", ""), 10)
    matches = [b for b in await run(ctx.app.backend.list_buckets)
               if state(b)[_FLAG[kind]] and (not names or b.name in names) and fuzzy in b.name]
    chosen = matches[(page - 1) * size: page * size]
    return xml_response("Response", {
        "RequestId": ctx.request_id, "TotalCount": len(matches), "PageNumber": page, "PageSize": size,
        f"{_ELEMENT[kind]}List": [_entry(ctx, b) for b in chosen],
    })
