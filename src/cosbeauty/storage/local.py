"""The embedded default backend: a data dir with SQLite metadata and one file per blob.

Layout::

    <data>/meta.sqlite3        buckets, objects, uploads, parts (WAL)
    <data>/blobs/<xx>/<id>     immutable blobs (object bodies and multipart parts)
    <data>/tmp/                in-flight uploads; wiped at start

A PUT writes to ``tmp/``, fsyncs, renames into ``blobs/`` and fsyncs the directory, and only then
commits the metadata row that makes it visible. A crash at any point leaves either the previous
object or the new one, never a torn one; a blob renamed but never committed is unreferenced and
removed by the start-up sweep. Small bodies (<= ``inline_max``) live in the metadata row itself:
one WAL fsync and no file at all.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from json.encoder import encode_basestring_ascii as _quote
import os
import sqlite3
import threading
import time
import uuid
from typing import BinaryIO, Callable

from cosbeauty.storage.base import (
    Backend, BlobWriter, BucketInfo, DeleteResult, ListPage, ObjectMeta, PartInfo, StorageError, UploadInfo,
    VersionEntry, VersionPage, WriteCondition,
)
from cosbeauty.storage import versions as v
from cosbeauty.storage.blobs import INLINE_MAX
from cosbeauty.storage.blobs.files import fsync_dir as _fsync_dir
from cosbeauty.storage.checksums import HEADER as CRC_HEADER, crc64, crc64_combine
from cosbeauty.storage.sqlite import NOT_NOW, Database

_OBJ_COLS = ("bucket, key, size, etag, mtime, content_type, headers, acl, storage_class, segments, tags, version_id, "
             "grants")
_INLINE = 13            # index of the inline column when selected after _OBJ_COLS
# a PUT's reads in one statement (one PostgreSQL round trip in cluster mode): the bucket's attrs
# (versioning state; no row: NoSuchBucket) and the key's current row (NULLs: none)
_UPSERT_READ = (f"SELECT b.attrs, {', '.join('o.' + c.strip() for c in _OBJ_COLS.split(','))} FROM buckets b "
                "LEFT JOIN objects o ON o.bucket = b.name AND o.key = ? WHERE b.name = ?")
# a PUT of a new key into a never-versioned bucket (the usual small PUT) in one statement: inserts
# the row only when the bucket exists, its attrs name no versioning state (the test _versioning
# makes) and the key has no row; otherwise it changes nothing and the PUT takes the general path
_INSERT_NEW = (f"INSERT INTO objects ({_OBJ_COLS}, seq, inline) SELECT ?,?,?,?,?,?,?,?,?,?,?,?,?,0,? "
               "WHERE EXISTS (SELECT 1 FROM buckets WHERE name = ? AND instr(attrs, '\"versioning\"') = 0) "
               "ON CONFLICT DO NOTHING")
APPENDABLE = ("x-cos-object-type", "appendable")   # stored header of objects made by APPEND
COMPLETED_TTL = 24 * 3600   # how long a completed upload id still answers a repeated complete


def _never() -> bool:
    return False


class LocalBlobWriter(BlobWriter):
    def __init__(self, backend: "LocalBackend", allow_inline: bool) -> None:
        self._backend = backend
        self._inline_max = INLINE_MAX if allow_inline else -1
        self._buf = bytearray()
        self._fd: int | None = None
        self._tmp = ""
        self.size = 0
        self.md5 = hashlib.md5()
        self.crc64 = 0

    def write(self, data: bytes) -> None:
        if not data:
            return
        self.md5.update(data)
        self.crc64 = crc64(data, self.crc64)
        self.size += len(data)
        if self._fd is None and self.size <= self._inline_max:
            self._buf += data
            return
        if self._fd is None:
            self._tmp = os.path.join(self._backend.tmp_dir, uuid.uuid4().hex)
            self._fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            if self._buf:
                self._write_all(bytes(self._buf))
                self._buf = bytearray()
        self._write_all(data)

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]

    @property
    def buffered(self) -> bool:
        return self._fd is None and self._inline_max >= 0

    def finish(self) -> tuple[str | None, bytes | None]:
        if self.buffered:
            return None, bytes(self._buf)
        if self._fd is None:  # empty or tiny blob that must be a file
            self._tmp = os.path.join(self._backend.tmp_dir, uuid.uuid4().hex)
            self._fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            self._write_all(bytes(self._buf))
        fd, self._fd = self._fd, None
        try:
            if self._backend.fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        name, path = self._backend.new_blob_path()
        os.rename(self._tmp, path)
        if self._backend.fsync:
            _fsync_dir(os.path.dirname(path))
        return name, None

    def abort(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._tmp:
            try:
                os.unlink(self._tmp)
            except FileNotFoundError:
                pass


def _row_to_meta(row: tuple, inline: bytes | None = None) -> ObjectMeta:
    bucket, key, size, etag, mtime, ctype, headers, acl, sclass, segments, tags, vid, grants = row[:_INLINE]
    return ObjectMeta(bucket=bucket, key=key, size=size, etag=etag, mtime=mtime, content_type=ctype,
                      headers=json.loads(headers), acl=acl, storage_class=sclass,
                      segments=json.loads(segments), inline=inline, tags=json.loads(tags), version_id=vid,
                      grants=json.loads(grants))


def _versioning(attrs: str) -> str | None:
    """A bucket's versioning state from its attrs column, as versions.versioning_state reads it."""
    if '"versioning"' not in attrs:
        return None
    return json.loads(attrs).get("versioning")


def _json(value: dict | list, empty: str) -> str:
    return json.dumps(value) if value else empty


def _headers_json(headers: dict) -> str:
    """``json.dumps(headers)`` -- the same text -- for the usual str -> str dict of a PUT, without the
    encoder's generic machinery (every PUT stores one)."""
    if len(headers) <= 8 and all(type(k) is str and type(v) is str for k, v in headers.items()):
        return "{" + ", ".join([f"{_quote(k)}: {_quote(v)}" for k, v in headers.items()]) + "}"
    return json.dumps(headers)


def _after(prefix_or_key: str) -> str:
    """The smallest string greater than every string starting with ``prefix_or_key``."""
    return prefix_or_key[:-1] + chr(ord(prefix_or_key[-1]) + 1)


class LocalBackend(Backend):
    def __init__(self, data_dir: str, *, fsync: bool = True, blobs=None, db=None, gc=None) -> None:
        self.blobs = blobs      # a storage.blobs.BlobStore for object bytes elsewhere (None: <data>/blobs)
        self.gc = gc            # cluster mode: storage.gc.DeferredDeletes (deletes after a grace period)
        self.root = os.path.abspath(data_dir)
        self.fsync = fsync
        self.blob_dir = os.path.join(self.root, "blobs")
        self.tmp_dir = os.path.join(self.root, "tmp")
        os.makedirs(self.root, exist_ok=True)
        os.makedirs(self.tmp_dir, exist_ok=True)
        for name in os.listdir(self.tmp_dir):  # in-flight uploads of a previous run
            os.unlink(os.path.join(self.tmp_dir, name))
        if not os.path.isdir(self.blob_dir):
            os.makedirs(self.blob_dir)
            for i in range(256):
                os.makedirs(os.path.join(self.blob_dir, f"{i:02x}"), exist_ok=True)
            _fsync_dir(self.blob_dir)
            _fsync_dir(self.root)
        # the metadata store: SQLite in the data dir, or a shared one (storage.postgres.PgDatabase)
        self.db = db if db is not None else Database(os.path.join(self.root, "meta.sqlite3"), fsync=fsync)
        # set by the app (api.app.CosApp): True while the event loop serves this one request only, so
        # a small PUT may commit on the loop (Database.write_now) instead of waking the writer thread
        self.lone_request: Callable[[], bool] = _never
        self._started = time.time()
        if gc is not None:
            gc.start(self)      # periodic, one node at a time (advisory lock)
        else:
            threading.Thread(target=self.sweep_orphans, name="cosbeauty-sweep", daemon=True).start()

    # -- blobs ---------------------------------------------------------------------------
    def new_blob_path(self) -> tuple[str, str]:
        name = uuid.uuid4().hex
        return name, self.blob_path(name)

    def blob_path(self, name: str) -> str:
        return os.path.join(self.blob_dir, name[:2], name)

    def blob_writer(self, *, allow_inline: bool = True) -> BlobWriter:
        if self.blobs is not None:
            return self.blobs.writer(allow_inline=allow_inline)
        return LocalBlobWriter(self, allow_inline)

    def open_blob(self, name: str) -> BinaryIO:
        if self.blobs is not None:
            return self.blobs.open(name)
        return open(self.blob_path(name), "rb", buffering=0)

    def link_blob(self, name: str) -> str:
        if self.blobs is not None:
            return self.blobs.copy(name)
        new, path = self.new_blob_path()
        os.link(self.blob_path(name), path)
        if self.fsync:
            _fsync_dir(os.path.dirname(path))
        return new

    def drop_blobs(self, names) -> None:
        if self.gc is not None:
            return self.gc.defer(names)
        if self.blobs is not None:
            return self.blobs.delete(names)
        for name in names:
            try:
                os.unlink(self.blob_path(name))
            except FileNotFoundError:
                pass

    def sweep_orphans(self, older_than: float | None = None) -> int:
        """Remove blobs no row references (left by a crash between rename and commit)."""
        conn = self.db.reader()
        referenced = {r[0] for r in conn.execute("SELECT blob FROM parts")}
        for (segments,) in conn.execute("SELECT segments FROM objects WHERE segments != '[]'"):
            referenced.update(name for name, _ in json.loads(segments))
        for (segments,) in v.version_segments(conn):     # noncurrent versions keep their bytes
            referenced.update(name for name, _ in json.loads(segments))
        if self.gc is not None:
            referenced.update(self.gc.pending())            # deleted later, after their grace period
        if self.blobs is not None:
            return self.blobs.sweep(referenced, self._started - 600 if older_than is None else older_than)
        removed = 0
        for sub in os.listdir(self.blob_dir):
            d = os.path.join(self.blob_dir, sub)
            for name in os.listdir(d):
                path = os.path.join(d, name)
                if name in referenced:
                    continue
                try:
                    if os.stat(path).st_mtime >= self._started - 1:
                        continue  # possibly an in-flight write of this run
                    os.unlink(path)
                    removed += 1
                except FileNotFoundError:
                    pass
        return removed

    # -- buckets -------------------------------------------------------------------------
    def create_bucket(self, name: str, owner: str, acl: str = "private") -> BucketInfo:
        info = BucketInfo(name=name, created=time.time(), owner=owner, acl=acl)

        def job(conn: sqlite3.Connection) -> None:
            if conn.execute("SELECT 1 FROM buckets WHERE name=?", (name,)).fetchone() is not None:
                # one APPID per server: every bucket here belongs to the caller's account (COS/S3
                # answer BucketAlreadyOwnedByYou to the owner)
                raise StorageError("BucketAlreadyOwnedByYou")
            conn.execute("INSERT INTO buckets (name, created, owner, acl) VALUES (?,?,?,?)",
                         (name, info.created, owner, acl))

        self.db.write(job)
        return info

    def get_bucket(self, name: str) -> BucketInfo:
        row = self.db.reader().execute(
            "SELECT name, created, owner, acl, attrs FROM buckets WHERE name=?", (name,)).fetchone()
        if row is None:
            raise StorageError("NoSuchBucket")
        return BucketInfo(row[0], row[1], row[2], row[3], json.loads(row[4]))

    def list_buckets(self) -> list[BucketInfo]:
        rows = self.db.reader().execute(
            "SELECT name, created, owner, acl, attrs FROM buckets ORDER BY name").fetchall()
        return [BucketInfo(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows]

    def delete_bucket(self, name: str) -> None:
        def job(conn: sqlite3.Connection) -> list[str]:
            if conn.execute("SELECT 1 FROM buckets WHERE name=?", (name,)).fetchone() is None:
                raise StorageError("NoSuchBucket")
            if conn.execute("SELECT 1 FROM objects WHERE bucket=? LIMIT 1", (name,)).fetchone() or \
                    v.has_versions(conn, name):
                raise StorageError("BucketNotEmpty")
            blobs = [r[0] for r in conn.execute(
                "SELECT blob FROM parts WHERE upload_id IN (SELECT upload_id FROM uploads WHERE bucket=?)",
                (name,))]
            conn.execute("DELETE FROM parts WHERE upload_id IN (SELECT upload_id FROM uploads WHERE bucket=?)",
                         (name,))
            conn.execute("DELETE FROM uploads WHERE bucket=?", (name,))
            conn.execute("DELETE FROM completed_uploads WHERE bucket=?", (name,))
            conn.execute("DELETE FROM buckets WHERE name=?", (name,))
            return blobs

        self.drop_blobs(self.db.write(job))

    def update_bucket(self, name: str, *, acl: str | None = None, attrs: dict | None = None) -> BucketInfo:
        def job(conn: sqlite3.Connection) -> None:
            row = conn.execute("SELECT attrs FROM buckets WHERE name=?", (name,)).fetchone()
            if row is None:
                raise StorageError("NoSuchBucket")
            if acl is not None:
                conn.execute("UPDATE buckets SET acl=? WHERE name=?", (acl, name))
            if attrs is not None:
                merged = {k: v for k, v in {**json.loads(row[0]), **attrs}.items() if v is not None}
                conn.execute("UPDATE buckets SET attrs=? WHERE name=?", (json.dumps(merged), name))

        self.db.write(job)
        return self.get_bucket(name)

    # -- objects -------------------------------------------------------------------------
    @staticmethod
    def _upsert(conn: sqlite3.Connection, meta: ObjectMeta, cond: WriteCondition | None = None) -> ObjectMeta | None:
        """Make ``meta`` the current version. Returns an ObjectMeta whose segments are the blobs no
        longer referenced (the replaced null version), or None."""
        if cond is None and isinstance(conn, sqlite3.Connection) and LocalBackend._insert_new(conn, meta):
            return None
        row = conn.execute(_UPSERT_READ, (meta.key, meta.bucket)).fetchone()
        if row is None:
            raise StorageError("NoSuchBucket")
        state = _versioning(row[0])
        old = row[1:] if row[1] is not None else None
        if cond is not None:
            cond.check(old[3] if old else None)
        dropped = _row_to_meta(old) if old else None
        if state is None:                               # never versioned: replace, as always
            meta.version_id = v.NULL
        else:
            meta.version_id = v.new_version_id() if state == "Enabled" else v.NULL
            stale = v.drop_null_version(conn, meta.bucket, meta.key) if meta.version_id == v.NULL else []
            if dropped is not None and dropped.version_id != v.NULL:
                v.archive_current(conn, meta.bucket, meta.key)      # kept as a noncurrent version
                dropped = None
            elif dropped is not None and state == "Enabled":
                v.archive_current(conn, meta.bucket, meta.key)      # the null version stays too
                dropped = None
            if stale:
                dropped = dropped or ObjectMeta(meta.bucket, meta.key, 0, "", 0.0)
                dropped.segments = list(dropped.segments) + [[name, 0] for name in stale]
        seq = v.next_seq(conn, meta.bucket, meta.key) if state is not None else 0
        conn.execute(
            f"INSERT OR REPLACE INTO objects ({_OBJ_COLS}, seq, inline) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (meta.bucket, meta.key, meta.size, meta.etag, meta.mtime, meta.content_type,
             _headers_json(meta.headers), meta.acl, meta.storage_class, _json(meta.segments, "[]"),
             _json(meta.tags, "{}"), meta.version_id, _json(meta.grants, "{}"), seq, meta.inline))
        return dropped

    @staticmethod
    def _insert_new(conn: sqlite3.Connection, meta: ObjectMeta) -> bool:
        """``_upsert``'s outcome for a new key of a never-versioned bucket, in one statement instead
        of a read and a write (SQLite; a fifth of a small PUT's SQL). False: nothing was written
        (no such bucket, a versioning state, or the key exists), the general path decides."""
        inserted = conn.execute(_INSERT_NEW, (
            meta.bucket, meta.key, meta.size, meta.etag, meta.mtime, meta.content_type,
            _headers_json(meta.headers), meta.acl, meta.storage_class, _json(meta.segments, "[]"),
            _json(meta.tags, "{}"), v.NULL, _json(meta.grants, "{}"), meta.inline, meta.bucket)).rowcount == 1
        if inserted:
            meta.version_id = v.NULL
        return inserted

    def put_object(self, meta: ObjectMeta, cond: WriteCondition | None = None) -> ObjectMeta | None:
        try:
            old = self.db.write(lambda conn: self._upsert(conn, meta, cond))
        except BaseException:
            self.drop_blobs(name for name, _ in meta.segments)
            raise
        if old is not None:
            self.drop_blobs(name for name, _ in old.segments)
        return old

    async def put_object_async(self, meta: ObjectMeta, cond: WriteCondition | None = None) -> ObjectMeta | None:
        """Awaits the group-commit writer directly: one thread hop fewer than put_object. The lone
        request of an idle server commits on the event loop itself (``Database.write_now``: no
        thread hop at all) unless the writer is busy or commits have been slow lately."""
        try:
            job = lambda conn: self._upsert(conn, meta, cond)    # noqa: E731
            write_now = getattr(self.db, "write_now", None)             # SQLite only
            old = NOT_NOW
            if write_now is not None and self.lone_request() and self.db.inline_ok():
                # one loop turn: requests already received start first, so under concurrent load
                # they are in flight too (the app then counts requests as concurrent for a while)
                # and the writer thread commits them together with one fsync
                await asyncio.sleep(0)
                if self.lone_request():
                    old = write_now(job)
            if old is NOT_NOW:
                submit_async = getattr(self.db, "submit_async", None)      # SQLite: no concurrent Future
                old = await (submit_async(job) if submit_async else asyncio.wrap_future(self.db.submit(job)))
        except BaseException as exc:
            names = [name for name, _ in meta.segments]
            if names:       # off the loop (cluster mode: a blob-store call, deferred-delete rows)
                if isinstance(exc, Exception):
                    await asyncio.to_thread(self.drop_blobs, names)
                else:       # being cancelled: do not wait
                    asyncio.get_running_loop().run_in_executor(None, self.drop_blobs, names)
            raise
        if old is not None and old.segments:
            await asyncio.to_thread(self.drop_blobs, [name for name, _ in old.segments])
        return old

    def get_object(self, bucket: str, key: str, *, with_inline: bool = True,
                   version_id: str | None = None) -> ObjectMeta:
        conn = self.db.reader()
        cols = _OBJ_COLS + (", inline" if with_inline else "")
        row = conn.execute(f"SELECT {cols} FROM objects WHERE bucket=? AND key=?", (bucket, key)).fetchone()
        if version_id is not None and (row is None or row[11] != version_id):
            found = v.noncurrent_version(conn, bucket, key, version_id, cols)
            if found is None:
                if conn.execute("SELECT 1 FROM buckets WHERE name=?", (bucket,)).fetchone() is None:
                    raise StorageError("NoSuchBucket")
                raise StorageError("NoSuchVersion", f"Version {version_id!r} of this key does not exist.")
            meta = _row_to_meta(found, found[_INLINE] if with_inline else None)
            meta.delete_marker = bool(found[-1])
            return meta
        if row is None:
            if conn.execute("SELECT 1 FROM buckets WHERE name=?", (bucket,)).fetchone() is None:
                raise StorageError("NoSuchBucket")
            if v.latest_is_marker(conn, bucket, key):
                raise StorageError("NoSuchKey", "The latest version of this key is a delete marker.")
            raise StorageError("NoSuchKey")
        inline = row[_INLINE] if with_inline else None
        return _row_to_meta(row, inline)

    def delete_object(self, bucket: str, key: str, cond: WriteCondition | None = None,
                      version_id: str | None = None) -> DeleteResult:
        def job(conn: sqlite3.Connection) -> tuple[DeleteResult, list[str]]:
            state = v.versioning_state(conn, bucket)        # NoSuchBucket
            row = conn.execute("SELECT segments, etag, version_id FROM objects WHERE bucket=? AND key=?",
                               (bucket, key)).fetchone()
            if cond is not None and row is not None:        # deleting nothing succeeds, with or without If-Match (S3)
                cond.check(row[1])
            if version_id is not None:                      # exactly this version
                gone = v.delete_version(conn, bucket, key, version_id)
                if gone is None:
                    return DeleteResult(False, version_id), []
                return DeleteResult(True, version_id, gone[0]), gone[1]
            if state is None:                               # never versioned: the bytes go
                if row is None:
                    return DeleteResult(False), []
                conn.execute("DELETE FROM objects WHERE bucket=? AND key=?", (bucket, key))
                return DeleteResult(True), [name for name, _ in json.loads(row[0])]
            blobs: list[str] = []
            marker = v.new_version_id() if state == "Enabled" else v.NULL
            if marker == v.NULL:
                blobs += v.drop_null_version(conn, bucket, key)
            if row is not None and (state == "Enabled" or row[2] != v.NULL):
                v.archive_current(conn, bucket, key)
            elif row is not None:                           # Suspended: the current null version goes
                conn.execute("DELETE FROM objects WHERE bucket=? AND key=?", (bucket, key))
                blobs += [name for name, _ in json.loads(row[0])]
            v.insert_marker(conn, bucket, key, marker)
            return DeleteResult(row is not None, marker, True), blobs

        result, blobs = self.db.write(job)
        if blobs:
            self.drop_blobs(blobs)
        return result

    def list_object_versions(self, bucket: str, *, prefix: str = "", delimiter: str = "", key_marker: str = "",
                             version_id_marker: str = "", max_keys: int = 1000) -> VersionPage:
        entries, prefixes, truncated, next_key, next_vid = v.list_versions(
            self.db.reader(), bucket, prefix=prefix, delimiter=delimiter, key_marker=key_marker,
            version_id_marker=version_id_marker, max_keys=max_keys)
        return VersionPage([VersionEntry(e.key, e.version_id, e.is_latest, e.delete_marker, e.size, e.etag,
                                         e.mtime, e.storage_class) for e in entries],
                           prefixes, truncated, next_key, next_vid)

    def append_object(self, meta: ObjectMeta, position: int) -> ObjectMeta:
        def job(conn: sqlite3.Connection) -> ObjectMeta:
            v.versioning_state(conn, meta.bucket)           # NoSuchBucket
            row = conn.execute(f"SELECT {_OBJ_COLS} FROM objects WHERE bucket=? AND key=?",
                               (meta.bucket, meta.key)).fetchone()
            if row is None:
                if position != 0:
                    raise StorageError("PositionNotEqualToLength", "The object does not exist: append at position 0.")
                new = meta
                new.headers = {**meta.headers, APPENDABLE[0]: APPENDABLE[1]}
            else:
                new = _row_to_meta(row)
                if new.headers.get(APPENDABLE[0]) != APPENDABLE[1]:
                    raise StorageError("ObjectNotAppendable", "This object was not created by APPEND Object.")
                if position != new.size:
                    raise StorageError("PositionNotEqualToLength", f"The object is {new.size} bytes long.")
                new.etag = hashlib.md5((new.etag + meta.etag).encode()).hexdigest()
                new.headers[CRC_HEADER] = str(crc64_combine(int(new.headers.get(CRC_HEADER, "0")),
                                                            int(meta.headers.get(CRC_HEADER, "0")), meta.size))
                new.segments = list(new.segments) + list(meta.segments)
                new.size += meta.size
                new.mtime = meta.mtime
            conn.execute(
                f"INSERT OR REPLACE INTO objects ({_OBJ_COLS}, seq, inline) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,NULL)",
                (new.bucket, new.key, new.size, new.etag, new.mtime, new.content_type, json.dumps(new.headers),
                 new.acl, new.storage_class, json.dumps(new.segments), json.dumps(new.tags), new.version_id,
                 json.dumps(new.grants), v.next_seq(conn, new.bucket, new.key)))
            return new

        try:
            return self.db.write(job)
        except BaseException:
            self.drop_blobs(name for name, _ in meta.segments)
            raise

    def update_object(self, bucket: str, key: str, *, acl: str | None = None,
                      headers: dict | None = None, tags: dict | None = None, grants: dict | None = None,
                      version_id: str | None = None) -> ObjectMeta:
        values = (acl, None if headers is None else json.dumps(headers), None if tags is None else json.dumps(tags),
                  None if grants is None else json.dumps(grants))
        sets = "acl=COALESCE(?, acl), headers=COALESCE(?, headers), tags=COALESCE(?, tags), grants=COALESCE(?, grants)"

        def job(conn: sqlite3.Connection) -> None:
            if version_id is None:
                cur = conn.execute(f"UPDATE objects SET {sets} WHERE bucket=? AND key=?", (*values, bucket, key))
            else:
                cur = conn.execute(f"UPDATE objects SET {sets} WHERE bucket=? AND key=? AND version_id=?",
                                   (*values, bucket, key, version_id))
                if cur.rowcount == 0:
                    cur = conn.execute(f"UPDATE object_versions SET {sets} WHERE bucket=? AND key=? AND version_id=? "
                                       "AND delete_marker=0", (*values, bucket, key, version_id))
                    if cur.rowcount == 0:
                        raise StorageError("NoSuchVersion", f"Version {version_id!r} of this key does not exist.")
            if cur.rowcount == 0:
                raise StorageError("NoSuchKey")

        self.db.write(job)
        return self.get_object(bucket, key, with_inline=False, version_id=version_id)

    def list_objects(self, bucket: str, *, prefix: str = "", delimiter: str = "", marker: str = "",
                     max_keys: int = 1000) -> ListPage:
        conn = self.db.reader()
        if conn.execute("SELECT 1 FROM buckets WHERE name=?", (bucket,)).fetchone() is None:
            raise StorageError("NoSuchBucket")
        objects: list[ObjectMeta] = []
        prefixes: list[str] = []
        upper = _after(prefix) if prefix else None
        # marker may itself be a common prefix returned earlier: skip everything under it
        if delimiter and marker.endswith(delimiter) and marker.startswith(prefix):
            cursor, inclusive = _after(marker), True
        else:
            cursor, inclusive = max(marker, prefix), not marker or marker < prefix
        last = ""
        while len(objects) + len(prefixes) < max_keys:
            want = max_keys - len(objects) - len(prefixes)
            sql = (f"SELECT {_OBJ_COLS} FROM objects WHERE bucket=? AND key {'>=' if inclusive else '>'} ?"
                   + (" AND key < ?" if upper else "") + " ORDER BY key LIMIT ?")
            args = [bucket, cursor] + ([upper] if upper else []) + [want + 1]
            rows = conn.execute(sql, args).fetchall()
            if not rows:
                return ListPage(objects, prefixes, False, last)
            jumped = False
            for row in rows:
                key = row[1]
                if len(objects) + len(prefixes) >= max_keys:
                    return ListPage(objects, prefixes, True, last)
                if delimiter:
                    pos = key.find(delimiter, len(prefix))
                    if pos >= 0:
                        cp = key[:pos + len(delimiter)]
                        prefixes.append(cp)
                        last = cp
                        cursor, inclusive, jumped = _after(cp), True, True
                        break
                objects.append(_row_to_meta(row))
                last = key
                cursor, inclusive = key, False
            if not jumped and len(rows) <= want:
                return ListPage(objects, prefixes, False, last)
        more = conn.execute(
            "SELECT 1 FROM objects WHERE bucket=? AND key " + (">=" if inclusive else ">") + " ?"
            + (" AND key < ?" if upper else "") + " LIMIT 1",
            [bucket, cursor] + ([upper] if upper else [])).fetchone()
        return ListPage(objects, prefixes, more is not None, last)

    # -- multipart -----------------------------------------------------------------------
    def create_upload(self, bucket: str, key: str, headers: dict) -> UploadInfo:
        upload = UploadInfo(uuid.uuid4().hex + uuid.uuid4().hex[:8], bucket, key, time.time(), headers)

        def job(conn: sqlite3.Connection) -> None:
            if conn.execute("SELECT 1 FROM buckets WHERE name=?", (bucket,)).fetchone() is None:
                raise StorageError("NoSuchBucket")
            conn.execute("INSERT INTO uploads VALUES (?,?,?,?,?)",
                         (upload.upload_id, bucket, key, upload.initiated, json.dumps(headers)))

        self.db.write(job)
        return upload

    def get_upload(self, bucket: str, key: str, upload_id: str) -> UploadInfo:
        row = self.db.reader().execute(
            "SELECT upload_id, bucket, key, initiated, headers FROM uploads WHERE upload_id=?",
            (upload_id,)).fetchone()
        if row is None or row[1] != bucket or row[2] != key:
            raise StorageError("NoSuchUpload")
        return UploadInfo(row[0], row[1], row[2], row[3], json.loads(row[4]))

    def put_part(self, upload_id: str, part: PartInfo) -> None:
        def job(conn: sqlite3.Connection) -> str | None:
            if conn.execute("SELECT 1 FROM uploads WHERE upload_id=?", (upload_id,)).fetchone() is None:
                raise StorageError("NoSuchUpload")
            old = conn.execute("SELECT blob FROM parts WHERE upload_id=? AND number=?",
                               (upload_id, part.number)).fetchone()
            conn.execute("INSERT OR REPLACE INTO parts (upload_id, number, size, etag, mtime, blob, crc64, checksum) "
                         "VALUES (?,?,?,?,?,?,?,?)",
                         (upload_id, part.number, part.size, part.etag, part.mtime, part.blob, str(part.crc64),
                          part.checksum))
            return old[0] if old else None

        try:
            old = self.db.write(job)
        except BaseException:
            self.drop_blobs([part.blob])
            raise
        if old:
            self.drop_blobs([old])

    def list_parts(self, upload_id: str) -> list[PartInfo]:
        rows = self.db.reader().execute(
            "SELECT number, size, etag, mtime, blob, crc64, checksum FROM parts WHERE upload_id=? ORDER BY number",
            (upload_id,)).fetchall()
        return [PartInfo(*r[:5], crc64=int(r[5] or 0), checksum=r[6] or "") for r in rows]

    def list_uploads(self, bucket: str, prefix: str = "") -> list[UploadInfo]:
        rows = self.db.reader().execute(
            "SELECT upload_id, bucket, key, initiated, headers FROM uploads WHERE bucket=? AND key >= ? "
            "ORDER BY key, initiated", (bucket, prefix)).fetchall()
        return [UploadInfo(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows if r[2].startswith(prefix)]

    def complete_upload(self, upload: UploadInfo, meta: ObjectMeta, used_parts: list[int],
                        cond: WriteCondition | None = None) -> ObjectMeta | None:
        def job(conn: sqlite3.Connection) -> tuple[ObjectMeta | None, list[str]]:
            if conn.execute("SELECT 1 FROM uploads WHERE upload_id=?", (upload.upload_id,)).fetchone() is None:
                raise StorageError("NoSuchUpload")
            stored = conn.execute("SELECT number, blob FROM parts WHERE upload_id=?", (upload.upload_id,)).fetchall()
            current = dict(stored)
            if [current.get(n) for n in used_parts] != [name for name, _ in meta.segments]:
                # a part uploaded again between the caller's listing and this commit: its old blob is gone
                raise StorageError("InvalidPart", "A part was uploaded again while the upload was being completed; "
                                                  "list the parts and complete again.")
            used = set(used_parts)
            unused = [blob for number, blob in stored if number not in used]
            old = self._upsert(conn, meta, cond)
            conn.execute("DELETE FROM parts WHERE upload_id=?", (upload.upload_id,))
            conn.execute("DELETE FROM uploads WHERE upload_id=?", (upload.upload_id,))
            now = time.time()
            conn.execute("DELETE FROM completed_uploads WHERE completed < ?", (now - COMPLETED_TTL,))
            conn.execute("INSERT OR REPLACE INTO completed_uploads (upload_id, bucket, key, etag, completed) VALUES (?,?,?,?,?)",
                         (upload.upload_id, upload.bucket, upload.key, meta.etag, now))
            return old, unused

        old, unused = self.db.write(job)
        self.drop_blobs(unused)
        if old is not None:
            self.drop_blobs(name for name, _ in old.segments)
        return old

    def completed_upload(self, bucket: str, key: str, upload_id: str) -> str | None:
        row = self.db.reader().execute(
            "SELECT bucket, key, etag, completed FROM completed_uploads WHERE upload_id=?", (upload_id,)).fetchone()
        if row is None or (row[0], row[1]) != (bucket, key) or row[3] < time.time() - COMPLETED_TTL:
            return None
        return row[2]

    def abort_upload(self, upload_id: str) -> None:
        def job(conn: sqlite3.Connection) -> list[str]:
            if conn.execute("SELECT 1 FROM uploads WHERE upload_id=?", (upload_id,)).fetchone() is None:
                raise StorageError("NoSuchUpload")
            blobs = [r[0] for r in conn.execute("SELECT blob FROM parts WHERE upload_id=?", (upload_id,))]
            conn.execute("DELETE FROM parts WHERE upload_id=?", (upload_id,))
            conn.execute("DELETE FROM uploads WHERE upload_id=?", (upload_id,))
            return blobs

        self.drop_blobs(self.db.write(job))

    # -- small key/value namespace (settings, CI state, metering, accounts) --------------
    def kv_get(self, ns: str, key: str) -> str | None:
        row = self.db.reader().execute("SELECT v FROM kv WHERE ns=? AND k=?", (ns, key)).fetchone()
        return row[0] if row else None

    def kv_put(self, ns: str, key: str, value: str) -> None:
        self.db.write(lambda conn: conn.execute("INSERT OR REPLACE INTO kv (ns, k, v) VALUES (?,?,?)", (ns, key, value)))

    def close(self) -> None:
        if self.gc is not None:
            self.gc.close()
        self.db.close()
        if self.blobs is not None:
            self.blobs.close()
