"""``GET /-/usage[?bucket=&since=]``: the metering rows and per-bucket totals as JSON, for the
root account (signed like any COS request, over the full path)."""

from __future__ import annotations

import json

from starlette.responses import Response

from cosbeauty.api.context import Ctx, run
from cosbeauty.api.errors import CosError, new_request_id
from cosbeauty.api.scope import check_only
from cosbeauty.ci.metering import query, totals
from cosbeauty.ci.timeparse import parse_since


async def _usage(app, ctx: Ctx) -> Response:
    if ctx.method != "GET":
        raise CosError("MethodNotAllowed", "Use GET on the usage API.")
    check_only([name for name, _ in ctx.query_pairs], ("bucket", "since"), "GET /-/usage")
    try:
        since = parse_since(ctx.query["since"]) if "since" in ctx.query else None
    except ValueError as exc:
        raise CosError("InvalidArgument", str(exc)) from None
    bucket = ctx.query.get("bucket") or None
    rows = await run(lambda: query(app.backend.db.reader(), bucket=bucket, since=since))
    body = json.dumps({"records": rows, "totals": totals(rows)}).encode()
    return Response(body, media_type="application/json", headers={"x-cos-request-id": ctx.request_id})


def usage_app(app):
    async def asgi(scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        ctx = Ctx(app, scope, receive, new_request_id())
        try:
            ctx = await app.admin_ctx_async(scope, receive)
            response = await _usage(app, ctx)
        except CosError as err:
            response = app.error_response(ctx, err)
        await response(scope, receive, send)
    return asgi
