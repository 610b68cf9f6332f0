"""Shared fixtures: a real cosbeauty server on a free loopback port, and real SDK clients."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field

import pytest

APPID = "1250000000"
REGION = "ap-guangzhou"
SECRET_ID = "AKIDcosbeautyTESTKEY0000000000000001"
SECRET_KEY = "cosbeauty-test-secret-key-000001"
ARTIFACTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "test-artifacts")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    data_dir: str
    port: int
    extra_args: list[str] = field(default_factory=list)
    proc: subprocess.Popen | None = None
    log_path: str = ""

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Server":
        env = {**os.environ, "COSBEAUTY_SECRET_ID": SECRET_ID, "COSBEAUTY_SECRET_KEY": SECRET_KEY,
               "PYTHONUNBUFFERED": "1"}
        self.log_path = os.path.join(os.path.dirname(self.data_dir), f"server-{self.port}.log")
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cosbeauty", "serve", "--data-dir", self.data_dir, "--port", str(self.port),
             "--appid", APPID, "--region", REGION, *self.extra_args],
            stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{open(self.log_path).read()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("server did not start")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log(self) -> str:
        return open(self.log_path, errors="replace").read()

    def wait_warm(self, timeout: float = 60) -> None:
        """Wait for the background model warm-up to end (its memory would count in RSS figures)."""
        deadline = time.time() + timeout
        while "warm in" not in self.log() and "warm-up failed" not in self.log():
            if time.time() > deadline:
                raise AssertionError("the server's model warm-up did not finish")
            time.sleep(0.1)


@contextlib.contextmanager
def running_server(prefix: str = "cosbeauty-test-", extra_args: list[str] | None = None):
    """A server on a free loopback port over a fresh temp data dir, removed afterwards."""
    root = tempfile.mkdtemp(prefix=prefix)
    srv = Server(os.path.join(root, "data"), free_port(), extra_args=extra_args or []).start()
    try:
        yield srv
    finally:
        srv.stop()
        shutil.rmtree(root, ignore_errors=True)


def new_bucket(client, prefix: str = "t") -> str:
    """Create a uniquely named bucket with a cos-python-sdk-v5 client."""
    name = f"{prefix}{uuid.uuid4().hex[:10]}-{APPID}"
    client.create_bucket(Bucket=name)
    return name


XDIST_PLAN_ENV = "COSBEAUTY_XDIST_PLAN"


def _xdist_loadgroup(config: pytest.Config) -> bool:
    if hasattr(config, "workerinput"):     # a worker: xdist sets --dist to "no" and keeps this flag
        return bool(getattr(config.option, "loadgroup", False))
    return bool(getattr(config.option, "numprocesses", None)) and getattr(config.option, "dist", "no") == "loadgroup"


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput") and _xdist_loadgroup(config):
        fd, path = tempfile.mkstemp(prefix="cosbeauty-xdist-plan-", suffix=".json")
        os.close(fd)
        os.environ[XDIST_PLAN_ENV] = path      # the workers are started after this, with it


def pytest_unconfigure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput") and _xdist_loadgroup(config):
        path = os.environ.pop(XDIST_PLAN_ENV, None)
        if path:
            with contextlib.suppress(OSError):
                os.remove(path)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    path = os.environ.get(XDIST_PLAN_ENV)
    if not (_xdist_loadgroup(config) and path):
        return None
    from tests.xdist_plan import make_scheduler
    return make_scheduler(config, log, path)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On pytest-xdist workers only (scripts/test.sh runs ``-n 2 --dist loadgroup``): group the
    tests that must share one worker and put the longest first (tests/xdist_plan.py)."""
    if hasattr(config, "workerinput") and _xdist_loadgroup(config):
        from tests.xdist_plan import plan, write_units
        units = plan(items)
        path = os.environ.get(XDIST_PLAN_ENV)
        if path:
            write_units(units, path)


@pytest.fixture(scope="session")
def server():
    with running_server() as srv:
        yield srv


def cos_client(port: int, secret_id: str = SECRET_ID, secret_key: str = SECRET_KEY, token: str | None = None):
    from qcloud_cos import CosConfig, CosS3Client
    conf = CosConfig(Region=REGION, SecretId=secret_id, SecretKey=secret_key, Token=token,
                     IP="127.0.0.1", Port=port, Scheme="http", ServiceDomain=f"127.0.0.1:{port}")
    return CosS3Client(conf, retry=0)


def s3_client(port: int, access_key: str = SECRET_ID, secret_key: str = SECRET_KEY):
    import boto3
    from botocore.config import Config
    return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name=REGION,
                        aws_access_key_id=access_key, aws_secret_access_key=secret_key,
                        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


@pytest.fixture(scope="session")
def cos(server):
    return cos_client(server.port)


@pytest.fixture(scope="session")
def s3(server):
    return s3_client(server.port)


@pytest.fixture
def bucket(cos):
    return new_bucket(cos)
