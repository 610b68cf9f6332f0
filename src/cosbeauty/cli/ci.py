"""``cosbeauty ci {bind,unbind,enable-ai,disable-ai,status}`` and ``cosbeauty usage``.

They work on the data directory's meta database directly (server running or not); a running
server reads the CI state per request, so changes apply to the next request."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from cosbeauty.config import ServerConfig

EXIT_ERROR = 1


def _db_path(data_dir: str) -> str:
    from cosbeauty.storage.cluster import env_metadata_url
    if env_metadata_url():           # cluster mode: $COSBEAUTY_METADATA names the PostgreSQL store
        return ""
    path = os.path.join(data_dir, "meta.sqlite3")
    if not os.path.exists(path):
        raise FileNotFoundError(f"no cosbeauty data in {os.path.abspath(data_dir)} (missing meta.sqlite3)")
    return path


def _reader(data_dir: str):
    import sqlite3

    from cosbeauty.storage.cluster import CliReader, env_metadata_url, open_metadata
    if env_metadata_url():
        return CliReader(open_metadata(data_dir))
    return sqlite3.connect(f"file:{_db_path(data_dir)}?mode=ro", uri=True)


def _set_flags(args: argparse.Namespace, **flags: bool) -> int:
    from cosbeauty.api.errors import CosError
    from cosbeauty.ci.activation import update_job
    from cosbeauty.storage import StorageError
    from cosbeauty.storage.cluster import open_metadata

    _db_path(args.data_dir)
    db = open_metadata(args.data_dir)
    try:
        state = db.write(update_job(args.bucket, **flags))
    except (StorageError, CosError) as exc:
        print(f"cosbeauty: {exc}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        db.close()
    print(f"{args.bucket}: bound={'yes' if state['bound'] else 'no'} ai={'yes' if state['ai'] else 'no'}")
    return 0


def _status(args: argparse.Namespace) -> int:

    conn = _reader(args.data_dir)
    try:
        rows = conn.execute("SELECT name, attrs FROM buckets" + (" WHERE name=?" if args.bucket else "")
                            + " ORDER BY name", (args.bucket,) if args.bucket else ()).fetchall()
    finally:
        conn.close()
    if args.bucket and not rows:
        print(f"cosbeauty: NoSuchBucket: {args.bucket}", file=sys.stderr)
        return EXIT_ERROR
    states = [{"bucket": name, "bound": bool((json.loads(attrs).get("ci") or {}).get("bound")),
               "ai": bool((json.loads(attrs).get("ci") or {}).get("ai"))} for name, attrs in rows]
    if args.json:
        print(json.dumps(states, indent=2))
    else:
        _print_table(states, ("bucket", "bound", "ai"))
    return 0


def _usage(args: argparse.Namespace) -> int:

    from cosbeauty.ci.metering import query, totals
    from cosbeauty.ci.timeparse import parse_since

    try:
        since = parse_since(args.since) if args.since else None
    except ValueError as exc:
        print(f"cosbeauty: {exc}", file=sys.stderr)
        return EXIT_ERROR
    conn = _reader(args.data_dir)
    try:
        rows = query(conn, bucket=args.bucket, since=since)
    finally:
        conn.close()
    if args.json:
        print(json.dumps({"records": rows, "totals": totals(rows)}, indent=2))
        return 0
    for r in rows:
        r["time"] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(r["ts"]))
    _print_table(rows, ("time", "bucket", "method", "process", "input_bytes", "output_bytes", "faces",
                        "outcome", "ms"))
    print()
    _print_table(totals(rows), ("bucket", "method", "process", "calls", "ok", "input_bytes", "output_bytes", "faces"))
    return 0


def _print_table(rows: list[dict], columns: tuple[str, ...]) -> None:
    cells = [[str(r[c]) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)))


def _guard(fn):
    def run(args: argparse.Namespace) -> int:
        try:
            return fn(args)
        except OSError as exc:
            print(f"cosbeauty: {exc}", file=sys.stderr)
            return EXIT_ERROR
    return run


def _parser(sub: argparse._SubParsersAction, name: str, help: str, func) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=help)
    p.add_argument("--data-dir", default=ServerConfig().data_dir, help="data directory (default %(default)s)")
    p.set_defaults(func=_guard(func))
    return p


def register(sub: argparse._SubParsersAction) -> None:
    ci = sub.add_parser("ci", help="Cloud Infinite activation per bucket")
    ci.set_defaults(func=lambda a: ci.print_help() or 2)
    actions = ci.add_subparsers(metavar="ACTION")
    for name, help, flags in (
        ("bind", "bind a bucket to Cloud Infinite (like ci_open_pic_bucket)", {"bound": True}),
        ("unbind", "unbind a bucket (also disables AI recognition)", {"bound": False}),
        ("enable-ai", "enable AI content recognition (needed by AIFaceBeauty)", {"ai": True}),
        ("disable-ai", "disable AI content recognition", {"ai": False}),
    ):
        p = _parser(actions, name, help, lambda a, flags=flags: _set_flags(a, **flags))
        p.add_argument("bucket", help="bucket name (name-appid)")
    p = _parser(actions, "status", "show the CI state of one or all buckets", _status)
    p.add_argument("bucket", nargs="?", help="only this bucket")
    p.add_argument("--json", action="store_true")

    p = _parser(sub, "usage", "CI metering: one row per billable call, and totals", _usage)
    p.add_argument("--bucket", help="only this bucket")
    p.add_argument("--since", help="epoch seconds, ISO 8601 time, or an age such as 2h or 7d")
    p.add_argument("--json", action="store_true", help="machine-readable output")
