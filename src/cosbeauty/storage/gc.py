"""Blob garbage collection in cluster mode (PostgreSQL metadata, shared blob store).

Two kinds of garbage, both removed by a background sweep that many nodes run safely:

* blobs of overwritten or deleted objects (and of aborted uploads, replaced parts): a node does not
  delete them right after its commit -- another node may be streaming that very blob to a client
  (on S3 a deleted blob is gone at once; only a local file survives its unlink while open). They
  are queued in ``blob_gc`` with a due time ``grace`` seconds ahead, and deleted when due;
* blobs written but never committed (a node killed between the blob and its metadata row), found
  by the orphan sweep: every blob of the store that no row references (objects, versions, parts,
  ``blob_gc``) and that is older than ``SWEEP_GRACE`` (10 minutes: in-flight writes are never swept).

Each round runs under a PostgreSQL advisory lock (``pg_try_advisory_lock``): one node at a time
sweeps, the others skip that round. A node killed mid-sweep releases the lock with its session.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Iterable

from cosbeauty.storage.base import StorageError

log = logging.getLogger("cosbeauty.gc")

SCHEMA = "CREATE TABLE IF NOT EXISTS blob_gc (name TEXT PRIMARY KEY, due REAL NOT NULL) WITHOUT ROWID"
GC_LOCK = 0x636F7367                 # pg_try_advisory_lock key ("cosg")
GRACE = float(os.environ.get("COSBEAUTY_GC_GRACE_SECONDS", "300"))          # overwritten blobs kept this long
INTERVAL = float(os.environ.get("COSBEAUTY_GC_INTERVAL_SECONDS", "30"))      # due deletions checked this often
ORPHAN_INTERVAL = float(os.environ.get("COSBEAUTY_GC_ORPHAN_INTERVAL_SECONDS", "3600"))
BATCH = 1000


def _unscoped(db):
    """PostgreSQL: write jobs here take no per-key locks (``PgDatabase.unscoped``); SQLite: nothing."""
    import contextlib
    unscoped = getattr(db, "unscoped", None)
    return unscoped() if unscoped is not None else contextlib.nullcontext()


class DeferredDeletes:
    def __init__(self, db, store, *, grace: float = GRACE, interval: float = INTERVAL,
                 orphan_interval: float = ORPHAN_INTERVAL) -> None:
        self.db, self.store = db, store
        self.grace, self.interval, self.orphan_interval = grace, interval, orphan_interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- called after commits (LocalBackend.drop_blobs) ----------------------------------
    def defer(self, names: Iterable[str]) -> None:
        rows = [(name, time.time() + self.grace) for name in names]
        if not rows:
            return

        def job(conn) -> None:
            for row in rows:
                conn.execute("INSERT OR REPLACE INTO blob_gc (name, due) VALUES (?,?)", row)
        try:
            with _unscoped(self.db):     # not under the object key lock of the write that dropped them
                self.db.write(job)
        except StorageError as exc:      # PostgreSQL away right after the commit: the orphan sweep finds them
            log.warning("could not queue %d blobs for deletion (%s); the orphan sweep will remove them",
                        len(rows), getattr(exc, "detail", exc))

    def pending(self) -> set[str]:
        return {r[0] for r in self.db.reader().execute("SELECT name FROM blob_gc")}

    # -- the sweep -----------------------------------------------------------------------
    def _locked(self, work) -> int | None:
        """``work()`` under the cluster-wide GC lock; None when another node holds it."""
        with self.db.pool.connection() as conn:
            if not conn.execute("SELECT pg_try_advisory_lock(%s)", (GC_LOCK,)).fetchone()[0]:
                return None
            try:
                return work()
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (GC_LOCK,))

    def sweep_due(self) -> int | None:
        """Delete the queued blobs whose grace period is over; how many (None: another node sweeps)."""
        def work() -> int:
            done = 0
            while True:
                names = [r[0] for r in self.db.reader().execute(
                    "SELECT name FROM blob_gc WHERE due < ? ORDER BY due LIMIT ?", (time.time(), BATCH))]
                if not names:
                    return done
                self.store.delete(names)

                self.db.write(lambda conn, gone=names: [conn.execute("DELETE FROM blob_gc WHERE name=?", (n,))
                                                        for n in gone])
                done += len(names)
        return self._locked(work)

    def sweep_orphans(self, backend, older_than: float) -> int | None:
        return self._locked(lambda: backend.sweep_orphans(older_than))

    def start(self, backend) -> None:
        def loop() -> None:
            next_orphans = 0.0
            while not self._stop.is_set():
                try:
                    if time.time() >= next_orphans:
                        from cosbeauty.storage.blobs import SWEEP_GRACE
                        self.sweep_orphans(backend, time.time() - SWEEP_GRACE)
                        next_orphans = time.time() + self.orphan_interval
                    self.sweep_due()
                except Exception as exc:   # noqa: BLE001 -- PostgreSQL or the store away: next round
                    log.warning("blob sweep: %s", getattr(exc, "detail", exc))
                self._stop.wait(self.interval)

        self._thread = threading.Thread(target=loop, name="cosbeauty-gc", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


class LocalDeferredDeletes(DeferredDeletes):
    """The same grace period for the embedded default with ``--blobs`` (SQLite metadata, blobs in a
    remote store): a GET streaming an overwritten object's blob must not be cut by the overwrite
    (on S3 a deleted blob is gone at once). The store is claimed by this one metadata store, so
    this process is its only sweeper: a thread lock instead of the advisory lock."""

    def __init__(self, db, store, **kwargs) -> None:
        super().__init__(db, store, **kwargs)
        self._sweeping = threading.Lock()
        db.write(lambda conn: conn.execute(SCHEMA))

    def _locked(self, work) -> int | None:
        if not self._sweeping.acquire(blocking=False):
            return None
        try:
            return work()
        finally:
            self._sweeping.release()
