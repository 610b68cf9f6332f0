"""``file:///path``: blobs on a POSIX file system shared by every node (CephFS, NFS, a local disk).

Same layout as the embedded data dir, so a data dir's blobs can be served as is::

    /path/blobs/<xx>/<id>     immutable blobs
    /path/tmp/<id>            in-flight writes (any node's; the sweep removes stale ones)
    /path/owner               the metadata store id this directory belongs to

A write goes to ``tmp/``, is fsynced, renamed into ``blobs/`` and the directory fsynced: a crash
leaves either no blob or a whole one. Copies are hard links (a copy where the file system has none).
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
from typing import BinaryIO, Iterable, Iterator

from cosbeauty.storage.base import BlobWriter
from cosbeauty.storage.blobs.base import INLINE_MAX, BlobStore, BlobStoreError, BlobStoreOwned, new_blob_name
from cosbeauty.storage.blobs.common import SpillingBlobWriter

log = logging.getLogger("cosbeauty.blobs")
_NO_LINK = {errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK, errno.EOPNOTSUPP}


def fsync_dir(path: str) -> None:
    """fsync a directory (makes a rename or a new entry in it durable)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _FileWriter(SpillingBlobWriter):
    def __init__(self, store: "FileBlobStore", inline_max: int) -> None:
        super().__init__(inline_max)
        self._store = store
        self._name = new_blob_name()
        self._tmp = os.path.join(store.tmp_dir, self._name)
        self._fd: int | None = None

    def _spill(self, data: bytes) -> None:
        self._fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._append(data)

    def _append(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]

    def _commit(self) -> str:
        fd, self._fd = self._fd, None
        try:
            if self._store.fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        path = self._store.path(self._name)
        os.rename(self._tmp, path)
        if self._store.fsync:
            fsync_dir(os.path.dirname(path))
        return self._name

    def _discard(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        try:
            os.unlink(self._tmp)
        except FileNotFoundError:
            pass


class FileBlobStore(BlobStore):
    def __init__(self, root: str, *, fsync: bool = True) -> None:
        self.root = os.path.abspath(root)
        self.url = f"file://{self.root}"
        self.fsync = fsync
        self.blob_dir = os.path.join(self.root, "blobs")
        self.tmp_dir = os.path.join(self.root, "tmp")
        os.makedirs(self.tmp_dir, exist_ok=True)
        if not os.path.isdir(os.path.join(self.blob_dir, "ff")):
            for i in range(256):
                os.makedirs(os.path.join(self.blob_dir, f"{i:02x}"), exist_ok=True)
            fsync_dir(self.blob_dir)
            fsync_dir(self.root)

    def path(self, name: str) -> str:
        return os.path.join(self.blob_dir, name[:2], name)

    def writer(self, *, allow_inline: bool = True) -> BlobWriter:
        return _FileWriter(self, INLINE_MAX if allow_inline else -1)

    def open(self, name: str) -> BinaryIO:
        try:
            return open(self.path(name), "rb", buffering=0)
        except FileNotFoundError:
            raise BlobStoreError("InternalError", f"blob {name} is missing from {self.url}") from None

    def copy(self, name: str) -> str:
        new = new_blob_name()
        dst = self.path(new)
        try:
            os.link(self.path(name), dst)
            os.utime(dst)   # a link shares the source's mtime: a fresh copy must not look old to the sweep
        except OSError as exc:
            if exc.errno not in _NO_LINK:
                raise
            tmp = os.path.join(self.tmp_dir, new)
            shutil.copyfile(self.path(name), tmp)
            if self.fsync:
                with open(tmp, "rb") as f:
                    os.fsync(f.fileno())
            os.rename(tmp, dst)
        if self.fsync:
            fsync_dir(os.path.dirname(dst))
        return new

    def delete(self, names: Iterable[str]) -> None:
        for name in names:
            try:
                os.unlink(self.path(name))
            except FileNotFoundError:
                pass
            except OSError as exc:
                log.warning("blob %s not deleted (the sweep will retry): %s", name, exc)

    def iter_names(self) -> Iterator[tuple[str, float]]:
        for sub in sorted(os.listdir(self.blob_dir)):
            d = os.path.join(self.blob_dir, sub)
            for name in os.listdir(d):
                try:
                    yield name, os.stat(os.path.join(d, name)).st_mtime
                except FileNotFoundError:
                    pass

    def sweep(self, referenced: set[str], older_than: float) -> int:
        removed = super().sweep(referenced, older_than)
        for name in os.listdir(self.tmp_dir):       # writes abandoned by a killed node
            path = os.path.join(self.tmp_dir, name)
            try:
                if os.stat(path).st_mtime < older_than:
                    os.unlink(path)
                    removed += 1
            except FileNotFoundError:
                pass
        return removed

    def check(self) -> None:
        if not (os.path.isdir(self.tmp_dir) and os.access(self.tmp_dir, os.W_OK | os.X_OK)):
            raise BlobStoreError("ServiceUnavailable", f"blob store {self.url} is not writable")

    def claim(self, owner: str) -> None:
        path = os.path.join(self.root, "owner")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            with open(path) as f:
                current = f.read().strip()
            if current != owner:
                raise BlobStoreOwned(f"{self.url} belongs to metadata store {current}, not {owner}: "
                                     "give every metadata store its own blob location") from None
            return
        with os.fdopen(fd, "w") as f:
            f.write(owner + "\n")
            f.flush()
            os.fsync(f.fileno())
