"""Open a cluster node's backend: metadata in PostgreSQL, object bytes in a shared blob store."""

from __future__ import annotations

import os
import uuid

from cosbeauty.storage.base import Backend


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
    from cosbeauty.storage.local import LocalBackend
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
    return LocalBackend(data_dir, fsync=fsync, blobs=store, db=db, gc=DeferredDeletes(db, store))


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
