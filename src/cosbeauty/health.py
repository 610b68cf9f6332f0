"""Health, readiness, metrics and draining for every node (the embedded default included).

    GET /-/healthz   200 "ok" while the process serves requests (liveness)
    GET /-/readyz    200 "ready" when the metadata store and the blob store answer; 503 with the reason
                     otherwise, and from the first SIGTERM on (draining)
    GET /-/metrics   Prometheus text format (cosbeauty.metrics); from loopback clients only unless
                     ``--metrics-public`` (it reveals traffic and operation mix, never data or keys)

Like the admin API they answer only on hosts that do not name a bucket, and need no signature.

Graceful shutdown: on SIGTERM the node starts *draining*: /-/readyz answers 503 at once, requests
are still served for ``--drain-seconds`` (default 0) so a load balancer can take the node out, then
uvicorn stops accepting, lets in-flight requests finish (each is bounded by the body/send timeouts)
and exits. A second SIGTERM ends the drain period early.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal
import threading
import time
from typing import Any, Callable

from starlette.responses import PlainTextResponse, Response

from cosbeauty.api.app import OPERATION_KEY
from cosbeauty.metrics import Metrics, operation
from cosbeauty.storage.base import StorageError

log = logging.getLogger("cosbeauty")
PROBE_TIMEOUT = 5.0


class Health:
    def __init__(self, app: Any, metrics: Metrics, *, metrics_public: bool = False, drain_seconds: float = 0.0) -> None:
        self.app = app
        self.metrics = metrics
        self.metrics_public = metrics_public
        self.drain_seconds = drain_seconds
        self.draining = False

    # -- probes -----------------------------------------------------------------------------
    def check_sync(self) -> list[str]:
        """Problems that make this node unready (empty: ready). Blocking: call off the loop."""
        problems = []
        backend = self.app.backend
        try:
            db = getattr(backend, "db", None)
            if db is not None:
                db.reader().execute("SELECT 1").fetchone()
        except Exception as exc:   # noqa: BLE001 -- reported, not raised
            log.warning("readiness: metadata store: %s", exc)
            problems.append("metadata store unavailable")
        blobs = getattr(backend, "blobs", None)
        if blobs is not None:
            try:
                blobs.check()
            except Exception as exc:   # noqa: BLE001
                log.warning("readiness: blob store: %s", getattr(exc, "detail", exc))
                problems.append("blob store unavailable")
        return problems

    async def readiness(self) -> list[str]:
        if self.draining:
            return ["draining"]
        try:
            return await asyncio.wait_for(asyncio.to_thread(self.check_sync), PROBE_TIMEOUT)
        except asyncio.TimeoutError:
            return [f"readiness checks took more than {PROBE_TIMEOUT:.0f} s"]

    # -- ASGI endpoints ---------------------------------------------------------------------
    async def healthz(self, scope: dict, receive: Callable, send: Callable) -> None:
        await _answer(scope, receive, send, PlainTextResponse("ok\n"))

    async def readyz(self, scope: dict, receive: Callable, send: Callable) -> None:
        problems = await self.readiness()
        if problems:
            response = PlainTextResponse("not ready: " + "; ".join(problems) + "\n", 503)
        else:
            response = PlainTextResponse("ready\n")
        await _answer(scope, receive, send, response)

    async def metrics_endpoint(self, scope: dict, receive: Callable, send: Callable) -> None:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        if not self.metrics_public and not _loopback(scope):
            response = PlainTextResponse("/-/metrics answers loopback clients only (serve --metrics-public)\n", 403)
        else:
            body = await asyncio.to_thread(generate_latest, self.metrics.registry)
            response = Response(body, headers={"content-type": CONTENT_TYPE_LATEST})
        await _answer(scope, receive, send, response)

    # -- draining ---------------------------------------------------------------------------
    async def on_startup(self) -> None:
        """Install the drain step in front of uvicorn's SIGTERM handler (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            return
        previous = signal.getsignal(signal.SIGTERM)
        if not callable(previous):
            return
        timer: list[threading.Timer] = []

        def on_sigterm(sig: int, frame: Any) -> None:
            if self.draining or self.drain_seconds <= 0:
                self.draining = True
                for t in timer:
                    t.cancel()
                previous(sig, frame)
                return
            self.draining = True
            log.info("draining: /-/readyz now 503; stopping in %.1f s", self.drain_seconds)
            t = threading.Timer(self.drain_seconds, previous, (sig, None))
            t.daemon = True
            timer.append(t)
            t.start()

        signal.signal(signal.SIGTERM, on_sigterm)


async def _answer(scope: dict, receive: Callable, send: Callable, response: Response) -> None:
    response.headers["cache-control"] = "no-store"
    if scope.get("method") == "HEAD":
        response.body = b""
    await response(scope, receive, send)


def _loopback(scope: dict) -> bool:
    client = scope.get("client")
    if not client:
        return False
    try:
        return ipaddress.ip_address(client[0]).is_loopback
    except ValueError:
        return False


class Frontend:
    """The one ASGI layer around CosApp: it counts every HTTP request into ``metrics`` and holds
    each response's status line until its first body bytes are ready.

    Holding the start: an object GET streams its blobs after the status line (``BlobResponse``):
    when the blob store fails as the GET starts (down, timing out, the blob missing), the error used
    to surface after ``200 OK`` had gone out, and the client got a cut connection. Holding the start
    message until the first body message (which for a GET is the first chunk read from the store)
    turns such an error into a clean error response (``503 ServiceUnavailable``). An error after
    body bytes were sent propagates: uvicorn then closes the connection short of its
    Content-Length, so the client sees an error, never a short 200. Other responses are unchanged
    (their start and first body message are sent back to back, as before).

    Counting: the status and body bytes are those that go out (an error response that replaces a
    held start counts with its own status; a request that ends without a response counts as 499),
    the latency runs to the last response byte. One layer with one send and one receive wrapper per
    request (it used to be two middlewares and three wrappers: every layer costs on every request)."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    def __getattr__(self, name: str) -> Any:     # the wrapped CosApp's attributes (mounts, config, ...)
        return getattr(self.app, name)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        counts = self.metrics.counts
        start_time = time.perf_counter()
        held: dict | None = None
        sent = False                # the status line went out
        status = 0

        async def counting_receive() -> dict:
            message = await receive()
            body = message.get("body")
            if body:
                counts.received += len(body)
            return message

        async def out(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            else:
                body = message.get("body")
                if body:
                    counts.sent += len(body)
            await send(message)

        async def guarded_send(message: dict) -> None:
            nonlocal held, sent, status
            if message["type"] == "http.response.start":
                if not sent:
                    held = message
                    return
            elif held is not None:      # the first body message: the held start goes out with it
                first, held = held, None
                sent = True
                status = first["status"]
                await send(first)
                body = message.get("body")
                if body:
                    counts.sent += len(body)
                await send(message)
                return
            await out(message)

        counts.in_flight += 1
        try:
            try:
                await self.app(scope, counting_receive, guarded_send)
            except StorageError as exc:
                if sent:
                    raise           # bytes are out: the connection is cut short of its length
                await _storage_error(scope, out, exc, held)
                return
            if held is not None:    # a start without a body message (not ASGI-conformant): flush it
                await out(held)
                await out({"type": "http.response.body", "body": b""})
        finally:
            counts.in_flight -= 1
            op = scope.get(OPERATION_KEY)   # set by CosApp once it has routed the request
            if op is None or op == "mounted":
                op = operation(self.app, scope)
            counts.record(op, str(status or 499), time.perf_counter() - start_time)


async def _storage_error(scope: dict, send: Callable, exc: StorageError, start: dict | None) -> None:
    from cosbeauty.api.errors import CosError, error_xml

    err = CosError(exc.code, exc.message)
    request_id = ""
    for name, value in (start or {}).get("headers", []):
        if name.lower() == b"x-cos-request-id":
            request_id = value.decode("latin-1")
    log.warning("%s %s -> %s %s (before the first body byte)", scope.get("method"), scope.get("path"),
                err.code, getattr(exc, "detail", err.message))
    body = b"" if scope.get("method") == "HEAD" else error_xml(err, request_id)
    headers = [(b"content-type", b"application/xml"), (b"content-length", str(len(body)).encode())]
    if request_id:
        headers += [(b"x-cos-request-id", request_id.encode()), (b"x-amz-request-id", request_id.encode())]
    await send({"type": "http.response.start", "status": err.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _watch_db_counts(metrics: Metrics, db: Any) -> None:
    """PostgreSQL round trips and transactions since start (cluster mode; see storage.postgres.Counts)."""
    counts = getattr(db, "counts", None)
    if counts is None:
        return
    from prometheus_client import Gauge
    for attr, text in (("round_trips", "Statements sent to PostgreSQL (each one round trip, BEGIN/COMMIT included)"),
                       ("transactions", "PostgreSQL transactions: autocommit reads plus write transactions"),
                       ("write_transactions", "Write transactions begun (retries included)")):
        Gauge(f"cosbeauty_db_{attr}", text + " since start", registry=metrics.registry).set_function(
            lambda a=attr: getattr(counts, a))


def install(app: Any, *, metrics_public: bool = False, drain_seconds: float = 0.0) -> Frontend:
    """Mount /-/healthz, /-/readyz, /-/metrics on ``app`` (a CosApp) and return the app wrapped in
    :class:`Frontend` (request metrics, the status line held until the first body bytes): serve that."""
    metrics = Metrics()
    health = Health(app, metrics, metrics_public=metrics_public, drain_seconds=drain_seconds)
    app.mount("/-/healthz", health.healthz)
    app.mount("/-/readyz", health.readyz)
    app.mount("/-/metrics", health.metrics_endpoint)
    app.startup.append(health.on_startup)
    app.services["health"] = health
    ci = app.services.get("ci")
    if ci is not None and hasattr(ci, "pool"):
        metrics.watch_ci(ci)
    db = getattr(app.backend, "db", None)
    if db is not None:
        metrics.watch_db(db)
        _watch_db_counts(metrics, db)
    blobs = getattr(app.backend, "blobs", None)
    if blobs is not None:
        metrics.watch_blobs(blobs)
    return Frontend(app, metrics)
