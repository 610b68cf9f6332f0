"""Crash safety: kill -9 in the middle of a large PUT, restart, nothing torn or orphaned is visible."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import time

import pytest

from qcloud_cos.cos_exception import CosServiceError

from tests.api.rawhttp import cos_auth_header
from tests.conftest import APPID, REGION, Server, cos_client, free_port


def start_half_put(port: int, bucket: str, key: str, total: int, sent: int) -> socket.socket:
    host = f"{bucket}.cos.{REGION}.myqcloud.com"
    auth = cos_auth_header("PUT", bucket, key, {"Host": host, "Content-Length": str(total)})
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall((f"PUT /{key} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {total}\r\n"
               f"Authorization: {auth}\r\n\r\n").encode())
    chunk = os.urandom(1 << 20)
    for _ in range(sent >> 20):
        s.sendall(chunk)
    return s


def blob_files(data_dir: str) -> set[str]:
    out = set()
    for sub in os.listdir(os.path.join(data_dir, "blobs")):
        out.update(os.listdir(os.path.join(data_dir, "blobs", sub)))
    return out


@pytest.mark.parametrize("overwrite", [False, True])
def test_kill9_mid_put(tmp_path, overwrite):
    data_dir = str(tmp_path / "data")
    srv = Server(data_dir, free_port()).start()
    bucket, key = f"crash-{APPID}", "big/object.bin"
    previous = os.urandom(3 * 1024 * 1024)
    try:
        cos = cos_client(srv.port)
        cos.create_bucket(Bucket=bucket)
        if overwrite:
            cos.put_object(Bucket=bucket, Key=key, Body=previous)
        conn = start_half_put(srv.port, bucket, key, total=256 << 20, sent=96 << 20)
        time.sleep(0.5)   # let the server write what it received
        assert os.listdir(os.path.join(data_dir, "tmp")), "the in-flight upload should be in tmp/"
    finally:
        srv.stop(signal.SIGKILL)
    conn.close()

    srv = Server(data_dir, free_port()).start()
    try:
        cos = cos_client(srv.port)
        listed = cos.list_objects(Bucket=bucket).get("Contents", [])
        if overwrite:
            assert [c["Key"] for c in listed] == [key]
            got = cos.get_object(Bucket=bucket, Key=key)["Body"].get_raw_stream().read()
            assert hashlib.md5(got).digest() == hashlib.md5(previous).digest()
        else:
            assert listed == []
            with pytest.raises(CosServiceError):
                cos.head_object(Bucket=bucket, Key=key)
        assert os.listdir(os.path.join(data_dir, "tmp")) == []
        # every blob on disk is referenced by a listed object
        referenced = 1 if overwrite else 0
        assert len(blob_files(data_dir)) == referenced
    finally:
        srv.stop()


def test_orphan_blob_swept_on_start(tmp_path):
    """A blob renamed into place whose metadata commit never happened is removed at start."""
    data_dir = str(tmp_path / "data")
    srv = Server(data_dir, free_port()).start()
    cos = cos_client(srv.port)
    cos.create_bucket(Bucket=f"sweep-{APPID}")
    cos.put_object(Bucket=f"sweep-{APPID}", Key="kept", Body=os.urandom(200_000))
    srv.stop()
    orphan = os.path.join(data_dir, "blobs", "ab", "ab" + "0" * 30)
    with open(orphan, "wb") as f:
        f.write(b"half-committed")
    old = time.time() - 3600
    os.utime(orphan, (old, old))
    srv = Server(data_dir, free_port()).start()
    try:
        deadline = time.time() + 10
        while os.path.exists(orphan) and time.time() < deadline:
            time.sleep(0.05)
        assert not os.path.exists(orphan)
        assert len(blob_files(data_dir)) == 1
        got = cos_client(srv.port).get_object(Bucket=f"sweep-{APPID}", Key="kept")
        assert len(got["Body"].get_raw_stream().read()) == 200_000
    finally:
        srv.stop()


def test_concurrent_puts_last_writer_wins_no_torn_reads(server, cos, bucket):
    import concurrent.futures
    bodies = [bytes([i]) * (300_000 + i) for i in range(8)]
    valid = {hashlib.md5(b).hexdigest() for b in bodies}

    def put(b):
        cos.put_object(Bucket=bucket, Key="contended", Body=b)

    def read():
        try:
            data = cos.get_object(Bucket=bucket, Key="contended")["Body"].get_raw_stream().read()
        except Exception:
            return None
        return hashlib.md5(data).hexdigest()

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(put, b) for b in bodies] + [pool.submit(read) for _ in range(16)]
        results = [f.result() for f in futures]
    for digest in results[len(bodies):]:
        assert digest is None or digest in valid
    final = read()
    assert final in valid
