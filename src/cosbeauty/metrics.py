"""Prometheus metrics for one node (prometheus-client, a private registry per app).

    cosbeauty_requests_total{operation, status}        requests answered, by endpoint and HTTP status
    cosbeauty_request_duration_seconds{operation}      latency to the last response byte (histogram)
    cosbeauty_requests_in_flight                       requests being served now
    cosbeauty_received_bytes_total / _sent_bytes_total request and response body bytes
    cosbeauty_ci_queue_depth / _ci_workers / _ci_capacity   image jobs running or queued, pool size, admission limit
    cosbeauty_ci_process_seconds                       AIFaceBeauty (and other CI) processing, queue wait included
    cosbeauty_db_writer_queue_depth                    metadata writes waiting for the group-commit writer
    cosbeauty_blobstore_requests_total{operation, outcome}, cosbeauty_blobstore_request_duration_seconds{operation}
                                                       requests to a remote (S3) blob store

``operation`` is the endpoint's handler (``objects:get_object``, ``multipart:upload_part`` ...,
see api/router.py), ``mounted:/-/admin`` style for mounted apps, ``unmatched`` for requests no
endpoint takes. The request counting is an ASGI middleware around CosApp: the API code is untouched.
"""

from __future__ import annotations

import functools
import time
from typing import Any, Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics

from cosbeauty.api import addressing, router
from cosbeauty.api.app import OPERATION_KEY

disable_created_metrics()      # no *_created series: they double the output and nobody graphs them

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
CI_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("cosbeauty_requests", "Requests answered", ("operation", "status"), registry=r)
        self.latency = Histogram("cosbeauty_request_duration_seconds", "Time to the last response byte",
                                 ("operation",), buckets=LATENCY_BUCKETS, registry=r)
        self.in_flight = Gauge("cosbeauty_requests_in_flight", "Requests being served", registry=r)
        self.received = Counter("cosbeauty_received_bytes", "Request body bytes received", registry=r)
        self.sent = Counter("cosbeauty_sent_bytes", "Response body bytes sent", registry=r)
        self.ci_seconds = Histogram("cosbeauty_ci_process_seconds", "Image processing calls, queue wait included",
                                    buckets=CI_BUCKETS, registry=r)
        self.blob_requests = Counter("cosbeauty_blobstore_requests", "Requests to the remote blob store",
                                     ("operation", "outcome"), registry=r)
        self.blob_latency = Histogram("cosbeauty_blobstore_request_duration_seconds",
                                      "Remote blob store request time (to the response headers)", ("operation",),
                                      buckets=LATENCY_BUCKETS, registry=r)
        self._counters: dict[tuple[str, str], Any] = {}      # labelled children, looked up once
        self._timers: dict[str, Any] = {}

    def record(self, op: str, status: str, seconds: float) -> None:
        counter = self._counters.get((op, status))
        if counter is None:
            counter = self._counters[(op, status)] = self.requests.labels(op, status)
        timer = self._timers.get(op)
        if timer is None:
            timer = self._timers[op] = self.latency.labels(op)
        counter.inc()
        timer.observe(seconds)

    def watch_ci(self, service: Any) -> None:
        """Queue gauges read at scrape time, and a timer around the service's process()."""
        pool = service.pool
        Gauge("cosbeauty_ci_queue_depth", "Image jobs running or queued", registry=self.registry) \
            .set_function(lambda: pool.admitted)
        Gauge("cosbeauty_ci_workers", "Image processing threads", registry=self.registry) \
            .set_function(lambda: pool.workers)
        Gauge("cosbeauty_ci_capacity", "Image jobs admitted before 503 SlowDown", registry=self.registry) \
            .set_function(lambda: pool.capacity)
        process = service.process
        hist = self.ci_seconds

        @functools.wraps(process)
        async def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await process(*args, **kwargs)
            finally:
                hist.observe(time.perf_counter() - start)

        service.process = timed

    def watch_blobs(self, store: Any) -> None:
        """Count and time every request ``store`` makes (S3 stores call ``store.observer``)."""
        requests, latency = self.blob_requests, self.blob_latency

        def observe(op: str, outcome: str, seconds: float) -> None:
            requests.labels(op, outcome).inc()
            latency.labels(op).observe(seconds)

        store.observer = observe

    def watch_db(self, db: Any) -> None:
        q = getattr(db, "_queue", None) or getattr(db, "queue", None)
        if q is not None and hasattr(q, "qsize"):
            Gauge("cosbeauty_db_writer_queue_depth", "Metadata writes waiting for the writer thread",
                  registry=self.registry).set_function(q.qsize)
        stats = getattr(db, "pool_stats", None)        # PostgreSQL metadata: the psycopg pool
        if stats is not None:
            for key, text in (("pool_size", "Connections open to PostgreSQL"),
                              ("pool_available", "Idle connections in the pool"),
                              ("requests_waiting", "Requests waiting for a pooled connection")):
                Gauge(f"cosbeauty_db_{key}", text, registry=self.registry).set_function(
                    lambda k=key: stats().get(k, 0))
            Gauge("cosbeauty_db_serialization_retries", "Write transactions retried after a serialization "
                  "conflict (since start)", registry=self.registry).set_function(lambda: db.retries)


def operation(app: Any, scope: dict) -> str:
    """The endpoint a request goes to (cheap: the same pure functions CosApp uses)."""
    path = scope.get("path", "")
    for prefix in app.mounts:
        if path == prefix or path.startswith(prefix + "/"):
            return f"mounted:{prefix}"
    try:
        host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
        target = addressing.resolve(host, path, app.config.endpoints)
        if target.service != "cos" and (not target.bucket or target.key in router.CI_PATHS):
            level, sub = ("ci" if target.bucket else "ci-service"), target.key
        else:
            level = "service" if not target.bucket else ("bucket" if not target.key else "object")
            query = scope.get("query_string", b"").decode("latin-1")
            names = {part.partition("=")[0] for part in query.split("&") if part}
            sub = next((n for n in router.SUBRESOURCES if n in names), None)
        return router.match(scope["method"], level, sub).handler
    except Exception:   # noqa: BLE001 -- any request the router refuses
        return "unmatched"


class MetricsMiddleware:
    """Counts every HTTP request of ``app`` (a CosApp) into ``metrics``."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        m = self.metrics
        start = time.perf_counter()
        status = [0]

        async def counting_receive() -> dict:
            message = await receive()
            body = message.get("body")
            if body:
                m.received.inc(len(body))
            return message

        async def counting_send(message: dict) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                status[0] = message["status"]
            elif kind == "http.response.body":
                body = message.get("body")
                if body:
                    m.sent.inc(len(body))
            await send(message)

        m.in_flight.inc()
        try:
            await self.app(scope, counting_receive, counting_send)
        finally:
            m.in_flight.dec()
            op = scope.get(OPERATION_KEY)   # set by CosApp once it has routed the request
            if op is None or op == "mounted":
                op = operation(self.app, scope)
            m.record(op, str(status[0] or 499), time.perf_counter() - start)

    def __getattr__(self, name: str) -> Any:    # config, services, accounts ... of the wrapped app
        return getattr(self.app, name)
