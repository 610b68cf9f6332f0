"""``cosbeauty master-key generate|reseal``: make a shared master key, and re-seal every stored
signing key with the current master key after a rotation (docs/cluster.md)."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys

from cosbeauty.config import ServerConfig

EXIT_ERROR = 1


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("master-key", help="generate a shared master key; re-seal signing keys after a rotation")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    g = actions.add_parser("generate", help="write a new random 32-byte master key to FILE (mode 0600)")
    g.add_argument("file")
    g.set_defaults(func=generate)
    r = actions.add_parser("reseal", help="re-seal every signing key with the current master key (old keys "
                                          "from COSBEAUTY_MASTER_KEY_PREVIOUS_FILES open them)")
    r.add_argument("--data-dir", default=ServerConfig().data_dir)
    r.add_argument("--master-key-file", default=None, help="the current key (default: as serve finds it)")
    r.set_defaults(func=reseal)


def generate(args: argparse.Namespace) -> int:
    try:
        fd = os.open(args.file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        print(f"cosbeauty: {args.file} exists; not overwriting a key", file=sys.stderr)
        return EXIT_ERROR
    with os.fdopen(fd, "wb") as f:
        f.write(secrets.token_bytes(32))
        f.flush()
        os.fsync(f.fileno())
    print(f"cosbeauty: wrote a new master key to {args.file}")
    return 0


def reseal(args: argparse.Namespace) -> int:
    from cryptography.exceptions import InvalidTag

    from cosbeauty.iam.crypto import SecretBox
    from cosbeauty.iam.store import IamStore
    from cosbeauty.storage.cluster import open_metadata

    box = SecretBox.for_data_dir(args.data_dir, args.master_key_file)
    db = open_metadata(args.data_dir)       # $COSBEAUTY_METADATA: the cluster's PostgreSQL
    IamStore(db, box)      # schema
    unreadable: list[str] = []

    def job(conn) -> int:
        rows = conn.execute("SELECT secret_id, secret FROM iam_keys").fetchall()
        for secret_id, sealed in rows:
            try:
                plain = box.open(sealed, secret_id)
            except InvalidTag:
                unreadable.append(secret_id)
                continue
            conn.execute("UPDATE iam_keys SET secret=? WHERE secret_id=?", (box.seal(plain, secret_id), secret_id))
        if unreadable:
            raise ValueError("unreadable")        # roll back: all or nothing
        conn.execute("UPDATE iam_state SET v = v + 1 WHERE k='generation'")
        return len(rows)

    try:
        count = db.write(job)
    except ValueError:
        print(f"cosbeauty: {len(unreadable)} key(s) open with none of the given master keys "
              f"({', '.join(unreadable[:5])}...): list the old key in COSBEAUTY_MASTER_KEY_PREVIOUS_FILES; "
              "nothing changed", file=sys.stderr)
        return EXIT_ERROR
    finally:
        db.close()
    root = _reseal_root(args.data_dir, box)
    print(f"cosbeauty: re-sealed {count} signing key(s){' and the root key' if root else ''} with the current master key")
    return 0


def _reseal_root(data_dir: str, box) -> bool:
    path = os.path.join(data_dir, "credentials.json")
    if not os.path.exists(path):
        return False
    with open(path) as f:
        data = json.load(f)
    if "sealed_secret_key" not in data:
        return False
    plain = box.open(data["sealed_secret_key"], data["secret_id"])
    data["sealed_secret_key"] = box.seal(plain, data["secret_id"])
    from cosbeauty.accounts import write_private_json
    write_private_json(path, data)
    return True
