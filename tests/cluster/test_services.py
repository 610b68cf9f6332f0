"""The services the suite starts itself (scripts/services): PostgreSQL and Ceph RGW answer, on loopback,
and keep their data across a restart."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

from tests.cluster.conftest import SERVICES


def psql(info: dict, sql: str) -> str:
    out = subprocess.run(["psql", info["dsn"], "-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         capture_output=True, text=True, timeout=30, check=True)
    return out.stdout.strip()


def test_postgres_answers_on_loopback_and_survives_a_restart(postgres):
    assert postgres["host"] == "127.0.0.1"
    table = f"t_{uuid.uuid4().hex[:8]}"
    psql(postgres, f"CREATE TABLE {table} (v text); INSERT INTO {table} VALUES ('kept')")
    script = [sys.executable, os.path.join(SERVICES, "postgres.py")]
    subprocess.run([*script, "stop", postgres["dir"]], check=True, timeout=60)
    subprocess.run([*script, "start", postgres["dir"]], check=True, timeout=60, capture_output=True)
    assert psql(postgres, f"SELECT v FROM {table}") == "kept"
    assert psql(postgres, "SHOW listen_addresses") == "127.0.0.1"


def test_rgw_is_an_s3_server_on_loopback(rgw, rgw_s3):
    assert rgw["endpoint"].startswith("http://127.0.0.1:")
    bucket = f"svc-{uuid.uuid4().hex[:8]}"
    rgw_s3.create_bucket(Bucket=bucket)
    rgw_s3.put_object(Bucket=bucket, Key="k", Body=b"v" * 5000)
    assert rgw_s3.get_object(Bucket=bucket, Key="k", Range="bytes=10-19")["Body"].read() == b"v" * 10
    rgw_s3.delete_object(Bucket=bucket, Key="k")
    rgw_s3.delete_bucket(Bucket=bucket)
