"""A GET whose blob store fails: before the first byte the client gets a clean ``503
ServiceUnavailable`` (not a 200 status line followed by a cut connection); after bytes were sent
the connection is aborted, so the client sees an error, never a short 200. The blob store is a
second cosbeauty (embedded, our own S3 server) that is stopped or killed."""

from __future__ import annotations

import http.client
import os
import signal

import pytest

from tests.cluster.conftest import node, s3_for, wait_ready
from tests.conftest import APPID, SECRET_ID, SECRET_KEY, Server, cos_client, free_port, new_bucket, s3_client

MiB = 1024 * 1024


@pytest.fixture
def node_on_store(tmp_path):
    (tmp_path / "b").mkdir()
    b = Server(str(tmp_path / "b" / "data"), free_port()).start()
    try:
        store_bucket = f"store-{APPID}"
        s3_for(b.endpoint, SECRET_ID, SECRET_KEY, "ap-guangzhou").create_bucket(Bucket=store_bucket)
        env = {"AWS_ACCESS_KEY_ID": SECRET_ID, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
        with node(["--blobs", f"s3://{store_bucket}/a", "--blobs-endpoint", b.endpoint], env) as a:
            wait_ready(a)
            yield a, b
    finally:
        b.stop()


def raw_get(srv, bucket: str, key: str, headers: dict | None = None) -> tuple[http.client.HTTPConnection,
                                                                               http.client.HTTPResponse]:
    url = s3_client(srv.port).generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key})
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
    conn.request("GET", url.split(str(srv.port), 1)[1], headers={"Host": f"127.0.0.1:{srv.port}", **(headers or {})})
    return conn, conn.getresponse()


def test_blob_store_down_before_the_first_byte_is_a_clean_503(node_on_store):
    a, b = node_on_store
    bucket = new_bucket(cos_client(a.port), "gone")
    body = os.urandom(3 * MiB)
    s3_client(a.port).put_object(Bucket=bucket, Key="k", Body=body)
    b.stop()
    for headers in ({}, {"Range": "bytes=1048576-1048675"}):
        conn, resp = raw_get(a, bucket, "k", headers)
        data = resp.read()
        assert resp.status == 503, (resp.status, data[:200])
        assert b"<Code>ServiceUnavailable</Code>" in data and resp.getheader("content-type") == "application/xml"
        assert int(resp.getheader("content-length")) == len(data)
        conn.close()
    b.start()
    conn, resp = raw_get(a, bucket, "k")
    assert resp.status == 200 and resp.read() == body
    conn.close()


def test_blob_store_killed_mid_get_aborts_the_connection(node_on_store):
    a, b = node_on_store
    bucket = new_bucket(cos_client(a.port), "cut")
    size = 64 * MiB
    s3_client(a.port).put_object(Bucket=bucket, Key="big", Body=os.urandom(size))
    conn, resp = raw_get(a, bucket, "big")
    assert resp.status == 200 and int(resp.getheader("content-length")) == size
    got = len(resp.read(MiB))
    b.stop(signal.SIGKILL)
    with pytest.raises((http.client.IncompleteRead, ConnectionError)):    # what a length-checking client sees
        rest = resp.read()
        raise AssertionError(f"the body completed ({got + len(rest)} of {size} bytes) after the store was killed")
    conn.close()
