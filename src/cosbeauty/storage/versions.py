"""SQL for object versioning (the query layer the embedded backend uses; no SQL elsewhere).

Model: ``objects`` holds the *current* version of every key whose latest version is an object;
``object_versions`` holds every other version -- noncurrent objects and delete markers. Invariants
kept by every write:

* a key has an ``objects`` row exactly when its latest version is an object (not a delete marker);
* that row has the highest ``seq`` of the key's versions (``seq`` orders versions, newest highest);
* at most one version of a key has the id ``null`` (unversioned and Suspended writes replace it).

Buckets that never had versioning enabled only ever have ``null`` current versions, so they cost
nothing here: writes behave exactly as before (the old bytes are dropped).
"""

from __future__ import annotations

import heapq
import json
import os
import sqlite3
import time
from dataclasses import dataclass

from cosbeauty.storage.base import StorageError

NULL = "null"
_VCOLS = ("bucket, key, version_id, seq, delete_marker, size, etag, mtime, content_type, headers, acl, "
          "storage_class, segments, tags, grants")
_OCOLS = ("bucket, key, version_id, seq, 0, size, etag, mtime, content_type, headers, acl, "
          "storage_class, segments, tags, grants")


@dataclass
class VersionRow:
    key: str
    version_id: str
    seq: int
    delete_marker: bool
    size: int
    etag: str
    mtime: float
    storage_class: str
    is_latest: bool = False


def new_version_id() -> str:
    """Opaque, unique, URL-safe (32 hex digits)."""
    return os.urandom(16).hex()


def versioning_state(conn: sqlite3.Connection, bucket: str) -> str | None:
    """None (never enabled), "Enabled" or "Suspended"; NoSuchBucket if there is no bucket."""
    row = conn.execute("SELECT attrs FROM buckets WHERE name=?", (bucket,)).fetchone()
    if row is None:
        raise StorageError("NoSuchBucket")
    if '"versioning"' not in row[0]:
        return None
    return json.loads(row[0]).get("versioning")


def next_seq(conn: sqlite3.Connection, bucket: str, key: str) -> int:
    row = conn.execute("SELECT MAX(s) FROM (SELECT seq AS s FROM objects WHERE bucket=? AND key=? "
                       "UNION ALL SELECT seq FROM object_versions WHERE bucket=? AND key=?) AS u",
                       (bucket, key, bucket, key)).fetchone()
    return max(time.time_ns(), (row[0] or 0) + 1)


def archive_current(conn: sqlite3.Connection, bucket: str, key: str) -> None:
    """Move the current version (if any) into object_versions, unchanged."""
    conn.execute(f"INSERT OR REPLACE INTO object_versions ({_VCOLS}, inline) SELECT {_OCOLS}, inline FROM objects "
                 "WHERE bucket=? AND key=?", (bucket, key))
    conn.execute("DELETE FROM objects WHERE bucket=? AND key=?", (bucket, key))


def drop_null_version(conn: sqlite3.Connection, bucket: str, key: str) -> list[str]:
    """Remove the noncurrent ``null`` version (object or delete marker); its blobs to drop."""
    row = conn.execute("SELECT segments FROM object_versions WHERE bucket=? AND key=? AND version_id=?",
                       (bucket, key, NULL)).fetchone()
    if row is None:
        return []
    conn.execute("DELETE FROM object_versions WHERE bucket=? AND key=? AND version_id=?", (bucket, key, NULL))
    return [name for name, _ in json.loads(row[0])]


def insert_marker(conn: sqlite3.Connection, bucket: str, key: str, version_id: str) -> None:
    conn.execute(f"INSERT OR REPLACE INTO object_versions ({_VCOLS}) VALUES (?,?,?,?,1,0,'',?,'','{{}}','default',"
                 "'STANDARD','[]','{}','{}')", (bucket, key, version_id, next_seq(conn, bucket, key), time.time()))


def promote_latest(conn: sqlite3.Connection, bucket: str, key: str) -> None:
    """After a version was removed: if the key has no current object and its newest remaining
    version is an object, that version becomes current again."""
    if conn.execute("SELECT 1 FROM objects WHERE bucket=? AND key=?", (bucket, key)).fetchone():
        return
    row = conn.execute("SELECT version_id, delete_marker FROM object_versions WHERE bucket=? AND key=? "
                       "ORDER BY seq DESC LIMIT 1", (bucket, key)).fetchone()
    if row is None or row[1]:
        return
    conn.execute("INSERT INTO objects (bucket, key, version_id, seq, size, etag, mtime, content_type, headers, acl, "
                 "storage_class, segments, tags, grants, inline) SELECT bucket, key, version_id, seq, size, etag, "
                 "mtime, content_type, headers, acl, storage_class, segments, tags, grants, inline FROM object_versions "
                 "WHERE bucket=? AND key=? AND version_id=?", (bucket, key, row[0]))
    conn.execute("DELETE FROM object_versions WHERE bucket=? AND key=? AND version_id=?", (bucket, key, row[0]))


def latest_is_marker(conn: sqlite3.Connection, bucket: str, key: str) -> bool:
    row = conn.execute("SELECT delete_marker FROM object_versions WHERE bucket=? AND key=? ORDER BY seq DESC LIMIT 1",
                       (bucket, key)).fetchone()
    return bool(row and row[0]) and conn.execute(
        "SELECT 1 FROM objects WHERE bucket=? AND key=?", (bucket, key)).fetchone() is None


def noncurrent_version(conn: sqlite3.Connection, bucket: str, key: str, version_id: str, cols: str):
    """(row of ``cols``, delete_marker) of a noncurrent version, or None."""
    return conn.execute(f"SELECT {cols}, delete_marker FROM object_versions WHERE bucket=? AND key=? AND version_id=?",
                        (bucket, key, version_id)).fetchone()


def delete_version(conn: sqlite3.Connection, bucket: str, key: str, version_id: str) -> tuple[bool, list[str]] | None:
    """Remove one version (current or not). Returns (was_delete_marker, blobs to drop), None if absent."""
    row = conn.execute("SELECT segments FROM objects WHERE bucket=? AND key=? AND version_id=?",
                       (bucket, key, version_id)).fetchone()
    if row is not None:
        conn.execute("DELETE FROM objects WHERE bucket=? AND key=?", (bucket, key))
        promote_latest(conn, bucket, key)
        return False, [name for name, _ in json.loads(row[0])]
    row = conn.execute("SELECT segments, delete_marker FROM object_versions WHERE bucket=? AND key=? AND version_id=?",
                       (bucket, key, version_id)).fetchone()
    if row is None:
        return None
    conn.execute("DELETE FROM object_versions WHERE bucket=? AND key=? AND version_id=?", (bucket, key, version_id))
    promote_latest(conn, bucket, key)
    return bool(row[1]), [name for name, _ in json.loads(row[0])]


def has_versions(conn: sqlite3.Connection, bucket: str) -> bool:
    return conn.execute("SELECT 1 FROM object_versions WHERE bucket=? LIMIT 1", (bucket,)).fetchone() is not None


def version_segments(conn: sqlite3.Connection):
    """Segments lists of every noncurrent version (for the orphan-blob sweep)."""
    return conn.execute("SELECT segments FROM object_versions WHERE segments != '[]'")


# one page of each table from the cursor (key, seq) on, both in listing order (key, newest first)
# straight off their indexes, merged in Python: a page costs O(page), never a scan of the bucket
_WHERE = "bucket=:b AND key >= :k AND (key > :k OR seq < :s) AND key >= :lo {upper}"
_CURRENT_SQL = ("SELECT key, version_id, seq, 0, size, etag, mtime, storage_class FROM objects WHERE "
                + _WHERE + " ORDER BY key LIMIT :n")
_NONCURRENT_SQL = ("SELECT key, version_id, seq, delete_marker, size, etag, mtime, storage_class FROM object_versions "
                   "WHERE " + _WHERE + " ORDER BY key, seq DESC LIMIT :n")


def _batch(conn: sqlite3.Connection, params: dict, upper: bool) -> list[tuple]:
    cond = "AND key < :hi" if upper else ""
    current = conn.execute(_CURRENT_SQL.format(upper=cond), params).fetchall()
    noncurrent = conn.execute(_NONCURRENT_SQL.format(upper=cond), params).fetchall()
    return list(heapq.merge(current, noncurrent, key=lambda r: (r[0], -r[2])))[:params["n"]]


def _after(prefix: str) -> str:
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def list_versions(conn: sqlite3.Connection, bucket: str, *, prefix: str, delimiter: str, key_marker: str,
                  version_id_marker: str, max_keys: int):
    """(entries, common prefixes, truncated, next key marker, next version-id marker), ordered by key
    then newest first, as ListObjectVersions pages them."""
    if conn.execute("SELECT 1 FROM buckets WHERE name=?", (bucket,)).fetchone() is None:
        raise StorageError("NoSuchBucket")
    big = 1 << 62
    cursor_key, cursor_seq = "", big       # (key, seq): the next entry is after this one
    if key_marker and delimiter and key_marker.endswith(delimiter) and not version_id_marker:
        cursor_key, cursor_seq = _after(key_marker), big   # a common prefix returned earlier: skip it all
    elif key_marker:
        cursor_key, cursor_seq = key_marker, -1   # after every version of key_marker
        if version_id_marker:
            row = conn.execute("SELECT seq FROM objects WHERE bucket=? AND key=? AND version_id=? UNION ALL "
                               "SELECT seq FROM object_versions WHERE bucket=? AND key=? AND version_id=?",
                               (bucket, key_marker, version_id_marker, bucket, key_marker, version_id_marker)
                               ).fetchone()
            # a marker version deleted since the previous page (a clean-up deleting page by page):
            # resume at the versions of key_marker that remain -- the deleted ones cannot come
            # back, so nothing is skipped (version ids are random: the gone one has no position)
            cursor_seq = row[0] if row is not None else big
    elif prefix:
        cursor_key, cursor_seq = prefix, big
    upper = _after(prefix) if prefix else None
    items: list = []                     # VersionRow or common-prefix str, in listing order
    # resuming inside key_marker: its newest version came earlier (unless resuming at its start)
    prev_key = key_marker if cursor_seq != big else ""
    while len(items) <= max_keys:
        need = max_keys + 1 - len(items)
        rows = _batch(conn, {"b": bucket, "k": cursor_key, "s": cursor_seq, "lo": prefix, "hi": upper, "n": need},
                      upper is not None)
        jumped = False
        for key, vid, seq, dm, size, etag, mtime, sclass in rows:
            if delimiter:
                pos = key.find(delimiter, len(prefix))
                if pos >= 0:
                    cp = key[:pos + len(delimiter)]
                    items.append(cp)
                    cursor_key, cursor_seq, jumped = _after(cp), big, True
                    break
            items.append(VersionRow(key, vid, seq, bool(dm), size, etag, mtime, sclass, is_latest=key != prev_key))
            prev_key = key
            cursor_key, cursor_seq = key, seq
        if not jumped and len(rows) < need:
            break                        # nothing more to read
    truncated = len(items) > max_keys
    items = items[:max_keys]
    next_key = next_vid = ""
    if truncated and items:
        last = items[-1]
        next_key, next_vid = (last.key, last.version_id) if isinstance(last, VersionRow) else (last, "")
    entries = [i for i in items if isinstance(i, VersionRow)]
    prefixes = [i for i in items if isinstance(i, str)]
    return entries, prefixes, truncated, next_key, next_vid
