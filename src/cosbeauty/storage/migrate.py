"""Copy an embedded installation (a data dir: SQLite + local blobs) into a cluster (PostgreSQL +
a shared blob store): ``cosbeauty migrate --from DATA_DIR --to-metadata URL --to-blobs URL``.

Blobs first (each referenced blob streamed into the store under a new name), then every row in one
PostgreSQL transaction with blob names rewritten, then a verification (row counts per table, every
copied blob present with its size). The source is only read (run it with the server stopped, or
accept that writes made during the copy are not copied). The target must be empty: a second run
after a failure starts from a fresh database (nothing is half-committed: the rows go in one
transaction, and blobs copied by a failed run are unreferenced and swept).
"""

from __future__ import annotations

import json
import os
import sqlite3
from typing import Callable

TABLES = ("buckets", "objects", "object_versions", "uploads", "parts", "completed_uploads", "kv",
          "iam_users", "iam_keys", "iam_policies", "iam_state", "ci_usage")
CHUNK = 1 << 20


class MigrationError(RuntimeError):
    pass


def _source(data_dir: str) -> sqlite3.Connection:
    path = os.path.join(data_dir, "meta.sqlite3")
    if not os.path.exists(path):
        raise MigrationError(f"no cosbeauty data in {os.path.abspath(data_dir)} (missing meta.sqlite3)")
    if os.path.exists(os.path.join(data_dir, "metadata.id")):
        raise MigrationError(f"{data_dir} keeps its object bytes in a blob store (--blobs); only an installation "
                             "with its blobs in <data>/blobs can be migrated")
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def _segments_blobs(text: str) -> list[str]:
    return [name for name, _ in json.loads(text)]


def migrate(data_dir: str, metadata: str, blobs: str, endpoint: str | None = None, *,
            say: Callable[[str], None] = print) -> dict[str, int]:
    """Returns the rows copied per table (and "blobs")."""
    from cosbeauty.storage.blobs import open_blob_store
    from cosbeauty.storage.cluster import cluster_metadata_id
    from cosbeauty.storage.postgres import PgDatabase

    src = _source(data_dir)
    present = {r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    db = PgDatabase(metadata)
    store = None
    try:
        for table in ("buckets", "objects", "iam_users", "ci_usage"):
            if db.reader().execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone():
                raise MigrationError(f"the target metadata store is not empty ({table} has rows): migrate into a "
                                     "fresh database")
        store = open_blob_store(blobs, endpoint=endpoint, fsync=True)
        store.check()
        store.claim(cluster_metadata_id(db))

        # 1. blobs
        names: set[str] = {r[0] for r in src.execute("SELECT blob FROM parts")} if "parts" in present else set()
        for table in ("objects", "object_versions"):
            if table in present:
                for (segments,) in src.execute(f"SELECT segments FROM {table} WHERE segments != '[]'"):
                    names.update(_segments_blobs(segments))
        mapping: dict[str, str] = {}
        sizes: dict[str, int] = {}
        for i, name in enumerate(sorted(names), 1):
            path = os.path.join(data_dir, "blobs", name[:2], name)
            writer = store.writer(allow_inline=False)
            try:
                with open(path, "rb") as f:
                    while chunk := f.read(CHUNK):
                        writer.write(chunk)
                new, _ = writer.finish()
            except BaseException:
                writer.abort()
                raise
            mapping[name], sizes[new] = new, writer.size
            if i % 1000 == 0:
                say(f"cosbeauty migrate: {i}/{len(names)} blobs copied")
        say(f"cosbeauty migrate: {len(names)} blobs copied")

        # 2. rows, in one transaction
        def rewrite_segments(text: str) -> str:
            return json.dumps([[mapping[name], size] for name, size in json.loads(text)])

        counts: dict[str, int] = {}

        def job(conn) -> None:
            for table in TABLES:
                if table not in present:
                    continue
                cols = [r[1] for r in src.execute(f"PRAGMA table_info({table})")]
                target = set(db.dialect.tables[table].columns)
                cols = [c for c in cols if c in target]
                insert = (f"INSERT OR REPLACE INTO {table} ({', '.join(chr(34) + c + chr(34) for c in cols)}) "
                          f"VALUES ({', '.join('?' * len(cols))})")
                n = 0
                for row in src.execute(f"SELECT {', '.join(chr(34) + c + chr(34) for c in cols)} FROM {table}"):
                    row = list(row)
                    if "segments" in cols:
                        row[cols.index("segments")] = rewrite_segments(row[cols.index("segments")])
                    if table == "parts":
                        row[cols.index("blob")] = mapping[row[cols.index("blob")]]
                    conn.execute(insert, row)
                    n += 1
                counts[table] = n
            if "ci_usage" in present:        # identity continues after the copied ids
                conn.execute("SELECT setval(pg_get_serial_sequence('ci_usage', 'id'), "
                             "COALESCE((SELECT MAX(id) FROM ci_usage), 0) + 1, false)")
        db.write(job)
        say("cosbeauty migrate: rows copied: " + ", ".join(f"{t} {n}" for t, n in counts.items()))

        # 3. verify
        for table, n in counts.items():
            got = db.reader().execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            if table != "kv" and got != n:
                raise MigrationError(f"verification: {table} has {got} rows in the target, {n} in the source")
        for new, size in sizes.items():          # the last byte is there, and nothing after it
            if size == 0:
                continue
            with store.open(new) as f:
                f.seek(size - 1)
                tail = f.read(2)
            if len(tail) != 1:
                raise MigrationError(f"verification: blob {new} is not {size} bytes long")
        counts["blobs"] = len(names)
        say("cosbeauty migrate: verified (row counts, blob sizes)")
        return counts
    finally:
        if store is not None:
            store.close()
        db.close()
        src.close()
