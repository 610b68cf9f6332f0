"""The object server driven by the official cos-python-sdk-v5, unmodified."""

from __future__ import annotations

import hashlib
import os
import time

import httpx
import pytest
from qcloud_cos.cos_exception import CosServiceError

from tests.conftest import APPID, cos_client


def body_of(resp) -> bytes:
    return resp["Body"].get_raw_stream().read()


def test_bucket_lifecycle(cos):
    name = f"lifecycle-{APPID}"
    cos.create_bucket(Bucket=name)
    assert name in [b["Name"] for b in cos.list_buckets()["Buckets"]["Bucket"]]
    cos.head_bucket(Bucket=name)
    with pytest.raises(CosServiceError) as e:
        cos.create_bucket(Bucket=name)
    assert e.value.get_error_code() == "BucketAlreadyOwnedByYou"   # issue 14: the owner re-creating its bucket
    assert e.value.get_status_code() == 409
    cos.put_object(Bucket=name, Key="x", Body=b"1")
    with pytest.raises(CosServiceError) as e:
        cos.delete_bucket(Bucket=name)
    assert e.value.get_error_code() == "BucketNotEmpty"
    cos.delete_object(Bucket=name, Key="x")
    cos.delete_bucket(Bucket=name)
    with pytest.raises(CosServiceError) as e:
        cos.head_bucket(Bucket=name)
    assert e.value.get_status_code() == 404


def test_put_get_head_delete(cos, bucket):
    data = os.urandom(100_000)
    resp = cos.put_object(Bucket=bucket, Key="dir/photo 1+%.bin", Body=data, ContentType="image/x-test",
                          Metadata={"x-cos-meta-owner": "alice"}, CacheControl="max-age=60")
    assert resp["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    assert resp["x-cos-request-id"]
    got = cos.get_object(Bucket=bucket, Key="dir/photo 1+%.bin")
    assert body_of(got) == data
    assert got["Content-Type"] == "image/x-test"
    assert got["x-cos-meta-owner"] == "alice"
    assert got["Cache-Control"] == "max-age=60"
    head = cos.head_object(Bucket=bucket, Key="dir/photo 1+%.bin")
    assert int(head["Content-Length"]) == len(data)
    assert head["ETag"] == resp["ETag"]
    part = cos.get_object(Bucket=bucket, Key="dir/photo 1+%.bin", Range="bytes=10-19")
    assert body_of(part) == data[10:20]
    cos.delete_object(Bucket=bucket, Key="dir/photo 1+%.bin")
    with pytest.raises(CosServiceError) as e:
        cos.get_object(Bucket=bucket, Key="dir/photo 1+%.bin")
    assert e.value.get_error_code() == "NoSuchKey"
    assert e.value.get_status_code() == 404


def test_list_objects_prefix_delimiter_marker(cos, bucket):
    keys = ["a/1", "a/2", "a/b/3", "b/4", "c", "d"]
    for k in keys:
        cos.put_object(Bucket=bucket, Key=k, Body=k.encode())
    listed = cos.list_objects(Bucket=bucket)
    assert [c["Key"] for c in listed["Contents"]] == sorted(keys)
    top = cos.list_objects(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["a/", "b/"]
    assert [c["Key"] for c in top["Contents"]] == ["c", "d"]
    sub = cos.list_objects(Bucket=bucket, Prefix="a/", Delimiter="/")
    assert [c["Key"] for c in sub["Contents"]] == ["a/1", "a/2"]
    assert [p["Prefix"] for p in sub["CommonPrefixes"]] == ["a/b/"]
    seen, marker = [], ""
    while True:
        page = cos.list_objects(Bucket=bucket, MaxKeys=2, Marker=marker)
        seen += [c["Key"] for c in page.get("Contents", [])]
        if page["IsTruncated"] == "false":
            break
        marker = page["NextMarker"]
    assert seen == sorted(keys)


def test_upload_file_multipart_30mib(cos, bucket, tmp_path):
    path = tmp_path / "big.bin"
    data = os.urandom(30 * 1024 * 1024)
    path.write_bytes(data)
    cos.upload_file(Bucket=bucket, Key="big/30m.bin", LocalFilePath=str(path), PartSize=8, MAXThread=4)
    head = cos.head_object(Bucket=bucket, Key="big/30m.bin")
    assert int(head["Content-Length"]) == len(data)
    assert head["ETag"].strip('"').endswith("-4")
    got = body_of(cos.get_object(Bucket=bucket, Key="big/30m.bin"))
    assert hashlib.md5(got).digest() == hashlib.md5(data).digest()
    mid = body_of(cos.get_object(Bucket=bucket, Key="big/30m.bin", Range="bytes=8388600-8388700"))
    assert mid == data[8388600:8388701]   # crosses a part boundary
    out = tmp_path / "down.bin"
    cos.download_file(Bucket=bucket, Key="big/30m.bin", DestFilePath=str(out))
    assert out.read_bytes() == data


def presigning_client(port: int):
    """How a user makes shareable URLs for a self-hosted server: Endpoint instead of IP, so the
    bucket is in the host name (<bucket>.localhost:<port>, which browsers and curl resolve to loopback)."""
    from qcloud_cos import CosConfig, CosS3Client
    from tests.conftest import REGION, SECRET_ID, SECRET_KEY
    return CosS3Client(CosConfig(Region=REGION, SecretId=SECRET_ID, SecretKey=SECRET_KEY,
                                 Endpoint=f"localhost:{port}", Scheme="http"))


def plain(method: str, url: str, **kw) -> httpx.Response:
    """A plain HTTP request to a <bucket>.localhost URL (resolved to 127.0.0.1 as a browser would)."""
    u = httpx.URL(url)
    return httpx.request(method, u.copy_with(host="127.0.0.1"), headers={"Host": f"{u.host}:{u.port}"}, **kw)


def test_presigned_url_plain_get(server, cos, bucket):
    cos.put_object(Bucket=bucket, Key="shared/cat 1.txt", Body=b"meow")
    url = presigning_client(server.port).get_presigned_url(Bucket=bucket, Key="shared/cat 1.txt",
                                                           Method="GET", Expired=300)
    assert url.startswith(f"http://{bucket}.localhost:{server.port}/shared/cat%201.txt?q-sign-algorithm=sha1")
    resp = plain("GET", url)
    assert resp.status_code == 200 and resp.content == b"meow"
    assert resp.headers["x-cos-request-id"]
    resp = plain("GET", url.replace("cat%201.txt", "dog.txt"))
    assert resp.status_code == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in resp.content


def test_presigned_url_expired(server, cos, bucket):
    cos.put_object(Bucket=bucket, Key="old.txt", Body=b"x")
    from unittest import mock
    with mock.patch("qcloud_cos.cos_auth.time.time", return_value=time.time() - 7200):  # signed 2 h ago
        url = presigning_client(server.port).get_presigned_url(Bucket=bucket, Key="old.txt", Method="GET",
                                                               Expired=3600)
    resp = plain("GET", url)
    assert resp.status_code == 403
    assert b"<Code>AccessDenied</Code>" in resp.content and b"expired" in resp.content


def test_presigned_put(server, cos, bucket):
    url = presigning_client(server.port).get_presigned_url(Bucket=bucket, Key="up.txt", Method="PUT", Expired=300)
    resp = plain("PUT", url, content=b"uploaded")
    assert resp.status_code == 200, resp.text
    assert body_of(cos.get_object(Bucket=bucket, Key="up.txt")) == b"uploaded"


def test_wrong_secret_key(server, bucket):
    bad = cos_client(server.port, secret_key="not-the-secret")
    with pytest.raises(CosServiceError) as e:
        bad.put_object(Bucket=bucket, Key="x", Body=b"1")
    assert e.value.get_error_code() == "SignatureDoesNotMatch"
    assert e.value.get_status_code() == 403
    assert e.value.get_request_id()


def test_unknown_access_key(server, bucket):
    bad = cos_client(server.port, secret_id="AKIDnobody")
    with pytest.raises(CosServiceError) as e:
        bad.get_object(Bucket=bucket, Key="x")
    assert e.value.get_error_code() == "InvalidAccessKeyId"


def test_unsigned_request_denied(server, bucket, cos):
    cos.put_object(Bucket=bucket, Key="private.txt", Body=b"secret")
    resp = httpx.get(f"{server.endpoint}/{bucket}/private.txt")
    assert resp.status_code == 403
    assert b"<Code>AccessDenied</Code>" in resp.content
    assert resp.headers["server"] == "tencent-cos"


def test_copy_object(cos, bucket):
    cos.put_object(Bucket=bucket, Key="src.txt", Body=b"copy me", Metadata={"x-cos-meta-a": "1"})
    cos.copy_object(Bucket=bucket, Key="dst.txt", CopySource={
        "Bucket": bucket, "Key": "src.txt", "Region": "ap-guangzhou"})
    got = cos.get_object(Bucket=bucket, Key="dst.txt")
    assert body_of(got) == b"copy me"
    assert got["x-cos-meta-a"] == "1"
    cos.delete_object(Bucket=bucket, Key="src.txt")
    assert body_of(cos.get_object(Bucket=bucket, Key="dst.txt")) == b"copy me"


def test_copy_large_object_shares_nothing(cos, bucket):
    data = os.urandom(200_000)
    cos.put_object(Bucket=bucket, Key="big-src", Body=data)
    cos.copy_object(Bucket=bucket, Key="big-dst", CopySource={
        "Bucket": bucket, "Key": "big-src", "Region": "ap-guangzhou"})
    cos.delete_object(Bucket=bucket, Key="big-src")
    assert body_of(cos.get_object(Bucket=bucket, Key="big-dst")) == data


def test_delete_objects(cos, bucket):
    for k in ("m/1", "m/2", "m/3"):
        cos.put_object(Bucket=bucket, Key=k, Body=b"x")
    resp = cos.delete_objects(Bucket=bucket, Delete={"Object": [{"Key": "m/1"}, {"Key": "m/2"}, {"Key": "nope"}],
                                                     "Quiet": "false"})
    assert sorted(d["Key"] for d in resp["Deleted"]) == ["m/1", "m/2", "nope"]
    assert [c["Key"] for c in cos.list_objects(Bucket=bucket)["Contents"]] == ["m/3"]


def test_content_md5_checked(cos, bucket):
    with pytest.raises(CosServiceError) as e:
        cos.put_object(Bucket=bucket, Key="md5", Body=b"abc", ContentMD5="XrY7u+Ae7tCTyyK7j1rNww==")
    assert e.value.get_error_code() == "BadDigest"
    with pytest.raises(CosServiceError):
        cos.head_object(Bucket=bucket, Key="md5")
    cos.put_object(Bucket=bucket, Key="md5", Body=b"abc", EnableMD5=True)
    assert body_of(cos.get_object(Bucket=bucket, Key="md5")) == b"abc"


def test_no_such_bucket(cos):
    with pytest.raises(CosServiceError) as e:
        cos.put_object(Bucket=f"missing-{APPID}", Key="x", Body=b"1")
    assert e.value.get_error_code() == "NoSuchBucket"
    assert e.value.get_status_code() == 404


def test_object_acl_public_read(server, cos, bucket):
    cos.put_object(Bucket=bucket, Key="pub.txt", Body=b"hello world", ACL="public-read")
    cos.put_object(Bucket=bucket, Key="priv.txt", Body=b"hidden")
    assert httpx.get(f"{server.endpoint}/{bucket}/pub.txt").content == b"hello world"
    assert httpx.get(f"{server.endpoint}/{bucket}/priv.txt").status_code == 403
    acl = cos.get_object_acl(Bucket=bucket, Key="pub.txt")
    perms = acl["AccessControlList"]["Grant"]
    assert any(g.get("Permission") == "READ" for g in perms)


def test_keys_that_look_like_server_paths_are_objects(cos, bucket):
    """/console and /-/ belong to the console and admin API only on hosts without a bucket."""
    for key in ("console/index.html", "-/usage", "console"):
        cos.put_object(Bucket=bucket, Key=key, Body=key.encode())
        assert body_of(cos.get_object(Bucket=bucket, Key=key)) == key.encode()


def crcmod64(data: bytes) -> str:
    """CRC-64/ECMA exactly as cos-python-sdk-v5 computes it for EnableCRC."""
    import crcmod
    return str(crcmod.mkCrcFun(0x142F0E1EBA9EA3693, initCrc=0, xorOut=0xffffffffffffffff, rev=True)(data))


def test_crc64_reported_like_cos(cos, bucket, tmp_path):
    small, big = os.urandom(1000), os.urandom(21 * 1024 * 1024 + 7)
    put = cos.put_object(Bucket=bucket, Key="s", Body=small)
    assert put["x-cos-hash-crc64ecma"] == crcmod64(small)
    assert cos.head_object(Bucket=bucket, Key="s")["x-cos-hash-crc64ecma"] == crcmod64(small)
    src = tmp_path / "big.bin"
    src.write_bytes(big)
    cos.upload_file(Bucket=bucket, Key="big", LocalFilePath=str(src), PartSize=5, MAXThread=3)   # multipart
    assert cos.head_object(Bucket=bucket, Key="big")["x-cos-hash-crc64ecma"] == crcmod64(big)
    cos.copy_object(Bucket=bucket, Key="big-copy", CopySource={"Bucket": bucket, "Key": "big", "Region": "ap-guangzhou"},
                    CopyStatus="Replaced", ContentType="application/x-test")
    assert cos.head_object(Bucket=bucket, Key="big-copy")["x-cos-hash-crc64ecma"] == crcmod64(big)
    out = tmp_path / "down.bin"
    cos.download_file(Bucket=bucket, Key="big", DestFilePath=str(out), EnableCRC=True)   # the SDK checks it
    assert out.read_bytes() == big
