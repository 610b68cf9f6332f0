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

from cosbeauty.storage.blobs.base import (BLOB_NAME, INLINE_MAX, SWEEP_GRACE, BlobStore, BlobStoreError,
                                         BlobStoreOwned, new_blob_name)

__all__ = ["BLOB_NAME", "INLINE_MAX", "SWEEP_GRACE", "BlobStore", "BlobStoreError", "BlobStoreOwned", "new_blob_name",
           "open_blob_store"]


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
