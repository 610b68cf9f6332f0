"""Secrets at rest.

Signing keys must be recoverable server-side (HMAC needs the plaintext SecretKey), so they are
*encrypted* with AES-256-GCM under a per-data-dir master key (``<data>/master.key``, 32 random
bytes, mode 0600). The associated data binds each ciphertext to its SecretId, so swapping rows
in the database does not swap secrets. Session tokens are only ever compared, so they are stored
as SHA-256 digests (they are 256-bit random values: no salt or slow hash needed).
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MASTER_KEY_FILE = "master.key"
_VERSION = "v1"


def _write_private(path: str, data: bytes) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    try:
        os.link(tmp, path)          # never overwrite a key another process just created
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)


def parse_key(data: bytes, where: str) -> bytes:
    """A master key: 32 raw bytes, or 64 hex / 44 base64 characters (surrounding whitespace ignored)."""
    if len(data) == 32:
        return data
    text = data.strip()
    try:
        if len(text) == 64:
            return bytes.fromhex(text.decode())
        if len(text) == 44:
            key = base64.b64decode(text, validate=True)
            if len(key) == 32:
                return key
    except ValueError:
        pass
    raise ValueError(f"{where} must hold a 32-byte key (raw, 64 hex or 44 base64 characters)")


def _read_key(path: str) -> bytes:
    with open(path, "rb") as f:
        return parse_key(f.read(), path)


class SecretBox:
    """Encrypts and decrypts short secrets with the master key.

    The key comes from, in this order: ``key_file`` (``serve --master-key-file``; must exist: every
    node of a cluster is given the same file), ``COSBEAUTY_MASTER_KEY`` (the key itself, hex or
    base64), ``COSBEAUTY_MASTER_KEY_FILE``, else ``<data>/master.key`` (created on first start: the
    embedded default).
    Rotation: seal with the new key while the previous ones, listed in
    ``COSBEAUTY_MASTER_KEY_PREVIOUS_FILES`` (colon-separated paths), still open older secrets.
    """

    def __init__(self, key: bytes, previous: list[bytes] | tuple = ()) -> None:
        self._aead = AESGCM(key)
        self._older = [AESGCM(k) for k in previous]

    @classmethod
    def for_data_dir(cls, data_dir: str, key_file: str | None = None) -> "SecretBox":
        previous = [_read_key(p) for p in os.environ.get("COSBEAUTY_MASTER_KEY_PREVIOUS_FILES", "").split(":") if p]
        env_key = os.environ.get("COSBEAUTY_MASTER_KEY")
        if env_key and not key_file:
            return cls(parse_key(env_key.encode(), "COSBEAUTY_MASTER_KEY"), previous)
        key_file = key_file or os.environ.get("COSBEAUTY_MASTER_KEY_FILE") or None
        if key_file:
            if not os.path.exists(key_file):
                raise FileNotFoundError(f"master key file {key_file} does not exist (make one with "
                                        "`head -c 32 /dev/urandom > FILE` and give it to every node)")
            return cls(_read_key(key_file), previous)
        path = os.path.join(data_dir, MASTER_KEY_FILE)
        if not os.path.exists(path):
            os.makedirs(data_dir, exist_ok=True)
            _write_private(path, secrets.token_bytes(32))
        with open(path, "rb") as f:
            key = f.read()
        if len(key) != 32:
            raise ValueError(f"{path} must hold exactly 32 bytes")
        return cls(key, previous)

    def seal(self, plaintext: str, context: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return f"{_VERSION}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, token: str, context: str) -> str:
        version, _, payload = token.partition(":")
        if version != _VERSION:
            raise ValueError("unknown secret encoding")
        raw = base64.b64decode(payload)
        try:
            return self._aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
        except InvalidTag:
            for aead in self._older:       # sealed before a key rotation
                try:
                    return aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
                except InvalidTag:
                    continue
            raise


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
