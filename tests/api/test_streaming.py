"""Large bodies stream to and from disk: the server's memory does not grow with the object."""

from __future__ import annotations

import hashlib
import http.client
import os

from tests.api.rawhttp import cos_auth_header
from tests.conftest import REGION


def peak_rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_256mib_put_get_bounded_memory(server, bucket):
    size_mib = 256
    host = f"{bucket}.cos.{REGION}.myqcloud.com"
    chunk = os.urandom(1 << 20)
    md5 = hashlib.md5()
    for _ in range(size_mib):
        md5.update(chunk)
    server.wait_warm()          # the models load in the background after start: not part of this figure
    before = peak_rss_mib(server.proc.pid)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    headers = {"Host": host, "Content-Length": str(size_mib << 20)}
    conn.request("PUT", "/huge.bin", body=(chunk for _ in range(size_mib)),
                 headers={**headers, "Authorization": cos_auth_header("PUT", bucket, "huge.bin", headers)})
    resp = conn.getresponse()
    assert resp.status == 200, resp.read()
    assert resp.getheader("ETag") == f'"{md5.hexdigest()}"'
    resp.read()
    conn.request("GET", "/huge.bin", headers={"Host": host,
                                              "Authorization": cos_auth_header("GET", bucket, "huge.bin", {"Host": host})})
    resp = conn.getresponse()
    got = hashlib.md5()
    n = 0
    while data := resp.read(1 << 20):
        got.update(data)
        n += len(data)
    assert n == size_mib << 20 and got.digest() == md5.digest()
    grown = peak_rss_mib(server.proc.pid) - before
    assert grown < 64, f"server peak RSS grew by {grown:.0f} MiB for a {size_mib} MiB object"
