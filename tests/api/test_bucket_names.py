"""`cosbeauty serve --bucket-names cos|s3|both`: plain S3 names work (default both) with every
feature, CI included; `cos` refuses them; keys with '.'/'..' segments are stored exactly."""

from __future__ import annotations

import os
import uuid

import pytest
from botocore.exceptions import ClientError
from qcloud_cos.cos_exception import CosServiceError

from tests.api.rawhttp import raw_request
from tests.api.test_bad_input import snapshot
from tests.ci.test_ci_bucket_http import ci_client, jpeg
from tests.conftest import APPID, REGION, cos_client, running_server, s3_client


def plain(prefix: str = "plain") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_default_accepts_plain_s3_names_with_boto3(s3):
    name = plain()
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="a.txt", Body=b"hello")
    assert s3.get_object(Bucket=name, Key="a.txt")["Body"].read() == b"hello"
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    dotted = f"my.dotted.{uuid.uuid4().hex[:6]}"
    s3.create_bucket(Bucket=dotted)
    s3.head_bucket(Bucket=dotted)
    for bad in ("ab", "Upper-case", "a..b", "192.168.1.1", "-dash", "x" * 64, "under_score"):
        with pytest.raises(ClientError) as e:
            s3.create_bucket(Bucket=bad)
        assert e.value.response["Error"]["Code"] == "InvalidBucketName", bad


def test_default_cos_names_still_work(cos):
    name = f"cosname{uuid.uuid4().hex[:6]}-{APPID}"
    cos.create_bucket(Bucket=name)
    cos.head_bucket(Bucket=name)


def test_plain_bucket_with_cos_sdk_and_ci(server, cos, s3):
    name = plain("ciplain")
    cos.create_bucket(Bucket=name)
    cos.put_object(Bucket=name, Key="face.jpg", Body=jpeg())
    on_bucket = ci_client(server.port, f"{name}.ci.{REGION}.myqcloud.com")
    _, opened = on_bucket.ci_open_pic_bucket(Bucket=name)
    assert opened["PicBucket"]["Name"] == name
    on_bucket.ci_open_ai_bucket(Bucket=name)
    body = cos.ci_process(Bucket=name, Key="face.jpg", CiProcess="AIFaceBeauty")
    assert body[:2] == b"\xff\xd8"
    # boto3 path-style on the same bucket
    assert s3.head_object(Bucket=name, Key="face.jpg")["ContentLength"] > 1000
    # ci_close_* answer the bucket name (was missing)
    _, closed = on_bucket.ci_close_ai_bucket(Bucket=name)
    assert closed["BucketName"] == name
    _, closed = on_bucket.ci_close_pic_bucket(Bucket=name)
    assert closed["BucketName"] == name


def test_cos_mode_refuses_plain_names():
    with running_server(extra_args=["--bucket-names", "cos"]) as srv:
        cos, s3 = cos_client(srv.port), s3_client(srv.port)
        for name in ("noappid", "wrong-999", "x" * 70 + "-" + APPID, "two--dashes"):
            with pytest.raises(CosServiceError) as e:
                cos.create_bucket(Bucket=name)
            assert e.value.get_error_code() == "InvalidBucketName", name
        with pytest.raises(ClientError) as e:
            s3.create_bucket(Bucket="plain-name")
        assert e.value.response["Error"]["Code"] == "InvalidBucketName"
        cos.create_bucket(Bucket=f"ok-{APPID}")


def test_s3_mode_accepts_s3_rules():
    with running_server(extra_args=["--bucket-names", "s3"]) as srv:
        s3 = s3_client(srv.port)
        s3.create_bucket(Bucket="a.b-c")
        s3.create_bucket(Bucket=f"photos-{APPID}")
        with pytest.raises(ClientError) as e:
            s3.create_bucket(Bucket="a..b")
        assert e.value.response["Error"]["Code"] == "InvalidBucketName"


@pytest.mark.parametrize("key", ["abc/../", "a/./b", "../../etc/passwd", "./x", "a/../../x", ".", ".."])
def test_dot_segment_keys_stored_exactly(server, cos, bucket, key):
    outside = os.path.dirname(server.data_dir)
    before = {p for p in snapshot(outside) if not p.startswith(server.data_dir)}
    raw_path = "/" + key.replace(".", "%2e")
    status, body = raw_request(server.port, "PUT", bucket, raw_path, key, body=b"dots")
    assert status == 200, body
    # (the COS SDK refuses to GET keys that collapse to "/", so read it back raw)
    status, got = raw_request(server.port, "GET", bucket, raw_path, key)
    assert (status, got) == (200, b"dots")
    assert [o["Key"] for o in cos.list_objects(Bucket=bucket)["Contents"]] == [key]
    after = {p for p in snapshot(outside) if not p.startswith(server.data_dir)}
    assert after - before <= {p for p in after if p.endswith(".log")}
    status, _ = raw_request(server.port, "DELETE", bucket, raw_path, key)
    assert status == 204


def test_sdks_upload_dot_dot_keys(cos, s3, bucket):
    # Tencent's own SDK test uploads "abc/../"
    cos.put_object(Bucket=bucket, Key="abc/../", Body=b"x")
    s3.put_object(Bucket=bucket, Key="a/./b", Body=b"yy")
    assert s3.get_object(Bucket=bucket, Key="abc/../")["Body"].read() == b"x"
    assert s3.head_object(Bucket=bucket, Key="a/./b")["ContentLength"] == 2
