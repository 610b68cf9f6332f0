"""Three cosbeauty nodes on different ports sharing one PostgreSQL database (``--metadata``) and
one Ceph RGW blob prefix (``--blobs s3://...``): any node serves any request."""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import subprocess
import sys
import threading
import time
import uuid

import botocore.exceptions
import psycopg
import pytest
import requests

from tests.cluster.conftest import SERVICES, fresh_database, node, wait_ready
from tests.conftest import APPID, cos_client, new_bucket, s3_client

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def cluster_db(postgres):
    """A fresh database on the suite's PostgreSQL: its URL."""
    yield fresh_database(postgres, "cl")


@pytest.fixture(scope="module")
def nodes(cluster_db, rgw, rgw_bucket, tmp_path_factory):
    key = tmp_path_factory.mktemp("key") / "master.key"
    key.write_bytes(os.urandom(32))
    prefix = f"cluster-{uuid.uuid4().hex[:6]}"
    env = {"AWS_ACCESS_KEY_ID": rgw["access_key"], "AWS_SECRET_ACCESS_KEY": rgw["secret_key"]}
    args = ["--metadata", cluster_db, "--blobs", f"s3://{rgw_bucket}/{prefix}", "--blobs-endpoint", rgw["endpoint"],
            "--master-key-file", str(key)]
    with node(args, env) as a, node(args, env) as b, node(args, env) as c:
        for srv in (a, b, c):
            wait_ready(srv)
            srv.metadata, srv.master_key = cluster_db, str(key)
        yield a, b, c


def test_write_on_a_read_and_list_on_b(nodes):
    a, b, c = nodes
    sa, sb = s3_client(a.port), s3_client(b.port)
    bucket = new_bucket(cos_client(a.port), "cl")
    big = os.urandom(2 * MiB + 5)                       # a blob on RGW
    sa.put_object(Bucket=bucket, Key="dir/small.txt", Body=b"hello")
    sa.put_object(Bucket=bucket, Key="dir/big.bin", Body=big)
    sa.put_object(Bucket=bucket, Key="top", Body=b"x")
    assert sb.get_object(Bucket=bucket, Key="dir/small.txt")["Body"].read() == b"hello"
    assert sb.get_object(Bucket=bucket, Key="dir/big.bin", Range="bytes=1-10")["Body"].read() == big[1:11]
    listed = sb.list_objects(Bucket=bucket, Delimiter="/")
    assert [o["Key"] for o in listed["Contents"]] == ["top"]
    assert [p["Prefix"] for p in listed["CommonPrefixes"]] == ["dir/"]
    assert [o["Key"] for o in s3_client(c.port).list_objects_v2(Bucket=bucket, Prefix="dir/")["Contents"]] == [
        "dir/big.bin", "dir/small.txt"]
    sb.delete_object(Bucket=bucket, Key="top")          # deleted on B: gone on A
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sa.head_object(Bucket=bucket, Key="top")
    assert e.value.response["Error"]["Code"] == "404"
    # bucket-level state (tags, CORS-like attrs) set on one node is seen on another
    sa.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "team", "Value": "a"}]})
    assert sb.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "team", "Value": "a"}]
    # versioning enabled on A, versions listed on C
    sa.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = sb.put_object(Bucket=bucket, Key="v", Body=b"one")["VersionId"]
    v2 = sa.put_object(Bucket=bucket, Key="v", Body=b"two")["VersionId"]
    versions = s3_client(c.port).list_object_versions(Bucket=bucket, Prefix="v")["Versions"]
    assert [(x["VersionId"], x["IsLatest"]) for x in versions] == [(v2, True), (v1, False)]
    assert sb.get_object(Bucket=bucket, Key="v", VersionId=v1)["Body"].read() == b"one"
    metrics = requests.get(f"{b.endpoint}/-/metrics", timeout=10).text      # the DB pool gauges
    assert "cosbeauty_db_pool_size" in metrics and "cosbeauty_db_requests_waiting" in metrics
    assert "cosbeauty_db_serialization_retries" in metrics


def test_concurrent_overwrites_from_two_nodes_one_winner_never_torn(nodes):
    a, b, _ = nodes
    bucket = new_bucket(cos_client(a.port), "race")
    bodies = {f"{w}-{i}": os.urandom(70 * 1024 if i % 2 else 1000) + f"{w}-{i}".encode()
              for w in ("a", "b") for i in range(12)}      # blobs on RGW and inline rows, mixed
    etags = {f'"{hashlib.md5(v).hexdigest()}"': v for v in bodies.values()}
    stop = threading.Event()
    torn: list[str] = []
    reads = [0]

    def writer(srv, w):
        s3 = s3_client(srv.port)
        for i in range(12):
            s3.put_object(Bucket=bucket, Key="hot", Body=bodies[f"{w}-{i}"])

    def reader(srv):
        s3 = s3_client(srv.port)
        while not stop.is_set():
            try:
                got = s3.get_object(Bucket=bucket, Key="hot")
            except botocore.exceptions.ClientError:
                continue                                    # not written yet
            body = got["Body"].read()
            reads[0] += 1
            if etags.get(got["ETag"]) != body:
                torn.append(got["ETag"])

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        readers = [pool.submit(reader, srv) for srv in (a, b)]
        writers = [pool.submit(writer, a, "a"), pool.submit(writer, b, "b"), pool.submit(writer, a, "a"),
                   pool.submit(writer, b, "b")]
        for f in writers:
            f.result()
        stop.set()
        for f in readers:
            f.result()
    assert not torn and reads[0] > 0
    final = [s3_client(srv.port).get_object(Bucket=bucket, Key="hot") for srv in (a, b)]
    assert final[0]["ETag"] == final[1]["ETag"] and final[0]["Body"].read() == etags[final[0]["ETag"]]


def test_conditional_create_race_free_across_nodes(nodes):
    bucket = new_bucket(cos_client(nodes[0].port), "cond")

    def create(i):
        s3 = s3_client(nodes[i % 3].port)
        try:
            s3.put_object(Bucket=bucket, Key="once", Body=f"writer {i}".encode(), IfNoneMatch="*")
            return i
        except botocore.exceptions.ClientError as exc:
            assert exc.response["Error"]["Code"] in ("PreconditionFailed", "ConditionalRequestConflict"), exc.response
            return None

    with concurrent.futures.ThreadPoolExecutor(9) as pool:
        winners = [w for w in pool.map(create, range(18)) if w is not None]
    assert len(winners) == 1
    assert s3_client(nodes[1].port).get_object(Bucket=bucket, Key="once")["Body"].read() == f"writer {winners[0]}".encode()


def test_multipart_parts_on_two_nodes_completed_on_a_third(nodes):
    a, b, c = nodes
    bucket = new_bucket(cos_client(a.port), "mp")
    data = [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(MiB + 7)]
    up = s3_client(a.port).create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    parts = []
    for i, (srv, chunk) in enumerate(zip((a, b, a), data), 1):
        r = s3_client(srv.port).upload_part(Bucket=bucket, Key="big", UploadId=up, PartNumber=i, Body=chunk)
        parts.append({"PartNumber": i, "ETag": r["ETag"]})
    listed = s3_client(c.port).list_parts(Bucket=bucket, Key="big", UploadId=up)["Parts"]
    assert [p["PartNumber"] for p in listed] == [1, 2, 3]
    s3_client(c.port).complete_multipart_upload(Bucket=bucket, Key="big", UploadId=up,
                                                MultipartUpload={"Parts": parts})
    assert s3_client(b.port).get_object(Bucket=bucket, Key="big")["Body"].read() == b"".join(data)
    # a repeated complete on another node still answers (completed upload ids are shared too)
    again = s3_client(a.port).complete_multipart_upload(Bucket=bucket, Key="big", UploadId=up,
                                                        MultipartUpload={"Parts": parts})
    assert again["ETag"]


def _admin(srv, method, route, body=None):
    from tests.iam.conftest import admin
    return admin(srv, method, route, body)


def test_iam_change_on_a_effective_on_b_at_once(nodes):
    a, b, _ = nodes
    bucket = new_bucket(cos_client(a.port), "iam")
    user = f"u{uuid.uuid4().hex[:8]}"
    assert _admin(a, "POST", "/users", {"name": user}).status_code in (200, 201)
    key = _admin(a, "POST", f"/users/{user}/keys", {}).json()
    sid, skey = key["secret_id"], key["secret_key"]
    sub_b = cos_client(b.port, sid, skey)
    from qcloud_cos.cos_exception import CosServiceError
    with pytest.raises(CosServiceError) as e:                  # no policy yet: denied on B
        sub_b.put_object(Bucket=bucket, Key="k", Body=b"1")
    assert e.value.get_error_code() == "AccessDenied"
    from tests.conftest import REGION
    doc = {"version": "2.0", "statement": [{"effect": "allow", "action": ["name/cos:PutObject"],
                                            "resource": [f"qcs::cos:{REGION}:uid/{APPID}:{bucket}/*"]}]}
    r = _admin(a, "PUT", f"/users/{user}/policies/writer", doc)
    assert r.status_code == 204, r.text
    sub_b.put_object(Bucket=bucket, Key="k", Body=b"1")          # allowed on B at once
    assert _admin(a, "PUT", f"/keys/{sid}", {"status": "disabled"}).status_code == 204
    with pytest.raises(CosServiceError) as e:                  # disabled on A: refused on B at once
        sub_b.put_object(Bucket=bucket, Key="k", Body=b"2")
    assert e.value.get_error_code() in ("InvalidAccessKeyId", "AccessDenied", "SignatureDoesNotMatch")


def test_ci_activation_and_metering_summed_across_nodes(nodes):
    a, b, c = nodes
    from tests.ci.test_ci_bucket_http import ci_client
    from tests.conftest import REGION
    from qcloud_cos.cos_exception import CosServiceError
    bucket = new_bucket(cos_client(a.port), "ci")
    ci_client(a.port, f"{bucket}.ci.{REGION}.myqcloud.com").ci_open_pic_bucket(Bucket=bucket)
    ci_client(a.port, f"{bucket}.ci.{REGION}.myqcloud.com").ci_open_ai_bucket(Bucket=bucket)
    cos_client(a.port).put_object(Bucket=bucket, Key="junk.jpg", Body=b"junk" * 100)
    for srv in (a, b, c, b):                                   # activation on A is effective on B and C
        with pytest.raises(CosServiceError) as e:
            cos_client(srv.port).ci_process(Bucket=bucket, Key="junk.jpg", CiProcess="AIFaceBeauty")
        assert e.value.get_error_code() == "InvalidImageFormat"
    from tests.ci.test_activation_metering import admin_usage
    for srv in (a, c):                                         # every node reads the one sum
        records = admin_usage(srv.port, bucket=bucket).json()["records"]
        assert [(r["method"], r["outcome"]) for r in records] == [("download", "InvalidImageFormat")] * 4


def test_postgres_restart_under_traffic_503_then_recovery(nodes, postgres):
    a, b, _ = nodes
    bucket = new_bucket(cos_client(a.port), "pgr")
    s3a = s3_client(a.port)
    s3a.put_object(Bucket=bucket, Key="before", Body=b"kept")
    script = [sys.executable, os.path.join(SERVICES, "postgres.py")]
    statuses: list[int] = []
    stop = threading.Event()

    def traffic():
        i = 0
        while not stop.is_set():
            for srv in (a, b):
                i += 1
                try:
                    r = requests.get(f"{srv.endpoint}/-/readyz", timeout=10)
                    statuses.append(r.status_code)
                except requests.RequestException:
                    statuses.append(-1)
            time.sleep(0.05)

    t = threading.Thread(target=traffic)
    t.start()
    try:
        subprocess.run([*script, "stop", postgres["dir"]], check=True, timeout=60, capture_output=True)
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3a.put_object(Bucket=bucket, Key="during", Body=b"x")
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        assert e.value.response["Error"]["Code"] == "ServiceUnavailable"
        assert "metadata store" in e.value.response["Error"]["Message"]
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3_client(b.port).get_object(Bucket=bucket, Key="before")
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        r = requests.get(f"{b.endpoint}/-/readyz", timeout=10)
        assert r.status_code == 503 and "metadata store" in r.text
    except BaseException:
        stop.set()
        raise
    finally:
        subprocess.run([*script, "start", postgres["dir"]], check=True, timeout=60, capture_output=True)
    deadline = time.time() + 30
    while True:                                                  # no node restart: the pools reconnect
        try:
            s3a.put_object(Bucket=bucket, Key="after", Body=b"y")
            break
        except botocore.exceptions.ClientError:
            if time.time() > deadline:
                raise
            time.sleep(0.5)
    assert s3_client(b.port).get_object(Bucket=bucket, Key="after")["Body"].read() == b"y"
    assert s3_client(b.port).get_object(Bucket=bucket, Key="before")["Body"].read() == b"kept"
    with pytest.raises(botocore.exceptions.ClientError):
        s3_client(b.port).head_object(Bucket=bucket, Key="during")   # the failed write committed nothing
    wait_ready(a)
    wait_ready(b)
    time.sleep(0.5)
    stop.set()
    t.join()
    assert 503 in statuses and statuses[-2:] == [200, 200]        # readiness came back by itself


def test_metadata_flag_refusals(postgres, tmp_path):
    from cosbeauty.cli import cluster_options
    from cosbeauty.cli import build_parser
    from cosbeauty.storage import open_backend
    for argv, message in ((["--metadata", postgres["dsn"]], "needs a shared blob store"),
                          (["--metadata", "sqlite:///x", "--blobs", "file:///x"], "postgresql://")):
        with pytest.raises(SystemExit, match=message):   # refused before anything starts
            cluster_options.config_kwargs(build_parser().parse_args(["serve", *argv]))
    with pytest.raises(RuntimeError, match="needs a shared blob store"):
        open_backend(str(tmp_path / "d"), metadata=postgres["dsn"])
    with pytest.raises(RuntimeError, match="postgresql://"):
        open_backend(str(tmp_path / "d"), metadata="mysql://x/y", blobs=f"file://{tmp_path}/b")
    with pytest.raises(RuntimeError, match="unreachable"):
        open_backend(str(tmp_path / "d"), metadata="postgresql://nobody@127.0.0.1:1/x", blobs=f"file://{tmp_path}/b")


def test_db_upgrade_command_and_versioned_schema(postgres, capsys):
    from cosbeauty.cli import main
    from cosbeauty.storage.postgres import PgDatabase
    from cosbeauty.storage.sql import migrations
    from cosbeauty.storage.sql.dialect import parse_tables
    url = fresh_database(postgres, "up")
    assert main(["db", "version", "--metadata", url]) == 0
    assert f"database 0, cosbeauty {migrations.LATEST}" in capsys.readouterr().out
    with psycopg.connect(url, autocommit=True) as conn:            # a database left at version 1
        assert migrations.upgrade(conn, target=1) == [1]
    with pytest.raises(RuntimeError, match="schema version 1.*cosbeauty db upgrade"):
        PgDatabase(url)                                            # a node refuses an old schema
    assert main(["db", "upgrade", "--metadata", url]) == 0
    assert f"schema version 1 -> {migrations.LATEST}" in capsys.readouterr().out
    assert main(["db", "upgrade", "--metadata", url]) == 0
    assert "is current" in capsys.readouterr().out
    PgDatabase(url).close()
    # the PostgreSQL schema has every column the embedded (SQLite) schema has: no drift
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT table_name, column_name FROM information_schema.columns "
                            "WHERE table_schema='public'").fetchall()
    pg: dict[str, set] = {}
    for table, column in rows:
        pg.setdefault(table, set()).add(column)
    for table in parse_tables(";".join(migrations.sqlite_schema())).values():
        assert set(table.columns) == pg.get(table.name), table.name


def test_admin_clis_on_the_cluster_database(nodes, monkeypatch, tmp_path, capsys):
    """With $COSBEAUTY_METADATA the admin CLIs (user/key, ci, usage) work on the shared PostgreSQL."""
    import json
    from cosbeauty.cli import main
    from qcloud_cos.cos_exception import CosServiceError
    a, b, _ = nodes
    bucket = new_bucket(cos_client(a.port), "cli")
    monkeypatch.setenv("COSBEAUTY_METADATA", a.metadata)
    monkeypatch.setenv("COSBEAUTY_MASTER_KEY_FILE", a.master_key)
    data = str(tmp_path / "unused")
    user = f"c{uuid.uuid4().hex[:8]}"
    assert main(["user", "create", user, "--data-dir", data]) == 0
    assert main(["key", "create", user, "--secret-id", "AKIDclitest" + uuid.uuid4().hex[:12],
                 "--secret-key", "cli-secret-key-0123456789", "--data-dir", data]) == 0
    out = capsys.readouterr().out
    sid = next(w for w in out.split() if w.startswith("AKIDclitest"))
    with pytest.raises(CosServiceError) as e:          # the key created by the CLI is known to node B
        cos_client(b.port, sid, "cli-secret-key-0123456789").put_object(Bucket=bucket, Key="k", Body=b"1")
    assert e.value.get_error_code() == "AccessDenied"
    assert main(["ci", "bind", bucket, "--data-dir", data]) == 0
    assert main(["ci", "enable-ai", bucket, "--data-dir", data]) == 0
    capsys.readouterr()
    assert main(["ci", "status", bucket, "--json", "--data-dir", data]) == 0
    assert json.loads(capsys.readouterr().out) == [{"bucket": bucket, "bound": True, "ai": True}]
    cos_client(a.port).put_object(Bucket=bucket, Key="junk.jpg", Body=b"junk" * 100)
    with pytest.raises(CosServiceError):
        cos_client(b.port).ci_process(Bucket=bucket, Key="junk.jpg", CiProcess="AIFaceBeauty")
    assert main(["usage", "--json", "--bucket", bucket, "--data-dir", data]) == 0
    assert [r["outcome"] for r in json.loads(capsys.readouterr().out)["records"]] == ["InvalidImageFormat"]
    assert not os.path.exists(data + "/meta.sqlite3")


def test_master_key_reseal_on_postgresql(postgres, tmp_path, monkeypatch, capsys):
    """`master-key reseal` re-seals the keys kept in PostgreSQL ($COSBEAUTY_METADATA)."""
    from cosbeauty.cli import main
    from cosbeauty.iam.crypto import SecretBox
    from cosbeauty.iam.store import IamStore
    from cosbeauty.storage.postgres import PgDatabase
    url = fresh_database(postgres, "rk")
    old, new = tmp_path / "old.key", tmp_path / "new.key"
    old.write_bytes(os.urandom(32))
    new.write_bytes(os.urandom(32))
    for var in ("COSBEAUTY_MASTER_KEY", "COSBEAUTY_MASTER_KEY_FILE", "COSBEAUTY_MASTER_KEY_PREVIOUS_FILES"):
        monkeypatch.delenv(var, raising=False)
    db = PgDatabase(url)
    try:
        store = IamStore(db, SecretBox.for_data_dir(str(tmp_path), str(old)))
        store.create_user("rot")
        sid = store.create_key("rot")["secret_id"]
    finally:
        db.close()
    monkeypatch.setenv("COSBEAUTY_METADATA", url)
    monkeypatch.setenv("COSBEAUTY_MASTER_KEY_PREVIOUS_FILES", str(old))
    assert main(["master-key", "reseal", "--data-dir", str(tmp_path / "d"), "--master-key-file", str(new)]) == 0
    assert "re-sealed 1 signing key" in capsys.readouterr().out
    monkeypatch.delenv("COSBEAUTY_MASTER_KEY_PREVIOUS_FILES")
    db = PgDatabase(url)
    try:
        cred = IamStore(db, SecretBox.for_data_dir(str(tmp_path), str(new))).credential(sid)
        assert cred is not None and len(cred.secret_key) == 32        # opens with the new key alone
    finally:
        db.close()


def test_blob_store_down_under_two_pg_nodes_503_nothing_committed(postgres, tmp_path):
    """Two PostgreSQL nodes keep their blobs on a third cosbeauty (embedded) acting as the S3 server;
    it goes away: writes needing a blob are 503 on both, nothing is committed, an overwrite leaves the
    old object intact; it comes back: both recover without a restart."""
    import shutil
    from tests.cluster.conftest import s3_for
    from tests.conftest import SECRET_ID, SECRET_KEY, Server, free_port
    url = fresh_database(postgres, "bs")
    (tmp_path / "s").mkdir()
    store = Server(str(tmp_path / "s" / "data"), free_port()).start()
    key = tmp_path / "master.key"
    key.write_bytes(os.urandom(32))
    try:
        store_bucket = f"store-{APPID}"
        s3_for(store.endpoint, SECRET_ID, SECRET_KEY, "ap-guangzhou").create_bucket(Bucket=store_bucket)
        env = {"AWS_ACCESS_KEY_ID": SECRET_ID, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
        args = ["--metadata", url, "--blobs", f"s3://{store_bucket}/c", "--blobs-endpoint", store.endpoint,
                "--master-key-file", str(key)]
        with node(args, env) as a, node(args, env) as b:
            wait_ready(a)
            wait_ready(b)
            bucket = new_bucket(cos_client(a.port), "bsdown")
            s3_client(a.port).put_object(Bucket=bucket, Key="k", Body=b"x" * 200_000)
            store.stop()
            for srv, body in ((a, b"y" * 200_000), (b, b"z" * 200_000)):
                with pytest.raises(botocore.exceptions.ClientError) as exc:
                    s3_client(srv.port).put_object(Bucket=bucket, Key="k", Body=body)      # overwrite
                assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
                r = requests.get(f"{srv.endpoint}/-/readyz", timeout=10)
                assert r.status_code == 503 and "blob store" in r.text
            assert s3_client(b.port).head_object(Bucket=bucket, Key="k")["ContentLength"] == 200_000
            store.start()
            wait_ready(a)
            wait_ready(b)
            assert s3_client(b.port).get_object(Bucket=bucket, Key="k")["Body"].read() == b"x" * 200_000
            s3_client(b.port).put_object(Bucket=bucket, Key="k", Body=b"w" * 200_000)
            assert s3_client(a.port).get_object(Bucket=bucket, Key="k")["Body"].read() == b"w" * 200_000
    finally:
        store.stop()
        shutil.rmtree(tmp_path / "s", ignore_errors=True)
