"""The per-request series (metrics.RequestCounts) print exactly what prometheus-client's own Counter /
Histogram / Gauge print for the same requests, and the one ASGI layer (health.Frontend) counts what
goes out."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from cosbeauty.health import Frontend
from cosbeauty.metrics import LATENCY_BUCKETS, Metrics, RequestCounts
from cosbeauty.storage.base import StorageError

SAMPLES = [("objects:put_object", "200", 0.0004), ("objects:put_object", "200", 0.001),
           ("objects:get_object", "404", 0.0025), ("objects:put_object", "503", 7.0),
           ("unmatched", "499", 100.0), ("objects:get_object", "200", 0.05)]


def reference(samples: list, in_flight: int, received: int, sent: int) -> bytes:
    """What the locked prometheus-client metrics printed for ``samples`` (the metrics before RequestCounts)."""
    r = CollectorRegistry(auto_describe=True)
    requests = Counter("cosbeauty_requests", "Requests answered", ("operation", "status"), registry=r)
    latency = Histogram("cosbeauty_request_duration_seconds", "Time to the last response byte",
                        ("operation",), buckets=LATENCY_BUCKETS, registry=r)
    gauge = Gauge("cosbeauty_requests_in_flight", "Requests being served", registry=r)
    rec = Counter("cosbeauty_received_bytes", "Request body bytes received", registry=r)
    snt = Counter("cosbeauty_sent_bytes", "Response body bytes sent", registry=r)
    for op, status, seconds in samples:
        requests.labels(op, status).inc()
        latency.labels(op).observe(seconds)
    gauge.set(in_flight)
    rec.inc(received)
    snt.inc(sent)
    return generate_latest(r)


def test_request_counts_print_like_prometheus_client_metrics():
    r = CollectorRegistry(auto_describe=True)
    counts = RequestCounts()
    r.register(counts)
    assert generate_latest(r) == reference([], 0, 0, 0)
    for op, status, seconds in SAMPLES:
        counts.record(op, status, seconds)
    counts.in_flight, counts.received, counts.sent = 2, 4096, 123
    assert generate_latest(r) == reference(SAMPLES, 2, 4096, 123)


def test_metrics_registry_keeps_every_series():
    text = generate_latest(Metrics().registry).decode()
    for name in ("cosbeauty_requests_total", "cosbeauty_request_duration_seconds", "cosbeauty_requests_in_flight",
                 "cosbeauty_received_bytes_total", "cosbeauty_sent_bytes_total", "cosbeauty_ci_process_seconds",
                 "cosbeauty_blobstore_requests_total", "cosbeauty_blobstore_request_duration_seconds"):
        assert f"# TYPE {name.removesuffix('_total')}" in text, name


class FakeApp:
    mounts: dict = {}

    def __init__(self, handler):
        self.handler = handler

    async def __call__(self, scope, receive, send):
        scope["cosbeauty.operation"] = "objects:put_object"
        await self.handler(receive, send)


def run(handler, body=b"abcd"):
    metrics = Metrics()
    out: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        out.append(message)

    scope = {"type": "http", "method": "PUT", "path": "/k", "headers": [], "query_string": b""}
    try:
        asyncio.run(Frontend(FakeApp(handler), metrics)(scope, receive, send))
    except Exception as exc:   # noqa: BLE001
        out.append({"raised": type(exc).__name__})
    return metrics.counts, out


def test_frontend_counts_status_and_bytes_that_go_out():
    async def ok(receive, send):
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"xyz", "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    counts, out = run(ok)
    assert [m["type"] for m in out] == ["http.response.start", "http.response.body", "http.response.body"]
    assert counts.requests == {("objects:put_object", "200"): 1}
    assert (counts.received, counts.sent, counts.in_flight) == (4, 3, 0)
    assert sum(counts.latency["objects:put_object"][:-1]) == 1


def test_frontend_turns_a_storage_error_before_the_body_into_an_error_response():
    async def fails(receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-cos-request-id", b"r1")]})
        raise StorageError("ServiceUnavailable", "down")

    counts, out = run(fails)
    assert out[0]["type"] == "http.response.start" and out[0]["status"] == 503
    assert (b"x-cos-request-id", b"r1") in out[0]["headers"]
    assert counts.requests == {("objects:put_object", "503"): 1}
    assert counts.sent == len(out[1]["body"]) > 0


def test_frontend_counts_499_when_no_response_went_out():
    async def crashes(receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise RuntimeError("boom")

    counts, out = run(crashes)
    assert out == [{"raised": "RuntimeError"}]
    assert counts.requests == {("objects:put_object", "499"): 1} and counts.in_flight == 0


def test_frontend_flushes_a_start_without_body():
    async def start_only(receive, send):
        await send({"type": "http.response.start", "status": 204, "headers": []})

    counts, out = run(start_only)
    assert [m["type"] for m in out] == ["http.response.start", "http.response.body"]
    assert counts.requests == {("objects:put_object", "204"): 1}
