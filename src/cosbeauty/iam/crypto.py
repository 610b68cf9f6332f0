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


class SecretBox:
    """Encrypts and decrypts short secrets with the data dir's master key."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    @classmethod
    def for_data_dir(cls, data_dir: str) -> "SecretBox":
        path = os.path.join(data_dir, MASTER_KEY_FILE)
        if not os.path.exists(path):
            os.makedirs(data_dir, exist_ok=True)
            _write_private(path, secrets.token_bytes(32))
        with open(path, "rb") as f:
            key = f.read()
        if len(key) != 32:
            raise ValueError(f"{path} must hold exactly 32 bytes")
        return cls(key)

    def seal(self, plaintext: str, context: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return f"{_VERSION}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, token: str, context: str) -> str:
        version, _, payload = token.partition(":")
        if version != _VERSION:
            raise ValueError("unknown secret encoding")
        raw = base64.b64decode(payload)
        return self._aead.decrypt(raw[:12], raw[12:], context.encode()).decode()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
