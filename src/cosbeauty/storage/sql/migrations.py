"""PostgreSQL's versioned schema.

Version 1 is the embedded (SQLite) schema of every module, translated by the dialect: buckets,
objects, versions, uploads, parts, completed uploads, the key/value namespace, IAM and CI metering.
A later change appends a version (a list of PostgreSQL statements); ``cosbeauty db upgrade`` applies
what a database lacks, each version in one transaction under an advisory lock (PostgreSQL DDL is
transactional: a version is applied entirely or not at all, by exactly one process).
"""

from __future__ import annotations

import time
from typing import Callable

from cosbeauty.storage.sql.dialect import PostgresDialect, parse_tables, statements

MIGRATION_LOCK = 0x636F7362      # pg_advisory_xact_lock key ("cosb")


def sqlite_schema() -> list[str]:
    """Every schema statement of the embedded store, in creation order, plus the cluster-only tables
    (the dialect reads primary keys and columns from them)."""
    from cosbeauty.ci.metering import SCHEMA as METERING
    from cosbeauty.iam.store import SCHEMA as IAM
    from cosbeauty.storage.gc import SCHEMA as GC
    from cosbeauty.storage.sqlite import SCHEMA as STORAGE
    return statements(STORAGE) + statements(IAM) + statements(METERING) + statements(GC)


def dialect() -> PostgresDialect:
    return PostgresDialect(parse_tables(";".join(s for s in sqlite_schema())))


def _v1() -> list[str]:
    from cosbeauty.storage.sql.pg_v1 import STATEMENTS
    return list(STATEMENTS)


def _v2() -> list[str]:
    # blobs of overwritten / deleted objects, deleted by the sweep after a grace period (storage/gc.py)
    return ['CREATE TABLE IF NOT EXISTS blob_gc ( name TEXT COLLATE "C" PRIMARY KEY, due DOUBLE PRECISION NOT NULL )',
            "CREATE INDEX IF NOT EXISTS blob_gc_by_due ON blob_gc (due)"]


def _v3() -> list[str]:
    # a part's S3 checksums ("CRC32:<base64>" ...), listed by ListParts and used by complete
    return ["""ALTER TABLE parts ADD COLUMN IF NOT EXISTS checksum TEXT COLLATE "C" NOT NULL DEFAULT ''"""]


# version -> statements (frozen once released: a schema change appends a version)
MIGRATIONS: dict[int, Callable[[], list[str]]] = {
    1: _v1,
    2: _v2,
    3: _v3,
}
LATEST = max(MIGRATIONS)

_BOOKKEEPING = ("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, "
                "applied DOUBLE PRECISION NOT NULL)")


def current_version(conn) -> int:
    """The schema version of the database behind a psycopg connection (0: empty)."""
    row = conn.execute("SELECT to_regclass('schema_migrations')").fetchone()
    if row[0] is None:
        return 0
    row = conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
    return row[0] or 0


def upgrade(conn, target: int = LATEST) -> list[int]:
    """Apply the missing versions up to ``target`` (psycopg connection in autocommit mode).
    Returns the versions applied (empty: already up to date)."""
    applied = []
    while True:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            conn.execute(_BOOKKEEPING)
            version = current_version(conn)
            if version >= target:
                return applied
            nxt = version + 1
            for statement in MIGRATIONS[nxt]():
                conn.execute(statement)
            conn.execute("INSERT INTO schema_migrations (version, applied) VALUES (%s, %s)", (nxt, time.time()))
        applied.append(nxt)
