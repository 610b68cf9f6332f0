"""Fixtures for the permission tests: a server of their own (its log and data dir are inspected),
root-signed admin calls, sub-accounts with policies, raw COS-v5-signed requests and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from dataclasses import dataclass

import pytest
import requests

from tests.conftest import APPID, REGION, SECRET_ID, SECRET_KEY, Server, cos_client, new_bucket, running_server


@pytest.fixture(scope="session")
def iam_server():
    with running_server("cosbeauty-iam-") as srv:
        yield srv


def signed(server: Server, method: str, path: str, secret_id: str = SECRET_ID, secret_key: str = SECRET_KEY, *,
           token: str | None = None, params: dict | None = None, headers: dict | None = None,
           data: bytes | str | None = None) -> requests.Response:
    """A COS-v5-signed request for ``path`` (the signed path is the full path), as the SDK signs."""
    from qcloud_cos import CosConfig
    from qcloud_cos.cos_auth import CosS3Auth
    conf = CosConfig(Region=REGION, SecretId=secret_id, SecretKey=secret_key)
    headers = {"Host": f"127.0.0.1:{server.port}", **(headers or {})}
    if token:
        headers["x-cos-security-token"] = token
    auth = CosS3Auth(conf, key=path.lstrip("/"), params=params or {})
    return requests.request(method, server.endpoint + path, params=params, headers=headers, data=data,
                            auth=auth, timeout=30)


def admin(server: Server, method: str, route: str, body=None, **kw) -> requests.Response:
    data = body if isinstance(body, (str, bytes)) or body is None else json.dumps(body)
    return signed(server, method, "/-/admin" + route, data=data, **kw)


def policy(*statements: dict) -> dict:
    return {"version": "2.0", "statement": list(statements)}


def allow(actions, resources, **extra) -> dict:
    return {"effect": "allow", "action": actions, "resource": resources, **extra}


def deny(actions, resources) -> dict:
    return {"effect": "deny", "action": actions, "resource": resources}


def objects(bucket: str, prefix: str = "") -> str:
    return f"qcs::cos:{REGION}:uid/{APPID}:{bucket}/{prefix}*"


@dataclass
class SubUser:
    name: str
    uin: str
    secret_id: str
    secret_key: str

    def cos(self, server: Server, token: str | None = None):
        return cos_client(server.port, self.secret_id, self.secret_key, token)


def make_user(server: Server, *policies: dict) -> SubUser:
    name = "u" + uuid.uuid4().hex[:10]
    created = admin(server, "POST", "/users", {"name": name})
    assert created.status_code == 201, created.text
    key = admin(server, "POST", f"/users/{name}/keys").json()
    for n, doc in enumerate(policies):
        r = admin(server, "PUT", f"/users/{name}/policies/p{n}", doc)
        assert r.status_code == 204, r.text
    return SubUser(name, created.json()["uin"], key["secret_id"], key["secret_key"])


@pytest.fixture
def user_factory(iam_server):
    return lambda *policies: make_user(iam_server, *policies)


@pytest.fixture(scope="session")
def root_cos(iam_server):
    return cos_client(iam_server.port)


@pytest.fixture
def iam_bucket(root_cos):
    return new_bucket(root_cos, "iam")


def cli(server: Server, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cosbeauty", *args, "--data-dir", server.data_dir],
                          capture_output=True, text=True, timeout=60)
