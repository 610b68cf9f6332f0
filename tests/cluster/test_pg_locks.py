"""Object writes on PostgreSQL under per-key locks (READ COMMITTED + advisory locks): concurrent
PUTs of neighbouring keys from two nodes run without serialization retries, and the
check-then-write paths stay race-free (compare-and-swap with If-Match, bucket deletion racing
PUTs). Two nodes on one PostgreSQL database, a shared ``file://`` blob directory."""

from __future__ import annotations

import concurrent.futures
import os
import threading
import time

import botocore.exceptions
import psycopg
import pytest
import requests

from tests.cluster.conftest import file_cluster, slowest_healthz_while_postgres_stopped
from tests.conftest import cos_client, new_bucket, s3_client


@pytest.fixture(scope="module")
def two_nodes(postgres, tmp_path_factory):
    with file_cluster(postgres, tmp_path_factory, "lk") as nodes:
        yield tuple(nodes)


def retries(*nodes) -> float:
    total = 0.0
    for srv in nodes:
        for line in requests.get(f"{srv.endpoint}/-/metrics", timeout=10).text.splitlines():
            if line.startswith("cosbeauty_db_serialization_retries "):
                total += float(line.split()[1])
    return total


def test_concurrent_puts_of_neighbouring_keys_from_two_nodes_never_retry(two_nodes):
    a, b = two_nodes
    bucket = new_bucket(cos_client(a.port), "nb")
    clients = [s3_client(a.port), s3_client(b.port)]
    keys = [f"k/{i:05d}" for i in range(320)]
    before = retries(a, b)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:   # keys handed out in order: neighbours at once
        list(pool.map(lambda ik: clients[ik[0] % 2].put_object(Bucket=bucket, Key=ik[1], Body=b"x" * 100),
                      enumerate(keys)))
    assert retries(a, b) - before == 0
    listed = clients[1].list_objects_v2(Bucket=bucket, MaxKeys=1000)
    assert [o["Key"] for o in listed["Contents"]] == keys


def test_if_match_compare_and_swap_counter_is_exact_across_nodes(two_nodes):
    """6 writers on two nodes increment one counter object with GET + PUT If-Match: every
    acknowledged increment counts exactly once (a lost update would leave the total short)."""
    a, b = two_nodes
    bucket = new_bucket(cos_client(a.port), "cas")
    s3a = s3_client(a.port)
    s3a.put_object(Bucket=bucket, Key="counter", Body=b"0")
    done = []

    def writer(i: int) -> None:
        s3 = s3_client((a, b)[i % 2].port)
        ok = 0
        while ok < 8:
            got = s3.get_object(Bucket=bucket, Key="counter")
            value = int(got["Body"].read())
            try:
                s3.put_object(Bucket=bucket, Key="counter", Body=str(value + 1).encode(), IfMatch=got["ETag"])
                ok += 1
            except botocore.exceptions.ClientError as exc:
                assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 412, exc.response
        done.append(ok)

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        list(pool.map(writer, range(6)))
    assert sum(done) == 48
    assert s3_client(b.port).get_object(Bucket=bucket, Key="counter")["Body"].read() == b"48"


def test_bucket_deletion_racing_puts_leaves_no_object_behind(two_nodes):
    """PUTs keep arriving on B while A empties and deletes the bucket: once the deletion succeeds,
    PostgreSQL holds no object row of that bucket (a PUT committed after the emptiness check would
    leave an unreachable object)."""
    a, b = two_nodes
    for attempt in range(2):
        bucket = new_bucket(cos_client(a.port), "del")
        stop = threading.Event()
        s3b = s3_client(b.port)

        def putter(n: int, bucket: str = bucket, stop: threading.Event = stop, s3b=s3b) -> None:
            for i in range(60):         # bounded: the deleter wins once they are done at the latest
                if stop.is_set():
                    return
                try:
                    s3b.put_object(Bucket=bucket, Key=f"p{n}/{i:05d}", Body=b"y")
                except botocore.exceptions.ClientError as exc:
                    if exc.response["Error"]["Code"] == "NoSuchBucket":
                        return
                    raise

        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            futures = [pool.submit(putter, n) for n in range(3)]
            try:
                time.sleep(0.2)
                s3a = s3_client(a.port)
                deadline = time.time() + 120
                while True:
                    assert time.time() < deadline, "the bucket could not be deleted"
                    listed = s3a.list_objects_v2(Bucket=bucket, MaxKeys=1000).get("Contents", [])
                    if listed:
                        s3a.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": o["Key"]} for o in listed]})
                    try:
                        s3a.delete_bucket(Bucket=bucket)
                        break
                    except botocore.exceptions.ClientError as exc:
                        assert exc.response["Error"]["Code"] == "BucketNotEmpty", exc.response
            finally:
                stop.set()
            for f in futures:
                f.result(timeout=60)
        with psycopg.connect(a.metadata) as conn:
            left = conn.execute("SELECT count(*) FROM objects WHERE bucket=%s", (bucket,)).fetchone()[0]
        assert left == 0, f"attempt {attempt}: {left} object rows left in deleted bucket {bucket}"


def test_parallel_parts_of_one_upload_from_two_nodes_never_retry_and_complete(two_nodes):
    a, b = two_nodes
    bucket = new_bucket(cos_client(a.port), "parts")
    clients = [s3_client(a.port), s3_client(b.port)]
    up = clients[0].create_multipart_upload(Bucket=bucket, Key="many")["UploadId"]
    before = retries(a, b)
    bodies = {n: os.urandom(2048) for n in range(1, 41)}
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        etags = dict(pool.map(lambda n: (n, clients[n % 2].upload_part(
            Bucket=bucket, Key="many", UploadId=up, PartNumber=n, Body=bodies[n])["ETag"]), bodies))
    assert retries(a, b) - before == 0
    listed = clients[1].list_parts(Bucket=bucket, Key="many", UploadId=up)["Parts"]
    assert [(p["PartNumber"], p["ETag"]) for p in listed] == sorted(etags.items())
    clients[1].abort_multipart_upload(Bucket=bucket, Key="many", UploadId=up)
    # three 5 MiB parts in parallel on both nodes, completed: the right bytes
    big = {n: os.urandom(5 * 1024 * 1024) for n in (1, 2)} | {3: b"tail"}
    up = clients[1].create_multipart_upload(Bucket=bucket, Key="whole")["UploadId"]
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        etags = dict(pool.map(lambda n: (n, clients[n % 2].upload_part(
            Bucket=bucket, Key="whole", UploadId=up, PartNumber=n, Body=big[n])["ETag"]), big))
    clients[0].complete_multipart_upload(Bucket=bucket, Key="whole", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": n, "ETag": e} for n, e in sorted(etags.items())]})
    assert clients[1].get_object(Bucket=bucket, Key="whole")["Body"].read() == big[1] + big[2] + big[3]


def test_abort_racing_part_uploads_leaves_no_part_behind(two_nodes):
    """Parts keep arriving on B while A aborts the upload: afterwards no part row of it is left
    (a part committed after the abort's read would hold a blob no sweep ever removes)."""
    a, b = two_nodes
    bucket = new_bucket(cos_client(a.port), "abort")
    s3a, s3b = s3_client(a.port), s3_client(b.port)
    for attempt in range(3):
        up = s3a.create_multipart_upload(Bucket=bucket, Key=f"k{attempt}")["UploadId"]

        def part(n: int, up: str = up, key: str = f"k{attempt}") -> None:
            try:
                s3b.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=n, Body=b"p" * 1000)
            except botocore.exceptions.ClientError as exc:
                assert exc.response["Error"]["Code"] == "NoSuchUpload", exc.response

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(part, n) for n in range(1, 61)]
            time.sleep(0.1)
            s3a.abort_multipart_upload(Bucket=bucket, Key=f"k{attempt}", UploadId=up)
            for f in futures:
                f.result(timeout=60)
        with psycopg.connect(a.metadata) as conn:
            left = conn.execute("SELECT count(*) FROM parts WHERE upload_id=%s", (up,)).fetchone()[0]
        assert left == 0, f"attempt {attempt}: {left} part rows left after the abort"


def test_a_get_waiting_for_an_unreachable_postgres_does_not_stall_healthz(two_nodes, postgres):
    a, _ = two_nodes
    bucket = new_bucket(cos_client(a.port), "loop")
    s3_client(a.port).put_object(Bucket=bucket, Key="k", Body=b"v")
    gets = [lambda: s3_client(a.port).get_object(Bucket=bucket, Key="k") for _ in range(3)]
    slowest = slowest_healthz_while_postgres_stopped(a, postgres, gets)
    assert slowest < 1.0, f"/-/healthz took {slowest:.1f} s while GETs waited for PostgreSQL"


def test_listings_acls_and_sub_account_requests_waiting_for_postgres_do_not_stall_healthz(two_nodes, postgres):
    """ListObjects (v1 and v2), GET ?acl (object and bucket), GET ?tagging, a request with an Origin
    (CORS headers), and a sub-account's GET (its key lookup and the authorizer's policy, bucket
    and ACL reads) all wait for PostgreSQL in a worker thread: /-/healthz answers within 1 s."""
    from tests.iam.conftest import allow, make_user, objects, policy
    a, _ = two_nodes
    bucket = new_bucket(cos_client(a.port), "loop2")
    s3 = s3_client(a.port)
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    user = make_user(a, policy(allow(["name/cos:GetObject", "name/cos:GetBucket"], [objects(bucket)])))
    sub = user.cos(a)
    assert sub.get_object(Bucket=bucket, Key="k")["Body"].get_raw_stream().read() == b"v"
    calls = [
        lambda: s3.list_objects(Bucket=bucket),
        lambda: s3.list_objects_v2(Bucket=bucket),
        lambda: s3.get_object_acl(Bucket=bucket, Key="k"),
        lambda: s3.get_bucket_acl(Bucket=bucket),
        lambda: s3.get_object_tagging(Bucket=bucket, Key="k"),
        lambda: requests.get(f"{a.endpoint}/{bucket}/k", headers={"Origin": "https://example.com"}, timeout=60),
        lambda: sub.get_object(Bucket=bucket, Key="k"),
    ]
    slowest = slowest_healthz_while_postgres_stopped(a, postgres, calls)
    assert slowest < 1.0, f"/-/healthz took {slowest:.1f} s (10 s: no answer) while requests waited for PostgreSQL"
