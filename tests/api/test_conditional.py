"""Conditional writes (issue 14 item 5): If-None-Match: * and If-Match on PUT, copy and complete,
If-Match on DELETE; 412 PreconditionFailed; exactly one winner among concurrent creators."""

from __future__ import annotations

import concurrent.futures
import hashlib

import pytest
from botocore.exceptions import ClientError

from tests.conftest import s3_client


def status(exc: ClientError) -> tuple[int, str]:
    return exc.response["ResponseMetadata"]["HTTPStatusCode"], exc.response["Error"]["Code"]


def with_header(client, event: str, name: str, value: str):
    """Add a (signed) header to one boto3 operation, for conditions boto3 has no parameter for."""
    def add(request, **_):
        request.headers[name] = value
    client.meta.events.register(f"before-sign.s3.{event}", add)
    return add


def test_put_if_none_match(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"one", IfNoneMatch="*")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"two", IfNoneMatch="*")
    assert status(e.value) == (412, "PreconditionFailed")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"one"


def test_put_if_match(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["ETag"]
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"two", IfMatch='"' + "0" * 32 + '"')
    assert status(e.value) == (412, "PreconditionFailed")
    new = s3.put_object(Bucket=bucket, Key="k", Body=b"two", IfMatch=etag)["ETag"]
    assert new == '"%s"' % hashlib.md5(b"two").hexdigest()
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="absent", Body=b"x", IfMatch=etag)
    assert status(e.value) == (404, "NoSuchKey")


def test_put_if_none_match_with_cos_sdk(cos, bucket):
    from qcloud_cos.cos_exception import CosServiceError
    cos.put_object(Bucket=bucket, Key="c", Body=b"1", IfNoneMatch="*")
    with pytest.raises(CosServiceError) as e:
        cos.put_object(Bucket=bucket, Key="c", Body=b"2", IfNoneMatch="*")
    assert e.value.get_status_code() == 412


def test_delete_if_match(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="d", Body=b"x")["ETag"]
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=bucket, Key="d", IfMatch='"' + "f" * 32 + '"')
    assert status(e.value) == (412, "PreconditionFailed")
    s3.delete_object(Bucket=bucket, Key="d", IfMatch=etag)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="d")
    s3.delete_object(Bucket=bucket, Key="d", IfMatch=etag)      # nothing there: 204 as S3


def test_copy_if_none_match(server, s3, bucket):
    client = s3_client(server.port)          # a client of its own: the hook is per client
    client.put_object(Bucket=bucket, Key="src", Body=b"s")
    client.put_object(Bucket=bucket, Key="dst", Body=b"d")
    with_header(client, "CopyObject", "If-None-Match", "*")
    with pytest.raises(ClientError) as e:
        client.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert status(e.value) == (412, "PreconditionFailed")
    client.copy_object(Bucket=bucket, Key="fresh", CopySource={"Bucket": bucket, "Key": "src"})
    assert client.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"d"
    assert client.get_object(Bucket=bucket, Key="fresh")["Body"].read() == b"s"


def test_complete_if_none_match(s3, bucket):
    s3.put_object(Bucket=bucket, Key="mp", Body=b"existing")
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")
    part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"p")
    parts = {"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"], MultipartUpload=parts,
                                     IfNoneMatch="*")
    assert status(e.value) == (412, "PreconditionFailed")
    # the upload survives a failed condition; completing without it works
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"], MultipartUpload=parts)
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"p"


def test_if_none_match_other_than_star_is_refused(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="x", Body=b"x", IfNoneMatch='"abc"')
    assert status(e.value)[0] == 501


def test_concurrent_creators_exactly_one_wins(server, bucket):
    clients = [s3_client(server.port) for _ in range(8)]

    def create(i: int) -> str:
        try:
            clients[i].put_object(Bucket=bucket, Key="race", Body=f"writer {i}".encode() * 2000, IfNoneMatch="*")
            return "ok"
        except ClientError as exc:
            return exc.response["Error"]["Code"]

    for rnd in range(3):
        key_results = []
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            key_results = list(pool.map(create, range(8)))
        assert key_results.count("ok") == 1, key_results
        assert set(key_results) == {"ok", "PreconditionFailed"}, key_results
        winner = key_results.index("ok")
        body = clients[0].get_object(Bucket=bucket, Key="race")["Body"].read()
        assert body == f"writer {winner}".encode() * 2000
        clients[0].delete_object(Bucket=bucket, Key="race")
        del rnd
