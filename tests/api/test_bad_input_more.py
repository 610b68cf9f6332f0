"""Bad input is a 4xx, never a 500 (and never a silent change of meaning): keys that are not UTF-8,
JSON nested too deep, a full disk, conditional GETs, exact keys in multi-object delete."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest
from qcloud_cos.cos_exception import CosServiceError

from tests.api.rawhttp import cos_auth_header
from tests.api.wire import send
from tests.conftest import REGION, Server, cos_client, free_port, new_bucket, s3_client


def signed(port: int, method: str, bucket: str, raw_path: str, key: str, headers: dict[str, str] | None = None,
           body: bytes = b"", params: dict[str, str] | None = None, query: str = ""):
    host = f"{bucket}.cos.{REGION}.myqcloud.com"
    hdrs = {"Host": host, **(headers or {})}
    hdrs["Authorization"] = cos_auth_header(method, bucket, key, dict(hdrs), params=params)
    return send(port, method, raw_path + (f"?{query}" if query else ""), hdrs, body)


# -- keys are UTF-8 ------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["/%ff%fe", "/dir/%c3", "/ok-%ed%a0%80"])
def test_key_that_is_not_utf8_is_refused(server, cos, bucket, raw):
    host = f"{bucket}.cos.{REGION}.myqcloud.com"
    reply = send(server.port, "PUT", raw, {"Host": host, "Authorization": "q-sign-algorithm=sha1"}, b"x")
    assert reply.status == 400, reply.body
    assert reply.code in ("InvalidURI", "InvalidObjectName") and "UTF-8" in reply.message
    assert "Contents" not in cos.list_objects(Bucket=bucket)


def test_query_that_is_not_utf8_is_refused(server, cos, bucket):
    reply = send(server.port, "GET", "/?prefix=%ff", {"Host": f"{bucket}.cos.{REGION}.myqcloud.com"})
    assert (reply.status, reply.code) == (400, "InvalidArgument") and "UTF-8" in reply.message


# -- JSON depth ---------------------------------------------------------------------------------


def deep(n: int) -> str:
    return "[" * n + "]" * n


def test_deep_pic_operations_is_invalid_argument(server, bucket):
    ops = '{"rules":' + deep(5000) + "}"
    reply = signed(server.port, "PUT", bucket, "/in.jpg", "in.jpg", {"Pic-Operations": ops}, b"\xff\xd8\xff")
    assert (reply.status, reply.code) == (400, "InvalidArgument"), reply.body
    assert "deep" in reply.message


def test_deep_bucket_policy_is_400(server, bucket):
    policy = ('{"Statement":' + deep(5000) + "}").encode()
    reply = signed(server.port, "PUT", bucket, "/", "", {"Content-Type": "application/json"}, policy,
                   params={"policy": ""}, query="policy")
    assert reply.status == 400, reply.body
    assert reply.code in ("InvalidArgument", "MalformedPolicy") and "deep" in reply.message


def admin_request(port: int, method: str, path: str, body: bytes):
    from qcloud_cos import CosConfig
    from qcloud_cos.cos_auth import CosS3Auth
    import requests
    from tests.conftest import SECRET_ID, SECRET_KEY
    host = f"127.0.0.1:{port}"
    conf = CosConfig(Region=REGION, SecretId=SECRET_ID, SecretKey=SECRET_KEY, Scheme="http")
    prepared = requests.Request(method, f"http://{host}{path}", headers={"Host": host}, data=body).prepare()
    auth = CosS3Auth(conf, path)(prepared).headers["Authorization"]
    return send(port, method, path, {"Host": host, "Authorization": auth, "Content-Type": "application/json"}, body)


def test_deep_admin_json_is_400(server):
    reply = admin_request(server.port, "POST", "/-/admin/users", ('{"name":' + deep(5000) + "}").encode())
    assert reply.status == 400, reply.body
    assert b"deep" in reply.body
    reply = admin_request(server.port, "POST", "/-/admin/users", json.dumps({"name": "deepok"}).encode())
    assert reply.status == 201, reply.body
    policy = '{"version":"2.0","statement":' + deep(5000) + "}"
    reply = admin_request(server.port, "PUT", "/-/admin/users/deepok/policies/p", policy.encode())
    assert reply.status == 400, reply.body
    assert b"deep" in reply.body


# -- 304 ------------------------------------------------------------------------------------------


def test_not_modified_logs_no_exception(server, cos, bucket):
    etag = cos.put_object(Bucket=bucket, Key="c.txt", Body=b"cached")["ETag"]
    before = len(server.log())
    for _ in range(3):
        reply = signed(server.port, "GET", bucket, "/c.txt", "c.txt", {"If-None-Match": etag})
        assert reply.status == 304 and reply.body == b"" and reply.headers["etag"] == etag
    reply = signed(server.port, "HEAD", bucket, "/c.txt", "c.txt", {"If-None-Match": etag})
    assert reply.status == 304
    assert signed(server.port, "GET", bucket, "/c.txt", "c.txt").body == b"cached"   # connection reuse fine
    log = server.log()[before:]
    assert "Traceback" not in log and "Exception" not in log, log


# -- multi-object delete keys are exact -------------------------------------------------------------------


def test_multi_delete_keeps_whitespace_in_keys(server, s3, cos):
    bucket = new_bucket(cos, "ws")
    for key in (" ", "_", "_ ", "a\t", "a"):
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": " "}, {"Key": "_ "}, {"Key": "a\t"}]})
    assert sorted(d["Key"] for d in resp["Deleted"]) == [" ", "_ ", "a\t"]
    left = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert left == ["_", "a"]


# -- full disk ----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def small_filesystem(size: str):
    """A tmpfs of ``size`` mounted at <tmp>/mnt (the server log stays outside it, in <tmp>)."""
    base = tempfile.mkdtemp(prefix="cosbeauty-full-")
    mnt = os.path.join(base, "mnt")
    os.mkdir(mnt)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", mnt],
                             capture_output=True).returncode == 0
    try:
        if not mounted:
            pytest.skip("cannot mount a small tmpfs here (needs root)")
        yield mnt
    finally:
        if mounted:
            subprocess.run(["umount", "-l", mnt], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def test_full_disk_is_a_clear_error():
    from botocore.exceptions import ClientError
    with small_filesystem("12m") as data_dir:
        srv = Server(data_dir, free_port()).start()
        try:
            cos = cos_client(srv.port)
            bucket = new_bucket(cos, "full")
            cos.put_object(Bucket=bucket, Key="keep.txt", Body=b"kept")
            with pytest.raises(CosServiceError) as e:
                cos.put_object(Bucket=bucket, Key="big.bin", Body=os.urandom(16 << 20))
            assert (e.value.get_status_code(), e.value.get_error_code()) == (507, "InsufficientStorage")
            assert "space" in e.value.get_error_msg()
            with pytest.raises(ClientError) as e2:
                s3_client(srv.port).put_object(Bucket=bucket, Key="big2.bin", Body=os.urandom(16 << 20))
            assert e2.value.response["Error"]["Code"] == "InsufficientStorage"
            assert cos.get_object(Bucket=bucket, Key="keep.txt")["Body"].get_raw_stream().read() == b"kept"
            for key in ("big.bin", "big2.bin"):
                with pytest.raises(CosServiceError):
                    cos.head_object(Bucket=bucket, Key=key)
            cos.delete_object(Bucket=bucket, Key="keep.txt")          # still works on a full disk
            deadline = time.monotonic() + 10
            while srv.log().count("InsufficientStorage") < 2 and time.monotonic() < deadline:
                time.sleep(0.2)
            log = srv.log()
            assert "Traceback" not in log, log
            assert log.count("InsufficientStorage") == 2, log        # one line per failed request
        finally:
            srv.stop()
