"""The part every blob writer shares: size, MD5 and CRC-64 of the bytes, and the small-body buffer
(bodies up to INLINE_MAX stay in memory and go into the metadata row, no blob at all)."""

from __future__ import annotations

import abc
import hashlib

from cosbeauty.storage.base import BlobWriter
from cosbeauty.storage.checksums import crc64


class SpillingBlobWriter(BlobWriter):
    """Buffers up to ``inline_max`` bytes; beyond that calls ``_spill`` with everything so far and
    ``_append`` for each later write. ``finish`` returns (None, bytes) for a small buffered body."""

    def __init__(self, inline_max: int) -> None:
        self._inline_max = inline_max
        self._buf = bytearray()
        self._spilled = False
        self._done = False
        self.size = 0
        self.md5 = hashlib.md5()
        self.crc64 = 0

    def write(self, data: bytes) -> None:
        if not data:
            return
        if self._done:
            raise ValueError("write after finish/abort")
        self.md5.update(data)
        self.crc64 = crc64(data, self.crc64)
        self.size += len(data)
        if not self._spilled and self.size <= self._inline_max:
            self._buf += data
            return
        if not self._spilled:
            self._spilled = True
            first, self._buf = bytes(self._buf), bytearray()
            self._spill(first + data if first else data)
            return
        self._append(data)

    @property
    def buffered(self) -> bool:
        return not self._spilled and self._inline_max >= 0

    def finish(self) -> tuple[str | None, bytes | None]:
        if self.buffered:
            self._done = True
            return None, bytes(self._buf)
        if not self._spilled:          # empty or tiny body that must still be a blob
            self._spilled = True
            first, self._buf = bytes(self._buf), bytearray()
            self._spill(first)
        self._done = True
        return self._commit(), None

    def abort(self) -> None:
        self._done = True
        self._buf = bytearray()
        if self._spilled:
            self._discard()

    @abc.abstractmethod
    def _spill(self, data: bytes) -> None:
        """Start the blob with ``data`` (may be empty)."""

    @abc.abstractmethod
    def _append(self, data: bytes) -> None: ...

    @abc.abstractmethod
    def _commit(self) -> str:
        """Make the blob durable and return its name."""

    @abc.abstractmethod
    def _discard(self) -> None:
        """Remove whatever was written (idempotent, best effort)."""
