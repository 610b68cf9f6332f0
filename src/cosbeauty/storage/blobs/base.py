"""The blob store contract (:class:`BlobStore`), its errors and names; the stores implement it."""

from __future__ import annotations

import abc
import logging
import re
import uuid
from typing import BinaryIO, Callable, Iterable, Iterator

from cosbeauty.storage.base import BlobWriter, StorageError

log = logging.getLogger("cosbeauty.blobs")

BLOB_NAME = re.compile(r"^[0-9a-f]{32}$")
INLINE_MAX = 64 * 1024          # objects up to this size live in the metadata row (embedded and blob stores)
SWEEP_GRACE = 600.0             # seconds: an unreferenced blob younger than this may be an in-flight write


def new_blob_name() -> str:
    return uuid.uuid4().hex


_PUBLIC = {"ServiceUnavailable": "The blob store is unavailable; please retry.",
           "InternalError": "The blob store could not serve the request."}


class BlobStoreError(StorageError):
    """A StorageError whose client-facing message is generic; the detail (endpoint, bucket, blob)
    goes to the log only."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code, _PUBLIC.get(code, code))
        self.detail = detail
        log.warning("%s", detail)


class BlobStoreOwned(RuntimeError):
    """The store is claimed by another metadata store: refusing to use (and sweep) it."""


class BlobStore(abc.ABC):
    """Immutable blobs by name. Thread-safe; every method may block (call it off the event loop)."""

    url: str = ""
    # observer(operation, "ok"|"error", seconds) for every request to a remote store (metrics)
    observer: Callable[[str, str, float], None] | None = None

    @abc.abstractmethod
    def writer(self, *, allow_inline: bool = True) -> BlobWriter:
        """A new blob; bodies up to INLINE_MAX stay in memory (for the metadata row) when allowed."""

    @abc.abstractmethod
    def open(self, name: str) -> BinaryIO:
        """A seekable, read-only file object over the blob (reads may be ranged requests)."""

    @abc.abstractmethod
    def copy(self, name: str) -> str:
        """A new blob with the same bytes (server-side where the store can); returns its name."""

    @abc.abstractmethod
    def delete(self, names: Iterable[str]) -> None:
        """Delete blobs; missing ones are fine. Never raises for an unreachable store (logs; the
        sweep removes them later), because callers run it after the metadata commit."""

    @abc.abstractmethod
    def iter_names(self) -> Iterator[tuple[str, float]]:
        """Every blob as (name, mtime in epoch seconds)."""

    @abc.abstractmethod
    def check(self) -> None:
        """Raise StorageError("ServiceUnavailable") unless the store answers (readiness probe)."""

    @abc.abstractmethod
    def claim(self, owner: str) -> None:
        """Bind the store to one metadata store id; raise BlobStoreOwned if another holds it."""

    def sweep(self, referenced: set[str], older_than: float) -> int:
        """Delete blobs that no row references and that are older than ``older_than`` (epoch s)."""
        doomed: list[str] = []
        removed = 0
        for name, mtime in self.iter_names():
            if name in referenced or mtime >= older_than or not BLOB_NAME.match(name):
                continue
            doomed.append(name)
            if len(doomed) >= 1000:
                self.delete(doomed)
                removed += len(doomed)
                doomed = []
        if doomed:
            self.delete(doomed)
            removed += len(doomed)
        return removed

    def close(self) -> None:
        pass
