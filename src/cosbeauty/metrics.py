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
endpoint takes. The request counting is done by the one ASGI layer around CosApp (cosbeauty.health.Frontend,
which also holds each status line until its first body bytes): the API code is untouched. The
per-request series are plain numbers (RequestCounts) turned into metric families at scrape time.
"""

from __future__ import annotations

import bisect
import functools
import time
from typing import Any, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString

from cosbeauty.api import addressing, router

disable_created_metrics()      # no *_created series: they double the output and nobody graphs them

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
CI_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class RequestCounts:
    """The per-request series as plain numbers, turned into metric families at scrape time.

    A request updates a few ints and one list slot (on the event loop thread, no lock) instead of
    six locked prometheus-client updates; ``collect()`` (run by the scrape, in a worker thread)
    copies each list in one step, so a scrape never sees a bucket count that its ``_count`` lacks.
    The output is what prometheus-client's Counter / Histogram / Gauge print for the same values."""

    def __init__(self, buckets: tuple[float, ...] = LATENCY_BUCKETS) -> None:
        self.bounds = tuple(float(b) for b in buckets)
        self.requests: dict[tuple[str, str], int] = {}     # (operation, status) -> count
        self.latency: dict[str, list[float]] = {}          # operation -> per-bucket counts (+Inf last), sum
        self.in_flight = 0
        self.received = 0
        self.sent = 0

    def record(self, op: str, status: str, seconds: float) -> None:
        key = (op, status)
        requests = self.requests
        requests[key] = requests.get(key, 0) + 1
        slots = self.latency.get(op)
        if slots is None:
            slots = self.latency[op] = [0] * (len(self.bounds) + 2)
        slots[bisect.bisect_left(self.bounds, seconds)] += 1
        slots[-1] += seconds

    def describe(self) -> list[Metric]:
        return list(self._families({}, {}))

    def collect(self) -> Iterator[Metric]:
        requests = dict(self.requests)
        latency = {op: list(slots) for op, slots in list(self.latency.items())}
        return self._families(requests, latency)

    def _families(self, requests: dict[tuple[str, str], int], latency: dict[str, list[float]]) -> Iterator[Metric]:
        counter = CounterMetricFamily("cosbeauty_requests", "Requests answered", labels=("operation", "status"))
        for (op, status), n in requests.items():
            counter.add_metric((op, status), n)
        yield counter
        hist = HistogramMetricFamily("cosbeauty_request_duration_seconds", "Time to the last response byte",
                                     labels=("operation",))
        names = [floatToGoString(b) for b in self.bounds] + ["+Inf"]
        for op, slots in latency.items():
            acc, cumulative = 0, []
            for name, n in zip(names, slots):
                acc += n
                cumulative.append((name, acc))
            hist.add_metric((op,), cumulative, slots[-1])
        yield hist
        yield GaugeMetricFamily("cosbeauty_requests_in_flight", "Requests being served", value=self.in_flight)
        received = CounterMetricFamily("cosbeauty_received_bytes", "Request body bytes received")
        received.add_metric((), self.received)
        yield received
        sent = CounterMetricFamily("cosbeauty_sent_bytes", "Response body bytes sent")
        sent.add_metric((), self.sent)
        yield sent


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.counts = RequestCounts()          # requests, latency, in flight, body bytes
        r.register(self.counts)  # type: ignore[arg-type]
        self.ci_seconds = Histogram("cosbeauty_ci_process_seconds", "Image processing calls, queue wait included",
                                    buckets=CI_BUCKETS, registry=r)
        self.blob_requests = Counter("cosbeauty_blobstore_requests", "Requests to the remote blob store",
                                     ("operation", "outcome"), registry=r)
        self.blob_latency = Histogram("cosbeauty_blobstore_request_duration_seconds",
                                      "Remote blob store request time (to the response headers)", ("operation",),
                                      buckets=LATENCY_BUCKETS, registry=r)

    def record(self, op: str, status: str, seconds: float) -> None:
        self.counts.record(op, status, seconds)

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
