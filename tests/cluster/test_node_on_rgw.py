"""A full cosbeauty server whose object bytes live on Ceph RGW (``--blobs s3://... --blobs-endpoint``),
driven through boto3 and cos-python-sdk-v5; and a node whose blob store goes away (503, nothing committed)."""

from __future__ import annotations

import hashlib
import io
import os
import time
import urllib.error
import urllib.request
import uuid

import botocore.exceptions
import pytest

from tests.cluster.conftest import node, s3_for, wait_ready
from tests.conftest import APPID, SECRET_ID, SECRET_KEY, Server, cos_client, free_port, new_bucket, s3_client

MiB = 1024 * 1024
GRACE = 3.0


@pytest.fixture(scope="module")
def rgw_node(rgw, rgw_bucket):
    prefix = f"node-{uuid.uuid4().hex[:6]}"
    env = {"AWS_ACCESS_KEY_ID": rgw["access_key"], "AWS_SECRET_ACCESS_KEY": rgw["secret_key"],
           "COSBEAUTY_GC_GRACE_SECONDS": str(GRACE), "COSBEAUTY_GC_INTERVAL_SECONDS": "0.5"}
    with node(["--blobs", f"s3://{rgw_bucket}/{prefix}", "--blobs-endpoint", rgw["endpoint"]], env) as srv:
        wait_ready(srv)
        srv.blob_prefix = prefix + "/"
        yield srv


def blob_keys(rgw_s3, bucket: str, prefix: str) -> set[str]:
    pages = rgw_s3.get_paginator("list_objects").paginate(Bucket=bucket, Prefix=prefix)
    return {o["Key"] for page in pages for o in page.get("Contents", []) if not o["Key"].endswith("/owner")}


def wait_swept(rgw_s3, bucket: str, prefix: str, doomed: set[str]) -> None:
    deadline = time.time() + GRACE + 20
    while doomed & blob_keys(rgw_s3, bucket, prefix):
        assert time.time() < deadline, "dropped blobs were never swept"
        time.sleep(0.5)


def test_boto3_put_get_range_multipart_copy_delete_on_rgw(rgw_node, rgw_s3, rgw_bucket):
    s3 = s3_client(rgw_node.port)
    cos = cos_client(rgw_node.port)
    bucket = new_bucket(cos, "rgw")
    before = blob_keys(rgw_s3, rgw_bucket, rgw_node.blob_prefix)
    small = b"tiny"                                   # inline in the metadata row: no blob
    body = os.urandom(3 * MiB + 17)                   # one blob on RGW
    s3.put_object(Bucket=bucket, Key="tiny", Body=small)
    s3.put_object(Bucket=bucket, Key="a/b.bin", Body=body)
    assert len(blob_keys(rgw_s3, rgw_bucket, rgw_node.blob_prefix) - before) == 1
    got = s3.get_object(Bucket=bucket, Key="a/b.bin")
    assert got["Body"].read() == body and got["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    assert s3.get_object(Bucket=bucket, Key="tiny")["Body"].read() == small
    rng = s3.get_object(Bucket=bucket, Key="a/b.bin", Range="bytes=1048570-1048589")
    assert rng["Body"].read() == body[1048570:1048590] and rng["ContentRange"] == f"bytes 1048570-1048589/{len(body)}"

    # multipart: 3 parts, the blobs are RGW objects, completed into one object
    parts_data = [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(MiB + 3)]
    up = s3.create_multipart_upload(Bucket=bucket, Key="big")
    parts = []
    for i, data in enumerate(parts_data, 1):
        r = s3.upload_part(Bucket=bucket, Key="big", UploadId=up["UploadId"], PartNumber=i, Body=data)
        parts.append({"PartNumber": i, "ETag": r["ETag"]})
    s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=up["UploadId"], MultipartUpload={"Parts": parts})
    whole = b"".join(parts_data)
    assert s3.get_object(Bucket=bucket, Key="big")["Body"].read() == whole
    edge = s3.get_object(Bucket=bucket, Key="big", Range=f"bytes={5 * MiB - 5}-{10 * MiB + 4}")["Body"].read()
    assert edge == whole[5 * MiB - 5:10 * MiB + 5]                  # a range across three blobs

    # server-side copy: new blobs (CopyObject on RGW), same bytes
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "big"})
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == whole
    mid = blob_keys(rgw_s3, rgw_bucket, rgw_node.blob_prefix) - before
    assert len(mid) == 1 + 3 + 3

    # overwrite and delete drop the blobs on RGW
    s3.put_object(Bucket=bucket, Key="a/b.bin", Body=b"short")
    for key in ("a/b.bin", "big", "copy", "tiny"):
        s3.delete_object(Bucket=bucket, Key=key)
    wait_swept(rgw_s3, rgw_bucket, rgw_node.blob_prefix, blob_keys(rgw_s3, rgw_bucket, rgw_node.blob_prefix) - before)
    cos.delete_bucket(Bucket=bucket)
    deadline = time.time() + 15
    while True:         # the sweep thread deletes (and counts) in its own time
        with urllib.request.urlopen(f"{rgw_node.endpoint}/-/metrics", timeout=10) as resp:
            metrics = resp.read().decode()
        if any(f'cosbeauty_blobstore_requests_total{{operation="{op}",outcome="ok"}}' in metrics
               for op in ("delete_object", "delete_objects")) or time.time() > deadline:
            break
        time.sleep(0.5)
    for op in ("put_object", "get_object", "copy_object"):
        assert f'cosbeauty_blobstore_requests_total{{operation="{op}",outcome="ok"}}' in metrics
    assert any(f'cosbeauty_blobstore_requests_total{{operation="{op}",outcome="ok"}}' in metrics
               for op in ("delete_object", "delete_objects")), \
        [line for line in metrics.splitlines() if line.startswith("cosbeauty_blobstore_requests_total")]


def test_overwritten_blob_outlives_a_get_in_flight_then_is_swept(rgw_node, rgw_s3, rgw_bucket):
    """Embedded metadata + blobs on RGW: an overwrite (and a delete) no longer removes the old blob
    at once (a GET streaming it would be cut: RGW drops a deleted object at once); it is queued and
    removed after the grace period."""
    import sqlite3
    s3 = s3_client(rgw_node.port)
    bucket = new_bucket(cos_client(rgw_node.port), "grace")
    first, second = os.urandom(6 * MiB), os.urandom(200 * 1024)
    before = blob_keys(rgw_s3, rgw_bucket, rgw_node.blob_prefix)
    s3.put_object(Bucket=bucket, Key="k", Body=first)
    old = blob_keys(rgw_s3, rgw_bucket, rgw_node.blob_prefix) - before
    assert len(old) == 1
    got = s3.get_object(Bucket=bucket, Key="k")                        # streaming the old blob
    head = got["Body"].read(64 * 1024)
    s3.put_object(Bucket=bucket, Key="k", Body=second)                 # overwritten meanwhile
    assert old <= blob_keys(rgw_s3, rgw_bucket, rgw_node.blob_prefix)   # still there right after
    assert head + got["Body"].read() == first                          # the reader gets every old byte
    with sqlite3.connect(os.path.join(rgw_node.data_dir, "meta.sqlite3")) as db:
        assert {r[0] for r in db.execute("SELECT name FROM blob_gc")} >= {k.rsplit("/", 1)[1] for k in old}
    wait_swept(rgw_s3, rgw_bucket, rgw_node.blob_prefix, old)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == second


def test_cos_sdk_upload_download_on_rgw(rgw_node, tmp_path):
    cos = cos_client(rgw_node.port)
    bucket = new_bucket(cos, "rgwcos")
    data = os.urandom(12 * MiB + 5)
    src = tmp_path / "in.bin"
    src.write_bytes(data)
    cos.upload_file(Bucket=bucket, Key="f.bin", LocalFilePath=str(src), PartSize=5, MAXThread=2)   # multipart
    out = tmp_path / "out.bin"
    cos.download_file(Bucket=bucket, Key="f.bin", DestFilePath=str(out), EnableCRC=True)
    assert out.read_bytes() == data
    resp = cos.get_object(Bucket=bucket, Key="f.bin", Range="bytes=100-199")
    assert resp["Body"].get_raw_stream().read() == data[100:200]
    cos.put_object(Bucket=bucket, Key="p", Body=io.BytesIO(data[:200_000]))
    cos.copy_object(Bucket=bucket, Key="p2", CopySource={"Bucket": bucket, "Key": "p", "Region": "ap-guangzhou"})
    assert cos.get_object(Bucket=bucket, Key="p2")["Body"].get_raw_stream().read() == data[:200_000]
    for key in ("f.bin", "p", "p2"):
        cos.delete_object(Bucket=bucket, Key=key)
    cos.delete_bucket(Bucket=bucket)


def test_blob_store_down_is_503_and_nothing_committed(tmp_path):
    """Node A keeps its blobs on node B (another cosbeauty); B goes away: A's writes fail with 503,
    /-/readyz says why, nothing becomes visible; B comes back: A recovers without a restart."""
    (tmp_path / "b").mkdir()
    b = Server(str(tmp_path / "b" / "data"), free_port()).start()
    try:
        store_bucket = f"store-{APPID}"
        s3_for(b.endpoint, SECRET_ID, SECRET_KEY, "ap-guangzhou").create_bucket(Bucket=store_bucket)
        env = {"AWS_ACCESS_KEY_ID": SECRET_ID, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
        with node(["--blobs", f"s3://{store_bucket}/a", "--blobs-endpoint", b.endpoint], env) as a:
            wait_ready(a)
            s3 = s3_client(a.port)
            bucket = new_bucket(cos_client(a.port), "down")
            s3.put_object(Bucket=bucket, Key="before", Body=b"x" * 200_000)
            b.stop()
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(f"{a.endpoint}/-/readyz", timeout=10)
            assert err.value.code == 503 and b"blob store" in err.value.read()
            with pytest.raises(botocore.exceptions.ClientError) as exc:
                s3.put_object(Bucket=bucket, Key="during", Body=b"y" * 200_000)
            assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
            assert s3.put_object(Bucket=bucket, Key="inline", Body=b"small")   # no blob needed
            b.start()
            wait_ready(a)
            assert "during" not in [o["Key"] for o in s3.list_objects(Bucket=bucket).get("Contents", [])]
            assert s3.get_object(Bucket=bucket, Key="before")["Body"].read() == b"x" * 200_000
            s3.put_object(Bucket=bucket, Key="after", Body=b"z" * 200_000)
            assert s3.get_object(Bucket=bucket, Key="after")["Body"].read() == b"z" * 200_000
    finally:
        b.stop()


def test_blob_prefix_of_another_metadata_store_is_refused(rgw, rgw_bucket, tmp_path):
    env = {"AWS_ACCESS_KEY_ID": rgw["access_key"], "AWS_SECRET_ACCESS_KEY": rgw["secret_key"]}
    args = ["--blobs", f"s3://{rgw_bucket}/shared-{uuid.uuid4().hex[:6]}", "--blobs-endpoint", rgw["endpoint"]]
    with node(args, env):
        with pytest.raises(RuntimeError, match="belongs to metadata store"):
            with node(args, env):
                pass


def test_node_with_blobs_on_a_shared_directory(tmp_path):
    shared = tmp_path / "shared"
    with node(["--blobs", f"file://{shared}"]) as srv:
        s3 = s3_client(srv.port)
        bucket = new_bucket(cos_client(srv.port), "file")
        body = os.urandom(300_000)
        s3.put_object(Bucket=bucket, Key="k", Body=body)
        s3.copy_object(Bucket=bucket, Key="k2", CopySource={"Bucket": bucket, "Key": "k"})
        assert s3.get_object(Bucket=bucket, Key="k2", Range="bytes=5-9")["Body"].read() == body[5:10]
        assert len([p for p in (shared / "blobs").rglob("*") if p.is_file()]) == 2
        local = os.path.join(srv.data_dir, "blobs")
        assert not any(os.listdir(os.path.join(local, d)) for d in os.listdir(local))   # nothing on the node
        s3.delete_object(Bucket=bucket, Key="k")
        assert s3.get_object(Bucket=bucket, Key="k2")["Body"].read() == body


def test_embedded_data_dir_with_local_blobs_is_not_switched_to_a_blob_store(tmp_path):
    with node([]) as srv:
        s3 = s3_client(srv.port)
        bucket = new_bucket(cos_client(srv.port), "switch")
        s3.put_object(Bucket=bucket, Key="big", Body=os.urandom(200_000))     # a local blob
        srv.stop()
        srv.extra_args = ["--blobs", f"file://{tmp_path}/shared"]
        with pytest.raises(RuntimeError, match="unreadable"):
            srv.start()
        srv.extra_args = []
        srv.start()
        assert len(s3.get_object(Bucket=bucket, Key="big")["Body"].read()) == 200_000
