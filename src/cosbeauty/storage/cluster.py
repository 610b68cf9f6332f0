"""Open a cluster node's backend: metadata in PostgreSQL, object bytes in a shared blob store."""

from __future__ import annotations

import os
import uuid

from typing import Any

from cosbeauty.storage.base import Backend, DeleteResult, ObjectMeta, PartInfo, UploadInfo, WriteCondition
from cosbeauty.storage.local import LocalBackend
from cosbeauty.storage.postgres import bucket_scope, key_scope, part_scope, upload_scope


class ClusterBackend(LocalBackend):
    """LocalBackend on PostgreSQL: each write of one object key runs under that key's lock (READ
    COMMITTED, see storage.postgres): concurrent writers of different keys never conflict, writers
    of one key take turns; parts of one upload likewise. The queries are LocalBackend's own."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._upload_buckets: dict[str, str] = {}      # upload id -> bucket (never changes): for part locks
        super().__init__(*args, **kwargs)

    def _bucket_of_upload(self, upload_id: str) -> str | None:
        bucket = self._upload_buckets.get(upload_id)
        if bucket is None:
            row = self.db.reader().execute("SELECT bucket FROM uploads WHERE upload_id=?", (upload_id,)).fetchone()
            if row is None:
                return None
            bucket = self._remember(upload_id, row[0])
        return bucket

    def _remember(self, upload_id: str, bucket: str) -> str:
        if len(self._upload_buckets) > 10000:
            self._upload_buckets.clear()
        self._upload_buckets[upload_id] = bucket
        return bucket

    def create_upload(self, bucket: str, key: str, headers: dict) -> UploadInfo:
        upload = super().create_upload(bucket, key, headers)
        self._remember(upload.upload_id, upload.bucket)
        return upload

    def get_upload(self, bucket: str, key: str, upload_id: str) -> UploadInfo:
        upload = super().get_upload(bucket, key, upload_id)
        self._remember(upload.upload_id, upload.bucket)
        return upload

    def put_part(self, upload_id: str, part: PartInfo) -> None:
        bucket = self._bucket_of_upload(upload_id)
        if bucket is None:                  # no such upload: LocalBackend's job answers NoSuchUpload
            return super().put_part(upload_id, part)
        with part_scope(bucket, upload_id, part.number):
            return super().put_part(upload_id, part)

    def abort_upload(self, upload_id: str) -> None:
        bucket = self._bucket_of_upload(upload_id)
        if bucket is None:
            return super().abort_upload(upload_id)
        with upload_scope(bucket, upload_id):
            return super().abort_upload(upload_id)

    def put_object(self, meta: ObjectMeta, cond: WriteCondition | None = None) -> ObjectMeta | None:
        with key_scope(meta.bucket, meta.key):
            return super().put_object(meta, cond)

    async def put_object_async(self, meta: ObjectMeta, cond: WriteCondition | None = None) -> ObjectMeta | None:
        with key_scope(meta.bucket, meta.key):
            return await super().put_object_async(meta, cond)

    def delete_object(self, bucket: str, key: str, cond: WriteCondition | None = None,
                      version_id: str | None = None) -> DeleteResult:
        with key_scope(bucket, key):
            return super().delete_object(bucket, key, cond, version_id)

    def append_object(self, meta: ObjectMeta, position: int) -> ObjectMeta:
        with key_scope(meta.bucket, meta.key):
            return super().append_object(meta, position)

    def update_object(self, bucket: str, key: str, **kwargs: Any) -> ObjectMeta:
        with key_scope(bucket, key):
            return super().update_object(bucket, key, **kwargs)

    def complete_upload(self, upload: UploadInfo, meta: ObjectMeta, used_parts: list[int],
                        cond: WriteCondition | None = None) -> ObjectMeta | None:
        with key_scope(meta.bucket, meta.key, serializable=True, upload_id=upload.upload_id):  # parts wait
            return super().complete_upload(upload, meta, used_parts, cond)

    def delete_bucket(self, name: str) -> None:
        with bucket_scope(name):        # no object write runs while the bucket is checked and dropped
            return super().delete_bucket(name)


def cluster_metadata_id(db) -> str:
    """The shared metadata store's id (created by the first node): every node claims the blob store
    with it, so all nodes of one cluster share one blob prefix and another cluster is refused."""
    ident = f"postgresql-{uuid.uuid4()}"

    def job(conn) -> str:
        conn.execute("INSERT OR IGNORE INTO kv (ns, k, v) VALUES ('cluster', 'metadata_id', ?)", (ident,))
        return conn.execute("SELECT v FROM kv WHERE ns='cluster' AND k='metadata_id'").fetchone()[0]
    return db.write(job)


def open_cluster_backend(data_dir: str, *, fsync: bool, metadata: str, blobs: str | None,
                         blobs_endpoint: str | None) -> Backend:
    from cosbeauty.storage.blobs import open_blob_store
    from cosbeauty.storage.postgres import PgDatabase, is_postgres_url

    if not is_postgres_url(metadata):
        raise RuntimeError(f"--metadata must be a postgresql:// URL (got {metadata.split('://', 1)[0]}://...)")
    if not blobs:
        raise RuntimeError("--metadata postgresql://... needs a shared blob store (--blobs s3://BUCKET/PREFIX or "
                           "--blobs file:///shared/path): object bytes in one node's data dir are invisible to the others")
    db = PgDatabase(metadata)
    try:
        store = open_blob_store(blobs, endpoint=blobs_endpoint, fsync=fsync)
        try:
            store.check()
            store.claim(cluster_metadata_id(db))
        except BaseException:
            store.close()
            raise
    except BaseException:
        db.close()
        raise
    from cosbeauty.storage.gc import DeferredDeletes
    return ClusterBackend(data_dir, fsync=fsync, blobs=store, db=db, gc=DeferredDeletes(db, store))


METADATA_ENV = "COSBEAUTY_METADATA"


def env_metadata_url() -> str | None:
    """The PostgreSQL URL the admin CLIs use instead of ``<data>/meta.sqlite3`` ($COSBEAUTY_METADATA)."""
    from cosbeauty.storage.postgres import is_postgres_url
    url = os.environ.get(METADATA_ENV)
    return url if is_postgres_url(url) else None


def open_metadata(data_dir: str):
    """The metadata database for an admin CLI: PostgreSQL when $COSBEAUTY_METADATA names one, else
    the data dir's SQLite file."""
    url = env_metadata_url()
    if url:
        from cosbeauty.storage.postgres import PgDatabase
        return PgDatabase(url, min_size=1, max_size=2)
    from cosbeauty.storage.sqlite import Database
    return Database(os.path.join(data_dir, "meta.sqlite3"))


class CliReader:
    """A read-only handle for the CLIs: ``execute`` and ``close`` on either store."""

    def __init__(self, db) -> None:
        self._db = db

    def execute(self, sql: str, params=()):
        return self._db.reader().execute(sql, params)

    def close(self) -> None:
        self._db.close()
