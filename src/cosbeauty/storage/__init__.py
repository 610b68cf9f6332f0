"""Storage backends. ``open_backend(config)`` returns the configured one (embedded local by default)."""

from cosbeauty.storage.base import (  # noqa: F401
    Backend, BlobWriter, BucketInfo, ListPage, ObjectMeta, PartInfo, StorageError, UploadInfo, WriteCondition,
)


def open_backend(data_dir: str, *, fsync: bool = True) -> Backend:
    from cosbeauty.storage.local import LocalBackend
    return LocalBackend(data_dir, fsync=fsync)
