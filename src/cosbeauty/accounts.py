"""Accounts and credentials. The root account's key pair comes from the environment
(``COSBEAUTY_SECRET_ID`` / ``COSBEAUTY_SECRET_KEY``) or is generated on first start and kept in
``<data>/credentials.json`` (mode 0600)."""

from __future__ import annotations

import json
import os
import secrets
import string
from dataclasses import dataclass

CRED_FILE = "credentials.json"


@dataclass(frozen=True)
class Principal:
    kind: str            # "root" or "sub"
    name: str
    appid: str
    access_key: str

    @property
    def is_root(self) -> bool:
        return self.kind == "root"

    @property
    def uin(self) -> str:
        return f"qcs::cam::uin/{self.appid}:uin/{self.name}"


def _random_id() -> str:
    alphabet = string.ascii_letters + string.digits
    return "AKID" + "".join(secrets.choice(alphabet) for _ in range(32))


def load_root_credentials(data_dir: str) -> tuple[str, str, bool]:
    """(secret_id, secret_key, created_now)."""
    env_id, env_key = os.environ.get("COSBEAUTY_SECRET_ID"), os.environ.get("COSBEAUTY_SECRET_KEY")
    if env_id and env_key:
        return env_id, env_key, False
    path = os.path.join(data_dir, CRED_FILE)
    if os.path.exists(path):
        with open(path) as f:
            data = json.load(f)
        return data["secret_id"], data["secret_key"], False
    os.makedirs(data_dir, exist_ok=True)
    secret_id, secret_key = _random_id(), secrets.token_urlsafe(24)
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"secret_id": secret_id, "secret_key": secret_key}, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return secret_id, secret_key, True


class Accounts:
    """Credential lookup for the signature layer and principal lookup for authorization."""

    def __init__(self, appid: str, root_id: str, root_key: str) -> None:
        self.appid = appid
        self._root = Principal("root", appid, appid, root_id)
        self._secrets = {root_id: root_key}

    @property
    def root_access_key(self) -> str:
        return self._root.access_key

    def lookup_secret(self, access_key: str) -> str | None:
        return self._secrets.get(access_key)

    def principal(self, access_key: str) -> Principal | None:
        if access_key == self._root.access_key:
            return self._root
        return None
