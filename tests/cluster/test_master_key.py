"""The master key that seals signing keys, shared by every node: --master-key-file,
COSBEAUTY_MASTER_KEY(_FILE), and rotation with COSBEAUTY_MASTER_KEY_PREVIOUS_FILES."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys

import pytest
from cryptography.exceptions import InvalidTag
from qcloud_cos.cos_exception import CosServiceError

from cosbeauty.iam.crypto import SecretBox
from tests.cluster.conftest import node, wait_ready
from tests.conftest import cos_client, new_bucket

ENV = ("COSBEAUTY_MASTER_KEY", "COSBEAUTY_MASTER_KEY_FILE", "COSBEAUTY_MASTER_KEY_PREVIOUS_FILES")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


def test_key_sources_and_formats(tmp_path, monkeypatch):
    key = secrets.token_bytes(32)
    raw, hexed, b64 = tmp_path / "raw", tmp_path / "hex", tmp_path / "b64"
    raw.write_bytes(key)
    hexed.write_text(key.hex() + "\n")
    b64.write_text(base64.b64encode(key).decode() + "\n")
    sealed = SecretBox(key).seal("secret", "AKID1")
    data = tmp_path / "data"
    for path in (raw, hexed, b64):
        assert SecretBox.for_data_dir(str(data), str(path)).open(sealed, "AKID1") == "secret"
    assert not (data / "master.key").exists()            # a given key is never replaced by a local one
    monkeypatch.setenv("COSBEAUTY_MASTER_KEY_FILE", str(hexed))
    assert SecretBox.for_data_dir(str(data)).open(sealed, "AKID1") == "secret"
    monkeypatch.setenv("COSBEAUTY_MASTER_KEY", base64.b64encode(key).decode())
    assert SecretBox.for_data_dir(str(data)).open(sealed, "AKID1") == "secret"
    monkeypatch.setenv("COSBEAUTY_MASTER_KEY", "00" * 32)     # the flag wins over the environment
    assert SecretBox.for_data_dir(str(data), str(raw)).open(sealed, "AKID1") == "secret"
    bad = tmp_path / "bad"
    bad.write_text("too short")
    with pytest.raises(ValueError, match="32-byte key"):
        SecretBox.for_data_dir(str(data), str(bad))
    monkeypatch.delenv("COSBEAUTY_MASTER_KEY")
    with pytest.raises(FileNotFoundError):
        SecretBox.for_data_dir(str(data), str(tmp_path / "missing"))


def test_rotation_opens_old_secrets_and_seals_with_the_new_key(tmp_path, monkeypatch):
    old, new = tmp_path / "old.key", tmp_path / "new.key"
    old.write_bytes(secrets.token_bytes(32))
    new.write_bytes(secrets.token_bytes(32))
    sealed_old = SecretBox.for_data_dir(str(tmp_path), str(old)).seal("s1", "AKID1")
    with pytest.raises(InvalidTag):
        SecretBox.for_data_dir(str(tmp_path), str(new)).open(sealed_old, "AKID1")
    monkeypatch.setenv("COSBEAUTY_MASTER_KEY_PREVIOUS_FILES", str(old))
    box = SecretBox.for_data_dir(str(tmp_path), str(new))
    assert box.open(sealed_old, "AKID1") == "s1"
    sealed_new = box.seal("s2", "AKID2")
    assert SecretBox.for_data_dir(str(tmp_path), str(new)).open(sealed_new, "AKID2") == "s2"


def _cli(*args: str, env: dict) -> None:
    subprocess.run([sys.executable, "-m", "cosbeauty", *args], check=True, capture_output=True, timeout=60,
                   env={**os.environ, **env})


def test_serve_with_master_key_file_and_rotate(tmp_path):
    """Sub-account keys sealed under --master-key-file work on the node; after switching the node to
    a new key they only open with the old key listed in COSBEAUTY_MASTER_KEY_PREVIOUS_FILES."""
    key1, key2 = tmp_path / "k1", tmp_path / "k2"
    key1.write_bytes(secrets.token_bytes(32))
    key2.write_bytes(secrets.token_bytes(32))
    policy = tmp_path / "p.json"
    policy.write_text(json.dumps({"version": "2.0", "statement": [
        {"effect": "allow", "action": ["cos:*"], "resource": ["*"]}]}))
    alice = ("AKIDalice0000000000000000000000000001", "alice-secret-key-0000000000000001")
    with node(["--master-key-file", str(key1)]) as srv:
        wait_ready(srv)
        assert not os.path.exists(os.path.join(srv.data_dir, "master.key"))
        srv.stop()
        env = {"COSBEAUTY_MASTER_KEY_FILE": str(key1)}
        _cli("user", "create", "alice", "--data-dir", srv.data_dir, env=env)
        _cli("key", "create", "alice", "--data-dir", srv.data_dir, "--secret-id", alice[0],
             "--secret-key", alice[1], env=env)
        _cli("policy", "attach", "alice", str(policy), "--name", "all", "--data-dir", srv.data_dir, env=env)
        srv.start()
        wait_ready(srv)
        new_bucket(cos_client(srv.port, *alice), "mk")
        srv.stop()

        srv.extra_args = ["--master-key-file", str(key2)]          # rotated, old key forgotten: refused
        srv.start()
        with pytest.raises(CosServiceError) as err:
            cos_client(srv.port, *alice).list_buckets()
        assert err.value.get_status_code() >= 400
        srv.stop()

        os.environ["COSBEAUTY_MASTER_KEY_PREVIOUS_FILES"] = str(key1)   # rotated with the old key listed
        try:
            srv.start()
        finally:
            del os.environ["COSBEAUTY_MASTER_KEY_PREVIOUS_FILES"]
        wait_ready(srv)
        assert cos_client(srv.port, *alice).list_buckets()["Buckets"]
        srv.stop()

        # re-seal under the new key: afterwards the old key is not needed any more
        with pytest.raises(subprocess.CalledProcessError):       # without the old key: refused, nothing changed
            _cli("master-key", "reseal", "--data-dir", srv.data_dir, "--master-key-file", str(key2), env={})
        _cli("master-key", "reseal", "--data-dir", srv.data_dir, "--master-key-file", str(key2),
             env={"COSBEAUTY_MASTER_KEY_PREVIOUS_FILES": str(key1)})
        srv.start()
        wait_ready(srv)
        assert cos_client(srv.port, *alice).list_buckets()["Buckets"]


def test_generate_writes_a_private_key_and_never_overwrites(tmp_path):
    path = tmp_path / "m.key"
    _cli("master-key", "generate", str(path), env={})
    assert len(path.read_bytes()) == 32 and (path.stat().st_mode & 0o777) == 0o600
    before = path.read_bytes()
    with pytest.raises(subprocess.CalledProcessError):
        _cli("master-key", "generate", str(path), env={})
    assert path.read_bytes() == before
