"""The object server driven by boto3 (path-style, SigV4), unmodified."""

from __future__ import annotations

import hashlib
import io
import os

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.conftest import APPID, s3_client


def code(exc: ClientError) -> str:
    return exc.response["Error"]["Code"]


@pytest.fixture
def s3bucket(s3):
    import uuid
    name = f"b{uuid.uuid4().hex[:10]}-{APPID}"
    s3.create_bucket(Bucket=name)
    return name


def test_basic_flow(s3, s3bucket):
    assert s3bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    s3.head_bucket(Bucket=s3bucket)
    data = os.urandom(70_000)
    put = s3.put_object(Bucket=s3bucket, Key="dir/ü é.bin", Body=data, ContentType="image/png",
                        Metadata={"owner": "bob"})
    assert put["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    got = s3.get_object(Bucket=s3bucket, Key="dir/ü é.bin")
    assert got["Body"].read() == data
    assert got["ContentType"] == "image/png"
    assert got["Metadata"] == {"owner": "bob"}
    head = s3.head_object(Bucket=s3bucket, Key="dir/ü é.bin")
    assert head["ContentLength"] == len(data)
    rng = s3.get_object(Bucket=s3bucket, Key="dir/ü é.bin", Range="bytes=-100")
    assert rng["Body"].read() == data[-100:]
    assert rng["ContentRange"] == f"bytes {len(data) - 100}-{len(data) - 1}/{len(data)}"
    listed = s3.list_objects_v2(Bucket=s3bucket)
    assert [o["Key"] for o in listed["Contents"]] == ["dir/ü é.bin"]
    s3.delete_object(Bucket=s3bucket, Key="dir/ü é.bin")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=s3bucket, Key="dir/ü é.bin")
    assert code(e.value) == "NoSuchKey"
    s3.delete_bucket(Bucket=s3bucket)
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=s3bucket)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_list_v2_pagination_and_delimiter(s3, s3bucket):
    keys = [f"p/{i:03d}" for i in range(25)] + ["q/x", "r"]
    for k in keys:
        s3.put_object(Bucket=s3bucket, Key=k, Body=b"")
    paginator = s3.get_paginator("list_objects_v2")
    seen = [o["Key"] for page in paginator.paginate(Bucket=s3bucket, PaginationConfig={"PageSize": 7})
            for o in page.get("Contents", [])]
    assert seen == sorted(keys)
    top = s3.list_objects_v2(Bucket=s3bucket, Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["p/", "q/"]
    assert [o["Key"] for o in top["Contents"]] == ["r"]
    v1 = s3.list_objects(Bucket=s3bucket, Prefix="p/", MaxKeys=10, Marker="p/004")
    assert [o["Key"] for o in v1["Contents"]] == [f"p/{i:03d}" for i in range(5, 15)]
    assert v1["IsTruncated"] is True


def test_multipart_upload_fileobj(s3, s3bucket):
    from boto3.s3.transfer import TransferConfig
    data = os.urandom(12 * 1024 * 1024 + 123)
    cfg = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
    s3.upload_fileobj(io.BytesIO(data), s3bucket, "mp.bin", Config=cfg)
    head = s3.head_object(Bucket=s3bucket, Key="mp.bin")
    assert head["ContentLength"] == len(data)
    assert head["ETag"].endswith('-3"')
    out = io.BytesIO()
    s3.download_fileobj(s3bucket, "mp.bin", out, Config=cfg)
    assert out.getvalue() == data


def test_multipart_errors(s3, s3bucket):
    up = s3.create_multipart_upload(Bucket=s3bucket, Key="m")
    uid = up["UploadId"]
    p1 = s3.upload_part(Bucket=s3bucket, Key="m", UploadId=uid, PartNumber=1, Body=b"small")
    p2 = s3.upload_part(Bucket=s3bucket, Key="m", UploadId=uid, PartNumber=2, Body=b"tail")
    parts = s3.list_parts(Bucket=s3bucket, Key="m", UploadId=uid)["Parts"]
    assert [p["PartNumber"] for p in parts] == [1, 2]
    with pytest.raises(ClientError) as e:   # first part below the minimum part size
        s3.complete_multipart_upload(Bucket=s3bucket, Key="m", UploadId=uid, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": p1["ETag"]}, {"PartNumber": 2, "ETag": p2["ETag"]}]})
    assert code(e.value) == "EntityTooSmall"
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=s3bucket, Key="m", UploadId=uid, MultipartUpload={"Parts": [
            {"PartNumber": 2, "ETag": p2["ETag"]}, {"PartNumber": 1, "ETag": p1["ETag"]}]})
    assert code(e.value) == "InvalidPartOrder"
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=s3bucket, Key="m", UploadId=uid, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": '"0000"'}]})
    assert code(e.value) == "InvalidPart"
    # a single (last) part may be small
    s3.complete_multipart_upload(Bucket=s3bucket, Key="m", UploadId=uid, MultipartUpload={"Parts": [
        {"PartNumber": 2, "ETag": p2["ETag"]}]})
    assert s3.get_object(Bucket=s3bucket, Key="m")["Body"].read() == b"tail"
    with pytest.raises(ClientError) as e:
        s3.abort_multipart_upload(Bucket=s3bucket, Key="m", UploadId=uid)
    assert code(e.value) == "NoSuchUpload"
    up2 = s3.create_multipart_upload(Bucket=s3bucket, Key="n")
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=s3bucket)["Uploads"]] == [up2["UploadId"]]
    s3.abort_multipart_upload(Bucket=s3bucket, Key="n", UploadId=up2["UploadId"])
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=s3bucket)


def test_copy_delete_objects_and_conditions(s3, s3bucket):
    s3.put_object(Bucket=s3bucket, Key="a", Body=b"alpha", Metadata={"k": "v"})
    s3.copy_object(Bucket=s3bucket, Key="b", CopySource={"Bucket": s3bucket, "Key": "a"})
    got = s3.get_object(Bucket=s3bucket, Key="b")
    assert got["Body"].read() == b"alpha" and got["Metadata"] == {"k": "v"}
    s3.copy_object(Bucket=s3bucket, Key="c", CopySource=f"{s3bucket}/a", MetadataDirective="REPLACE",
                   Metadata={"k": "new"}, ContentType="text/plain")
    assert s3.head_object(Bucket=s3bucket, Key="c")["Metadata"] == {"k": "new"}
    etag = got["ETag"]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=s3bucket, Key="a", IfNoneMatch=etag)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=s3bucket, Key="a", IfMatch='"nope"')
    assert code(e.value) == "PreconditionFailed"
    resp = s3.delete_objects(Bucket=s3bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "c"}]})
    assert sorted(d["Key"] for d in resp["Deleted"]) == ["a", "b", "c"]
    assert s3.list_objects_v2(Bucket=s3bucket)["KeyCount"] == 0


def test_presigned_get_and_put(s3, s3bucket):
    url = s3.generate_presigned_url("put_object", Params={"Bucket": s3bucket, "Key": "p.txt"}, ExpiresIn=300)
    assert httpx.put(url, content=b"presigned!").status_code == 200
    url = s3.generate_presigned_url("get_object", Params={"Bucket": s3bucket, "Key": "p.txt"}, ExpiresIn=300)
    resp = httpx.get(url)
    assert resp.status_code == 200 and resp.content == b"presigned!"
    bad = httpx.get(url.replace("p.txt", "q.txt"))
    assert bad.status_code == 403


def test_wrong_secret(server, s3bucket):
    bad = s3_client(server.port, secret_key="wrong")
    with pytest.raises(ClientError) as e:
        bad.put_object(Bucket=s3bucket, Key="x", Body=b"1")
    assert code(e.value) == "SignatureDoesNotMatch"


def test_invalid_bucket_name(s3):
    # default --bucket-names both: plain S3 names are valid; strict COS mode: tests/api/test_bucket_names.py
    for name in ("UPPER-1250000000", "-dash-1250000000", "a_b", "ab"):
        with pytest.raises(ClientError) as e:
            s3.create_bucket(Bucket=name)
        assert code(e.value) == "InvalidBucketName", name


def test_presigned_sigv4(server, s3bucket, s3):
    import boto3
    from botocore.config import Config
    from tests.conftest import REGION, SECRET_ID, SECRET_KEY
    v4 = boto3.client("s3", endpoint_url=server.endpoint, region_name=REGION, aws_access_key_id=SECRET_ID,
                      aws_secret_access_key=SECRET_KEY,
                      config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    s3.put_object(Bucket=s3bucket, Key="v4 key.txt", Body=b"sigv4")
    url = v4.generate_presigned_url("get_object", Params={"Bucket": s3bucket, "Key": "v4 key.txt"}, ExpiresIn=60)
    assert "X-Amz-Signature=" in url
    resp = httpx.get(url)
    assert resp.status_code == 200 and resp.content == b"sigv4"
    assert httpx.get(url.replace("X-Amz-Expires=60", "X-Amz-Expires=61")).status_code == 403
