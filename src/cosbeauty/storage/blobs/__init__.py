"""Blob stores: where object bytes live, behind the storage contract.

A blob is immutable and named by a random 32-hex id; metadata rows reference blobs by name and a
blob only becomes visible when the row that references it is committed. Three stores:

* the local data dir (the embedded default: ``<data>/blobs/<xx>/<id>``; ``LocalBackend``'s own code),
* ``file:///path`` -- a shared POSIX file system (CephFS, NFS), same layout under ``/path``
  (:class:`~cosbeauty.storage.blobs.files.FileBlobStore`),
* ``s3://BUCKET/PREFIX`` -- any S3-compatible store (Ceph RGW, MinIO, AWS S3, Tencent COS, another
  cosbeauty) with ``--blobs-endpoint URL`` and the usual AWS credential variables or credentials file
  (:class:`~cosbeauty.storage.blobs.s3.S3BlobStore`).

Every call is bounded (timeouts); an unreachable store raises ``StorageError("ServiceUnavailable")``
(HTTP 503), never a silent fallback. A store is *claimed* by one metadata store (an owner marker),
so two metadata databases never sweep each other's blobs.
"""

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


def open_blob_store(url: str, *, endpoint: str | None = None, fsync: bool = True) -> BlobStore:
    """``file:///path`` or ``s3://BUCKET[/PREFIX]`` (``endpoint``: the S3 endpoint URL)."""
    if url.startswith("file://"):
        from cosbeauty.storage.blobs.files import FileBlobStore
        path = url[len("file://"):]
        if not path.startswith("/"):
            raise ValueError(f"--blobs {url!r}: use file:///absolute/path")
        return FileBlobStore(path, fsync=fsync)
    if url.startswith("s3://"):
        from cosbeauty.storage.blobs.s3 import S3BlobStore
        bucket, _, prefix = url[len("s3://"):].partition("/")
        if not bucket:
            raise ValueError(f"--blobs {url!r}: s3://BUCKET[/PREFIX]")
        return S3BlobStore(bucket, prefix, endpoint=endpoint)
    raise ValueError(f"--blobs {url!r}: expected file:///path or s3://BUCKET/PREFIX")
