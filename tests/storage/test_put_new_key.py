"""LocalBackend._upsert's one-statement path (a new key of a never-versioned bucket) must leave
exactly what the general path (read, then INSERT OR REPLACE) leaves, and must step aside for every
other case: no bucket, a versioning state (Enabled or Suspended), an existing key, a condition."""

from __future__ import annotations

import json
import sqlite3

import pytest

from cosbeauty.storage import StorageError, WriteCondition
from cosbeauty.storage.base import ObjectMeta
from cosbeauty.storage.local import _OBJ_COLS, LocalBackend


@pytest.fixture
def backend(tmp_path):
    b = LocalBackend(str(tmp_path / "data"), fsync=False)
    b.create_bucket("plain-1250000000", "owner")
    yield b
    b.close()


def _meta(bucket: str, key: str, body: bytes = b"x" * 4096, **kw) -> ObjectMeta:
    return ObjectMeta(bucket=bucket, key=key, size=len(body), etag="e" * 32, mtime=1700000000.5,
                      content_type="text/plain", headers={"x-cos-hash-crc64ecma": "42", "x-cos-meta-a": "b"},
                      acl="public-read", grants={"READ": ["qcs::cam::uin/1:uin/2"]}, inline=body,
                      tags={"t": "1"}, **kw)


def _row(backend: LocalBackend, bucket: str, key: str) -> tuple:
    return backend.db.reader().execute(f"SELECT {_OBJ_COLS}, seq, inline FROM objects WHERE bucket=? AND key=?",
                                       (bucket, key)).fetchone()


def _general(conn: sqlite3.Connection, meta: ObjectMeta, cond=None):
    """_upsert as it runs without the one-statement path (the connection is not a sqlite3.Connection)."""
    class Wrapped:
        def execute(self, *args):
            return conn.execute(*args)
    return LocalBackend._upsert(Wrapped(), meta, cond)      # type: ignore[arg-type]


def test_new_key_row_is_the_general_paths_row(backend):
    fast = _meta("plain-1250000000", "fast")
    assert backend.db.write(lambda conn: LocalBackend._upsert(conn, fast)) is None
    slow = _meta("plain-1250000000", "slow")
    assert backend.db.write(lambda conn: _general(conn, slow)) is None
    a, b = _row(backend, "plain-1250000000", "fast"), _row(backend, "plain-1250000000", "slow")
    assert a[0] == b[0] and a[2:] == b[2:]
    assert fast.version_id == slow.version_id == "null"
    assert json.loads(a[6]) == fast.headers and a[-1] == fast.inline


def test_one_statement_only_for_a_new_key_of_an_unversioned_bucket(backend):
    conn = backend.db._writer_conn
    with backend.db._conn_lock:
        conn.execute("BEGIN IMMEDIATE")
        try:
            assert LocalBackend._insert_new(conn, _meta("plain-1250000000", "k"))
            assert not LocalBackend._insert_new(conn, _meta("plain-1250000000", "k"))        # exists
            assert not LocalBackend._insert_new(conn, _meta("missing-1250000000", "k"))      # no bucket
        finally:
            conn.execute("ROLLBACK")
    for state in ("Enabled", "Suspended"):
        backend.create_bucket(f"v{state.lower()}-1250000000", "owner")
        backend.update_bucket(f"v{state.lower()}-1250000000", attrs={"versioning": state})
        with backend.db._conn_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                assert not LocalBackend._insert_new(conn, _meta(f"v{state.lower()}-1250000000", "k"))
            finally:
                conn.execute("ROLLBACK")


def test_other_attrs_keep_the_one_statement_path(backend):
    backend.update_bucket("plain-1250000000", attrs={"policy": '{"Statement": []}', "tags": {"a": "b"}})
    conn = backend.db._writer_conn
    with backend.db._conn_lock:
        conn.execute("BEGIN IMMEDIATE")
        try:
            assert LocalBackend._insert_new(conn, _meta("plain-1250000000", "k"))
        finally:
            conn.execute("ROLLBACK")


def test_overwrite_missing_bucket_versioned_and_conditions_still_work(backend):
    backend.put_object(_meta("plain-1250000000", "k", b"one"))
    old = backend.put_object(_meta("plain-1250000000", "k", b"two"))
    assert old is not None and old.etag == "e" * 32
    assert backend.get_object("plain-1250000000", "k").inline == b"two"
    with pytest.raises(StorageError) as err:
        backend.put_object(_meta("missing-1250000000", "k"))
    assert err.value.code == "NoSuchBucket"
    with pytest.raises(StorageError) as err:        # If-None-Match: * on an existing key
        backend.put_object(_meta("plain-1250000000", "k"), WriteCondition(if_match=None, if_none_match=True))
    assert err.value.code == "PreconditionFailed"
    backend.put_object(_meta("plain-1250000000", "new"), WriteCondition(if_match=None, if_none_match=True))
    backend.create_bucket("ver-1250000000", "owner")
    backend.update_bucket("ver-1250000000", attrs={"versioning": "Enabled"})
    meta = _meta("ver-1250000000", "k")
    backend.put_object(meta)
    assert meta.version_id != "null"
    assert _row(backend, "ver-1250000000", "k")[11] == meta.version_id
