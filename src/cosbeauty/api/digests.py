"""What a client claims about a request body -- ``Content-MD5``, a signed ``x-amz-content-sha256``,
an ``x-amz-checksum-crc32`` / ``x-cos-checksum-crc32`` -- checked against what arrived. One checker
for small bodies read whole (XML, JSON) and for bodies streamed into blobs."""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from typing import Protocol

from cosbeauty.api.errors import CosError


class Ctx(Protocol):
    """What the checks read from the request (:class:`cosbeauty.api.context.Ctx` has it; typed
    here as a protocol so api/context.py and this module do not import each other)."""
    identity: object
    headers: dict[str, str]

    def header(self, name: str, default: str | None = None) -> str | None: ...

    def error(self, code: str, message: str | None = None) -> CosError: ...


class BodyChecks:
    def __init__(self, ctx: "Ctx") -> None:
        """Reads the claims; a malformed Content-MD5 is refused here, before any body is read."""
        self.ctx = ctx
        claimed = getattr(ctx.identity, "payload_sha256", None)
        self.sha256_claimed = claimed
        self.sha256 = hashlib.sha256() if claimed else None
        self.crc32 = 0
        if _CLAIM_HEADERS.isdisjoint(ctx.headers):     # the usual request claims nothing: no lookups
            self.md5 = None
            self.crc32_claimed = None
            self.others = {}
            return
        self.md5 = _claimed_md5(ctx)
        self.crc32_claimed = ctx.header("x-amz-checksum-crc32") or ctx.header("x-cos-checksum-crc32")
        # the other S3 checksums sent as headers (x-amz-checksum-crc32c / -sha1 / -sha256)
        self.others = {name: (value.strip(), factory()) for name, factory in _OTHER_CHECKSUMS.items()
                       if (value := ctx.header(name))}

    def update(self, data: bytes) -> None:
        if self.sha256 is not None:
            self.sha256.update(data)
        if self.crc32_claimed:
            self.crc32 = zlib.crc32(data, self.crc32)
        for _, digest in self.others.values():
            digest.update(data)

    def check(self, md5_digest: bytes | None) -> None:
        """``md5_digest``: of the body received (may be None when no Content-MD5 was claimed)."""
        ctx = self.ctx
        if self.md5 is not None and md5_digest != self.md5:
            raise ctx.error("BadDigest", "The Content-MD5 you specified did not match what we received.")
        if self.sha256 is not None and self.sha256.hexdigest() != self.sha256_claimed.lower():
            raise ctx.error("BadDigest", "The x-amz-content-sha256 you specified did not match what we received.")
        if self.crc32_claimed:
            ours = base64.b64encode(self.crc32.to_bytes(4, "big")).decode()
            if ours != self.crc32_claimed.strip():
                raise ctx.error("BadDigest", "The CRC32 checksum you specified did not match what we received.")
        for name, (claimed, digest) in self.others.items():
            if base64.b64encode(digest.digest()).decode() != claimed:
                raise ctx.error("BadDigest", f"The {name} you specified did not match what we received.")


def _other_checksums() -> dict:
    from cosbeauty.api.auth.chunked import CHECKSUMS
    return {name: factory for name, factory in CHECKSUMS.items() if name != "x-amz-checksum-crc32"}


_OTHER_CHECKSUMS = _other_checksums()
# every header BodyChecks reads
_CLAIM_HEADERS = frozenset({"content-md5", "x-amz-checksum-crc32", "x-cos-checksum-crc32", *_OTHER_CHECKSUMS})


def _claimed_md5(ctx: "Ctx") -> bytes | None:
    value = ctx.header("content-md5")
    if value is None:
        return None
    try:
        digest = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 16:
        raise ctx.error("InvalidDigest", "The Content-MD5 you specified is not a base64 MD5 digest.")
    return digest
