"""detect-url downloads: the total deadline holds against servers that drip, and stuck downloads
never hold up ordinary requests (issue #13 item 5)."""

from __future__ import annotations

import concurrent.futures
import socket
import threading
import time

import pytest
from qcloud_cos.cos_exception import CosServiceError

from cosbeauty.cli import main as cli_main
from tests.conftest import cos_client, new_bucket, running_server

TIMEOUT = 3.0


class Dripper:
    """Loopback HTTP server that answers very slowly: ``/body`` sends a head then one body byte
    every 0.5 s, ``/head`` sends its status line one byte every 0.5 s."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            request = conn.recv(65536)
            if b" /bad-redirect " in request:
                conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: http://[\r\nContent-Length: 0\r\n\r\n")
                return
            if b" /head " in request:
                prefix, drip = b"", b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789"
            else:
                prefix, drip = b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: 1000\r\n\r\n", b"x" * 1000
            conn.sendall(prefix)
            for i in range(len(drip)):
                if self.stop.wait(0.5):
                    break
                conn.sendall(drip[i:i + 1])
        except OSError:
            pass
        finally:
            conn.close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture(scope="module")
def env():
    args = ["--no-fsync", "--detect-url-allow", "127.0.0.1", "--detect-url-timeout", str(TIMEOUT)]
    with running_server("cosbeauty-fetch-", args) as srv:
        cos = cos_client(srv.port)
        bucket = new_bucket(cos, "drip")
        for step in ("bind", "enable-ai"):
            assert cli_main(["ci", step, bucket, "--data-dir", srv.data_dir]) == 0
        yield srv, bucket


@pytest.fixture(scope="module")
def dripper(env):
    d = Dripper()
    yield d
    d.close()


def detect(port: int, bucket: str, url: str) -> tuple[float, str]:
    """(seconds, error code) of one detect-url call."""
    started = time.monotonic()
    try:
        cos_client(port).ci_process(Bucket=bucket, Key="/", CiProcess="AIFaceBeauty", Params={"detect-url": url})
        code = "OK"
    except CosServiceError as err:
        code = err.get_error_code()
    return time.monotonic() - started, code


@pytest.mark.parametrize("path", ["/body", "/head"])
def test_dripping_server_is_cut_at_the_deadline(env, dripper, path):
    srv, bucket = env
    seconds, code = detect(srv.port, bucket, dripper.url(path))
    assert code == "DetectUrlFetchFailed"
    assert seconds < TIMEOUT + 1.5, seconds           # was 49 s for a 1 byte/s server (10 s deadline)


def test_stuck_fetches_do_not_hold_up_uploads(env, dripper):
    srv, bucket = env
    cos = cos_client(srv.port)
    with concurrent.futures.ThreadPoolExecutor(44) as pool:
        started = time.monotonic()
        calls = [pool.submit(detect, srv.port, bucket, dripper.url("/body")) for _ in range(44)]
        time.sleep(0.5)                                 # 8 fetching, 32 waiting, 4 refused
        t0 = time.monotonic()
        cos.put_object(Bucket=bucket, Key="upload.bin", Body=b"u" * 300_000)
        upload = time.monotonic() - t0
        results = [c.result() for c in calls]
        total = time.monotonic() - started
    assert upload < 2.0, upload                         # was 35 s behind 40 dripping fetches
    codes = [code for _, code in results]
    assert set(codes) == {"DetectUrlFetchFailed", "SlowDown"}
    assert codes.count("SlowDown") >= 4                 # beyond 8 workers + 32 waiting: refused, not queued
    assert total < TIMEOUT + 3, total                   # queued fetches spend their deadline waiting, not more
    assert cos.head_object(Bucket=bucket, Key="upload.bin")["Content-Length"] == "300000"


def test_malformed_urls_are_client_errors(env, dripper):
    """Found by the fuzzer: an unparseable URL (or redirect Location) was an InternalError (500)."""
    srv, bucket = env
    for url in ("http://[", "HTTP://[::1", dripper.url("/bad-redirect"), "http://a\x00b/", dripper.url("/\u00e9\u4e2d")):
        seconds, code = detect(srv.port, bucket, url)
        assert code in ("InvalidArgument", "DetectUrlFetchFailed"), (url, code)
