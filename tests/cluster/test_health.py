"""/-/healthz, /-/readyz, /-/metrics and graceful shutdown on the embedded default."""

from __future__ import annotations

import signal
import socket
import time
import urllib.error
import urllib.request

import pytest

from cosbeauty.health import _loopback
from tests.cluster.conftest import node, wait_ready
from tests.conftest import cos_client, new_bucket, s3_client


def get(srv, path: str, host: str | None = None) -> tuple[int, str]:
    req = urllib.request.Request(srv.endpoint + path, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def metric(text: str, line_start: str) -> float:
    for line in text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_health_ready_and_metrics_count_operations(server):
    assert get(server, "/-/healthz") == (200, "ok\n")
    assert get(server, "/-/readyz") == (200, "ready\n")
    s3 = s3_client(server.port)
    bucket = new_bucket(cos_client(server.port), "metrics")
    s3.put_object(Bucket=bucket, Key="k", Body=b"m" * 100_000)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"m" * 100_000
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=bucket, Key="missing")
    status, text = get(server, "/-/metrics")
    assert status == 200
    assert metric(text, 'cosbeauty_requests_total{operation="objects:put_object",status="200"}') >= 1
    assert metric(text, 'cosbeauty_requests_total{operation="objects:get_object",status="200"}') >= 1
    assert metric(text, 'cosbeauty_requests_total{operation="objects:get_object",status="404"}') >= 1
    assert metric(text, 'cosbeauty_request_duration_seconds_count{operation="objects:put_object"}') >= 1
    assert metric(text, "cosbeauty_received_bytes_total") >= 100_000
    assert metric(text, "cosbeauty_sent_bytes_total") >= 100_000
    assert "cosbeauty_ci_queue_depth 0.0" in text and "cosbeauty_ci_workers" in text
    assert "cosbeauty_db_writer_queue_depth" in text
    # on a bucket host the path is an object key, not the probe
    assert get(server, "/-/healthz", host=f"{bucket}.localhost")[0] == 403


def test_metrics_are_for_loopback_clients_unless_public():
    assert _loopback({"client": ("127.0.0.1", 5)}) and _loopback({"client": ("::1", 5)})
    assert not _loopback({"client": ("10.1.2.3", 5)}) and not _loopback({})


def test_sigterm_drains_then_finishes_in_flight_requests_and_exits():
    with node(["--drain-seconds", "1.5"]) as srv:
        wait_ready(srv)
        bucket = new_bucket(cos_client(srv.port), "drain")
        # an upload in flight: headers and half the body sent before SIGTERM
        body = b"d" * 200_000
        sock = socket.create_connection(("127.0.0.1", srv.port))
        url = s3_client(srv.port).generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "slow"})
        path = url.split(str(srv.port), 1)[1]
        sock.sendall(f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\nContent-Length: {len(body)}\r\n\r\n"
                     .encode() + body[:100_000])
        time.sleep(0.2)
        t0 = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        status, text = get(srv, "/-/readyz")
        assert status == 503 and "draining" in text
        assert get(srv, "/-/healthz")[0] == 200                 # still serving during the drain period
        assert srv.proc.poll() is None
        time.sleep(1.5)                                         # past the drain: no new connections
        sock.sendall(body[100_000:])                            # ... but the request in flight completes
        reply = sock.recv(65536).decode(errors="replace")
        assert reply.startswith("HTTP/1.1 200"), reply
        sock.close()
        srv.proc.wait(15)
        assert time.monotonic() - t0 >= 1.5
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", srv.port), timeout=1).close()


def test_sigterm_finishes_a_slow_request_and_cuts_a_stalled_one_after_the_shutdown_timeout():
    """--shutdown-timeout bounds the wait for in-flight requests: an upload that completes within it
    is answered 200; one that stalls (its body would pass the 60 s body timeout) is cut when the
    timeout is over and the process exits then, not a minute later."""
    with node(["--shutdown-timeout", "3"]) as srv:
        wait_ready(srv)
        bucket = new_bucket(cos_client(srv.port), "stop")
        body = b"s" * 200_000

        def start_upload(key: str) -> socket.socket:
            url = s3_client(srv.port).generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": key})
            sock = socket.create_connection(("127.0.0.1", srv.port))
            sock.sendall(f"PUT {url.split(str(srv.port), 1)[1]} HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\n"
                         f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:100_000])
            return sock

        slow, stalled = start_upload("slow"), start_upload("stalled")
        time.sleep(0.3)
        t0 = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        assert srv.proc.poll() is None                          # waiting for the requests in flight
        slow.sendall(body[100_000:])                            # finishes within the timeout: answered
        reply = slow.recv(65536).decode(errors="replace")
        assert reply.startswith("HTTP/1.1 200"), reply
        srv.proc.wait(20)
        elapsed = time.monotonic() - t0
        assert 2.5 <= elapsed < 15, elapsed                     # the stalled upload held it ~3 s, not 60
        stalled.settimeout(5)
        try:
            assert not stalled.recv(65536).startswith(b"HTTP/1.1 200")
        except OSError:
            pass                                                # reset: also not a success
        slow.close()
        stalled.close()
