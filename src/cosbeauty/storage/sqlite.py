"""SQLite plumbing: schema, per-thread read connections and a group-committing writer thread.

All writes go through one writer thread. It drains whatever is queued and commits it in one
transaction (one WAL fsync for many concurrent PUTs), isolating each job in a savepoint so one
failing job never takes the others down. A lone write may instead commit on its caller's thread
(:meth:`Database.write_now`): when the writer is idle, nothing is queued and recent commits were
fast, which spares the two thread wake-ups of the hand-off.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import queue
import sqlite3
import threading
import time
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

# write_now() commits on the caller's thread only while commits (SQL + the WAL fdatasync) take less
# than INLINE_COMMIT_MAX on average and at most SLOW_MAX of the last SLOW_WINDOW took more than
# INLINE_SLOW: a caller on the event loop blocks for one commit, never for a busy disk's. (On a disk
# busy with others' writes, an fdatasync from the event-loop thread measured slower than from the
# writer thread -- p50 1.4 vs 0.8 ms -- so busy periods go to the writer thread; a lone slow commit,
# such as the one that runs SQLite's WAL checkpoint every ~250 small PUTs, does not.)
INLINE_COMMIT_MAX = 0.0005     # seconds
INLINE_SLOW = 0.001            # seconds
SLOW_WINDOW, SLOW_MAX = 16, 2
_EWMA = 0.2                    # weight of the latest commit in the running average
NOT_NOW = object()             # write_now(): the write was not done, submit it instead


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
        self._conn_lock = threading.Lock()     # held by whoever commits on the writer connection
        self._closed = False
        self.commit_seconds = 0.0              # running average of a commit's duration (SQL + fsync)
        self._slow: collections.deque[bool] = collections.deque(maxlen=SLOW_WINDOW)   # of the last commits
        self._slow_count = 0
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

    def write_now(self, job: Job) -> Any:
        """Commit a lone ``job`` on the calling thread and return its result (or raise its error),
        durable like any write -- or return :data:`NOT_NOW` without doing anything when the writer
        thread is committing, anything is queued, or commits have been slow lately
        (:data:`INLINE_COMMIT_MAX`, :data:`INLINE_SLOW`); then ``submit`` it. For the event loop when it serves a
        single request: the commit blocks the loop for its SQL and one ``fdatasync``, and spares
        the writer thread's wake-up and the loop's wake-up by the writer (about 10 % of a
        sequential small PUT's latency)."""
        if not self.inline_ok() or not self._conn_lock.acquire(blocking=False):
            return NOT_NOW
        try:
            if self._closed:
                return NOT_NOW
            started = time.perf_counter()
            result, exc = self._commit_one(self._writer_conn, job)
            self._timed(time.perf_counter() - started)
        finally:
            self._conn_lock.release()
        if exc is not None:
            raise exc
        return result

    def inline_ok(self) -> bool:
        """Whether :meth:`write_now` would commit now (as far as can be told without the lock)."""
        return (self.commit_seconds <= INLINE_COMMIT_MAX and self._slow_count <= SLOW_MAX
                and self._queue.empty())

    def _timed(self, seconds: float) -> None:
        """Record a commit's duration (under the connection lock)."""
        self.commit_seconds += (seconds - self.commit_seconds) * _EWMA
        slow = seconds > INLINE_SLOW
        if len(self._slow) == SLOW_WINDOW and self._slow[0]:
            self._slow_count -= 1
        self._slow.append(slow)
        self._slow_count += slow

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        conn = self._writer_conn
        while True:
            item = self._queue.get()
            if item is None:
                with self._conn_lock:
                    self._closed = True
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
            with self._conn_lock:      # resolved after it is released: a woken caller may write_now
                started = time.perf_counter()
                outcomes = self._commit(conn, batch)
                self._timed(time.perf_counter() - started)
            for fut, result, exc in outcomes:
                if exc is not None:
                    fut.set_exception(exc)
                else:
                    fut.set_result(result)

    @staticmethod
    def _commit(conn: sqlite3.Connection, batch: list) -> list[tuple[Any, Any, BaseException | None]]:
        """Commit the batch's jobs; (future, result, error) of each, to resolve."""
        if len(batch) == 1:     # a lone job needs no savepoint: its failure rolls back the transaction
            job, fut = batch[0]
            return [(fut, *Database._commit_one(conn, job))]
        outcomes: list[tuple[Any, Any, BaseException | None]] = []
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
            return [(fut, None, exc) for _, fut in batch]
        return outcomes

    @staticmethod
    def _commit_one(conn: sqlite3.Connection, job: Job) -> tuple[Any, BaseException | None]:
        """Run ``job`` in its own transaction: (result, None), or (None, error) with nothing done."""
        try:
            conn.execute("BEGIN IMMEDIATE")
            result = job(conn)
            conn.execute("COMMIT")
        except BaseException as exc:  # the job's or the commit's failure: nothing happened
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return None, exc
        return result, None
