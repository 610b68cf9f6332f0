"""Real components for the cluster tests, installed and started by the suite itself:
a one-node Ceph cluster with a RADOS Gateway (S3) and a PostgreSQL server, both on loopback in a
temp dir, stopped at the end of the session (scripts/services/*). They are skipped only when they
cannot be installed at all (not root and not installed); an install that fails as root fails."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

import pytest

from tests.conftest import Server, free_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVICES = os.path.join(ROOT, "scripts", "services")


def ensure_installed(component: str) -> None:
    t0 = time.monotonic()
    proc = subprocess.run(["bash", os.path.join(SERVICES, "install.sh"), component], capture_output=True, text=True)
    if proc.returncode == 0:
        if time.monotonic() - t0 > 2:
            sys.stderr.write(f"\n[cluster] installed {component} in {time.monotonic() - t0:.0f} s\n")
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip(f"{component} is not installed and cannot be (needs root and apt-get): {proc.stderr.strip()}")
    pytest.fail(f"installing {component} failed:\n{proc.stdout}\n{proc.stderr}")


@contextlib.contextmanager
def service(script: str, component: str):
    ensure_installed(component)
    root = tempfile.mkdtemp(prefix=f"cosbeauty-{component}-")
    d = os.path.join(root, component)
    cmd = [sys.executable, os.path.join(SERVICES, script)]
    proc = subprocess.run([*cmd, "start", d], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        subprocess.run([*cmd, "stop", d], capture_output=True, timeout=120)
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"starting {component} failed:\n{proc.stdout}\n{proc.stderr}")
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    sys.stderr.write(f"\n[cluster] {component} ready in {info['start_seconds']} s\n")
    try:
        yield info
    finally:
        subprocess.run([*cmd, "stop", d], capture_output=True, timeout=120)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def rgw():
    """A one-node Ceph cluster's RADOS Gateway: {"endpoint", "access_key", "secret_key", "region"}."""
    with service("ceph_rgw.py", "ceph") as info:
        yield info


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server: {"dsn", "host", "port", "user", "database"}."""
    with service("postgres.py", "postgres") as info:
        yield info


def s3_for(endpoint: str, access_key: str, secret_key: str, region: str = "us-east-1"):
    import boto3
    from botocore.config import Config
    return boto3.client("s3", endpoint_url=endpoint, region_name=region, aws_access_key_id=access_key,
                        aws_secret_access_key=secret_key,
                        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2},
                                      request_checksum_calculation="when_required",
                                      response_checksum_validation="when_required"))


@pytest.fixture(scope="session")
def rgw_s3(rgw):
    return s3_for(rgw["endpoint"], rgw["access_key"], rgw["secret_key"])


@pytest.fixture(scope="session")
def rgw_bucket(rgw_s3):
    name = f"blobs-{uuid.uuid4().hex[:8]}"
    rgw_s3.create_bucket(Bucket=name)
    return name


@contextlib.contextmanager
def aws_env(access_key: str, secret_key: str):
    """AWS credential variables set for the duration (subprocesses started inside inherit them)."""
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"] = access_key, secret_key
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def node(extra_args: list[str], env: dict[str, str] | None = None, prefix: str = "cosbeauty-node-"):
    """A cosbeauty server (tests.conftest.Server) with extra flags and environment, removed afterwards."""
    root = tempfile.mkdtemp(prefix=prefix)
    srv = Server(os.path.join(root, "data"), free_port(), extra_args=extra_args)
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        srv.start()
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    try:
        yield srv
    finally:
        srv.stop()
        shutil.rmtree(root, ignore_errors=True)


def wait_ready(srv: Server, timeout: float = 30) -> None:
    import urllib.request
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{srv.endpoint}/-/readyz", timeout=5) as resp:
                if resp.status == 200:
                    return
        except Exception:   # noqa: BLE001
            time.sleep(0.1)
    raise AssertionError(f"{srv.endpoint} not ready:\n{srv.log()}")


def fresh_database(postgres: dict, prefix: str = "db") -> str:
    """A new, empty database on the suite's PostgreSQL: its URL."""
    import psycopg
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres["dsn"], autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"postgresql://{postgres['user']}@{postgres['host']}:{postgres['port']}/{name}"


@contextlib.contextmanager
def file_cluster(postgres: dict, tmp_path_factory, prefix: str, count: int = 2):
    """``count`` ready cluster nodes sharing a fresh database, a file:// blob store and a master key."""
    url = fresh_database(postgres, prefix)
    key = tmp_path_factory.mktemp("key") / "master.key"
    key.write_bytes(os.urandom(32))
    blobs = tmp_path_factory.mktemp("blobs")
    args = ["--metadata", url, "--blobs", f"file://{blobs}", "--master-key-file", str(key)]
    with contextlib.ExitStack() as stack:
        nodes = [stack.enter_context(node(args)) for _ in range(count)]
        for n in nodes:
            wait_ready(n)
            n.metadata = url
        yield nodes


def slowest_healthz_while_postgres_stopped(node: Server, postgres: dict, calls: list) -> float:
    """Stop PostgreSQL, start ``calls`` (each in its own thread; their failures are expected),
    and time three /-/healthz requests of ``node`` meanwhile: the slowest one in seconds (10 when
    one got no answer). PostgreSQL is started again and ``node`` waited for before returning."""
    import concurrent.futures

    import requests

    script = [sys.executable, os.path.join(SERVICES, "postgres.py")]
    subprocess.run([*script, "stop", postgres["dir"]], check=True, timeout=60, capture_output=True)
    slowest = 0.0
    try:
        def call(fn) -> None:
            try:
                fn()
            except Exception:       # noqa: BLE001 -- each fails once PostgreSQL stays away
                pass
        with concurrent.futures.ThreadPoolExecutor(len(calls)) as pool:
            for fn in calls:
                pool.submit(call, fn)
            time.sleep(0.5)
            for _ in range(3):
                t = time.monotonic()
                try:
                    requests.get(f"{node.endpoint}/-/healthz", timeout=10)
                except requests.exceptions.Timeout:
                    pass
                slowest = max(slowest, time.monotonic() - t)
                time.sleep(0.2)
    finally:
        subprocess.run([*script, "start", postgres["dir"]], check=True, timeout=60, capture_output=True)
    wait_ready(node)
    return slowest
