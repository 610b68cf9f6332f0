"""PostgreSQL metadata store (cluster mode: ``cosbeauty serve --metadata postgresql://...``).

The same interface as the embedded :class:`~cosbeauty.storage.sqlite.Database` -- ``reader()``,
``write(job)``, ``submit(job)``, ``close()`` -- so the backend, IAM, CI activation and metering run
their one set of queries on either store (:mod:`cosbeauty.storage.sql`).

* A psycopg 3 connection pool (``psycopg_pool.ConnectionPool``), connections in autocommit mode.
* Reads: each statement borrows a connection and runs on its own (read committed), exactly like the
  embedded store's reader connections outside a transaction: a read sees every acknowledged write.
* Writes: each job runs in one ``SERIALIZABLE`` transaction, retried from the start on a
  serialization failure or deadlock. Every check-then-write a job does (conditional PUTs,
  versioning, multipart completion, IAM changes) is therefore race-free across nodes: the outcome
  is that of some serial order of the jobs, as with SQLite's single writer.
* Object writes (:func:`key_scope`: PUT, DELETE, append, ACL/tags of one key) run instead in a
  ``READ COMMITTED`` transaction that first takes a per-key advisory lock (and a shared per-bucket
  one): every job that touches one key's rows holds that key's lock, so its read-check-write is
  atomic against every other writer of the key, and writers of *different* keys never conflict
  (SERIALIZABLE keeps predicate locks per B-tree page, so concurrent PUTs of neighbouring keys
  failed and ran again). Part uploads likewise, under a per-part lock (:func:`part_scope`). Jobs
  that span keys stay SERIALIZABLE; multipart completion takes the key and upload locks
  (session-level, before its snapshot) and stays SERIALIZABLE, abort the upload lock; bucket
  deletion takes the bucket lock exclusively, so no object or part write runs while it checks that
  the bucket is empty.
* PostgreSQL unreachable (down, restarting, pool exhausted for ``POOL_TIMEOUT``):
  ``StorageError("ServiceUnavailable")`` -> HTTP 503; broken connections are dropped by the pool and
  replaced, so the node recovers by itself. A read on a connection that broke is retried once on a
  fresh one; a write is retried only when it failed before its COMMIT was sent (never twice applied).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import contextvars
import hashlib
import logging
import random
import threading
import time
from typing import Any, Callable, Iterator

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import ConnectionPool

from cosbeauty.storage.base import StorageError
from cosbeauty.storage.sql import migrations
from cosbeauty.storage.sql.dialect import PostgresDialect

log = logging.getLogger("cosbeauty.metadata")

POOL_TIMEOUT = 4.0           # seconds a request waits for a pooled connection before 503 (< readyz 5 s)
CONNECT_TIMEOUT = 5          # seconds per connection attempt
MAX_ATTEMPTS = 40            # serialization retries per write job
_RETRY = (pg_errors.SerializationFailure, pg_errors.DeadlockDetected)
_UNAVAILABLE = "The metadata store is unavailable; please retry."


class MetadataUnavailable(StorageError):
    def __init__(self, detail: str) -> None:
        super().__init__("ServiceUnavailable", _UNAVAILABLE)
        self.detail = detail


# -- lock scopes ------------------------------------------------------------------------------
# What the next write job on this context locks, set by the cluster backend around its writes:
# (serializable, shared lock ids, exclusive lock ids). READ COMMITTED jobs take transaction-level
# locks right after BEGIN; SERIALIZABLE jobs take session-level locks *before* BEGIN (so their
# snapshot is taken once the locks are granted) and release them after COMMIT/ROLLBACK. Lock order,
# everywhere: bucket, key, upload, part (no cycles, so no deadlocks among these locks).
_SCOPE: contextvars.ContextVar[tuple | None] = contextvars.ContextVar("cosbeauty_pg_scope", default=None)


def _lock_id(*parts: str) -> int:
    """A signed 64-bit advisory lock id: ("b", bucket), ("k", bucket, key), ("u", upload), ("p", upload, n)."""
    digest = hashlib.blake2b("\0".join(parts).encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextlib.contextmanager
def _scoped(value: tuple | None) -> Iterator[None]:
    token = _SCOPE.set(value)
    try:
        yield
    finally:
        _SCOPE.reset(token)


def key_scope(bucket: str, key: str, *, serializable: bool = False,
              upload_id: str | None = None) -> contextlib.AbstractContextManager[None]:
    """The write job run next in this context writes the rows of one key (see the module doc):
    READ COMMITTED under the key's lock, or (``serializable``: multipart completion, which reads
    the upload's parts too) SERIALIZABLE after the key's lock and, with ``upload_id``, the upload's."""
    exclusive = [_lock_id("k", bucket, key)] + ([_lock_id("u", upload_id)] if upload_id else [])
    return _scoped((serializable, (_lock_id("b", bucket),), tuple(exclusive)))


def part_scope(bucket: str, upload_id: str, number: int) -> contextlib.AbstractContextManager[None]:
    """The write job run next stores one part: READ COMMITTED under the part's lock (parts of one
    upload uploaded in parallel do not wait for each other), the upload's shared (completion and
    abort take it exclusively) and the bucket's shared."""
    return _scoped((False, (_lock_id("b", bucket), _lock_id("u", upload_id)),
                    (_lock_id("p", upload_id, str(number)),)))


def upload_scope(bucket: str, upload_id: str) -> contextlib.AbstractContextManager[None]:
    """The write job run next removes an upload (abort): SERIALIZABLE with the upload to itself."""
    return _scoped((True, (_lock_id("b", bucket),), (_lock_id("u", upload_id),)))


def bucket_scope(bucket: str) -> contextlib.AbstractContextManager[None]:
    """The write job run next needs the bucket to itself (bucket deletion): no object or part write
    of the bucket runs while it checks that the bucket is empty."""
    return _scoped((True, (), (_lock_id("b", bucket),)))


def no_scope() -> contextlib.AbstractContextManager[None]:
    """Write jobs in this context lock nothing beyond SERIALIZABLE (e.g. GC bookkeeping after a PUT)."""
    return _scoped(None)


def _begin(scope: tuple | None) -> tuple[list[str], str | None]:
    """(statements that open the transaction, one round trip each; the statement that releases
    session locks afterwards). No parameters, so one round trip may carry several statements
    (simple query protocol, executed in order: BEGIN and the locks travel together)."""
    if scope is None:
        return ["BEGIN ISOLATION LEVEL SERIALIZABLE"], None
    serializable, shared, exclusive = scope
    if not serializable:
        locks = [f"SELECT pg_advisory_xact_lock_shared({i})" for i in shared] + \
                [f"SELECT pg_advisory_xact_lock({i})" for i in exclusive]
        return ["; ".join(["BEGIN ISOLATION LEVEL READ COMMITTED", *locks])], None
    locks = [f"SELECT pg_advisory_lock_shared({i})" for i in shared] + [f"SELECT pg_advisory_lock({i})" for i in exclusive]
    return ["; ".join(locks), "BEGIN ISOLATION LEVEL SERIALIZABLE"], "SELECT pg_advisory_unlock_all()"


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and url.split("://", 1)[0] in ("postgresql", "postgres")


class Rows:
    """A fetched result, shaped like a DB-API cursor (what the shared queries use of one)."""

    __slots__ = ("_rows", "_pos", "rowcount")

    def __init__(self, rows: list, rowcount: int) -> None:
        self._rows, self._pos, self.rowcount = rows, 0, rowcount

    def fetchone(self):
        if self._pos >= len(self._rows):
            return None
        self._pos += 1
        return self._rows[self._pos - 1]

    def fetchall(self) -> list:
        rows, self._pos = self._rows[self._pos:], len(self._rows)
        return rows

    def __iter__(self):
        return iter(self.fetchall())


def _run(conn: psycopg.Connection, dialect: PostgresDialect, sql: str, params: Any) -> Rows:
    text = dialect.translate(sql)
    if text is None:                       # schema statements: the migrations own the schema
        return Rows([], -1)
    cur = conn.execute(text, params if params is not None else ())
    return Rows(cur.fetchall() if cur.description else [], cur.rowcount)


class Counts:
    """Round trips to PostgreSQL and transactions since start (``/-/metrics``, bench/cluster.py):
    every statement is one round trip (BEGIN and COMMIT included); a transaction is a read
    statement on its own (autocommit) or one write job's BEGIN..COMMIT (each attempt)."""

    __slots__ = ("round_trips", "transactions", "write_transactions", "_lock")

    def __init__(self) -> None:
        self.round_trips = self.transactions = self.write_transactions = 0
        self._lock = threading.Lock()

    def add(self, round_trips: int, transactions: int = 0, writes: int = 0) -> None:
        with self._lock:
            self.round_trips += round_trips
            self.transactions += transactions
            self.write_transactions += writes


class PgConnection:
    """What a write job receives: ``execute`` runs the shared SQL inside the job's transaction."""

    def __init__(self, conn: psycopg.Connection, dialect: PostgresDialect, counts: Counts | None = None) -> None:
        self._conn, self._dialect, self._counts = conn, dialect, counts

    def execute(self, sql: str, params: Any = None) -> Rows:
        if self._counts is not None:
            self._counts.add(1)
        return _run(self._conn, self._dialect, sql, params)

    def executemany(self, sql: str, rows) -> None:
        for params in rows:
            self.execute(sql, params)


class PgReader:
    """``db.reader()``: each statement on a pooled connection of its own (autocommit)."""

    def __init__(self, db: "PgDatabase") -> None:
        self._db = db

    def execute(self, sql: str, params: Any = None) -> Rows:
        return self._db.query(sql, params)


class PgDatabase:
    dialect_name = "postgresql"

    @staticmethod
    def unscoped() -> contextlib.AbstractContextManager[None]:
        """Write jobs in this context lock nothing beyond SERIALIZABLE (:func:`no_scope`)."""
        return no_scope()

    def __init__(self, url: str, *, min_size: int = 2, max_size: int = 16, upgrade: bool = False) -> None:
        self.url = url
        self.path = url             # what logs and messages name
        self.dialect = migrations.dialect()
        self.pool = ConnectionPool(url, min_size=min_size, max_size=max_size, open=False, name="cosbeauty-metadata",
                                   kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT},
                                   timeout=POOL_TIMEOUT)
        try:
            self.pool.open(wait=True, timeout=max(POOL_TIMEOUT, 2 * CONNECT_TIMEOUT))
        except Exception as exc:
            self.pool.close()
            raise RuntimeError(f"metadata store {redact(url)} is unreachable: {exc}") from None
        self._executor = concurrent.futures.ThreadPoolExecutor(max_size, thread_name_prefix="cosbeauty-pg")
        self._reader = PgReader(self)
        self.retries = 0            # serialization retries so far (metrics, tests)
        self.counts = Counts()
        self._lock = threading.Lock()
        try:
            self._check_schema(upgrade)
        except BaseException:
            self.close()
            raise

    # -- schema --------------------------------------------------------------------------
    def _check_schema(self, upgrade: bool) -> None:
        with self.pool.connection() as conn:
            version = migrations.current_version(conn)
            if version == 0 or upgrade:     # a new database is created; an old one only on request
                migrations.upgrade(conn)
                return
            if version < migrations.LATEST:
                raise RuntimeError(f"metadata store {redact(self.url)} has schema version {version}, this cosbeauty "
                                   f"needs {migrations.LATEST}: run `cosbeauty db upgrade --metadata URL` first")
            if version > migrations.LATEST:
                raise RuntimeError(f"metadata store {redact(self.url)} has schema version {version}, newer than "
                                   f"this cosbeauty knows ({migrations.LATEST}): upgrade cosbeauty")

    # -- reads ---------------------------------------------------------------------------
    def reader(self) -> PgReader:
        return self._reader

    def query(self, sql: str, params: Any = None) -> Rows:
        for attempt in (1, 2):
            try:
                with self.pool.connection() as conn:
                    self.counts.add(1, 1)
                    return _run(conn, self.dialect, sql, params)
            except psycopg.OperationalError as exc:
                if attempt == 1 and not isinstance(exc, _RETRY) and "timeout" not in type(exc).__name__.lower():
                    continue                # a connection that broke (PostgreSQL restarted): once more
                raise MetadataUnavailable(f"metadata store: {exc}") from None
        raise AssertionError("unreachable")

    # -- writes --------------------------------------------------------------------------
    def write(self, job: Callable[[PgConnection], Any]) -> Any:
        """Run ``job(conn)`` in one committed transaction and return its result: SERIALIZABLE, or
        READ COMMITTED under the key lock of the enclosing :func:`key_scope`."""
        begin, release = _begin(_SCOPE.get())
        delay = 0.002
        for attempt in range(1, MAX_ATTEMPTS + 1):
            committing = False
            try:
                with self.pool.connection() as conn:
                    self.counts.add(len(begin) + 1 + (release is not None), 1, 1)   # (locks,) BEGIN, COMMIT (, unlock)
                    try:
                        for statement in begin:
                            conn.execute(statement)
                        try:
                            result = job(PgConnection(conn, self.dialect, self.counts))
                        except BaseException:
                            _rollback(conn)
                            raise
                        committing = True
                        conn.execute("COMMIT")
                        return result
                    finally:
                        if release is not None:
                            _release(conn, release)
            except _RETRY as exc:
                if attempt == MAX_ATTEMPTS:
                    raise MetadataUnavailable(f"metadata store: gave up after {attempt} conflicts: {exc}") from None
                with self._lock:
                    self.retries += 1
                time.sleep(delay * random.random())
                delay = min(delay * 2, 0.1)
            except psycopg.OperationalError as exc:
                if not committing and attempt == 1 and "timeout" not in type(exc).__name__.lower():
                    continue                # a connection that broke before anything was sent to commit
                raise MetadataUnavailable(f"metadata store: {exc}") from None
        raise AssertionError("unreachable")

    def submit(self, job: Callable[[PgConnection], Any]) -> concurrent.futures.Future:
        return self._executor.submit(contextvars.copy_context().run, self.write, job)   # with the lock scope

    def pool_stats(self) -> dict[str, int]:
        return self.pool.get_stats()

    def close(self) -> None:
        executor = getattr(self, "_executor", None)
        if executor is not None:
            executor.shutdown(wait=True)
        self.pool.close()


def _release(conn: psycopg.Connection, statement: str) -> None:
    """Release session-level advisory locks; a connection that cannot is closed (the pool drops it,
    and PostgreSQL releases a session's locks when it ends)."""
    try:
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.execute("ROLLBACK")
        conn.execute(statement)
    except psycopg.Error:
        conn.close()


def _rollback(conn: psycopg.Connection) -> None:
    try:
        conn.execute("ROLLBACK")
    except psycopg.Error:
        pass                                # a broken connection: the pool discards it


def redact(url: str) -> str:
    """The URL without a password (for messages)."""
    try:
        from psycopg.conninfo import conninfo_to_dict
        info = conninfo_to_dict(url)
    except Exception:   # noqa: BLE001
        return "postgresql://..."
    return f"postgresql://{info.get('user', '')}@{info.get('host', '')}:{info.get('port', '5432')}/{info.get('dbname', '')}"


def upgrade(url: str) -> tuple[int, list[int]]:
    """``cosbeauty db upgrade``: (version before, versions applied)."""
    with psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as conn:
        before = migrations.current_version(conn)
        return before, migrations.upgrade(conn)
