"""Bad input gets a clear COS-style XML error and loses nothing."""

from __future__ import annotations

import os
import re

import pytest
from qcloud_cos.cos_exception import CosServiceError

from tests.api.rawhttp import raw_request
from tests.conftest import APPID


def error_code(body: bytes) -> str:
    m = re.search(rb"<Code>([^<]+)</Code>", body)
    assert m, body
    assert b"<RequestId>" in body and b"<Message>" in body
    return m.group(1).decode()


def snapshot(root: str) -> dict[str, float]:
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = os.path.join(dirpath, f)
            out[p] = os.stat(p).st_mtime
    return out


# keys with '.'/'..' segments are ordinary keys, stored exactly: tests/api/test_bucket_names.py
@pytest.mark.parametrize("raw_path,key,code", [
    ("/nul%00byte", "nul\x00byte", "InvalidObjectName"),
    ("/" + "k" * 900, "k" * 900, "KeyTooLong"),
])
def test_dangerous_keys_refused(server, cos, bucket, raw_path, key, code):
    outside = os.path.dirname(server.data_dir)
    before = {p for p in snapshot(outside) if not p.startswith(server.data_dir)}
    status, body = raw_request(server.port, "PUT", bucket, raw_path, key, body=b"evil")
    assert status == 400
    assert error_code(body) == code
    after = {p for p in snapshot(outside) if not p.startswith(server.data_dir)}
    assert after - before <= {p for p in after if p.endswith(".log")}
    assert "Contents" not in cos.list_objects(Bucket=bucket)


def test_malformed_xml_bodies(server, cos, bucket):
    cos.put_object(Bucket=bucket, Key="keep", Body=b"precious")
    for body in (b"<Delete><Object><Key>keep</Key>", b"not xml at all", b"",
                 b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "boom">]><Delete><Object><Key>&x;</Key></Object></Delete>',
                 b"<Wrong><Object><Key>keep</Key></Object></Wrong>"):
        status, resp = raw_request(server.port, "POST", bucket, "/?delete", "", body=body)
        assert status == 400, resp
        assert error_code(resp) == "MalformedXML"
    up = cos.create_multipart_upload(Bucket=bucket, Key="mp")
    status, resp = raw_request(server.port, "POST", bucket, f"/mp?uploadId={up['UploadId']}", "mp",
                               body=b"<CompleteMultipartUpload><Part><PartNumber>x</PartNumber>")
    assert status == 400 and error_code(resp) == "MalformedXML"
    assert cos.get_object(Bucket=bucket, Key="keep")["Body"].get_raw_stream().read() == b"precious"


def test_invalid_bucket_names_cos(cos):
    # default --bucket-names both; the strict COS mode: tests/api/test_bucket_names.py
    for name in ("x" * 70 + "-" + APPID, "ab", "a" * 64):
        with pytest.raises(CosServiceError) as e:
            cos.create_bucket(Bucket=name)
        assert e.value.get_error_code() == "InvalidBucketName", name


def test_argument_errors(server, cos, bucket):
    status, body = raw_request(server.port, "GET", bucket, "/?max-keys=abc", "")
    assert (status, error_code(body)) == (400, "InvalidArgument")
    up = cos.create_multipart_upload(Bucket=bucket, Key="p")
    status, body = raw_request(server.port, "PUT", bucket, f"/p?partNumber=0&uploadId={up['UploadId']}", "p", b"x")
    assert (status, error_code(body)) == (400, "InvalidArgument")
    status, body = raw_request(server.port, "PUT", bucket, "/p?partNumber=1&uploadId=nope", "p", b"x")
    assert (status, error_code(body)) == (404, "NoSuchUpload")
    status, body = raw_request(server.port, "GET", bucket, "/?website", "")
    assert (status, error_code(body)) == (501, "NotImplemented")
    status, body = raw_request(server.port, "POST", bucket, "/obj", "obj")
    assert (status, error_code(body)) == (405, "MethodNotAllowed")


def test_range_not_satisfiable(cos, bucket):
    cos.put_object(Bucket=bucket, Key="r", Body=b"0123456789")
    with pytest.raises(CosServiceError) as e:
        cos.get_object(Bucket=bucket, Key="r", Range="bytes=20-30")
    assert e.value.get_status_code() == 416
    assert e.value.get_error_code() == "InvalidRange"


def test_bad_content_md5_format(server, bucket):
    status, body = raw_request(server.port, "PUT", bucket, "/m", "m", b"abc", headers={"Content-MD5": "zzz"})
    assert (status, error_code(body)) == (400, "InvalidDigest")


def test_metadata_too_large(cos, bucket):
    with pytest.raises(CosServiceError) as e:
        cos.put_object(Bucket=bucket, Key="meta", Body=b"x", Metadata={"x-cos-meta-big": "v" * 3000})
    assert e.value.get_error_code() == "InvalidArgument"
    with pytest.raises(CosServiceError):
        cos.head_object(Bucket=bucket, Key="meta")


def test_entity_too_large_refused_before_reading(server, bucket):
    six_tib = str(6 << 40)
    status, body = raw_request(server.port, "PUT", bucket, "/huge", "huge", headers={"Content-Length": six_tib})
    assert (status, error_code(body)) == (400, "EntityTooLarge")
