"""Connection limits (issue #13 item 5) and Expect: 100-continue (item 6), against a real server
whose limits are set low by flags so every test finishes in a few seconds."""

from __future__ import annotations

import io
import os
import socket
import time

import pytest
from botocore.exceptions import ClientError

from tests.conftest import SECRET_ID, running_server, s3_client

LIMIT_ARGS = ["--no-fsync", "--max-header-bytes", "16384", "--header-timeout", "1.5", "--keep-alive-timeout", "1.5",
              "--body-timeout", "1.5", "--send-timeout", "1.5", "--max-connections", "12"]


@pytest.fixture(scope="module")
def srv():
    with running_server("cosbeauty-limits-", LIMIT_ARGS) as server:
        yield server


def connect(port: int, rcvbuf: int | None = None) -> socket.socket:
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    return s


def read_all(s: socket.socket, limit: float = 10) -> bytes:
    """Everything until the server closes (or resets) the connection."""
    data, end = b"", time.monotonic() + limit
    while time.monotonic() < end:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def rss_kib(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def send_huge_header(port: int, total: int) -> bytes:
    """Send a head with one header of ``total`` bytes, stopping when the server answers or closes."""
    s = connect(port)
    s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
    chunk, sent = b"a" * 65536, 0
    s.settimeout(0.05)
    try:
        while sent < total:
            try:
                s.sendall(chunk)
            except TimeoutError:
                pass
            sent += len(chunk)
            try:
                if s.recv(1, socket.MSG_PEEK):
                    break
            except TimeoutError:
                continue
    except (BrokenPipeError, ConnectionResetError):
        pass
    s.settimeout(5)
    try:
        return read_all(s, 5)
    finally:
        s.close()


def test_oversized_head_is_refused_with_431_and_memory_stays_flat(srv):
    before = rss_kib(srv.proc.pid)
    for _ in range(4):
        answer = send_huge_header(srv.port, 64 * 1024 * 1024)
        assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
        assert b"RequestHeaderSectionTooLarge" in answer
    assert rss_kib(srv.proc.pid) - before < 32 * 1024      # was +400 MiB for 4 x 64 MiB
    # a head just under the limit is still served
    s = connect(srv.port)
    s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"p" * 15000 + b"\r\nConnection: close\r\n\r\n")
    assert read_all(s).startswith(b"HTTP/1.1 403 ")    # unsigned: AccessDenied, but parsed and answered
    s.close()


# an unsigned request to a bucket that does not exist is answered before its body: NoSuchBucket
# (404, as S3 answers anyone) or AccessDenied (403)
EARLY = (b"HTTP/1.1 403 ", b"HTTP/1.1 404 ")


def test_oversized_head_after_a_body_in_the_same_packet(srv):
    """Bytes of a body that arrive together with the head do not count against the head limit."""
    body = b"b" * 200_000
    s = connect(srv.port)
    s.sendall(b"PUT /nobucket-1250000000/k HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n"
              b"Connection: close\r\n\r\n" % len(body) + body)
    answer = read_all(s)
    assert answer.startswith(EARLY), answer[:100]


def test_idle_connection_is_closed(srv):
    s = connect(srv.port)
    started = time.monotonic()
    assert read_all(s, 8) == b""
    assert 1.0 < time.monotonic() - started < 5
    s.close()


@pytest.mark.parametrize("start, drip", [(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n", b"X"), (b"", b"\r\n")],
                         ids=["header-bytes", "blank-lines"])
def test_slow_head_gets_408(srv, start, drip):
    s = connect(srv.port)
    started = time.monotonic()
    s.sendall(start)
    s.settimeout(0.2)
    answer = b""
    try:
        for _ in range(40):                   # a byte every 0.2 s keeps the connection "active"
            s.sendall(drip)
            try:
                answer += s.recv(65536)
                if answer:
                    break
            except TimeoutError:
                pass
    except (BrokenPipeError, ConnectionResetError):
        pass
    s.settimeout(5)
    answer += read_all(s, 5)
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:100]
    assert time.monotonic() - started < 5
    s.close()


def test_stalled_body_is_closed(srv):
    s = connect(srv.port)
    started = time.monotonic()
    s.sendall(b"PUT /nobucket-1250000000/k HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10)
    answer = read_all(s, 10)                   # answered at once; the 990 owed bytes never come
    assert answer.startswith(EARLY)
    assert time.monotonic() - started < 6
    s.close()


def test_reader_that_stops_reading_is_dropped(srv):
    s3 = s3_client(srv.port)
    s3.create_bucket(Bucket="slowread-1250000000")
    big = b"z" * (24 * 1024 * 1024)
    s3.put_object(Bucket="slowread-1250000000", Key="big", Body=big)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "slowread-1250000000", "Key": "big"})
    path = url.split(str(srv.port), 1)[1]
    s = connect(srv.port, rcvbuf=4096)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\n\r\n".encode())
    time.sleep(4)                               # read nothing: the server's writes stall past --send-timeout
    got = read_all(s, 10)
    assert len(got) < len(big)                  # cut off, not served to the end
    s.close()


def test_connection_cap_refuses_with_503_and_recovers(srv):
    time.sleep(1.6)                             # idle connections of earlier tests have timed out
    held = [connect(srv.port) for _ in range(12)]
    try:
        extra = connect(srv.port)
        answer = read_all(extra, 5)
        assert answer.startswith(b"HTTP/1.1 503 ") and b"SlowDown" in answer, answer[:100]
        extra.close()
    finally:
        for s in held:
            s.close()
    time.sleep(0.3)
    s3 = s3_client(srv.port)
    assert s3.list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200


@pytest.mark.parametrize("status", [404, 403])
def test_expect_100_continue_early_answer_then_same_client_works(server, status):
    """boto3 sends PUT bodies given as files with Expect: 100-continue; a 404/403 answered before
    the body must not leave the connection expecting that body: the next call on the same client
    used to be read as that body (a 400, or a stall until the client gave up). Default limits."""
    s3 = s3_client(server.port) if status == 404 else s3_client(server.port, SECRET_ID, "wrong-secret")
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket="nosuch-1250000000", Key="k", Body=io.BytesIO(b"x" * 300_000))
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    started = time.monotonic()
    if status == 404:
        assert s3.list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
        s3.create_bucket(Bucket="cont-1250000000")
        s3.put_object(Bucket="cont-1250000000", Key="k", Body=io.BytesIO(b"y" * 300_000))
        assert s3.get_object(Bucket="cont-1250000000", Key="k")["Body"].read() == b"y" * 300_000
    else:
        with pytest.raises(ClientError) as err:
            s3.list_buckets()
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert time.monotonic() - started < 15          # the body timeout (60 s) never comes into it


def test_expect_100_continue_early_answer_closes_on_the_wire(srv):
    s = connect(srv.port)
    s.sendall(b"PUT /nosuch-1250000000/k HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n"
              b"Expect: 100-continue\r\n\r\n")
    started = time.monotonic()
    answer = read_all(s, 5)
    head = answer.split(b"\r\n\r\n", 1)[0].lower()
    # anonymous, to a bucket that does not exist: NoSuchBucket (404, as S3) -- an early answer either way
    assert head.startswith((b"http/1.1 403 ", b"http/1.1 404 ")) and b"100 continue" not in head
    assert b"connection: close" in head and b"keep-alive" not in head
    assert time.monotonic() - started < 4             # closed right after the answer, not by a timeout (>= 5 s here)
    s.close()


def test_connection_cap_fits_a_small_file_limit(tmp_path):
    """With 256 open files (hard limit), the cap is lowered to fit: extra clients get 503, not resets,
    and the server keeps serving (it used to hit EMFILE and reset new clients)."""
    import os
    import resource
    import subprocess
    import sys

    from tests.conftest import SECRET_KEY, free_port

    port = free_port()
    env = {**os.environ, "COSBEAUTY_SECRET_ID": SECRET_ID, "COSBEAUTY_SECRET_KEY": SECRET_KEY}
    log = open(tmp_path / "server.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "cosbeauty", "serve", "--data-dir", str(tmp_path / "data"),
                             "--port", str(port), "--no-fsync", "--keep-alive-timeout", "20"],
                            env=env, stdout=log, stderr=subprocess.STDOUT,
                            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256)))
    conns: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(0.5)
        refused = reset = 0
        for _ in range(200):
            s = connect(port)
            conns.append(s)
        time.sleep(0.5)
        for s in conns:
            s.setblocking(False)
            try:
                data = s.recv(200)
            except BlockingIOError:
                continue                       # held open, idle
            except ConnectionResetError:
                reset += 1
                continue
            refused += data.startswith(b"HTTP/1.1 503 ")
        assert refused >= 50 and reset == 0, (refused, reset)
        for s in conns:
            s.close()
        conns.clear()
        time.sleep(1.5)                         # refused connections linger for a second
        assert s3_client(port).list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert b"max connections lowered" in open(tmp_path / "server.log", "rb").read()
    finally:
        for s in conns:
            s.close()
        proc.terminate()
        proc.wait(10)



def test_slow_but_steady_reader_is_not_dropped(srv):
    """--send-timeout is 1.5 s here, yet a client reading 64 KiB every 0.4 s (a 1 MiB chunk takes
    6 s to drain) gets the whole object: only a reader that reads nothing is dropped."""
    s3 = s3_client(srv.port)
    s3.create_bucket(Bucket="steady-1250000000")
    body = os.urandom(3 * 1024 * 1024)
    s3.put_object(Bucket="steady-1250000000", Key="obj", Body=body)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "steady-1250000000", "Key": "obj"})
    s = connect(srv.port, rcvbuf=4096)
    s.sendall(f"GET {url.split(str(srv.port), 1)[1]} HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\n\r\n".encode())
    got, started = b"", time.monotonic()
    while b"\r\n\r\n" not in got or len(got.split(b"\r\n\r\n", 1)[1]) < len(body):
        assert time.monotonic() - started < 60
        time.sleep(0.4 if time.monotonic() - started < 4 else 0)     # slow for a while, then catch up
        chunk = s.recv(64 * 1024)
        if not chunk:
            break
        got += chunk
    s.close()
    assert got.split(b"\r\n\r\n", 1)[1] == body


def test_dripping_body_is_closed(srv):
    """A body sent a byte at a time (R.U.D.Y.) never goes silent, yet delivers under 1 KiB per
    --body-timeout (1.5 s): the connection is closed, not held for ever."""
    s = connect(srv.port)
    s.sendall(b"PUT /nobucket-1250000000/k HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n")
    started, closed = time.monotonic(), False
    s.settimeout(0.1)
    data = b""
    while time.monotonic() - started < 10 and not closed:
        try:
            s.sendall(b"x")
            chunk = s.recv(65536)
            closed = not chunk
            data += chunk
        except TimeoutError:
            pass
        except (BrokenPipeError, ConnectionResetError):
            closed = True
    assert closed and time.monotonic() - started < 6
    assert data.startswith(EARLY)                     # answered at once (unsigned), then cut off
    s.close()
