"""Per-part S3 checksums on PostgreSQL (schema version 3's ``parts.checksum``): parts uploaded with a
checksum to two different nodes are listed with it by either node and completed on the other from
the stored values (boto3 over plain HTTP sends the checksum as a header)."""

from __future__ import annotations

import base64
import uuid
import zlib

import pytest

from tests.cluster.conftest import file_cluster
from tests.conftest import s3_client


@pytest.fixture(scope="module")
def two_nodes(postgres, tmp_path_factory):
    with file_cluster(postgres, tmp_path_factory, "pc") as nodes:
        yield tuple(nodes)


def crc32(data: bytes) -> bytes:
    return zlib.crc32(data).to_bytes(4, "big")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize("kind", ["COMPOSITE", "FULL_OBJECT"])
def test_part_checksums_across_nodes(two_nodes, kind):
    a, b = two_nodes
    sa, sb = s3_client(a.port), s3_client(b.port)
    bucket = f"pc{uuid.uuid4().hex[:8]}"
    sa.create_bucket(Bucket=bucket)
    up = sa.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="CRC32", ChecksumType=kind)
    bodies = [b"a" * (5 * 1024 * 1024), b"b" * 999]
    parts = []
    for n, (client, body) in enumerate(zip((sa, sb), bodies), 1):
        r = client.upload_part(Bucket=bucket, Key="k", UploadId=up["UploadId"], PartNumber=n, Body=body,
                               ChecksumAlgorithm="CRC32")
        parts.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]})
    for client in (sa, sb):
        listed = client.list_parts(Bucket=bucket, Key="k", UploadId=up["UploadId"])["Parts"]
        assert [p["ChecksumCRC32"] for p in listed] == [b64(crc32(x)) for x in bodies]
    done = sb.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=up["UploadId"],
                                        MultipartUpload={"Parts": parts})
    expected = (b64(crc32(b"".join(crc32(x) for x in bodies))) + "-2" if kind == "COMPOSITE"
                else b64(crc32(b"".join(bodies))))
    assert done["ChecksumCRC32"] == expected
    head = sa.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == expected
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-type"] == kind
