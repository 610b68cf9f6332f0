"""The ASGI application: resolve the target, authenticate, authorize, dispatch, answer errors as XML.

It is a plain ASGI callable (Starlette's Response types are used by handlers). Paths under
``/console`` (web console) and ``/-/`` (admin API) are served by mounted sub-apps; every other
request is a COS API call.
"""

from __future__ import annotations

import email.utils
import errno
import logging
import sqlite3
import time
from contextlib import nullcontext
from typing import Awaitable, Callable, ContextManager

from starlette.responses import Response

from cosbeauty.api import addressing, cors, router
from cosbeauty.api import scope as request_scope
from cosbeauty.api.auth import Identity, SignedRequest, authenticate
from cosbeauty.api.context import ClientDisconnected, Ctx, run
from cosbeauty.api.errors import CosError, error_xml, new_request_id
from cosbeauty.api.flavour import is_s3_client
from cosbeauty.api.hardening import OBJECT_CSP, hardened_send
from cosbeauty.config import ServerConfig
from cosbeauty.storage import Backend, StorageError

log = logging.getLogger("cosbeauty.api")

ASGIApp = Callable[[dict, Callable, Callable], Awaitable[None]]
INLINE_AUTH_BYTES = 16 * 1024   # headers + query up to this size are verified on the event loop
CONCURRENT_HOLD = 1.0   # seconds after requests overlapped during which none counts as lone (_lone)
OPERATION_KEY = "cosbeauty.operation"   # scope key: the endpoint that took the request (router handler name)

# COS answers with these spellings, and cos-python-sdk-v5 copies headers into a plain
# (case-sensitive) dict, so user code reads resp["ETag"], resp["Content-Length"] ...
class _HeaderName(bytes):
    """A header name that keeps its spelling on the wire. uvicorn's httptools protocol lower-cases
    names (``name = name.lower()``) before comparing and writing them; this name survives that and
    still compares equal to the lower-case spelling. (h11 keeps the case by itself.)"""

    def lower(self) -> "_HeaderName":
        return self

    def __eq__(self, other: object) -> bool:
        return isinstance(other, bytes) and bytes.lower(self) == bytes.lower(other)

    def __hash__(self) -> int:
        return hash(bytes.lower(self))


_CANONICAL = {name.lower().encode(): _HeaderName(name.encode()) for name in (
    "ETag", "Content-Type", "Content-Length", "Content-Range", "Content-Disposition", "Content-Encoding",
    "Content-Language", "Cache-Control", "Expires", "Last-Modified", "Accept-Ranges", "Location",
    "Server", "Date", "Connection", "Vary", "Access-Control-Allow-Origin", "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers", "Access-Control-Expose-Headers", "Access-Control-Max-Age")}


_date_cache: list = [0, ""]


def _http_date_now() -> str:
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache[0], _date_cache[1] = now, email.utils.formatdate(now, usegmt=True)
    return _date_cache[1]


class _NotRoot(Exception):
    """Raised by :meth:`CosApp._authenticate_inline`'s key lookup for any key but the root's."""


def _auth_size(ctx: Ctx) -> int:
    """What a signature check reads: the query string and the headers."""
    return len(ctx.query_string) + sum(len(k) + len(v) for k, v in ctx.headers.items())


def _disk_full(exc: BaseException | None) -> bool:
    """ENOSPC / EDQUOT from a write, or SQLite's SQLITE_FULL, anywhere in the exception chain."""
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if isinstance(exc, sqlite3.Error) and "full" in str(exc).lower():
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def unexpected_error(exc: BaseException, method: str, path: str) -> CosError:
    """The answer to an exception no handler expected, for mounted sub-apps (admin API, console API)
    as the COS API answers it: a full disk is 507 InsufficientStorage with one log line, input nested
    too deep for a parser is 400, anything else is a bug: InternalError, logged with its traceback."""
    if _disk_full(exc):
        log.warning("%s %s -> InsufficientStorage (disk full)", method, path)
        return CosError("InsufficientStorage")
    if isinstance(exc, RecursionError):
        return CosError("InvalidArgument", "The request is nested too deep to process.")
    log.error("internal error on %s %s", method, path, exc_info=exc)
    return CosError("InternalError")


def _canonical_headers(raw: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return [(_CANONICAL.get(k, k), v) for k, v in raw]


_HARDENING = [(b"x-content-type-options", b"nosniff"), (b"content-security-policy", OBJECT_CSP.encode())]
_fixed_cache: list = [0, []]


def _fixed_headers() -> list[tuple[bytes, bytes]]:
    """server, date (cached for the second) and the hardening pair every COS API answer carries."""
    now = int(time.time())
    if _fixed_cache[0] != now:
        _fixed_cache[0], _fixed_cache[1] = now, [(b"server", b"tencent-cos"),
                                                 (b"date", _http_date_now().encode()), *_HARDENING]
    return _fixed_cache[1]


# every name _serve may pass _final_headers as ``extra`` (a superset: a test of the usual case)
_EXTRA_NAMES = frozenset({b"x-cos-request-id", b"x-amz-request-id", b"connection", b"server", b"date",
                          *(name for name, _ in _HARDENING)})


def _final_headers(raw: list[tuple[bytes, bytes]], extra: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``raw`` (a response's lower-case header list) with every ``extra`` header set (replacing
    one of the same name, as ``response.headers[name] = value`` would), names in COS spelling."""
    canonical = _CANONICAL.get
    if _EXTRA_NAMES.isdisjoint([k for k, _ in raw]):    # the usual answer: none of them set by its handler
        return [(canonical(k, k), v) for k, v in raw] + [(canonical(k, k), v) for k, v in extra]
    names = {k for k, _ in extra}
    if any(k in names for k, _ in raw):     # rare: a handler set one of them itself
        replaced = dict(extra)
        out, seen = [], set()
        for k, v in raw:
            if k in replaced:
                if k in seen:
                    continue
                seen.add(k)
                v = replaced[k]
            out.append((_CANONICAL.get(k, k), v))
        return out + [(_CANONICAL.get(k, k), v) for k, v in extra if k not in seen]
    return [(canonical(k, k), v) for k, v in raw] + [(canonical(k, k), v) for k, v in extra]


class CosApp:
    def __init__(self, config: ServerConfig, backend: Backend, accounts, authorizer=None) -> None:
        from cosbeauty.api.policy import Authorizer
        self.config = config
        self.backend = backend
        self.accounts = accounts
        self.authorizer = authorizer or Authorizer(self)
        self.mounts: dict[str, ASGIApp] = {}
        self._mount_prefixes: tuple[str, ...] = ()     # the keys of mounts (a path matching none is no mount's)
        self.services: dict[str, object] = {}   # shared helpers (ci worker pool, metering, ...)
        self.startup: list[Callable[[], Awaitable[None]]] = []
        self.shutdown: list[Callable[[], Awaitable[None]]] = []
        self.in_flight = 0      # HTTP requests being served (this process, this event loop)
        self._concurrent_until = 0.0    # time.monotonic() until which requests count as concurrent
        if hasattr(backend, "lone_request"):    # storage.local: a lone small PUT commits on the loop
            backend.lone_request = self._lone

    def _lone(self) -> bool:
        """This request is the only one in flight, and none overlapped another for CONCURRENT_HOLD
        seconds (under concurrent load the writer thread's group commit serves everyone better)."""
        return self.in_flight == 1 and time.monotonic() >= self._concurrent_until

    def mount(self, prefix: str, app: ASGIApp) -> None:
        self.mounts[prefix] = app
        self._mount_prefixes = tuple(self.mounts)

    async def __call__(self, scope: dict, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        self.in_flight += 1
        if self.in_flight > 1:
            self._concurrent_until = time.monotonic() + CONCURRENT_HOLD
        try:
            await self._serve(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _serve(self, scope: dict, receive, send) -> None:
        sub = self._mounted(scope)
        if sub is not None:
            scope[OPERATION_KEY] = "mounted"      # the metrics middleware names the prefix
            await sub(scope, receive, hardened_send(send))     # nosniff + CSP unless the sub-app sets its own
            return
        request_id = new_request_id()
        ctx = Ctx(self, scope, receive, request_id)
        try:
            response = await self._handle(ctx)
        except CosError as err:
            response = self._error_response(ctx, err)
        except StorageError as exc:
            response = self._error_response(ctx, CosError(exc.code, exc.message, resource=ctx.resource()))
        except ClientDisconnected:
            return
        except RecursionError:      # input nested deeper than a parser without its own limit can take
            response = self._error_response(ctx, CosError("InvalidArgument", "The request is nested too deep "
                                                                             "to process.", resource=ctx.resource()))
        except Exception as exc:  # a bug: log it, answer InternalError, keep serving
            if _disk_full(exc):     # not a bug: one log line (_error_response), a clear answer
                response = self._error_response(ctx, CosError("InsufficientStorage", resource=ctx.resource()))
            else:
                log.exception("internal error on %s %s", ctx.method, ctx.raw_path)
                response = self._error_response(ctx, CosError("InternalError", resource=ctx.resource()))
        if "origin" in ctx.headers:
            await cors.apply(ctx, response)
        rid = request_id.encode()
        extra = [(b"x-cos-request-id", rid)]
        if is_s3_client(ctx):       # boto3 & co. read the request id from x-amz-request-id
            extra.append((b"x-amz-request-id", rid))
        if scope.get("http_version") == "1.1":   # "Connection" as COS spells it (uvicorn would write it lower-case)
            closing = "close" in ctx.headers.get("connection", "").lower()
            extra.append((b"connection", b"close" if closing else b"keep-alive"))
        extra += _fixed_headers()   # server, date, and (api/hardening.py) nosniff + sandboxing CSP
        response.raw_headers = _final_headers(response.raw_headers, extra)
        await response(scope, receive, send)

    def _mounted(self, scope: dict) -> ASGIApp | None:
        """The sub-app for /console, /-/... -- only on hosts that do not name a bucket, so an object
        key such as "console/index.html" on <bucket>.cos.<region>.myqcloud.com stays an object."""
        path = scope["path"]
        if not path.startswith(self._mount_prefixes):      # every COS API call: one test, no loop
            return None
        for prefix, sub in self.mounts.items():
            if path == prefix or path.startswith(prefix + "/"):
                host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
                if not addressing.resolve(host, path, self.config.endpoints).virtual_host:
                    return sub
        return None

    async def _handle(self, ctx: Ctx) -> Response:
        target = addressing.resolve(ctx.headers.get("host", ""), ctx.path, self.config.endpoints)
        ctx.target = target
        if ctx.bad_input is not None:
            raise ctx.bad_input
        names = [name for name, _ in ctx.query_pairs]
        request_scope.check_unique(names)
        if target.service != "cos" and (not target.bucket or target.key in router.CI_PATHS):
            level, sub = ("ci" if target.bucket else "ci-service"), target.key
        else:
            level = "service" if not target.bucket else ("bucket" if not target.key else "object")
            sub = router.subresource(ctx.query)
        try:
            endpoint, unroutable = router.match(ctx.method, level, sub), None
            ctx.scope[OPERATION_KEY] = endpoint.handler     # for the metrics middleware (cosbeauty.metrics)
            router.check_params(ctx.method, level, sub, endpoint, names)
        except CosError as err:     # answered after the signature checks: an unsigned item is named first
            unroutable = err
        actions = endpoint.actions if unroutable is None else ("",)
        if unroutable is None and endpoint.unsigned:    # CORS preflight: never signed, never authenticated
            ctx.identity = Identity(anonymous=True)
        else:
            req = self._signed_request(ctx)
            identity = self._authenticate_inline(ctx, req)
            if identity is None:
                # a sub-account's (or temporary) key, or unusually large headers: the key lookup, the
                # checks and the authorizer's reads (PostgreSQL round trips in cluster mode) in one
                # worker-thread hop
                await run(self._admit, ctx, req, names, unroutable, level, actions)
                return await router.handler(endpoint)(ctx)
            ctx.identity = identity
            request_scope.check_signed(identity, ctx.headers, names)
        self._checks(ctx, unroutable, level)
        if actions != ("",):
            await self.authorizer.check(ctx, actions)
        return await router.handler(endpoint)(ctx)

    def _checks(self, ctx: Ctx, unroutable: CosError | None, level: str) -> None:
        if unroutable is not None:  # 405 / 501 NotImplemented / 400 for what no endpoint (or this one) reads
            raise unroutable
        if ctx.target.bucket:
            addressing.check_bucket_name(ctx.target.bucket)
        if ctx.target.key and level == "object":
            addressing.check_key(ctx.target.key, self.config.max_key_bytes)

    def _admit(self, ctx: Ctx, req: SignedRequest, names: list[str], unroutable: CosError | None, level: str,
               actions: tuple[str, ...]) -> None:
        """Authentication, the request checks and authorization for a worker thread (blocking reads;
        the IAM store reads its generation row once for all of them)."""
        with self._iam_read():
            ctx.identity = authenticate(req, self.accounts.lookup_secret, time.time())
            request_scope.check_signed(ctx.identity, ctx.headers, names)
            self._checks(ctx, unroutable, level)
            if actions != ("",):
                self.authorizer.check_sync(ctx, actions)

    def _iam_read(self) -> ContextManager[None]:
        store = getattr(self.accounts, "store", None)
        return store.one_read() if store is not None else nullcontext()

    def admin_ctx(self, scope: dict, receive) -> Ctx:
        """For mounted admin sub-apps: a Ctx whose request is authenticated as the root account
        (COS v5 or SigV4, header or pre-signed; signed path = the full request path).
        Raises CosError (AccessDenied for anyone else). Blocking: a key other than the root's is
        looked up in the IAM store (on the event loop, use :meth:`admin_ctx_async`)."""
        ctx = self._admin_request(scope, receive)
        self._admin_identity(ctx, self.accounts.lookup_secret)
        return ctx

    async def admin_ctx_async(self, scope: dict, receive) -> Ctx:
        """:meth:`admin_ctx` for the event loop: the root's key is verified here without a read;
        any other key (a sub-account's: refused, after its lookup -- a PostgreSQL round trip in
        cluster mode -- tells which error) and unusually large headers in a worker thread."""
        ctx = self._admin_request(scope, receive)
        try:
            if _auth_size(ctx) > INLINE_AUTH_BYTES:
                raise _NotRoot()
            self._admin_identity(ctx, self._root_only)
        except _NotRoot:
            await run(self._admin_identity, ctx, self.accounts.lookup_secret)
        return ctx

    def _admin_request(self, scope: dict, receive) -> Ctx:
        ctx = Ctx(self, scope, receive, new_request_id())
        if ctx.bad_input is not None:
            raise ctx.bad_input
        request_scope.check_unique([name for name, _ in ctx.query_pairs])
        return ctx

    def _admin_identity(self, ctx: Ctx, lookup_secret: Callable[[str], str | None]) -> None:
        with self._iam_read():
            self._admin_check(ctx, lookup_secret)

    def _admin_check(self, ctx: Ctx, lookup_secret: Callable[[str], str | None]) -> None:
        ident = authenticate(SignedRequest(method=ctx.method, raw_path=ctx.raw_path, path=ctx.path,
                                           query=ctx.query_pairs, headers=ctx.headers, cos_paths=[ctx.path]),
                             lookup_secret, time.time())
        request_scope.check_signed(ident, ctx.headers, [name for name, _ in ctx.query_pairs])
        ctx.identity = ident
        principal = None if ident.anonymous else self.accounts.principal(ident.access_key)
        if principal is None or not principal.is_root:
            raise CosError("AccessDenied", "The admin API needs the root account's credentials.")
        ctx.principal = principal

    def _root_only(self, access_key: str) -> str | None:
        """The root's secret; _NotRoot for any other key (whose lookup would read the IAM store)."""
        if access_key != self.accounts.root_access_key:
            raise _NotRoot()
        return self.accounts.lookup_secret(access_key)

    def error_response(self, ctx: Ctx, err: CosError) -> Response:
        response = self._error_response(ctx, err)
        response.headers["x-cos-request-id"] = ctx.request_id
        return response

    def _authenticate_inline(self, ctx: Ctx, req: SignedRequest) -> Identity | None:
        """Verification is linear in what was signed (a few HMACs), so it runs on the event loop --
        except (None: verify in a worker thread, ``_admit``) for a request whose headers and query
        are unusually large, so the loop never stalls, and for any key but the root's: a
        sub-account's (or temporary) key is looked up in the IAM store, a PostgreSQL round trip in
        cluster mode. The inline attempt stops at that lookup (nothing is read on the loop)."""
        if _auth_size(ctx) > INLINE_AUTH_BYTES:
            return None
        try:
            return authenticate(req, self._root_only, time.time())
        except _NotRoot:
            return None

    def _signed_request(self, ctx: Ctx) -> SignedRequest:
        """COS v5 signs "/key" on a bucket host and "/bucket/key" path-style -- never "/key" for a
        path-style request, which would let a signature over /A/x authorize /B/A/x."""
        target = ctx.target
        if target.virtual_host or not target.bucket:
            cos_paths = ["/" + target.key]
        elif target.key:
            cos_paths = [ctx.path]
        else:   # bucket level, path-style: "/bucket" or "/bucket/"
            cos_paths = [f"/{target.bucket}", f"/{target.bucket}/"]
        return SignedRequest(method=ctx.method, raw_path=ctx.raw_path, path=ctx.path,
                             query=ctx.query_pairs, headers=ctx.headers, cos_paths=cos_paths,
                             bucket=target.bucket, virtual_host=target.virtual_host)

    def _error_response(self, ctx: Ctx, err: CosError) -> Response:
        if not err.resource:
            err.resource = ctx.resource()
        if err.status >= 500:
            log.warning("%s %s -> %s %s", ctx.method, ctx.raw_path, err.code, err.message)
        if err.status == 304:       # Not Modified: no body, no Content-Type (RFC 9110 15.4.5)
            return Response(b"", status_code=304, headers=err.headers)
        body = b"" if ctx.method == "HEAD" else error_xml(err, ctx.request_id)
        headers = {"content-type": "application/xml", **err.headers}
        if ctx.method == "HEAD":
            headers["content-length"] = "0"
        return Response(body, status_code=err.status, headers=headers)

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                for hook in self.startup:
                    await hook()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for hook in self.shutdown:
                    await hook()
                self.backend.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
