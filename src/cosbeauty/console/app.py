"""The web console: static files under ``/console`` plus a tiny signed JSON API.

Everything the console does goes through the ordinary COS API, signed in the browser (COS v5,
WebCrypto). The server keeps no session and never sees the secret key. The only console-specific
endpoint is ``GET /console/api/faces/<bucket>/<key>``: the face boxes the beauty engine finds in an
image (for the before/after overlay). It is authenticated exactly like a COS request (COS v5 or
SigV4, header or pre-signed; the signed path is the full request path) and authorised as
``cos:GetObject`` on the object.

``GET /console/api/permissions?checks=<JSON>`` is a dry run of the authorizer: for each
``{"action", "bucket", "key"}`` it answers whether the signer may do it, evaluated by the same
policy engine (``Authorizer.check``) that guards the real call, so the console can disable or
explain a button before the user tries. It also proves the keys (a bad signature is refused), so a
sub-account without ``cos:GetService`` can still sign in.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import logging
import os
import re
import time
from typing import TYPE_CHECKING

import anyio
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response

from cosbeauty.api import safejson
from cosbeauty.api import scope as request_scope
from cosbeauty.api.addressing import Target, check_bucket_name, check_key
from cosbeauty.api.auth import SignedRequest, authenticate
from cosbeauty.api.context import Ctx
from cosbeauty.api.errors import CosError, new_request_id
from cosbeauty.storage import StorageError

if TYPE_CHECKING:
    from cosbeauty.api.app import CosApp

log = logging.getLogger("cosbeauty.console")

PREFIX = "/console"
STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain; charset=utf-8",
}

# Same-origin only: the console talks to this server and nothing else (no CDN, no fonts).
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'none'"),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}

FACE_CACHE_SIZE = 64
_dry_run: contextvars.ContextVar[bool] = contextvars.ContextVar("console_permission_dry_run", default=False)


class _DryRunAudit(logging.Filter):
    """Denials found by the permission dry run are still audited, marked ``dry-run deny ...`` so
    they are not mistaken for refused requests."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _dry_run.get() and isinstance(record.msg, str) and record.msg.startswith("deny "):
            record.msg = "dry-run " + record.msg
        return True


_audit = logging.getLogger("cosbeauty.audit")
if not any(isinstance(f, _DryRunAudit) for f in _audit.filters):
    _audit.addFilter(_DryRunAudit())
MAX_PERMISSION_CHECKS = 40
ACTION_RE = re.compile(r"(?:name/)?(?:cos|ci):[A-Za-z]{1,64}")


class ConsoleApp:
    """ASGI sub-app mounted at ``/console`` by :func:`cosbeauty.server.build_app`."""

    def __init__(self, cos_app: "CosApp", prefix: str = PREFIX, static_dir: str = STATIC_DIR) -> None:
        self.cos = cos_app
        self.prefix = prefix
        self.static_dir = os.path.realpath(static_dir)
        self._faces: dict[tuple[str, str, str], dict] = {}     # (bucket, key, etag) -> reply
        self._limiter: anyio.CapacityLimiter | None = None

    async def __call__(self, scope: dict, receive, send) -> None:
        rel = scope["path"][len(self.prefix):]
        if rel.startswith("/api/"):
            response = await self._api(scope, receive, rel[len("/api/"):])
        elif scope["method"] not in ("GET", "HEAD"):
            response = PlainTextResponse("Method Not Allowed", 405, headers={"allow": "GET, HEAD"})
        elif rel == "":
            qs = scope.get("query_string", b"").decode("latin-1")
            response = RedirectResponse(self.prefix + "/" + ("?" + qs if qs else ""), 308)
        else:
            response = self._static(scope, rel)
        await response(scope, receive, send)

    # -- static files --------------------------------------------------------------------
    def _static(self, scope: dict, rel: str) -> Response:
        name = "index.html" if rel in ("/", "/index.html") else rel.lstrip("/")
        full = os.path.realpath(os.path.join(self.static_dir, name))
        if not full.startswith(self.static_dir + os.sep) or not os.path.isfile(full):
            return PlainTextResponse("Not Found", 404, headers=SECURITY_HEADERS)
        ext = os.path.splitext(full)[1].lower()
        st = os.stat(full)
        etag = '"' + hashlib.md5(f"{st.st_mtime_ns}-{st.st_size}".encode()).hexdigest() + '"'
        headers = {**SECURITY_HEADERS, "cache-control": "no-cache", "etag": etag}
        if_none_match = dict((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]).get(
            "if-none-match", "")
        if etag in [t.strip() for t in if_none_match.split(",")]:
            return Response(status_code=304, headers=headers)
        return FileResponse(full, stat_result=st, media_type=CONTENT_TYPES.get(ext, "application/octet-stream"),
                            headers=headers)

    # -- JSON API --------------------------------------------------------------------------
    async def _api(self, scope: dict, receive, route: str) -> Response:
        ctx = Ctx(self.cos, scope, receive, new_request_id())
        try:
            if route == "info" and ctx.method in ("GET", "HEAD"):
                response = self._info()
            elif route.startswith("faces/") and ctx.method == "GET":
                response = await self._faces_reply(ctx, route[len("faces/"):])
            elif route.startswith("ci/") and ctx.method in ("GET", "PUT"):
                response = await self._ci_reply(ctx, route[len("ci/"):])
            elif route == "permissions" and ctx.method == "GET":
                response = await self._permissions_reply(ctx)
            else:
                raise CosError("NoSuchKey" if ctx.method == "GET" else "MethodNotAllowed",
                               "No such console API.")
        except CosError as err:
            response = self.cos.error_response(ctx, err)
        except StorageError as exc:
            response = self.cos.error_response(ctx, CosError(exc.code, exc.message))
        except Exception as exc:    # a full disk (507, one log line) or a bug (500, logged)
            from cosbeauty.api.app import unexpected_error
            from cosbeauty.api.context import ClientDisconnected
            if isinstance(exc, ClientDisconnected):
                raise
            response = self.cos.error_response(ctx, unexpected_error(exc, ctx.method, ctx.raw_path))
        response.headers["x-cos-request-id"] = ctx.request_id
        response.headers["cache-control"] = "no-store"
        return response

    def _info(self) -> Response:
        """Public facts the login page shows (nothing secret)."""
        cfg = self.cos.config
        return JSONResponse({"appid": cfg.appid, "region": cfg.region, "server": "cosbeauty"})

    async def _faces_reply(self, ctx: Ctx, rest: str) -> Response:
        bucket, _, key = rest.partition("/")
        if not bucket or not key:
            raise CosError("InvalidURI", "Use /console/api/faces/<bucket>/<key>.")
        self._authenticate(ctx, bucket, key)
        await self.cos.authorizer.check(ctx, ("cos:GetObject",))
        meta = self.cos.backend.get_object(bucket, key, with_inline=False)
        cache_key = (bucket, key, meta.etag)
        reply = self._faces.get(cache_key)
        if reply is None:
            if self._limiter is None:
                self._limiter = anyio.CapacityLimiter(1)
            reply = await anyio.to_thread.run_sync(self._detect, bucket, key, limiter=self._limiter)
            if len(self._faces) >= FACE_CACHE_SIZE:
                self._faces.pop(next(iter(self._faces)))
            self._faces[cache_key] = reply
        return JSONResponse(reply)

    def _authenticate(self, ctx: Ctx, bucket: str, key: str = "") -> None:
        """Verify the request like a COS call (signed path = the full request path)."""
        ctx.target = Target(bucket, key, False)
        _verify(ctx, self.cos)
        check_bucket_name(bucket)
        if key:
            check_key(key, self.cos.config.max_key_bytes)

    async def _ci_reply(self, ctx: Ctx, bucket: str) -> Response:
        """Cloud Infinite activation of a bucket: GET -> {"bound", "ai"}; PUT {"bound"?, "ai"?} (root only).
        The browser cannot reach the SDK's ``<bucket>.ci.<region>.myqcloud.com/picbucket`` endpoints
        (they are addressed by the Host header), so the console uses this path-style twin."""
        from cosbeauty.ci import activation

        if not bucket or "/" in bucket:
            raise CosError("InvalidURI", "Use /console/api/ci/<bucket>.")
        self._authenticate(ctx, bucket)
        if ctx.method == "GET":
            await self.cos.authorizer.check(ctx, ("cos:HeadBucket",))
            info = self.cos.backend.get_bucket(bucket)
        else:
            principal = None if ctx.identity.anonymous else self.cos.accounts.principal(ctx.identity.access_key)
            if principal is None or not principal.is_root:
                raise CosError("AccessDenied", "Changing Cloud Infinite activation needs the root account.")
            body = await ctx.read_body(4096)
            flags = safejson.loads(body or b"{}", "The body")
            if not isinstance(flags, dict) or not flags or set(flags) - {"bound", "ai"} or not all(
                    isinstance(v, bool) for v in flags.values()):
                raise CosError("InvalidArgument", 'Send {"bound": true|false, "ai": true|false} (either or both).')
            self.cos.backend.get_bucket(bucket)
            await asyncio.wrap_future(self.cos.backend.db.submit(activation.update_job(bucket, **flags)))
            info = self.cos.backend.get_bucket(bucket)
        state = activation.state(info)
        return JSONResponse({"bucket": bucket, "bound": state["bound"], "ai": state["ai"], "updated": state["updated"]})

    async def _permissions_reply(self, ctx: Ctx) -> Response:
        """Dry-run authorisation: ``?checks=[{"action","bucket","key"}, ...]`` (at most
        MAX_PERMISSION_CHECKS) -> which of them the signer may do. Nothing is performed."""
        ctx.target = Target("", "", False)
        _verify(ctx, self.cos)
        checks = _parse_checks(ctx.query.get("checks", "[]"), self.cos.config.max_key_bytes)
        principal = self.cos.authorizer.principal(ctx)     # InvalidToken / ExpiredToken surface here
        results = []
        token = _dry_run.set(True)
        try:
            for action, bucket, key in checks:
                try:
                    await self.cos.authorizer.check(ctx, (action,), bucket=bucket, key=key)
                    allowed = True
                except CosError as err:
                    if err.code != "AccessDenied":
                        raise
                    allowed = False
                results.append({"action": action, "bucket": bucket, "key": key, "allowed": allowed})
        finally:
            _dry_run.reset(token)
        who = None if principal is None else {
            "kind": principal.kind, "name": principal.name, "uin": principal.uin, "root": principal.is_root}
        cfg = self.cos.config
        return JSONResponse({"principal": who, "appid": cfg.appid, "region": cfg.region, "results": results})

    def _detect(self, bucket: str, key: str) -> dict:
        from cosbeauty.imaging import ImageError, Limits, detect_faces
        from cosbeauty.imaging.codec import decode

        cfg = self.cos.config
        meta = self.cos.backend.get_object(bucket, key)
        if meta.size > cfg.ci_max_input_bytes:
            raise CosError("InvalidImageFormat", "The image is too large to analyse.")
        data = b"".join(self.cos.backend.iter_object(meta))
        try:
            decoded = decode(data, Limits(max_bytes=cfg.ci_max_input_bytes, max_pixels=cfg.ci_max_pixels))
            faces = detect_faces(decoded.rgb)
        except ImageError as exc:
            raise CosError("InvalidImageFormat", str(exc)) from None
        return {
            "bucket": bucket, "key": key, "etag": meta.etag,
            "width": decoded.info.width, "height": decoded.info.height,
            "faces": [{"x": int(f.box[0]), "y": int(f.box[1]), "width": int(f.box[2]), "height": int(f.box[3]),
                       "score": round(float(f.score), 4)} for f in faces],
        }


def _verify(ctx: Ctx, cos: "CosApp") -> None:
    """Authenticate like a COS call (signed path = the full request path), with the same rules
    (docs/signing.md): one value per parameter, and everything that must be signed is."""
    if ctx.bad_input is not None:       # path or query not UTF-8 once percent-decoded
        raise ctx.bad_input
    names = [name for name, _ in ctx.query_pairs]
    request_scope.check_unique(names)
    ctx.identity = authenticate(
        SignedRequest(method=ctx.method, raw_path=ctx.raw_path, path=ctx.path, query=ctx.query_pairs,
                      headers=ctx.headers, cos_paths=[ctx.path]),
        cos.accounts.lookup_secret, time.time())
    request_scope.check_signed(ctx.identity, ctx.headers, names)
    request_scope.check_only(names, ("checks",) if ctx.path.endswith("/permissions") else (), f"{ctx.method} {ctx.path}")


def _parse_checks(raw: str, max_key_bytes: int) -> list[tuple[str, str, str]]:
    items = safejson.loads(raw, "checks")
    if not isinstance(items, list) or len(items) > MAX_PERMISSION_CHECKS:
        raise CosError("InvalidArgument", f"checks must be a JSON list of at most {MAX_PERMISSION_CHECKS} items.")
    out = []
    for item in items:
        if not isinstance(item, dict) or set(item) - {"action", "bucket", "key"}:
            raise CosError("InvalidArgument", 'Each check is {"action": "cos:GetObject", "bucket"?: "...", "key"?: "..."}.')
        action, bucket, key = item.get("action"), item.get("bucket", ""), item.get("key", "")
        if not isinstance(action, str) or not ACTION_RE.fullmatch(action):
            raise CosError("InvalidArgument", f"Not an action: {action!r} (use e.g. cos:GetObject).")
        if not isinstance(bucket, str) or not isinstance(key, str) or (key and not bucket):
            raise CosError("InvalidArgument", "bucket and key must be strings, and a key needs a bucket.")
        if bucket:
            check_bucket_name(bucket)
        if key:
            check_key(key, max_key_bytes)
        out.append((action.removeprefix("name/"), bucket, key))
    return out


def mount_console(cos_app: "CosApp", prefix: str = PREFIX) -> ConsoleApp:
    console = ConsoleApp(cos_app, prefix)
    cos_app.mount(prefix, console)
    return console


__all__ = ["ConsoleApp", "mount_console", "PREFIX", "STATIC_DIR", "CONTENT_TYPES"]
