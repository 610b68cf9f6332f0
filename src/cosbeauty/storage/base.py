"""The storage contract: buckets, objects (as ordered lists of immutable blobs), multipart uploads.

Object bytes are written through a :class:`BlobWriter` (temp file, fsync, rename) and only become
visible when the metadata row that references them is committed. Everything here is synchronous
and thread-safe; the HTTP layer calls slow parts from worker threads.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import BinaryIO, Iterator


class StorageError(Exception):
    """Raised with a COS error code the HTTP layer maps 1:1 (NoSuchBucket, NoSuchKey, ...)."""

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(code if message is None else f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass
class BucketInfo:
    name: str
    created: float
    owner: str = ""
    acl: str = "private"
    attrs: dict = field(default_factory=dict)   # e.g. {"ci": {"bound": true, "ai": true}}


@dataclass
class ObjectMeta:
    bucket: str
    key: str
    size: int
    etag: str                       # hex md5 (or "md5-N" for multipart), without quotes
    mtime: float
    content_type: str = "application/octet-stream"
    headers: dict = field(default_factory=dict)    # cache-control, content-disposition, x-cos-meta-*, ...
    acl: str = "default"
    storage_class: str = "STANDARD"
    segments: list = field(default_factory=list)   # [[blob_name, size], ...]; empty when inline
    inline: bytes | None = None
    tags: dict = field(default_factory=dict)       # object tags {key: value} (?tagging, x-cos-tagging)
    grants: dict = field(default_factory=dict)     # ACL grants to accounts {permission: [grantee id, ...]}
    version_id: str = "null"                       # set by put_object; "null" unless versioning is Enabled
    delete_marker: bool = False                    # get_object(version_id=...) of a delete marker


@dataclass
class DeleteResult:
    """What DELETE Object did. Truthy when something was removed or a delete marker was added."""

    removed: bool = False
    version_id: str | None = None       # the version removed, or the delete marker created
    delete_marker: bool = False         # a delete marker was created (or the version removed was one)

    def __bool__(self) -> bool:
        return self.removed or self.delete_marker


@dataclass
class VersionEntry:
    key: str
    version_id: str
    is_latest: bool
    delete_marker: bool
    size: int
    etag: str
    mtime: float
    storage_class: str


@dataclass
class VersionPage:
    versions: list[VersionEntry]        # objects and delete markers, key order, newest first per key
    prefixes: list[str]
    truncated: bool
    next_key_marker: str
    next_version_id_marker: str


@dataclass(frozen=True)
class WriteCondition:
    """A precondition checked *inside* the metadata transaction that replaces or deletes an object,
    so two concurrent conditional writers can never both succeed (S3 conditional writes).

    ``if_none_match``: the write fails with PreconditionFailed if the key exists (``If-None-Match: *``).
    ``if_match``: the current ETags accepted (``If-Match``, without quotes; ``*`` = any existing
    object); the write fails with PreconditionFailed on another ETag, NoSuchKey if there is none.
    """

    if_match: tuple[str, ...] | None = None
    if_none_match: bool = False

    def check(self, current_etag: str | None) -> None:
        if self.if_none_match and current_etag is not None:
            raise StorageError("PreconditionFailed", "The object already exists (If-None-Match: *).")
        if self.if_match is not None:
            if current_etag is None:
                raise StorageError("NoSuchKey", "If-Match was given but the object does not exist.")
            if "*" not in self.if_match and current_etag not in self.if_match:
                raise StorageError("PreconditionFailed", "The object's ETag does not match If-Match.")


@dataclass
class UploadInfo:
    upload_id: str
    bucket: str
    key: str
    initiated: float
    headers: dict = field(default_factory=dict)


@dataclass
class PartInfo:
    number: int
    size: int
    etag: str
    mtime: float
    blob: str
    crc64: int = 0
    # the S3 checksums the part was uploaded with, verified: "<ALGORITHM>:<base64>" pairs separated by
    # spaces ("CRC32:AAAAAA=="), "" when the upload request carried none
    checksum: str = ""


@dataclass
class ListPage:
    objects: list[ObjectMeta]
    prefixes: list[str]
    truncated: bool
    next_marker: str          # last key or common prefix returned (for NextMarker / continuation)


class BlobWriter(abc.ABC):
    """Accumulates one blob. ``write`` may be called many times; ``finish`` makes it durable."""

    size: int
    md5: "hashlib._Hash"  # type: ignore[name-defined]  # noqa: F821
    crc64: int            # CRC-64/ECMA of the bytes so far (storage.checksums)

    @abc.abstractmethod
    def write(self, data: bytes) -> None: ...

    @abc.abstractmethod
    def finish(self) -> tuple[str | None, bytes | None]:
        """Make the bytes durable. Returns (blob_name, None) or (None, inline_bytes) for small blobs."""

    @abc.abstractmethod
    def abort(self) -> None: ...

    @property
    def buffered(self) -> bool:
        """True while finish() would not touch the disk (a small inline blob)."""
        return False


class Backend(abc.ABC):
    # buckets
    @abc.abstractmethod
    def create_bucket(self, name: str, owner: str, acl: str = "private") -> BucketInfo: ...
    @abc.abstractmethod
    def get_bucket(self, name: str) -> BucketInfo: ...
    @abc.abstractmethod
    def list_buckets(self) -> list[BucketInfo]: ...
    @abc.abstractmethod
    def delete_bucket(self, name: str) -> None: ...
    @abc.abstractmethod
    def update_bucket(self, name: str, *, acl: str | None = None, attrs: dict | None = None) -> BucketInfo:
        """Set the canned ACL and/or merge ``attrs`` into the bucket's attributes (one transaction).
        Bucket configurations live in attrs: "grants", "cors", "policy", "tags", ... (None = absent)."""

    # objects
    @abc.abstractmethod
    def blob_writer(self, *, allow_inline: bool = True) -> BlobWriter: ...
    @abc.abstractmethod
    def put_object(self, meta: ObjectMeta, cond: WriteCondition | None = None) -> ObjectMeta | None:
        """Commit ``meta`` (segments/inline already durable) as the new current version and set
        ``meta.version_id``. Returns the replaced object when its bytes were dropped (None when there
        was none or versioning keeps it). ``cond`` is checked in the same transaction; when it fails,
        meta's blobs are dropped."""
    async def put_object_async(self, meta: ObjectMeta, cond: WriteCondition | None = None) -> ObjectMeta | None:
        """``put_object`` for the event loop (backends may avoid the worker-thread hop)."""
        import anyio
        return await anyio.to_thread.run_sync(self.put_object, meta, cond)

    @abc.abstractmethod
    def get_object(self, bucket: str, key: str, *, with_inline: bool = True,
                   version_id: str | None = None) -> ObjectMeta:
        """The current version (NoSuchKey when there is none, e.g. the latest is a delete marker), or
        the version ``version_id`` (NoSuchVersion; a delete marker comes back with delete_marker=True)."""
    @abc.abstractmethod
    def delete_object(self, bucket: str, key: str, cond: WriteCondition | None = None,
                      version_id: str | None = None) -> DeleteResult:
        """Delete the current version (versioning Enabled/Suspended: a delete marker is added and the
        old version kept), or exactly the version ``version_id``. ``cond`` (If-Match) is checked in
        the transaction against an existing object only: deleting a missing key succeeds (S3)."""
    @abc.abstractmethod
    def list_object_versions(self, bucket: str, *, prefix: str = "", delimiter: str = "", key_marker: str = "",
                             version_id_marker: str = "", max_keys: int = 1000) -> VersionPage: ...
    @abc.abstractmethod
    def append_object(self, meta: ObjectMeta, position: int) -> ObjectMeta:
        """Append ``meta.segments`` (one durable blob of ``meta.size`` bytes, ``meta.etag`` its MD5) to the
        appendable object ``meta.key`` at ``position`` (0 creates it with meta's content type, headers
        and ACL), in one transaction. PositionNotEqualToLength when position is not the current length,
        ObjectNotAppendable for an object written otherwise. Returns the whole object's new metadata;
        on failure the new blob is dropped."""
    @abc.abstractmethod
    def update_object(self, bucket: str, key: str, *, acl: str | None = None,
                      headers: dict | None = None, tags: dict | None = None, grants: dict | None = None,
                      version_id: str | None = None) -> ObjectMeta:
        """Change the canned ACL, grants, stored headers or tags of the current version (or of the
        version ``version_id``: NoSuchVersion if there is none, or it is a delete marker) in place."""
    @abc.abstractmethod
    def list_objects(self, bucket: str, *, prefix: str = "", delimiter: str = "", marker: str = "",
                     max_keys: int = 1000) -> ListPage: ...
    @abc.abstractmethod
    def open_blob(self, name: str) -> BinaryIO: ...
    @abc.abstractmethod
    def link_blob(self, name: str) -> str:
        """A new blob with the same bytes (hard link or copy), for copies."""
    @abc.abstractmethod
    def drop_blobs(self, names) -> None:
        """Delete blobs no committed row references any more."""

    def iter_object(self, meta: ObjectMeta, start: int = 0, end: int | None = None,
                    chunk: int = 1 << 20) -> Iterator[bytes]:
        """Yield bytes [start, end) of an object (end exclusive, default size)."""
        end = meta.size if end is None else end
        if meta.inline is not None or not meta.segments:
            data = meta.inline or b""
            yield data[start:end]
            return
        offset = 0
        for name, size in meta.segments:
            seg_start, seg_end = offset, offset + size
            offset = seg_end
            if seg_end <= start or size == 0:
                continue
            if seg_start >= end:
                break
            with self.open_blob(name) as f:
                pos = max(start, seg_start) - seg_start
                stop = min(end, seg_end) - seg_start
                f.seek(pos)
                while pos < stop:
                    data = f.read(min(chunk, stop - pos))
                    if not data:
                        raise StorageError("InternalError", f"blob {name} is shorter than recorded")
                    pos += len(data)
                    yield data

    # multipart
    @abc.abstractmethod
    def create_upload(self, bucket: str, key: str, headers: dict) -> UploadInfo: ...
    @abc.abstractmethod
    def get_upload(self, bucket: str, key: str, upload_id: str) -> UploadInfo: ...
    @abc.abstractmethod
    def put_part(self, upload_id: str, part: PartInfo) -> None: ...
    @abc.abstractmethod
    def list_parts(self, upload_id: str) -> list[PartInfo]: ...
    @abc.abstractmethod
    def list_uploads(self, bucket: str, prefix: str = "") -> list[UploadInfo]: ...
    @abc.abstractmethod
    def complete_upload(self, upload: UploadInfo, meta: ObjectMeta, used_parts: list[int],
                        cond: WriteCondition | None = None) -> ObjectMeta | None:
        """Commit the object and forget the upload, remembering (upload_id -> etag) so a repeated
        complete can be answered with the same result (:meth:`completed_upload`)."""
    @abc.abstractmethod
    def completed_upload(self, bucket: str, key: str, upload_id: str) -> str | None:
        """The ETag an already-completed upload produced (None: never completed here)."""
    @abc.abstractmethod
    def abort_upload(self, upload_id: str) -> None: ...

    def close(self) -> None:
        pass
