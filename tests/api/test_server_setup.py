"""Server start-up: generated root credentials, addressing by configured endpoints."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import time

import httpx

from tests.conftest import APPID, REGION, Server, free_port


def start_without_env_credentials(data_dir: str, port: int) -> tuple[subprocess.Popen, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COSBEAUTY_")}
    log_path = data_dir + f".{port}.log"
    proc = subprocess.Popen([sys.executable, "-m", "cosbeauty", "serve", "--data-dir", data_dir, "--port", str(port)],
                            env=env, stdout=open(log_path, "wb"), stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=0.5)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    return proc, log_path


def test_generated_credentials_printed_once_and_private(tmp_path):
    data_dir = str(tmp_path / "data")
    proc, log = start_without_env_credentials(data_dir, free_port())
    deadline = time.time() + 60       # the models warm up in the background after the first answer
    while "warm in" not in open(log).read() and time.time() < deadline:
        time.sleep(0.2)
    proc.terminate()
    proc.wait(10)
    creds_path = os.path.join(data_dir, "credentials.json")
    assert stat.S_IMODE(os.stat(creds_path).st_mode) == 0o600
    out = open(log).read()
    creds = {"secret_id": re.search(r"SecretId:\s+(\S+)", out).group(1),
             "secret_key": re.search(r"SecretKey:\s+(\S+)", out).group(1)}
    assert creds["secret_id"] in open(creds_path).read()
    assert "CosS3Client(CosConfig(" in out
    assert "warm in" in out and "Feedback manager" not in out and "XNNPACK" not in out   # MediaPipe chatter filtered
    # second start: same credentials, not printed again; they work with the SDK
    port = free_port()
    proc, log = start_without_env_credentials(data_dir, port)
    try:
        assert creds["secret_key"] not in open(log).read()
        from tests.conftest import cos_client
        client = cos_client(port, creds["secret_id"], creds["secret_key"])
        client.create_bucket(Bucket=f"gen-{APPID}")
        assert [b["Name"] for b in client.list_buckets()["Buckets"]["Bucket"]] == [f"gen-{APPID}"]
    finally:
        proc.terminate()
        proc.wait(10)


def test_configured_endpoint_virtual_host(tmp_path):
    srv = Server(str(tmp_path / "data"), free_port(), extra_args=["--endpoint", "storage.example.test"]).start()
    try:
        from qcloud_cos import CosConfig, CosS3Client
        from tests.conftest import SECRET_ID, SECRET_KEY
        client = CosS3Client(CosConfig(Region=REGION, SecretId=SECRET_ID, SecretKey=SECRET_KEY,
                                       Endpoint="storage.example.test", IP="127.0.0.1", Port=srv.port, Scheme="http"))
        client.create_bucket(Bucket=f"ep-{APPID}")
        client.put_object(Bucket=f"ep-{APPID}", Key="k", Body=b"via endpoint")
        assert client.get_object(Bucket=f"ep-{APPID}", Key="k")["Body"].get_raw_stream().read() == b"via endpoint"
        # the same object path-style and via <bucket>.localhost
        from tests.conftest import s3_client
        assert s3_client(srv.port).get_object(Bucket=f"ep-{APPID}", Key="k")["Body"].read() == b"via endpoint"
        resp = httpx.get(f"http://127.0.0.1:{srv.port}/k", headers={"Host": f"ep-{APPID}.localhost:{srv.port}"})
        assert resp.status_code == 403 and resp.headers["x-cos-request-id"]   # unsigned, but routed to the bucket
        assert b"<Resource>ep-1250000000" in resp.content
    finally:
        srv.stop()
