"""S3 additional checksums (issue 14): aws-chunked uploads with a trailing checksum
(``x-amz-trailer: x-amz-checksum-crc32`` ..., what boto3 >= 1.36 sends over HTTPS by default) are
verified, stored and returned (GetObject/HeadObject with ChecksumMode=ENABLED), and multipart
uploads get per-part checksums and S3's composite checksum ``<base64>-<parts>`` on the object."""

from __future__ import annotations

import base64
import hashlib
import zlib

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import REGION, SECRET_ID, SECRET_KEY, running_server
from tests.security.tls_ca import make_tls_files


@pytest.fixture(scope="module")
def https_s3(tmp_path_factory):
    tls = make_tls_files(str(tmp_path_factory.mktemp("tls")))
    with running_server("cosbeauty-ck-", ["--no-fsync", "--tls-cert", tls.cert, "--tls-key", tls.key]) as srv:
        client = boto3.client("s3", endpoint_url=f"https://127.0.0.1:{srv.port}", region_name=REGION,
                              aws_access_key_id=SECRET_ID, aws_secret_access_key=SECRET_KEY, verify=tls.ca,
                              config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
        client.create_bucket(Bucket="checksums")
        yield client


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def crc32(data: bytes) -> bytes:
    return zlib.crc32(data).to_bytes(4, "big")


def sent_headers(client) -> list[dict]:
    seen: list[dict] = []
    client.meta.events.register("before-send.s3.*", lambda request, **_: seen.append(dict(request.headers)))
    return seen


@pytest.mark.parametrize("algorithm, field, digest", [
    ("CRC32", "ChecksumCRC32", lambda d: b64(crc32(d))),
    ("SHA1", "ChecksumSHA1", lambda d: b64(hashlib.sha1(d).digest())),
    ("SHA256", "ChecksumSHA256", lambda d: b64(hashlib.sha256(d).digest())),
])
def test_trailing_checksum_is_stored_and_returned(https_s3, algorithm, field, digest):
    data = b"trailing checksum " * 1000
    seen = sent_headers(https_s3)
    put = https_s3.put_object(Bucket="checksums", Key=f"t-{algorithm}", Body=data, ChecksumAlgorithm=algorithm)
    sent = {k.lower(): v for k, v in seen[-1].items()}
    assert sent.get("x-amz-trailer") == f"x-amz-checksum-{algorithm.lower()}".encode(), sent   # really a trailer
    assert put[field] == digest(data)
    for call in (https_s3.head_object, https_s3.get_object):
        got = call(Bucket="checksums", Key=f"t-{algorithm}", ChecksumMode="ENABLED")
        assert got[field] == digest(data)
    assert https_s3.get_object(Bucket="checksums", Key=f"t-{algorithm}")["Body"].read() == data


def test_default_boto3_upload_gets_its_crc32_back(https_s3):
    data = b"default upload"
    https_s3.put_object(Bucket="checksums", Key="default", Body=data)
    assert https_s3.head_object(Bucket="checksums", Key="default", ChecksumMode="ENABLED")["ChecksumCRC32"] == \
        b64(crc32(data))


def test_multipart_composite_checksum(https_s3):
    key = "mp"
    up = https_s3.create_multipart_upload(Bucket="checksums", Key=key, ChecksumAlgorithm="CRC32")
    assert up.get("ChecksumAlgorithm") == "CRC32"
    bodies = [b"a" * (5 * 1024 * 1024), b"b" * 1000]
    parts = []
    for n, body in enumerate(bodies, 1):
        r = https_s3.upload_part(Bucket="checksums", Key=key, UploadId=up["UploadId"], PartNumber=n, Body=body,
                                 ChecksumAlgorithm="CRC32")
        assert r["ChecksumCRC32"] == b64(crc32(body))
        parts.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]})
    done = https_s3.complete_multipart_upload(Bucket="checksums", Key=key, UploadId=up["UploadId"],
                                              MultipartUpload={"Parts": parts})
    composite = b64(crc32(b"".join(crc32(b) for b in bodies))) + "-2"        # S3's composite checksum
    assert done["ChecksumCRC32"] == composite
    head = https_s3.head_object(Bucket="checksums", Key=key, ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == composite
    got = https_s3.get_object(Bucket="checksums", Key=key, ChecksumMode="ENABLED")   # botocore skips "-N" values
    assert got["ChecksumCRC32"] == composite and got["Body"].read() == b"".join(bodies)


def test_multipart_part_checksum_mismatch_at_complete(https_s3):
    key = "mp-bad"
    up = https_s3.create_multipart_upload(Bucket="checksums", Key=key, ChecksumAlgorithm="CRC32")
    body = b"c" * 100
    r = https_s3.upload_part(Bucket="checksums", Key=key, UploadId=up["UploadId"], PartNumber=1, Body=body,
                             ChecksumAlgorithm="CRC32")
    with pytest.raises(ClientError) as e:
        https_s3.complete_multipart_upload(Bucket="checksums", Key=key, UploadId=up["UploadId"], MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": r["ETag"], "ChecksumCRC32": b64(crc32(b"other"))}]})
    assert e.value.response["Error"]["Code"] == "InvalidPart"
    with pytest.raises(ClientError) as e:       # an upload made with a checksum needs the part checksums
        https_s3.complete_multipart_upload(Bucket="checksums", Key=key, UploadId=up["UploadId"], MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": r["ETag"]}]})
    assert e.value.response["Error"]["Code"] == "InvalidRequest"


def test_multipart_full_object_crc32_and_boto3_transfer(https_s3):
    from boto3.s3.transfer import TransferConfig
    up = https_s3.create_multipart_upload(Bucket="checksums", Key="full", ChecksumAlgorithm="CRC32",
                                          ChecksumType="FULL_OBJECT")
    bodies = [b"d" * (5 * 1024 * 1024), b"e" * 10]
    parts = []
    for n, body in enumerate(bodies, 1):
        r = https_s3.upload_part(Bucket="checksums", Key="full", UploadId=up["UploadId"], PartNumber=n, Body=body,
                                 ChecksumAlgorithm="CRC32")
        parts.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]})
    done = https_s3.complete_multipart_upload(Bucket="checksums", Key="full", UploadId=up["UploadId"],
                                              MultipartUpload={"Parts": parts})
    assert done["ChecksumCRC32"] == b64(crc32(b"".join(bodies)))
    with pytest.raises(ClientError) as e:
        https_s3.create_multipart_upload(Bucket="checksums", Key="x", ChecksumAlgorithm="SHA256",
                                         ChecksumType="FULL_OBJECT")
    assert e.value.response["Error"]["Code"] == "InvalidRequest"
    # boto3's managed transfer (s3transfer: CRC32 by default, part checksums into complete)
    import io
    data = bytes(range(256)) * (40 * 1024)       # 10 MB: two parts of 8 MB + 2 MB
    https_s3.upload_fileobj(io.BytesIO(data), "checksums", "managed", Config=TransferConfig(multipart_threshold=8 << 20))
    head = https_s3.head_object(Bucket="checksums", Key="managed", ChecksumMode="ENABLED")
    assert head["ContentLength"] == len(data) and head["ChecksumCRC32"].endswith("-2")
    out = io.BytesIO()
    https_s3.download_fileobj("checksums", "managed", out)
    assert out.getvalue() == data

