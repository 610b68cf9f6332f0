"""The connection clocks of http_limits armed lazily (one idle timer per connection, head / body
timers only when a read ends inside a head or a body) keep every limit: a connection busy for
longer than the keep-alive timeout stays open and is closed once idle; a head or body that stops
midway is still cut; pipelined requests in one packet are all answered."""

from __future__ import annotations

import socket
import time

import pytest

from tests.conftest import running_server
from tests.security.test_connections import LIMIT_ARGS, connect, read_all

REQUEST = b"GET /-/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@pytest.fixture(scope="module")
def srv():
    with running_server("cosbeauty-clocks-", LIMIT_ARGS) as server:
        yield server


def read_response(s: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"ok\n"):
        chunk = s.recv(65536)
        assert chunk, data
        data += chunk
    return data


def test_busy_connection_outlives_the_keep_alive_timeout_then_idles_out(srv):
    s = connect(srv.port)
    started = time.monotonic()
    while time.monotonic() - started < 3.5:          # keep-alive timeout: 1.5 s
        s.sendall(REQUEST)
        assert read_response(s).startswith(b"HTTP/1.1 200 ")
        time.sleep(0.4)
    last = time.monotonic()
    assert read_all(s, 8) == b""                     # then closed for idling
    assert 1.0 < time.monotonic() - last < 4.5
    s.close()


def test_pipelined_requests_in_one_packet_are_answered_then_idle_out(srv):
    s = connect(srv.port)
    s.sendall(REQUEST * 3)
    answer = read_all(s, 8)
    assert answer.count(b"HTTP/1.1 200 ") == 3, answer


def test_head_split_across_reads_is_served_and_a_stalled_one_gets_408(srv):
    s = connect(srv.port)
    s.sendall(REQUEST[:20])
    time.sleep(0.5)
    s.sendall(REQUEST[20:])
    assert read_response(s).startswith(b"HTTP/1.1 200 ")
    s.sendall(REQUEST[:20])                          # the next head stops midway
    started = time.monotonic()
    assert read_all(s, 8).startswith(b"HTTP/1.1 408 ")
    assert 1.0 < time.monotonic() - started < 4.5
    s.close()


def test_body_that_stops_after_a_whole_first_read_is_cut(srv):
    """Head and part of the body in one read, then nothing: the body clock runs from that read."""
    s = connect(srv.port)
    started = time.monotonic()
    s.sendall(b"PUT /-/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n" + b"x" * 10)
    read_all(s, 10)
    assert time.monotonic() - started < 6
    s.close()
