"""The admin HTTP API, mounted at ``/-/admin``: sub-accounts, keys, policies and temporary
credentials, as JSON. Every request must be signed by the root account (COS v5 or SigV4, the
signed path being the full request path); anyone else gets 403 AccessDenied.

    GET    /-/admin/users                             list users
    POST   /-/admin/users             {"name": N}     create a user                      -> 201
    DELETE /-/admin/users/N                           delete a user, its keys and policies
    GET    /-/admin/keys[?user=N]                     list permanent keys (never secrets)
    POST   /-/admin/users/N/keys                      create a key pair (secret shown once) -> 201;
                                                      body {"secret_id","secret_key"} imports a chosen pair
    PUT    /-/admin/keys/ID       {"status": "active"|"disabled"}
    DELETE /-/admin/keys/ID
    GET    /-/admin/users/N/policies                  attached policies with their documents
    PUT    /-/admin/users/N/policies/P   <policy JSON>  attach (or replace) policy P
    DELETE /-/admin/users/N/policies/P
    POST   /-/admin/users/N/tokens    {"duration": S, "policy": {...}?}   temporary credentials -> 201

Errors: ``{"Code": ..., "Message": ..., "RequestId": ...}`` with the matching HTTP status.
"""

from __future__ import annotations

import json
import logging
import re
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from starlette.responses import JSONResponse, Response

from cosbeauty.api import safejson
from cosbeauty.api import scope as request_scope
from cosbeauty.api.context import Ctx, run
from cosbeauty.api.errors import CosError
from cosbeauty.iam.store import IamError, IamStore

if TYPE_CHECKING:
    from cosbeauty.api.app import CosApp

audit = logging.getLogger("cosbeauty.audit")
PREFIX = "/-/admin"
MAX_BODY = 64 * 1024
IAM_STATUS = {"NoSuchUser": 404, "NoSuchKey": 404, "NoSuchPolicy": 404, "UserAlreadyExists": 409, "KeyAlreadyExists": 409,
              "InvalidPolicy": 400, "InvalidArgument": 400}

Handler = Callable[[Ctx, IamStore, dict[str, str]], Awaitable[Response]]


async def _json_body(ctx: Ctx) -> Any:
    doc = safejson.loads(await ctx.read_body(MAX_BODY) or b"{}", "request body")
    if not isinstance(doc, dict):
        raise IamError("InvalidArgument", "request body must be a JSON object")
    return doc


async def list_users(ctx: Ctx, store: IamStore, p: dict[str, str]) -> Response:
    return JSONResponse({"users": await run(store.list_users)})


async def create_user(ctx: Ctx, store: IamStore, p: dict[str, str]) -> Response:
    name = (await _json_body(ctx)).get("name", "")
    return JSONResponse(await run(store.create_user, str(name), ("root", ctx.app.config.appid)), 201)


async def delete_user(ctx: Ctx, store: IamStore, p: dict[str, str]) -> Response:
    await run(store.delete_user, p["user"])
    return Response(status_code=204)


async def list_keys(ctx: Ctx, store: IamStore, p: dict[str, str]) -> Response:
    return JSONResponse({"keys": await run(store.list_keys, ctx.query.get("user"))})


async def create_key(ctx: Ctx, store: IamStore, p: dict[str, str]) -> Response:
    """Body (optional): {"secret_id": ..., "secret_key": ...} to import a chosen key pair."""
    body = await _json_body(ctx)
    if not isinstance(body, dict):
        raise IamError("InvalidArgument", "the body must be a JSON object")
    sid, skey = body.get("secret_id"), body.get("secret_key")
    if not all(v is None or isinstance(v, str) for v in (sid, skey)):
        raise IamError("InvalidArgument", "secret_id and secret_key must be strings")
    created = await run(lambda: store.create_key(p["user"], sid, skey, reserved=(ctx.app.accounts.root_access_key,)))
    return JSONResponse(created, 201)


async def update_key(ctx: Ctx, store: IamStore, p: dict[str, str]) -> Response:
    status = (await _json_body(ctx)).get("status")
    if status not in ("active", "disabled"):
        raise IamError("InvalidArgument", 'status must be "active" or "disabled"')
    await run(store.set_key_status, p["key"], status == "active")
    return Response(status_code=204)


async def delete_key(ctx: Ctx, store: IamStore, p: dict[str, str]) -> Response:
    await run(store.delete_key, p["key"])
    return Response(status_code=204)


async def list_policies(ctx: Ctx, store: IamStore, p: dict[str, str]) -> Response:
    return JSONResponse({"policies": await run(store.list_policies, p["user"])})


async def attach_policy(ctx: Ctx, store: IamStore, p: dict[str, str]) -> Response:
    document = (await ctx.read_body(MAX_BODY)).decode("utf-8", "replace")
    safejson.check_depth(document, "policy")
    await run(store.attach_policy, p["user"], p["policy"], document)
    return Response(status_code=204)


async def detach_policy(ctx: Ctx, store: IamStore, p: dict[str, str]) -> Response:
    await run(store.detach_policy, p["user"], p["policy"])
    return Response(status_code=204)


async def create_token(ctx: Ctx, store: IamStore, p: dict[str, str]) -> Response:
    body = await _json_body(ctx)
    duration = body.get("duration", 1800)
    if not isinstance(duration, int):
        raise IamError("InvalidArgument", "duration must be an integer number of seconds")
    policy = body.get("policy")
    policy_text = json.dumps(policy) if isinstance(policy, dict) else policy
    return JSONResponse(await run(store.create_token, p["user"], duration, policy_text), 201)


_SEG = "(?P<{}>[^/]+)"
ROUTES: list[tuple[str, re.Pattern, Handler]] = [
    (method, re.compile(pattern.format(user=_SEG.format("user"), key=_SEG.format("key"),
                                       policy=_SEG.format("policy"))), handler)
    for method, pattern, handler in [
        ("GET", "/users", list_users),
        ("POST", "/users", create_user),
        ("DELETE", "/users/{user}", delete_user),
        ("GET", "/keys", list_keys),
        ("POST", "/users/{user}/keys", create_key),
        ("PUT", "/keys/{key}", update_key),
        ("DELETE", "/keys/{key}", delete_key),
        ("GET", "/users/{user}/policies", list_policies),
        ("PUT", "/users/{user}/policies/{policy}", attach_policy),
        ("DELETE", "/users/{user}/policies/{policy}", detach_policy),
        ("POST", "/users/{user}/tokens", create_token),
    ]
]


def _error(code: str, message: str, status: int, request_id: str) -> Response:
    return JSONResponse({"Code": code, "Message": message, "RequestId": request_id}, status,
                        headers={"x-cos-request-id": request_id})


class AdminApi:
    """ASGI sub-application; ``app.mount(PREFIX, AdminApi(app, store))``."""

    def __init__(self, app: "CosApp", store: IamStore) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: dict, receive, send) -> None:
        request_id = ""
        try:
            ctx = await self.app.admin_ctx_async(scope, receive)
            request_id = ctx.request_id
            response = await self._dispatch(ctx)
        except CosError as err:
            if err.status == 403:
                client = scope.get("client")
                audit.warning("deny request_id=%s principal=not-root action=admin:%s resource=%s ip=%s outcome=%s",
                              request_id or "-", scope["method"], scope["path"], client[0] if client else "-",
                              err.code)
            response = _error(err.code, err.message, err.status, request_id)
        except IamError as err:
            response = _error(err.code, err.message, IAM_STATUS.get(err.code, 400), request_id)
        except Exception as exc:    # a full disk (507, one log line) or a bug (500, logged)
            from cosbeauty.api.app import unexpected_error
            from cosbeauty.api.context import ClientDisconnected
            if isinstance(exc, ClientDisconnected):
                raise
            err = unexpected_error(exc, scope["method"], scope["path"])
            response = _error(err.code, err.message, err.status, request_id)
        await response(scope, receive, send)

    async def _dispatch(self, ctx: Ctx) -> Response:
        path = ctx.path[len(PREFIX):].rstrip("/")
        allowed = []
        for method, pattern, handler in ROUTES:
            m = pattern.fullmatch(path)
            if m is None:
                continue
            if method == ctx.method:
                request_scope.check_only([n for n, _ in ctx.query_pairs], ("user",) if handler is list_keys else (),
                                         f"{method} {ctx.path}")
                response = await handler(ctx, self.store, m.groupdict())
                response.headers["x-cos-request-id"] = ctx.request_id
                return response
            allowed.append(method)
        if allowed:
            raise CosError("MethodNotAllowed", f"{ctx.method} is not allowed here; use {', '.join(allowed)}.")
        raise CosError("NoSuchResource", f"No admin route {ctx.path!r}.", status=404)
