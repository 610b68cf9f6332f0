"""Receiving a request body into a blob: streamed to disk in ~1 MiB batches off the event loop,
hashed (MD5 always; SHA-256 when the client signed one), size-limited and digest-checked before
anything becomes visible."""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from dataclasses import dataclass

from cosbeauty.api.context import Ctx, run
from cosbeauty.storage import BlobWriter

BATCH = 1 << 20


@dataclass
class ReceivedBlob:
    writer: BlobWriter
    blob: str | None
    inline: bytes | None
    size: int
    md5_hex: str
    crc64: int

    @property
    def segments(self) -> list:
        return [[self.blob, self.size]] if self.blob else []


def _expected_md5(ctx: Ctx) -> bytes | None:
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


class _Hashers:
    def __init__(self, ctx: Ctx) -> None:
        claimed = getattr(ctx.identity, "payload_sha256", None)
        self.sha256 = hashlib.sha256() if claimed else None
        self.sha256_claimed = claimed
        self.crc32_claimed = ctx.header("x-amz-checksum-crc32") or ctx.header("x-cos-checksum-crc32")
        self.crc32 = 0

    def update(self, data: bytes) -> None:
        if self.sha256 is not None:
            self.sha256.update(data)
        if self.crc32_claimed:
            self.crc32 = zlib.crc32(data, self.crc32)

    def check(self, ctx: Ctx) -> None:
        if self.sha256 is not None and self.sha256.hexdigest() != self.sha256_claimed.lower():
            raise ctx.error("BadDigest", "The x-amz-content-sha256 you specified did not match what we received.")
        if self.crc32_claimed:
            ours = base64.b64encode(self.crc32.to_bytes(4, "big")).decode()
            if ours != self.crc32_claimed.strip():
                raise ctx.error("BadDigest", "The CRC32 checksum you specified did not match what we received.")


async def receive_blob(ctx: Ctx, *, max_size: int, allow_inline: bool = True) -> ReceivedBlob:
    """Stream the request body into a new durable blob. On any error nothing is left behind."""
    declared = ctx.declared_length()
    if declared is not None and declared > max_size:
        raise ctx.error("EntityTooLarge", f"The object may be at most {max_size} bytes.")
    expected_md5 = _expected_md5(ctx)
    writer = ctx.app.backend.blob_writer(allow_inline=allow_inline)
    hashers = _Hashers(ctx)

    def write_batch(chunks: list[bytes]) -> None:
        data = b"".join(chunks) if len(chunks) > 1 else chunks[0]
        writer.write(data)
        hashers.update(data)

    try:
        batch: list[bytes] = []
        pending = 0
        async for chunk in ctx.stream():
            if writer.size + pending + len(chunk) > max_size:
                raise ctx.error("EntityTooLarge", f"The object may be at most {max_size} bytes.")
            batch.append(chunk)
            pending += len(chunk)
            if pending >= BATCH:
                await run(write_batch, batch)
                batch, pending = [], 0
        if batch:
            if pending <= 256 * 1024:
                write_batch(batch)   # small: cheaper than a thread hop
            else:
                await run(write_batch, batch)
        if declared is not None and writer.size != declared:
            raise ctx.error("IncompleteBody")
        if expected_md5 is not None and writer.md5.digest() != expected_md5:
            raise ctx.error("BadDigest", "The Content-MD5 you specified did not match what we received.")
        hashers.check(ctx)
        if writer.buffered:
            blob, inline = writer.finish()
        else:
            blob, inline = await run(writer.finish)
    except BaseException:
        writer.abort()
        raise
    return ReceivedBlob(writer, blob, inline, writer.size, writer.md5.hexdigest(), writer.crc64)


def drop(ctx: Ctx, received: ReceivedBlob) -> None:
    if received.blob:
        ctx.app.backend.drop_blobs([received.blob])
