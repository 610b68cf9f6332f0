"""Accounts and credentials.

The root account (one per APPID) has one key pair: from the environment (``COSBEAUTY_SECRET_ID`` /
``COSBEAUTY_SECRET_KEY``) or generated on first start and kept in ``<data>/credentials.json``
(mode 0600, the SecretKey sealed with the data dir's master key). Sub-accounts, their keys and
temporary credentials live in :mod:`cosbeauty.iam.store`.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass

from cosbeauty.iam.crypto import SecretBox
from cosbeauty.iam.policy import Policy
from cosbeauty.iam.store import Credential, IamStore, new_secret_id

CRED_FILE = "credentials.json"


@dataclass(frozen=True)
class Principal:
    kind: str            # "root", "sub" or "temp" (temporary credentials of a sub-account)
    name: str
    appid: str
    access_key: str
    account_uin: str = ""                       # sub-accounts: their numeric uin
    session_policy: Policy | None = None        # temp: the inline policy the token was minted with

    @property
    def is_root(self) -> bool:
        return self.kind == "root"

    @property
    def uin(self) -> str:
        return f"qcs::cam::uin/{self.appid}:uin/{self.account_uin or self.name}"


def write_private_json(path: str, data: dict) -> None:
    """Write JSON readable only by the owner, crash-safe (temp file, fsync, rename)."""
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_root_credentials(data_dir: str, box: SecretBox | None = None) -> tuple[str, str, bool]:
    """(secret_id, secret_key, created_now). A plaintext file from an older version is resealed."""
    env_id, env_key = os.environ.get("COSBEAUTY_SECRET_ID"), os.environ.get("COSBEAUTY_SECRET_KEY")
    if env_id and env_key:
        return env_id, env_key, False
    box = box or SecretBox.for_data_dir(data_dir)
    path = os.path.join(data_dir, CRED_FILE)
    if os.path.exists(path):
        with open(path) as f:
            data = json.load(f)
        if "secret_key" in data:
            write_private_json(path, {"secret_id": data["secret_id"],
                                       "sealed_secret_key": box.seal(data["secret_key"], data["secret_id"])})
            return data["secret_id"], data["secret_key"], False
        return data["secret_id"], box.open(data["sealed_secret_key"], data["secret_id"]), False
    os.makedirs(data_dir, exist_ok=True)
    secret_id, secret_key = new_secret_id(), secrets.token_urlsafe(24)
    write_private_json(path, {"secret_id": secret_id, "sealed_secret_key": box.seal(secret_key, secret_id)})
    return secret_id, secret_key, True


class Accounts:
    """Credential lookup for the signature layer and principal lookup for authorization."""

    def __init__(self, appid: str, root_id: str, root_key: str, store: IamStore | None = None) -> None:
        self.appid = appid
        self.store = store
        self._root = Principal("root", appid, appid, root_id)
        self._root_key = root_key

    @property
    def root_access_key(self) -> str:
        return self._root.access_key

    def credential(self, access_key: str) -> Credential | None:
        """A sub-account's (or temporary) credential, enabled or not."""
        if self.store is None or access_key == self._root.access_key:
            return None
        return self.store.credential(access_key)

    def lookup_secret(self, access_key: str) -> str | None:
        if access_key == self._root.access_key:
            return self._root_key
        cred = self.credential(access_key)
        return cred.secret_key if cred is not None and cred.active else None

    def principal(self, access_key: str) -> Principal | None:
        if access_key == self._root.access_key:
            return self._root
        cred = self.credential(access_key)
        if cred is None or not cred.active:
            return None
        return Principal("temp" if cred.temporary else "sub", cred.user, self.appid, access_key,
                         cred.uin, cred.session_policy)

    def policies(self, principal: Principal) -> tuple[Policy, ...]:
        """The policies attached to the principal's sub-account."""
        return self.store.policies(principal.name) if self.store is not None and not principal.is_root else ()
