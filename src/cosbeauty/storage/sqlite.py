"""SQLite plumbing: schema, per-thread read connections and a group-committing writer thread.

All writes go through one writer thread. It drains whatever is queued and commits it in one
transaction (one WAL fsync for many concurrent PUTs), isolating each job in a savepoint so one
failing job never takes the others down.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import sqlite3
import threading
from typing import Any, Callable

SCHEMA = """
CREATE TABLE IF NOT EXISTS buckets (
    name TEXT PRIMARY KEY, created REAL NOT NULL, owner TEXT NOT NULL DEFAULT '',
    acl TEXT NOT NULL DEFAULT 'private', attrs TEXT NOT NULL DEFAULT '{}'
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS objects (
    bucket TEXT NOT NULL, key TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
    mtime REAL NOT NULL, content_type TEXT NOT NULL, headers TEXT NOT NULL DEFAULT '{}',
    acl TEXT NOT NULL DEFAULT 'default', storage_class TEXT NOT NULL DEFAULT 'STANDARD',
    segments TEXT NOT NULL DEFAULT '[]', inline BLOB, tags TEXT NOT NULL DEFAULT '{}',
    version_id TEXT NOT NULL DEFAULT 'null', seq INTEGER NOT NULL DEFAULT 0, grants TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS uploads (
    upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key TEXT NOT NULL,
    initiated REAL NOT NULL, headers TEXT NOT NULL DEFAULT '{}'
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS uploads_by_bucket ON uploads (bucket, key);
CREATE TABLE IF NOT EXISTS parts (
    upload_id TEXT NOT NULL, number INTEGER NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
    mtime REAL NOT NULL, blob TEXT NOT NULL, crc64 TEXT NOT NULL DEFAULT '0',
    checksum TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (upload_id, number)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS object_versions (
    bucket TEXT NOT NULL, key TEXT NOT NULL, version_id TEXT NOT NULL, seq INTEGER NOT NULL,
    delete_marker INTEGER NOT NULL DEFAULT 0, size INTEGER NOT NULL, etag TEXT NOT NULL,
    mtime REAL NOT NULL, content_type TEXT NOT NULL, headers TEXT NOT NULL DEFAULT '{}',
    acl TEXT NOT NULL DEFAULT 'default', storage_class TEXT NOT NULL DEFAULT 'STANDARD',
    segments TEXT NOT NULL DEFAULT '[]', tags TEXT NOT NULL DEFAULT '{}', inline BLOB,
    grants TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (bucket, key, version_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS object_versions_order ON object_versions (bucket, key, seq DESC);
CREATE TABLE IF NOT EXISTS completed_uploads (
    upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key TEXT NOT NULL, etag TEXT NOT NULL,
    completed REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS completed_uploads_by_time ON completed_uploads (completed);
CREATE TABLE IF NOT EXISTS kv (
    ns TEXT NOT NULL, k TEXT NOT NULL, v TEXT NOT NULL, PRIMARY KEY (ns, k)
) WITHOUT ROWID;
"""

Job = Callable[[sqlite3.Connection], Any]


class _LoopWaiter:
    """What the writer resolves for ``submit_async``: set_result / set_exception, like a Future."""
    __slots__ = ("loop", "future")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.future = loop.create_future()

    def set_result(self, result: Any) -> None:
        self.loop.call_soon_threadsafe(_resolve, self.future, result, None)

    def set_exception(self, exc: BaseException) -> None:
        self.loop.call_soon_threadsafe(_resolve, self.future, None, exc)


def _resolve(future: "asyncio.Future", result: Any, exc: BaseException | None) -> None:
    if future.done():       # the awaiting task was cancelled: the write happened (or not) regardless
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)


def _migrate(conn: sqlite3.Connection) -> None:
    """Columns added after a data dir may have been created (each ALTER is atomic in SQLite)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(parts)")}
    if "crc64" not in columns:
        conn.execute("ALTER TABLE parts ADD COLUMN crc64 TEXT NOT NULL DEFAULT '0'")
    if "checksum" not in columns:       # a part's S3 checksums (ListParts, complete)
        conn.execute("ALTER TABLE parts ADD COLUMN checksum TEXT NOT NULL DEFAULT ''")
    columns = {row[1] for row in conn.execute("PRAGMA table_info(objects)")}
    if "tags" not in columns:
        conn.execute("ALTER TABLE objects ADD COLUMN tags TEXT NOT NULL DEFAULT '{}'")
    if "version_id" not in columns:     # versioning: the current version's id and order
        conn.execute("ALTER TABLE objects ADD COLUMN version_id TEXT NOT NULL DEFAULT 'null'")
    if "seq" not in columns:
        conn.execute("ALTER TABLE objects ADD COLUMN seq INTEGER NOT NULL DEFAULT 0")
    if "grants" not in columns:         # object ACL grants to accounts
        conn.execute("ALTER TABLE objects ADD COLUMN grants TEXT NOT NULL DEFAULT '{}'")
    columns = {row[1] for row in conn.execute("PRAGMA table_info(object_versions)")}
    if "grants" not in columns:
        conn.execute("ALTER TABLE object_versions ADD COLUMN grants TEXT NOT NULL DEFAULT '{}'")


def connect(path: str, *, fsync: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={'FULL' if fsync else 'OFF'}")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


class Database:
    """One SQLite file: a writer thread for mutations, thread-local connections for reads."""

    def __init__(self, path: str, *, fsync: bool = True, max_batch: int = 256) -> None:
        self.path = path
        self.fsync = fsync
        self.max_batch = max_batch
        self._local = threading.local()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        conn = connect(path, fsync=fsync)
        conn.executescript(SCHEMA)
        _migrate(conn)
        self._writer_conn = conn
        self._thread = threading.Thread(target=self._run, name="cosbeauty-sqlite-writer", daemon=True)
        self._thread.start()

    # -- reads ---------------------------------------------------------------------------
    def reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, fsync=self.fsync)
            conn.execute("PRAGMA query_only=1")
            self._local.conn = conn
        return conn

    # -- writes --------------------------------------------------------------------------
    def submit(self, job: Job) -> concurrent.futures.Future:
        fut: concurrent.futures.Future = concurrent.futures.Future()
        self._queue.put((job, fut))
        return fut

    def submit_async(self, job: Job) -> "asyncio.Future":
        """``submit`` for the event loop: the writer resolves an asyncio future through
        ``call_soon_threadsafe`` directly (no concurrent Future, its Condition and the chaining
        ``asyncio.wrap_future`` sets up for each write)."""
        waiter = _LoopWaiter(asyncio.get_running_loop())
        self._queue.put((job, waiter))
        return waiter.future

    def write(self, job: Job) -> Any:
        """Run ``job(conn)`` in a committed transaction and return its result (blocking)."""
        return self.submit(job).result()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        conn = self._writer_conn
        while True:
            item = self._queue.get()
            if item is None:
                conn.close()
                return
            batch = [item]
            while len(batch) < self.max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)
                    break
                batch.append(nxt)
            self._commit(conn, batch)

    @staticmethod
    def _commit(conn: sqlite3.Connection, batch: list) -> None:
        if len(batch) == 1:     # a lone job needs no savepoint: its failure rolls back the transaction
            Database._commit_one(conn, *batch[0])
            return
        outcomes = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job, fut in batch:
                conn.execute("SAVEPOINT job")
                try:
                    result = job(conn)
                except BaseException as exc:  # the job's own failure: undo just this job
                    conn.execute("ROLLBACK TO job")
                    conn.execute("RELEASE job")
                    outcomes.append((fut, None, exc))
                else:
                    conn.execute("RELEASE job")
                    outcomes.append((fut, result, None))
            conn.execute("COMMIT")
        except BaseException as exc:  # the commit itself failed: nothing in this batch happened
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for _, fut in batch:
                fut.set_exception(exc)
            return
        for fut, result, exc in outcomes:
            if exc is not None:
                fut.set_exception(exc)
            else:
                fut.set_result(result)

    @staticmethod
    def _commit_one(conn: sqlite3.Connection, job: Job, fut: concurrent.futures.Future) -> None:
        try:
            conn.execute("BEGIN IMMEDIATE")
            result = job(conn)
            conn.execute("COMMIT")
        except BaseException as exc:  # the job's or the commit's failure: nothing happened
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            fut.set_exception(exc)
            return
        fut.set_result(result)
