"""Receiving a request body into a blob: streamed to disk in ~1 MiB batches off the event loop,
hashed (MD5 always; SHA-256 when the client signed one), size-limited and digest-checked before
anything becomes visible."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Callable

from cosbeauty.api.context import Ctx, run
from cosbeauty.api.digests import BodyChecks
from cosbeauty.storage import BlobWriter

BATCH = 1 << 20
log = logging.getLogger("cosbeauty.api")


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


_UNKNOWN = -1


async def receive_blob(ctx: Ctx, *, max_size: int, allow_inline: bool = True,
                       declared: int | None = _UNKNOWN) -> ReceivedBlob:
    """Stream the request body into a new durable blob. On any error nothing is left behind.
    ``declared``: ``ctx.declared_length()`` when the caller has it already."""
    if declared == _UNKNOWN:
        declared = ctx.declared_length()
    if declared is not None and declared > max_size:
        raise ctx.error("EntityTooLarge", f"The object may be at most {max_size} bytes.")
    checks = BodyChecks(ctx)
    writer = ctx.app.backend.blob_writer(allow_inline=allow_inline)

    def write_batch(chunks: list[bytes]) -> None:
        data = b"".join(chunks) if len(chunks) > 1 else chunks[0]
        writer.write(data)
        checks.update(data)

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
        checks.check(writer.md5.digest() if checks.md5 is not None else None)   # digest: only to compare
        if writer.buffered:
            blob, inline = writer.finish()
        else:
            blob, inline = await run(writer.finish)
    except BaseException as exc:
        await abort_writer(writer, exc)
        raise
    return ReceivedBlob(writer, blob, inline, writer.size, writer.md5.hexdigest(), writer.crc64)


async def drop(ctx: Ctx, received: ReceivedBlob, exc: BaseException) -> None:
    """Discard a received body whose request failed with ``exc`` (off the event loop)."""
    if received.blob:
        await cleanup(exc, ctx.app.backend.drop_blobs, [received.blob])


async def abort_writer(writer: BlobWriter, exc: BaseException) -> None:
    """``writer.abort()`` for a request that failed with ``exc``: at once while nothing left
    memory, else in a worker thread (a temp file to unlink, a blob-store upload to abort)."""
    if writer.buffered:
        writer.abort()
    else:
        await cleanup(exc, writer.abort)


async def cleanup(exc: BaseException, fn: Callable[..., Any], *args: Any) -> None:
    """Run the clean-up ``fn(*args)`` of a request that failed with ``exc`` in a worker thread: it
    deletes files or blobs (in cluster mode a blob-store call or a PostgreSQL write), which must
    not stall the event loop. A failing clean-up is logged, never raised over ``exc``. When the
    request is being cancelled (``exc`` is not an Exception), the clean-up is handed to a thread
    without waiting for it."""
    def job() -> None:
        try:
            fn(*args)
        except Exception:
            log.warning("clean-up after a failed request failed", exc_info=True)
    if isinstance(exc, Exception):
        await run(job)
    else:
        asyncio.get_running_loop().run_in_executor(None, job)
