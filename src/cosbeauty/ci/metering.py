"""Usage records: one row per billable CI call, committed through the meta database's
group-committing writer (durable when the call is answered)."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass

from cosbeauty.storage.sqlite import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS ci_usage (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, bucket TEXT NOT NULL,
    method TEXT NOT NULL, process TEXT NOT NULL, input_bytes INTEGER NOT NULL,
    output_bytes INTEGER NOT NULL, faces INTEGER NOT NULL, outcome TEXT NOT NULL,
    ms REAL NOT NULL, request_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ci_usage_by_bucket ON ci_usage (bucket, ts);
CREATE INDEX IF NOT EXISTS ci_usage_by_ts ON ci_usage (ts);
"""
COLUMNS = ("ts", "bucket", "method", "process", "input_bytes", "output_bytes", "faces", "outcome", "ms",
           "request_id")
INSERT = f"INSERT INTO ci_usage ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
METHODS = ("download", "detect-url", "upload", "cloud")
OK = "ok"
ORIGINAL = "ok-original"     # ignore-error=1 answered the original image


@dataclass
class UsageRecord:
    ts: float
    bucket: str
    method: str          # one of METHODS
    process: str         # "AIFaceBeauty", "face-effect/face-beautify", "face-effect/face-segmentation"
    input_bytes: int
    output_bytes: int
    faces: int
    outcome: str         # OK, ORIGINAL or the error code answered
    ms: float
    request_id: str


class Meter:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.write(lambda conn: [conn.execute(stmt) for stmt in SCHEMA.split(";") if stmt.strip()])

    async def record(self, rec: UsageRecord) -> None:
        row = tuple(getattr(rec, c) for c in COLUMNS)   # (asdict() per column deep-copied the record 11 times)
        job = lambda conn: conn.execute(INSERT, row)   # noqa: E731
        submit_async = getattr(self.db, "submit_async", None)      # SQLite: no concurrent Future
        await (submit_async(job) if submit_async else asyncio.wrap_future(self.db.submit(job)))


def query(conn: sqlite3.Connection, *, bucket: str | None = None, since: float | None = None,
          limit: int = 10000) -> list[dict]:
    """Usage rows, oldest first. A database that never metered anything has no rows."""
    where, args = [], []
    if bucket:
        where.append("bucket = ?")
        args.append(bucket)
    if since is not None:
        where.append("ts >= ?")
        args.append(since)
    sql = (f"SELECT {', '.join(COLUMNS)} FROM ci_usage"
           + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY ts, id LIMIT ?")
    try:
        rows = conn.execute(sql, (*args, limit)).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []
        raise
    return [dict(zip(COLUMNS, r)) for r in rows]


def totals(rows: list[dict]) -> list[dict]:
    """Per (bucket, method, process): calls, successes, bytes in/out, faces."""
    out: dict[tuple[str, str, str], dict] = {}
    for r in rows:
        t = out.setdefault((r["bucket"], r["method"], r["process"]), {
            "bucket": r["bucket"], "method": r["method"], "process": r["process"], "calls": 0, "ok": 0,
            "input_bytes": 0, "output_bytes": 0, "faces": 0})
        t["calls"] += 1
        t["ok"] += r["outcome"] in (OK, ORIGINAL)
        for k in ("input_bytes", "output_bytes", "faces"):
            t[k] += r[k]
    return list(out.values())
