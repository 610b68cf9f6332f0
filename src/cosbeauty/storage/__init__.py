"""Storage backends. ``open_backend(config)`` returns the configured one (embedded local by default)."""

from cosbeauty.storage.base import (  # noqa: F401
    Backend, BlobWriter, BucketInfo, ListPage, ObjectMeta, PartInfo, StorageError, UploadInfo, WriteCondition,
    DeleteResult, VersionEntry, VersionPage,
)


def open_backend(data_dir: str, *, fsync: bool = True, blobs: str | None = None,
                 blobs_endpoint: str | None = None, metadata: str | None = None) -> Backend:
    """``blobs``: None for <data>/blobs, or a blob store URL (file:///path, s3://BUCKET/PREFIX).
    ``metadata``: None for <data>/meta.sqlite3, or postgresql://... (cluster mode: needs ``blobs``)."""
    if metadata:
        from cosbeauty.storage.cluster import open_cluster_backend
        return open_cluster_backend(data_dir, fsync=fsync, metadata=metadata, blobs=blobs,
                                    blobs_endpoint=blobs_endpoint)
    if blobs:
        from cosbeauty.storage.blobs.attach import open_local_with_blobs
        return open_local_with_blobs(data_dir, fsync=fsync, url=blobs, endpoint=blobs_endpoint)
    from cosbeauty.storage.local import LocalBackend
    return LocalBackend(data_dir, fsync=fsync)
