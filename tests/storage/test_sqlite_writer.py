"""The SQLite writer: a lone write may commit on the caller's thread (Database.write_now), durably,
and only when the writer thread is idle, nothing is queued and commits have been fast."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest

from cosbeauty.storage import StorageError
from cosbeauty.storage.base import ObjectMeta
from cosbeauty.storage.local import LocalBackend
from cosbeauty.storage.sqlite import INLINE_COMMIT_MAX, NOT_NOW, Database


def _insert(value: str):
    def job(conn: sqlite3.Connection) -> str:
        conn.execute("INSERT INTO kv (ns, k, v) VALUES ('t', ?, ?)", (value, value))
        return value
    return job


def _fast(db: Database) -> None:
    """As after fast commits (test set-ups commit on a loaded disk)."""
    db.commit_seconds = 0.0
    db._slow.clear()
    db._slow_count = 0


def _rows(db: Database) -> list[str]:
    return [r[0] for r in db.reader().execute("SELECT k FROM kv WHERE ns='t' ORDER BY k")]


@pytest.fixture
def db(tmp_path):
    d = Database(str(tmp_path / "meta.sqlite3"))
    yield d
    d.close()


def test_write_now_commits_on_the_calling_thread(db):
    seen = []

    def job(conn):
        seen.append(threading.current_thread())
        return _insert("a")(conn)
    assert db.write_now(job) == "a"
    assert seen == [threading.current_thread()]
    assert _rows(db) == ["a"]
    assert not db._writer_conn.in_transaction
    assert db.commit_seconds > 0


def test_write_now_raises_the_jobs_error_and_rolls_back(db):
    def failing(conn):
        _insert("b")(conn)
        raise StorageError("NoSuchBucket")
    with pytest.raises(StorageError):
        db.write_now(failing)
    assert _rows(db) == []
    assert not db._writer_conn.in_transaction
    assert db.write(_insert("c")) == "c"        # the writer thread still works
    assert _rows(db) == ["c"]


def test_write_now_declines_while_the_writer_commits_or_jobs_wait(db):
    inside, release = threading.Event(), threading.Event()

    def slow(conn):
        inside.set()
        release.wait(10)
        return _insert("slow")(conn)
    fut = db.submit(slow)
    assert inside.wait(10)
    assert db.write_now(_insert("x")) is NOT_NOW        # the writer holds the connection
    queued = db.submit(_insert("q"))
    assert db.write_now(_insert("y")) is NOT_NOW        # something is queued
    release.set()
    assert fut.result(10) == "slow" and queued.result(10) == "q"
    assert _rows(db) == ["q", "slow"]


def test_write_now_declines_after_slow_commits_and_after_close(db):
    db.commit_seconds = INLINE_COMMIT_MAX * 4
    assert db.write_now(_insert("x")) is NOT_NOW
    db.commit_seconds = 0.0
    db.close()
    assert db.write_now(_insert("y")) is NOT_NOW


def _meta(key: str) -> ObjectMeta:
    return ObjectMeta(bucket="b", key=key, size=1, etag="e", mtime=1.0, inline=b"x")


def test_put_object_async_commits_inline_only_for_a_lone_request(tmp_path):
    backend = LocalBackend(str(tmp_path / "data"))
    try:
        backend.create_bucket("b", "owner")
        threads: list[str] = []
        real = backend._upsert

        def spy(conn, meta, cond=None):
            threads.append(threading.current_thread().name)
            return real(conn, meta, cond)
        backend._upsert = spy
        asyncio.run(backend.put_object_async(_meta("default")))     # not wired to an app: writer thread
        backend.lone_request = lambda: True
        _fast(backend.db)       # as after fast commits (a slow disk sends it to the writer)
        asyncio.run(backend.put_object_async(_meta("lone")))
        backend.lone_request = lambda: False
        asyncio.run(backend.put_object_async(_meta("busy")))
        assert threads == ["cosbeauty-sqlite-writer", "MainThread", "cosbeauty-sqlite-writer"]
        assert backend.get_object("b", "lone").inline == b"x"
        backend.lone_request = lambda: True
        _fast(backend.db)
        with pytest.raises(StorageError) as err:
            asyncio.run(backend.put_object_async(ObjectMeta(bucket="nope", key="k", size=1, etag="e",
                                                            mtime=1.0, inline=b"x")))
        assert err.value.code == "NoSuchBucket"
    finally:
        backend.close()


def test_failed_commit_drops_the_blobs_in_a_worker_thread(tmp_path):
    backend = LocalBackend(str(tmp_path / "data"))
    try:
        threads: list[str] = []
        real = backend.drop_blobs

        def spy(names):
            threads.append(threading.current_thread().name)
            return real(names)
        backend.drop_blobs = spy
        writer = backend.blob_writer(allow_inline=False)
        writer.write(b"z" * 1000)
        blob, _ = writer.finish()
        meta = ObjectMeta(bucket="nope", key="k", size=1000, etag="e", mtime=1.0, segments=[[blob, 1000]])
        for lone in (False, True):
            backend.lone_request = lambda lone=lone: lone
            _fast(backend.db)
            with pytest.raises(StorageError):
                asyncio.run(backend.put_object_async(meta))
        assert len(threads) == 2 and "MainThread" not in threads
    finally:
        backend.close()


def test_slow_commits_send_writes_to_the_writer_a_lone_one_does_not(db, monkeypatch):
    import cosbeauty.storage.sqlite as sq
    monkeypatch.setattr(sq, "INLINE_SLOW", 0.0)             # every commit counts as slow
    for value in "abc":                                     # a lone slow one (a checkpoint) ...
        db.commit_seconds = 0.0
        assert db.write_now(_insert(value)) == value        # ... and a second still commit inline
    db.commit_seconds = 0.0
    assert db.write_now(_insert("d")) is NOT_NOW            # three of the last 16: a busy disk
    monkeypatch.setattr(sq, "INLINE_SLOW", 10.0)
    for value in range(sq.SLOW_WINDOW):                     # fast commits (on the writer) push them out
        db.write(_insert(f"w{value:02d}"))
    db.commit_seconds = 0.0
    assert db.write_now(_insert("e")) == "e"
