"""Incremental decoder for ``Content-Encoding: aws-chunked`` bodies (SigV4 streaming uploads).

Wire format (``x-amz-content-sha256`` tells which one)::

    STREAMING-AWS4-HMAC-SHA256-PAYLOAD           <hex>;chunk-signature=<sig>\\r\\n<data>\\r\\n ... 0;chunk-signature=<sig>\\r\\n\\r\\n
    STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER   same, then after the 0-chunk: <trailer>:<v>\\r\\nx-amz-trailer-signature:<sig>\\r\\n\\r\\n
    STREAMING-UNSIGNED-PAYLOAD-TRAILER           <hex>\\r\\n<data>\\r\\n ... 0\\r\\n<trailer>:<v>\\r\\n\\r\\n

Chunk signatures chain from the seed signature (the request's own SigV4 signature). Data is
yielded as it arrives, *before* the signature of the chunk it belongs to has been checked: the
consumer must treat everything it received as provisional until the iterator finishes without
raising (write to a temporary file, commit at the end).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import zlib
from dataclasses import dataclass, field
from typing import AsyncIterator, Callable, Protocol

from cosbeauty.api.errors import CosError

MAX_LINE = 4096           # longest chunk-size / trailer line accepted
MAX_TRAILERS = 16         # most trailer lines accepted
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

SIGNED_PAYLOAD = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
SIGNED_PAYLOAD_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
UNSIGNED_PAYLOAD_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
STREAMING_MODES = (SIGNED_PAYLOAD, SIGNED_PAYLOAD_TRAILER, UNSIGNED_PAYLOAD_TRAILER)


@dataclass(frozen=True)
class ChunkedContext:
    """What :func:`decode_aws_chunked` needs from the request's SigV4 verification."""

    mode: str                     # one of STREAMING_MODES
    signing_key: bytes            # SigV4 signing key (kSigning) of the request
    amz_date: str                 # request timestamp, e.g. "20240101T000000Z"
    scope: str                    # "20240101/<region>/s3/aws4_request"
    seed_signature: str           # the request's SigV4 signature
    trailer: str | None = None    # lower-case trailer name announced in x-amz-trailer
    decoded_length: int | None = None   # x-amz-decoded-content-length
    # filled once the body is decoded: {trailer name: value} of the verified trailing checksum
    verified: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def signed_chunks(self) -> bool:
        return self.mode != UNSIGNED_PAYLOAD_TRAILER

    @property
    def signed_trailer(self) -> bool:
        return self.mode == SIGNED_PAYLOAD_TRAILER


def utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def same_signature(expected: str, provided: str) -> bool:
    """Constant-time comparison that accepts any (even non-ASCII) provided text."""
    return hmac.compare_digest(utf8(expected), utf8(provided))


def decoded_content_length(headers: dict[str, str]) -> int | None:
    """The payload length announced in ``x-amz-decoded-content-length`` (None when absent)."""
    value = headers.get("x-amz-decoded-content-length")
    if value is None:
        return None
    if not re.fullmatch(r"[0-9]{1,18}", value.strip()):
        raise CosError("InvalidArgument", "x-amz-decoded-content-length must be a non-negative integer")
    return int(value)


# -- checksums -------------------------------------------------------------------------------


class _Checksum(Protocol):
    def update(self, data: bytes) -> None: ...
    def digest(self) -> bytes: ...


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC32C_TABLE = _crc32c_table()


def _crc32c_python(data: bytes, crc: int = 0) -> int:
    crc ^= 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _crc32c_function() -> Callable[[bytes, int], int]:
    try:
        import crcmod.predefined  # optional C-accelerated implementation
    except ImportError:
        return _crc32c_python
    return crcmod.predefined.mkCrcFun("crc-32c")


crc32c = _crc32c_function()


class _Crc:
    def __init__(self, func: Callable[[bytes, int], int]) -> None:
        self._func = func
        self._value = 0

    def update(self, data: bytes) -> None:
        self._value = self._func(data, self._value)

    def digest(self) -> bytes:
        return (self._value & 0xFFFFFFFF).to_bytes(4, "big")


CHECKSUMS: dict[str, Callable[[], _Checksum]] = {
    "x-amz-checksum-crc32": lambda: _Crc(zlib.crc32),
    "x-amz-checksum-crc32c": lambda: _Crc(crc32c),
    "x-amz-checksum-sha1": hashlib.sha1,
    "x-amz-checksum-sha256": hashlib.sha256,
}
# Other algorithms (crc64nvme...) are parsed but not verified.


# -- framing ---------------------------------------------------------------------------------


class _Reader:
    """Buffered reads over an async byte iterator, tolerant of arbitrary splitting."""

    def __init__(self, source: AsyncIterator[bytes]) -> None:
        self._source = source.__aiter__()
        self._buf = b""
        self._pos = 0

    async def _fill(self) -> bool:
        async for piece in self._source:
            if piece:
                self._buf = self._buf[self._pos:] + bytes(piece)
                self._pos = 0
                return True
        return False

    async def readline(self) -> bytes | None:
        """One line without its line ending; None at a clean end of input."""
        while True:
            end = self._buf.find(b"\n", self._pos, self._pos + MAX_LINE + 1)
            if end >= 0:
                line = self._buf[self._pos:end]
                self._pos = end + 1
                return line[:-1] if line.endswith(b"\r") else line
            if len(self._buf) - self._pos > MAX_LINE:
                raise CosError("InvalidRequest", "aws-chunked: line too long")
            if not await self._fill():
                if self._pos == len(self._buf):
                    return None
                raise CosError("IncompleteBody", "aws-chunked: body ends inside a line")

    async def read_some(self, limit: int) -> bytes:
        """Between 1 and ``limit`` bytes; IncompleteBody at end of input."""
        if self._pos == len(self._buf) and not await self._fill():
            raise CosError("IncompleteBody", "aws-chunked: body ends inside a chunk")
        piece = self._buf[self._pos:self._pos + limit]
        self._pos += len(piece)
        return piece

    async def expect(self, literal: bytes) -> None:
        got = b""
        while len(got) < len(literal):
            got += await self.read_some(len(literal) - len(got))
        if got != literal:
            raise CosError("InvalidRequest", "aws-chunked: chunk data is not followed by CRLF")

    async def at_end(self) -> bool:
        return self._pos == len(self._buf) and not await self._fill()


def _parse_chunk_header(line: bytes, signed: bool) -> tuple[int, str]:
    size_text, _, extensions = line.partition(b";")
    size_text = size_text.strip()
    if not size_text or len(size_text) > 16 or any(c not in b"0123456789abcdefABCDEF" for c in size_text):
        raise CosError("InvalidRequest", "aws-chunked: malformed chunk size")
    signature = ""
    for extension in extensions.split(b";"):
        name, _, value = extension.partition(b"=")
        if name.strip() == b"chunk-signature":
            signature = value.strip().decode("ascii", "replace").lower()
    if signed and not signature:
        raise CosError("SignatureDoesNotMatch", "aws-chunked: chunk without chunk-signature")
    return int(size_text, 16), signature


def _chained_signature(ctx: ChunkedContext, kind: str, previous: str, digest: str) -> str:
    parts = [f"AWS4-HMAC-SHA256-{kind}", ctx.amz_date, ctx.scope, previous]
    if kind == "PAYLOAD":
        parts.append(EMPTY_SHA256)
    parts.append(digest)
    return hmac.new(ctx.signing_key, utf8("\n".join(parts)), hashlib.sha256).hexdigest()


def _check_chain(ctx: ChunkedContext, kind: str, previous: str, digest: str, provided: str) -> None:
    if not same_signature(_chained_signature(ctx, kind, previous, digest), provided):
        what = "chunk" if kind == "PAYLOAD" else "trailer"
        raise CosError("SignatureDoesNotMatch", f"aws-chunked: {what} signature does not match")


async def _read_trailers(reader: _Reader) -> list[tuple[str, str]]:
    trailers: list[tuple[str, str]] = []
    while (line := await reader.readline()):
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep or len(trailers) >= MAX_TRAILERS:
            raise CosError("InvalidRequest", "aws-chunked: malformed trailer")
        trailers.append((name.strip().lower(), value.strip()))
    if not await reader.at_end():
        raise CosError("InvalidRequest", "aws-chunked: data after the end of the body")
    return trailers


def _check_trailers(ctx: ChunkedContext, trailers: list[tuple[str, str]], previous: str,
                    checksum: _Checksum | None) -> None:
    values = dict(trailers)
    if ctx.trailer and ctx.trailer not in values:
        raise CosError("InvalidRequest", f"aws-chunked: announced trailer {ctx.trailer} is missing")
    if ctx.signed_trailer:
        provided = values.get("x-amz-trailer-signature", "").lower()
        canonical = "".join(f"{k}:{v}\n" for k, v in trailers if k != "x-amz-trailer-signature")
        _check_chain(ctx, "TRAILER", previous, hashlib.sha256(utf8(canonical)).hexdigest(), provided)
    if checksum is not None and ctx.trailer:
        if base64.b64encode(checksum.digest()).decode() != values[ctx.trailer]:
            raise CosError("BadDigest", f"The {ctx.trailer} you specified did not match the calculated checksum.")
        ctx.verified[ctx.trailer] = values[ctx.trailer]


def _check_length(ctx: ChunkedContext, total: int, final: bool) -> None:
    if ctx.decoded_length is None:
        return
    if total > ctx.decoded_length:
        raise CosError("InvalidRequest", "aws-chunked: more data than x-amz-decoded-content-length")
    if final and total < ctx.decoded_length:
        raise CosError("IncompleteBody")


async def decode_aws_chunked(source: AsyncIterator[bytes], ctx: ChunkedContext) -> AsyncIterator[bytes]:
    """Yield the decoded payload of an aws-chunked body, verifying signatures and the trailing checksum.

    Raises :class:`CosError` (SignatureDoesNotMatch, BadDigest, IncompleteBody, InvalidRequest).
    """
    reader = _Reader(source)
    factory = CHECKSUMS.get(ctx.trailer or "")
    checksum = factory() if factory else None
    previous, total = ctx.seed_signature, 0
    while True:
        line = await reader.readline()
        if line is None:
            raise CosError("IncompleteBody", "aws-chunked: body ends before the final chunk")
        size, signature = _parse_chunk_header(line, ctx.signed_chunks)
        payload_hash = hashlib.sha256()
        remaining = size
        while remaining:
            piece = await reader.read_some(remaining)
            remaining -= len(piece)
            total += len(piece)
            _check_length(ctx, total, final=False)
            payload_hash.update(piece)
            if checksum is not None:
                checksum.update(piece)
            yield piece
        if ctx.signed_chunks:
            _check_chain(ctx, "PAYLOAD", previous, payload_hash.hexdigest(), signature)
            previous = signature
        if size == 0:
            break
        await reader.expect(b"\r\n")
    _check_length(ctx, total, final=True)
    _check_trailers(ctx, await _read_trailers(reader), previous, checksum)
