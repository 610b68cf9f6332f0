"""``cosbeauty user|key|policy|token``: manage sub-accounts on a data dir.

They write to ``<data>/meta.sqlite3`` directly, so they work with or without a server running; a
running server sees every change on its next request (see :mod:`cosbeauty.iam.store`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Callable

from cosbeauty.config import ServerConfig
from cosbeauty.iam.store import IamError, IamStore

EXIT_ERROR = 1


def _open_store(data_dir: str) -> IamStore:
    from cosbeauty.iam.crypto import SecretBox
    from cosbeauty.storage.cluster import open_metadata
    os.makedirs(data_dir, exist_ok=True)
    return IamStore(open_metadata(data_dir), SecretBox.for_data_dir(data_dir))   # $COSBEAUTY_METADATA: PostgreSQL


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def _table(rows: list[list[str]], header: list[str]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())


def _read_policy(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


# -- commands: each takes (store, args) ---------------------------------------------------
def user_create(store: IamStore, args: argparse.Namespace) -> None:
    user = store.create_user(args.name, ("root", args.appid))
    print(f"created user {user['name']} (uin {user['uin']}); next: cosbeauty key create {user['name']}")


def user_list(store: IamStore, args: argparse.Namespace) -> None:
    _table([[u["name"], u["uin"], _when(u["created"]), u["keys"], ",".join(u["policies"]) or "-"]
            for u in store.list_users()], ["NAME", "UIN", "CREATED", "KEYS", "POLICIES"])


def user_delete(store: IamStore, args: argparse.Namespace) -> None:
    store.delete_user(args.name)
    print(f"deleted user {args.name} with its keys and policies")


def key_create(store: IamStore, args: argparse.Namespace) -> None:
    secret_key = args.secret_key
    if secret_key == "-":           # read it from stdin, so it stays out of the process list
        secret_key = sys.stdin.readline().strip()
    key = store.create_key(args.user, args.secret_id, secret_key)
    print(f"new key pair for {args.user} (the SecretKey is shown only now):")
    print(f"  SecretId:  {key['secret_id']}\n  SecretKey: {key['secret_key']}")


def key_list(store: IamStore, args: argparse.Namespace) -> None:
    _table([[k["secret_id"], k["user"], k["status"], _when(k["created"])] for k in store.list_keys(args.user)],
           ["SECRET_ID", "USER", "STATUS", "CREATED"])


def key_status(active: bool) -> Callable[[IamStore, argparse.Namespace], None]:
    def command(store: IamStore, args: argparse.Namespace) -> None:
        store.set_key_status(args.secret_id, active)
        print(f"{args.secret_id} is now {'active' if active else 'disabled'}")
    return command


def key_delete(store: IamStore, args: argparse.Namespace) -> None:
    store.delete_key(args.secret_id)
    print(f"deleted {args.secret_id}")


def policy_attach(store: IamStore, args: argparse.Namespace) -> None:
    name = args.name or os.path.splitext(os.path.basename(args.file))[0]
    store.attach_policy(args.user, name, _read_policy(args.file))
    print(f"attached policy {name} to {args.user}")


def policy_detach(store: IamStore, args: argparse.Namespace) -> None:
    store.detach_policy(args.user, args.name)
    print(f"detached policy {args.name} from {args.user}")


def policy_list(store: IamStore, args: argparse.Namespace) -> None:
    for p in store.list_policies(args.user):
        print(f"# {p['name']} (attached {_when(p['attached'])})\n{p['document'].strip()}")


def token_create(store: IamStore, args: argparse.Namespace) -> None:
    policy = _read_policy(args.policy) if args.policy else None
    print(json.dumps(store.create_token(args.user, args.duration, policy), indent=2))


# -- wiring ---------------------------------------------------------------------------------
def _add(sub: argparse._SubParsersAction, name: str, command, help: str, *arguments: tuple) -> None:
    d = ServerConfig()
    p = sub.add_parser(name, help=help)
    p.add_argument("--data-dir", default=d.data_dir, help="data directory (default %(default)s)")
    p.add_argument("--appid", default=d.appid, help=argparse.SUPPRESS)
    for args, kwargs in arguments:
        p.add_argument(*args, **kwargs)
    p.set_defaults(func=lambda a: _run(command, a))


def _run(command, args: argparse.Namespace) -> int:
    from cosbeauty.iam.policy import PolicyError
    store = _open_store(args.data_dir)
    try:
        command(store, args)
    except IamError as exc:
        print(f"cosbeauty: {exc.code}: {exc.message}", file=sys.stderr)
        return EXIT_ERROR
    except (OSError, PolicyError) as exc:
        print(f"cosbeauty: {exc}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        store.db.close()
    return 0


def _family(sub: argparse._SubParsersAction, name: str, help: str) -> argparse._SubParsersAction:
    parser = sub.add_parser(name, help=help)
    parser.set_defaults(func=lambda a: parser.print_help() or 2)
    return parser.add_subparsers(metavar="ACTION")


def register(sub: argparse._SubParsersAction) -> None:
    user = ((["name"], {"help": "user name"}),)
    owner = ((["user"], {"help": "user name"}),)
    key = ((["secret_id"], {"help": "SecretId"}),)

    users = _family(sub, "user", "sub-accounts")
    _add(users, "create", user_create, "create a sub-account", *user)
    _add(users, "list", user_list, "list sub-accounts")
    _add(users, "delete", user_delete, "delete a sub-account with its keys and policies", *user)

    keys = _family(sub, "key", "sub-account key pairs")
    _add(keys, "create", key_create, "create a key pair (prints the SecretKey once), or import a chosen one", *owner,
         (["--secret-id"], {"help": "import this SecretId (with --secret-key)"}),
         (["--secret-key"], {"help": "import this SecretKey ('-' reads it from stdin)"}))
    _add(keys, "list", key_list, "list key pairs", (["user"], {"nargs": "?", "help": "only this user's"}))
    _add(keys, "disable", key_status(False), "refuse requests signed with a key", *key)
    _add(keys, "enable", key_status(True), "accept a disabled key again", *key)
    _add(keys, "delete", key_delete, "delete a key pair", *key)

    policies = _family(sub, "policy", "CAM-style policies attached to sub-accounts")
    _add(policies, "attach", policy_attach, "attach (or replace) a policy from a JSON file", *owner,
         (["file"], {"help": "policy JSON file"}),
         (["--name"], {"help": "policy name (default: the file name without .json)"}))
    _add(policies, "detach", policy_detach, "detach a policy", *owner, (["name"], {"help": "policy name"}))
    _add(policies, "list", policy_list, "show a user's policies", *owner)

    tokens = _family(sub, "token", "temporary credentials")
    _add(tokens, "create", token_create, "mint temporary credentials (JSON: tmpSecretId, tmpSecretKey, "
         "sessionToken, expiredTime)", *owner,
         (["--duration"], {"type": int, "default": 1800, "help": "lifetime in seconds (default %(default)s)"}),
         (["--policy"], {"help": "inline policy JSON file further limiting the credentials"}))
