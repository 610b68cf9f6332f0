"""Per-part S3 checksums kept in storage (issue 14): a part's verified checksum is stored with the
part (``parts.checksum``), ListParts lists it (``ChecksumCRC32`` ...), complete uses the stored values
instead of reading every part's bytes again, and GET/HEAD with ChecksumMode=ENABLED say which kind
of checksum the object has (``x-amz-checksum-type``: COMPOSITE for ``<base64>-<parts>``, else
FULL_OBJECT). boto3 over HTTPS, where it sends checksums as aws-chunked trailers by default."""

from __future__ import annotations

import base64
import hashlib
import os
import sqlite3
import zlib

import boto3
import pytest
from botocore.config import Config

from tests.conftest import REGION, SECRET_ID, SECRET_KEY, running_server
from tests.security.tls_ca import make_tls_files

BUCKET = "partsums"


@pytest.fixture(scope="module")
def srv_s3(tmp_path_factory):
    tls = make_tls_files(str(tmp_path_factory.mktemp("tls")))
    with running_server("cosbeauty-pck-", ["--no-fsync", "--tls-cert", tls.cert, "--tls-key", tls.key]) as srv:
        client = boto3.client("s3", endpoint_url=f"https://127.0.0.1:{srv.port}", region_name=REGION,
                              aws_access_key_id=SECRET_ID, aws_secret_access_key=SECRET_KEY, verify=tls.ca,
                              config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
        client.create_bucket(Bucket=BUCKET)
        yield srv, client


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def crc32(data: bytes) -> bytes:
    return zlib.crc32(data).to_bytes(4, "big")


def _upload(s3, key: str, bodies: list[bytes], algorithm: str = "CRC32", **initiate) -> tuple[str, list[dict]]:
    up = s3.create_multipart_upload(Bucket=BUCKET, Key=key, ChecksumAlgorithm=algorithm, **initiate)
    parts = []
    for n, body in enumerate(bodies, 1):
        r = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=up["UploadId"], PartNumber=n, Body=body,
                           ChecksumAlgorithm=algorithm)
        field = "Checksum" + algorithm
        parts.append({"PartNumber": n, "ETag": r["ETag"], field: r[field]})
    return up["UploadId"], parts


def test_list_parts_lists_each_parts_checksum(srv_s3):
    _, s3 = srv_s3
    bodies = [b"p" * (5 * 1024 * 1024), b"q" * 777]
    upload_id, parts = _upload(s3, "listed", bodies)
    listed = s3.list_parts(Bucket=BUCKET, Key="listed", UploadId=upload_id)["Parts"]
    assert [p["ChecksumCRC32"] for p in listed] == [b64(crc32(b)) for b in bodies]
    sha = s3.create_multipart_upload(Bucket=BUCKET, Key="listed-sha", ChecksumAlgorithm="SHA256")
    s3.upload_part(Bucket=BUCKET, Key="listed-sha", UploadId=sha["UploadId"], PartNumber=1, Body=b"x" * 10,
                   ChecksumAlgorithm="SHA256")
    listed = s3.list_parts(Bucket=BUCKET, Key="listed-sha", UploadId=sha["UploadId"])["Parts"]
    assert listed[0]["ChecksumSHA256"] == b64(hashlib.sha256(b"x" * 10).digest())
    for key, uid in (("listed", upload_id), ("listed-sha", sha["UploadId"])):
        s3.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=uid)


def _part_blob_paths(data_dir: str, upload_id: str) -> list[str]:
    with sqlite3.connect(os.path.join(data_dir, "meta.sqlite3")) as db:
        names = [r[0] for r in db.execute("SELECT blob FROM parts WHERE upload_id=? ORDER BY number", (upload_id,))]
    return [os.path.join(data_dir, "blobs", name[:2], name) for name in names]


@pytest.mark.parametrize("kind", ["COMPOSITE", "FULL_OBJECT"])
def test_complete_uses_the_stored_part_checksums(srv_s3, kind):
    """The part blobs are changed on disk behind the server's back (same size): a complete that read
    them again would answer InvalidPart; with the stored checksums it succeeds with the checksum of
    what was uploaded."""
    srv, s3 = srv_s3
    bodies = [b"r" * (5 * 1024 * 1024), b"s" * 4321]
    key = f"stored-{kind}"
    upload_id, parts = _upload(s3, key, bodies, ChecksumType=kind)
    for path in _part_blob_paths(srv.data_dir, upload_id):
        size = os.path.getsize(path)
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(b"\0" * size)
        os.replace(tmp, path)
    done = s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts})
    if kind == "COMPOSITE":
        assert done["ChecksumCRC32"] == b64(crc32(b"".join(crc32(b) for b in bodies))) + "-2"
    else:
        assert done["ChecksumCRC32"] == b64(crc32(b"".join(bodies)))    # combined from the parts' CRCs


def test_checksum_type_on_head_and_get(srv_s3):
    _, s3 = srv_s3
    seen: list = []
    s3.meta.events.register("after-call.s3.*", lambda http_response, **_: seen.append(http_response.headers))
    s3.put_object(Bucket=BUCKET, Key="single", Body=b"single", ChecksumAlgorithm="CRC32")
    bodies = [b"t" * (5 * 1024 * 1024), b"u"]
    for key, kind in (("comp", "COMPOSITE"), ("full", "FULL_OBJECT")):
        upload_id, parts = _upload(s3, key, bodies, ChecksumType=kind)
        s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts})
    for key, kind in (("single", "FULL_OBJECT"), ("comp", "COMPOSITE"), ("full", "FULL_OBJECT")):
        head = s3.head_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
        assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-type"] == kind, key
        got = s3.get_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
        got["Body"].read()
        assert got["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-type"] == kind, key
        # without checksum mode: neither the checksum nor its type
        plain = s3.head_object(Bucket=BUCKET, Key=key)["ResponseMetadata"]["HTTPHeaders"]
        assert "x-amz-checksum-type" not in plain and "x-amz-checksum-crc32" not in plain


def test_sqlite_data_dir_without_the_checksum_column_is_upgraded(tmp_path):
    """A data dir whose parts table predates the checksum column opens, keeps its parts, and stores
    the checksums of new ones."""
    from cosbeauty.storage import PartInfo
    from cosbeauty.storage.local import LocalBackend
    data = str(tmp_path / "data")
    backend = LocalBackend(data, fsync=False)
    backend.create_bucket("old-1250000000", "root")
    upload = backend.create_upload("old-1250000000", "k", {})
    writer = backend.blob_writer(allow_inline=False)
    writer.write(b"old part")
    blob, _ = writer.finish()
    backend.put_part(upload.upload_id, PartInfo(1, 8, "e" * 32, 1.0, blob, 5))
    backend.close()
    with sqlite3.connect(os.path.join(data, "meta.sqlite3")) as db:      # back to the old schema
        db.execute("ALTER TABLE parts DROP COLUMN checksum")
        assert "checksum" not in {r[1] for r in db.execute("PRAGMA table_info(parts)")}
    backend = LocalBackend(data, fsync=False)
    try:
        assert [(p.number, p.crc64, p.checksum) for p in backend.list_parts(upload.upload_id)] == [(1, 5, "")]
        writer = backend.blob_writer(allow_inline=False)
        writer.write(b"new part")
        blob, _ = writer.finish()
        backend.put_part(upload.upload_id, PartInfo(2, 8, "f" * 32, 2.0, blob, 6, checksum="CRC32:AAAAAA=="))
        assert [p.checksum for p in backend.list_parts(upload.upload_id)] == ["", "CRC32:AAAAAA=="]
    finally:
        backend.close()


def test_upload_part_copy_gets_the_uploads_checksum(srv_s3):
    """UploadPartCopy into an upload created with an algorithm answers the copied part's checksum in
    CopyPartResult (as S3 does), stores it for ListParts, and complete accepts it."""
    _, s3 = srv_s3
    source = bytes(range(256)) * (24 * 1024)          # 6 MiB
    s3.put_object(Bucket=BUCKET, Key="copy-src", Body=source)
    up = s3.create_multipart_upload(Bucket=BUCKET, Key="copied", ChecksumAlgorithm="CRC32")
    r1 = s3.upload_part_copy(Bucket=BUCKET, Key="copied", UploadId=up["UploadId"], PartNumber=1,
                             CopySource={"Bucket": BUCKET, "Key": "copy-src"})
    assert r1["CopyPartResult"]["ChecksumCRC32"] == b64(crc32(source))
    r2 = s3.upload_part_copy(Bucket=BUCKET, Key="copied", UploadId=up["UploadId"], PartNumber=2,
                             CopySource={"Bucket": BUCKET, "Key": "copy-src"}, CopySourceRange="bytes=10-99")
    assert r2["CopyPartResult"]["ChecksumCRC32"] == b64(crc32(source[10:100]))
    listed = s3.list_parts(Bucket=BUCKET, Key="copied", UploadId=up["UploadId"])["Parts"]
    assert [p["ChecksumCRC32"] for p in listed] == [b64(crc32(source)), b64(crc32(source[10:100]))]
    parts = [{"PartNumber": n, "ETag": r["CopyPartResult"]["ETag"], "ChecksumCRC32": r["CopyPartResult"]["ChecksumCRC32"]}
             for n, r in ((1, r1), (2, r2))]
    done = s3.complete_multipart_upload(Bucket=BUCKET, Key="copied", UploadId=up["UploadId"],
                                        MultipartUpload={"Parts": parts})
    assert done["ChecksumCRC32"] == b64(crc32(crc32(source) + crc32(source[10:100]))) + "-2"
    assert s3.get_object(Bucket=BUCKET, Key="copied")["Body"].read() == source + source[10:100]
