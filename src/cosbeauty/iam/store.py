"""Sub-accounts, their key pairs, attached policies and temporary credentials, kept in the
metadata database (``<data>/meta.sqlite3``) next to the buckets.

The server and the ``cosbeauty user/key/policy/token`` commands (another process) share the file.
Every change bumps ``iam_state.generation``; lookups read that one row and drop their cache when
it moved, so a running server sees a disabled key or a detached policy on its very next request.
Inside :meth:`IamStore.one_read` (one request's worker-thread hop: signature, key, principal,
policies) only the first lookup reads the row: a change made while that hop runs is seen by the
next request, and a sub-account request costs one read (a PostgreSQL round trip in cluster mode)
instead of one per lookup.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
import string
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from cosbeauty.iam.crypto import SecretBox, token_digest
from cosbeauty.iam.policy import Policy, PolicyError, parse_policy
from cosbeauty.storage.sqlite import Database

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS iam_users (
        name TEXT PRIMARY KEY, uin TEXT NOT NULL UNIQUE, created REAL NOT NULL) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS iam_keys (
        secret_id TEXT PRIMARY KEY, "user" TEXT NOT NULL, secret TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'active', created REAL NOT NULL,
        expires REAL, token_sha256 TEXT, policy TEXT) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS iam_keys_by_user ON iam_keys (\"user\")",
    """CREATE TABLE IF NOT EXISTS iam_policies (
        "user" TEXT NOT NULL, name TEXT NOT NULL, document TEXT NOT NULL, attached REAL NOT NULL,
        PRIMARY KEY ("user", name)) WITHOUT ROWID""",
    "CREATE TABLE IF NOT EXISTS iam_state (k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID",
    "INSERT OR IGNORE INTO iam_state (k, v) VALUES ('generation', 0)",
)
USER_NAME = re.compile(r"[A-Za-z0-9_.@+=,-]{1,64}")
MIN_DURATION, MAX_DURATION = 1, 36 * 3600
EXPIRED_KEEP = 3600          # answer ExpiredToken (not InvalidAccessKeyId) this long after expiry
_ALNUM = string.ascii_letters + string.digits


class IamError(Exception):
    """code is one of NoSuchUser, UserAlreadyExists, NoSuchKey, KeyAlreadyExists, NoSuchPolicy, InvalidPolicy,
    InvalidArgument."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Credential:
    """One SecretId as the server needs it: plaintext secret, owner, state, token constraints."""

    secret_id: str
    secret_key: str
    user: str
    uin: str
    active: bool
    expires: float | None = None            # temporary credentials only
    token_sha256: str | None = None
    session_policy: Policy | None = None

    @property
    def temporary(self) -> bool:
        return self.token_sha256 is not None


_SECRET_ID = re.compile(r"[A-Za-z0-9]{4,128}")
_SECRET_KEY = re.compile(r"[\x21-\x7e]{16,128}")


def _random(n: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(n))


def new_secret_id() -> str:
    return "AKID" + _random(32)


def _bump(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE iam_state SET v = v + 1 WHERE k='generation'")


class IamStore:
    def __init__(self, db: Database, box: SecretBox) -> None:
        self.db = db
        self.box = box
        self._lock = threading.Lock()
        self._generation = -1
        self._credentials: dict[str, Credential | None] = {}
        self._policies: dict[str, tuple[Policy, ...]] = {}
        self._hop = threading.local()       # one_read(): depth, and whether the row was read

        def create(conn: sqlite3.Connection) -> None:
            for statement in SCHEMA:
                conn.execute(statement)
        db.write(create)

    # -- lookups (server hot path) -------------------------------------------------------
    def _read_generation(self) -> int:
        row = self.db.reader().execute("SELECT v FROM iam_state WHERE k='generation'").fetchone()
        return row[0] if row else 0

    @contextmanager
    def one_read(self) -> Iterator[None]:
        """Lookups on this thread inside the block read the generation row once (the first one):
        for one request's worker-thread hop. Nests."""
        hop = self._hop
        depth = getattr(hop, "depth", 0)
        if depth == 0:
            hop.read = False
        hop.depth = depth + 1
        try:
            yield
        finally:
            hop.depth = depth

    def _fresh(self) -> None:
        hop = self._hop
        pinned = getattr(hop, "depth", 0) > 0
        if pinned and hop.read:
            return
        generation = self._read_generation()
        if pinned:
            hop.read = True
        if generation != self._generation:
            with self._lock:
                self._credentials, self._policies = {}, {}
                self._generation = generation

    def credential(self, secret_id: str) -> Credential | None:
        self._fresh()
        if secret_id in self._credentials:
            return self._credentials[secret_id]
        row = self.db.reader().execute(
            "SELECT k.secret, k.\"user\", u.uin, k.status, k.expires, k.token_sha256, k.policy "
            "FROM iam_keys k JOIN iam_users u ON u.name = k.\"user\" WHERE k.secret_id=?", (secret_id,)).fetchone()
        cred = None
        if row is not None:
            sealed, user, uin, status, expires, token_sha256, policy = row
            cred = Credential(secret_id, self.box.open(sealed, secret_id), user, uin, status == "active",
                              expires, token_sha256, parse_policy(policy) if policy else None)
        self._credentials[secret_id] = cred
        return cred

    def policies(self, user: str) -> tuple[Policy, ...]:
        self._fresh()
        cached = self._policies.get(user)
        if cached is None:
            rows = self.db.reader().execute("SELECT document FROM iam_policies WHERE \"user\"=? ORDER BY name",
                                            (user,)).fetchall()
            cached = self._policies[user] = tuple(parse_policy(r[0]) for r in rows)
        return cached

    # -- users ---------------------------------------------------------------------------
    def create_user(self, name: str, reserved: tuple[str, ...] = ()) -> dict:
        if not USER_NAME.fullmatch(name) or name in reserved:
            raise IamError("InvalidArgument", f"invalid user name {name!r}: 1-64 of A-Z a-z 0-9 _.@+=,- "
                                              f"(and not {', '.join(reserved) or 'reserved'})")
        user = {"name": name, "uin": str(10**11 + secrets.randbelow(9 * 10**11)), "created": time.time()}

        def job(conn: sqlite3.Connection) -> None:
            if conn.execute("SELECT 1 FROM iam_users WHERE name=?", (name,)).fetchone():
                raise IamError("UserAlreadyExists", f"user {name!r} already exists")
            conn.execute("INSERT INTO iam_users (name, uin, created) VALUES (?,?,?)",
                         (name, user["uin"], user["created"]))
            _bump(conn)
        self.db.write(job)
        return user

    def list_users(self) -> list[dict]:
        conn = self.db.reader()
        users = []
        for name, uin, created in conn.execute("SELECT name, uin, created FROM iam_users ORDER BY name"):
            keys = conn.execute("SELECT count(*) FROM iam_keys WHERE \"user\"=? AND token_sha256 IS NULL",
                                (name,)).fetchone()[0]
            policies = [r[0] for r in conn.execute("SELECT name FROM iam_policies WHERE \"user\"=? ORDER BY name",
                                                   (name,))]
            users.append({"name": name, "uin": uin, "created": created, "keys": keys, "policies": policies})
        return users

    def delete_user(self, name: str) -> None:
        def job(conn: sqlite3.Connection) -> None:
            self._require_user(conn, name)
            for table in ("iam_keys", "iam_policies"):
                conn.execute(f"DELETE FROM {table} WHERE \"user\"=?", (name,))
            conn.execute("DELETE FROM iam_users WHERE name=?", (name,))
            _bump(conn)
        self.db.write(job)

    @staticmethod
    def _require_user(conn: sqlite3.Connection, name: str) -> None:
        if conn.execute("SELECT 1 FROM iam_users WHERE name=?", (name,)).fetchone() is None:
            raise IamError("NoSuchUser", f"no user {name!r}")

    # -- permanent keys ------------------------------------------------------------------
    def create_key(self, user: str, secret_id: str | None = None, secret_key: str | None = None,
                   reserved: tuple[str, ...] = ()) -> dict:
        """A new key pair for ``user``: generated, or the given pair (importing keys from COS or
        for test fixtures). KeyAlreadyExists if the SecretId is taken (or ``reserved``: the root's)."""
        if (secret_id is None) != (secret_key is None):
            raise IamError("InvalidArgument", "give both a SecretId and a SecretKey, or neither")
        if secret_id is None:
            secret_id, secret_key = new_secret_id(), _random(32)
        else:
            if not _SECRET_ID.fullmatch(secret_id):
                raise IamError("InvalidArgument", "a SecretId is 4-128 letters and digits")
            if not _SECRET_KEY.fullmatch(secret_key or ""):
                raise IamError("InvalidArgument", "a SecretKey is 16-128 printable ASCII characters without spaces")
            if secret_id in reserved:
                raise IamError("KeyAlreadyExists", f"SecretId {secret_id} is already in use")
        sealed = self.box.seal(secret_key, secret_id)

        def job(conn: sqlite3.Connection) -> None:
            self._require_user(conn, user)
            if conn.execute("SELECT 1 FROM iam_keys WHERE secret_id=?", (secret_id,)).fetchone():
                raise IamError("KeyAlreadyExists", f"SecretId {secret_id} is already in use")
            conn.execute("INSERT INTO iam_keys (secret_id, \"user\", secret, created) VALUES (?,?,?,?)",
                         (secret_id, user, sealed, time.time()))
            _bump(conn)
        self.db.write(job)
        return {"user": user, "secret_id": secret_id, "secret_key": secret_key}

    def list_keys(self, user: str | None = None) -> list[dict]:
        sql = ("SELECT secret_id, \"user\", status, created, expires FROM iam_keys "
               "WHERE (CAST(? AS TEXT) IS NULL OR \"user\"=?) AND token_sha256 IS NULL ORDER BY \"user\", created")
        rows = self.db.reader().execute(sql, (user, user)).fetchall()
        return [{"secret_id": r[0], "user": r[1], "status": r[2], "created": r[3]} for r in rows]

    def set_key_status(self, secret_id: str, active: bool) -> None:
        self._update_key(secret_id, "UPDATE iam_keys SET status=? WHERE secret_id=?",
                         ("active" if active else "disabled", secret_id))

    def delete_key(self, secret_id: str) -> None:
        self._update_key(secret_id, "DELETE FROM iam_keys WHERE secret_id=?", (secret_id,))

    def _update_key(self, secret_id: str, sql: str, params: tuple) -> None:
        def job(conn: sqlite3.Connection) -> None:
            if conn.execute(sql, params).rowcount == 0:
                raise IamError("NoSuchKey", f"no key {secret_id!r}")
            _bump(conn)
        self.db.write(job)

    # -- policies ------------------------------------------------------------------------
    def attach_policy(self, user: str, name: str, document: str) -> None:
        try:
            parse_policy(document)
        except PolicyError as exc:
            raise IamError("InvalidPolicy", str(exc)) from None
        if not USER_NAME.fullmatch(name):
            raise IamError("InvalidArgument", f"invalid policy name {name!r}")

        def job(conn: sqlite3.Connection) -> None:
            self._require_user(conn, user)
            conn.execute("INSERT OR REPLACE INTO iam_policies (\"user\", name, document, attached) VALUES (?,?,?,?)",
                         (user, name, document, time.time()))
            _bump(conn)
        self.db.write(job)

    def detach_policy(self, user: str, name: str) -> None:
        def job(conn: sqlite3.Connection) -> None:
            self._require_user(conn, user)
            if conn.execute("DELETE FROM iam_policies WHERE \"user\"=? AND name=?", (user, name)).rowcount == 0:
                raise IamError("NoSuchPolicy", f"user {user!r} has no policy {name!r}")
            _bump(conn)
        self.db.write(job)

    def list_policies(self, user: str) -> list[dict]:
        conn = self.db.reader()
        self._require_user(conn, user)
        rows = conn.execute("SELECT name, document, attached FROM iam_policies WHERE \"user\"=? ORDER BY name",
                            (user,)).fetchall()
        return [{"name": r[0], "document": r[1], "attached": r[2]} for r in rows]

    # -- temporary credentials -----------------------------------------------------------
    def create_token(self, user: str, duration: int, policy: str | None = None) -> dict:
        """Mint temporary credentials for ``user``: they can do what the user's policies allow
        *and* ``policy`` (when given) allows, until ``duration`` seconds from now."""
        if not MIN_DURATION <= duration <= MAX_DURATION:
            raise IamError("InvalidArgument", f"duration must be {MIN_DURATION}..{MAX_DURATION} seconds")
        if policy is not None:
            try:
                parse_policy(policy)
            except PolicyError as exc:
                raise IamError("InvalidPolicy", str(exc)) from None
        now = time.time()
        secret_id, secret_key, token = new_secret_id(), _random(32), secrets.token_urlsafe(48)
        expires = float(int(now) + duration)    # exactly the expiredTime reported to the caller
        sealed = self.box.seal(secret_key, secret_id)

        def job(conn: sqlite3.Connection) -> None:
            self._require_user(conn, user)
            conn.execute("DELETE FROM iam_keys WHERE expires IS NOT NULL AND expires < ?", (now - EXPIRED_KEEP,))
            conn.execute("INSERT INTO iam_keys (secret_id, \"user\", secret, created, expires, token_sha256, policy) "
                         "VALUES (?,?,?,?,?,?,?)", (secret_id, user, sealed, now, expires, token_digest(token), policy))
            _bump(conn)
        self.db.write(job)
        return {"user": user, "tmpSecretId": secret_id, "tmpSecretKey": secret_key, "sessionToken": token,
                "startTime": int(now), "expiredTime": int(expires)}
