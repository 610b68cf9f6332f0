"""``cosbeauty db upgrade|version``: the PostgreSQL metadata store's versioned schema (cluster mode,
docs/cluster.md). The embedded SQLite store migrates itself at start and needs neither."""

from __future__ import annotations

import argparse
import os
import sys

EXIT_ERROR = 1


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("db", help="PostgreSQL metadata schema: upgrade, version")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, func, text in (("upgrade", upgrade, "apply the schema migrations the database lacks"),
                             ("version", version, "print the database's schema version and this cosbeauty's")):
        a = actions.add_parser(name, help=text)
        a.add_argument("--metadata", metavar="URL", default=os.environ.get("COSBEAUTY_METADATA"),
                       help="postgresql://USER@HOST:PORT/DB (default: $COSBEAUTY_METADATA)")
        a.set_defaults(func=func)


def _url(args: argparse.Namespace) -> str | None:
    from cosbeauty.storage.postgres import is_postgres_url
    if not is_postgres_url(args.metadata):
        print("cosbeauty db: give --metadata postgresql://... (or COSBEAUTY_METADATA)", file=sys.stderr)
        return None
    return args.metadata


def upgrade(args: argparse.Namespace) -> int:
    url = _url(args)
    if url is None:
        return EXIT_ERROR
    import psycopg

    from cosbeauty.storage.postgres import redact, upgrade as run_upgrade
    from cosbeauty.storage.sql.migrations import LATEST
    try:
        before, applied = run_upgrade(url)
    except psycopg.Error as exc:
        print(f"cosbeauty db upgrade: {redact(url)}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if applied:
        print(f"cosbeauty: {redact(url)}: schema version {before} -> {applied[-1]} (applied {applied})")
    else:
        print(f"cosbeauty: {redact(url)}: schema version {max(before, 0)} is current (latest {LATEST})")
    return 0


def version(args: argparse.Namespace) -> int:
    url = _url(args)
    if url is None:
        return EXIT_ERROR
    import psycopg

    from cosbeauty.storage.postgres import CONNECT_TIMEOUT, redact
    from cosbeauty.storage.sql.migrations import LATEST, current_version
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as conn:
            current = current_version(conn)
    except psycopg.Error as exc:
        print(f"cosbeauty db version: {redact(url)}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print(f"database {current}, cosbeauty {LATEST}")
    return 0
