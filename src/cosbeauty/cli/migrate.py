"""``cosbeauty migrate``: copy an embedded installation into a cluster (docs/cluster.md)."""

from __future__ import annotations

import argparse
import os
import sys

EXIT_ERROR = 1


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("migrate", help="copy an embedded data dir into PostgreSQL + a shared blob store")
    p.add_argument("--from", dest="source", required=True, metavar="DATA_DIR", help="the embedded data dir (server stopped)")
    p.add_argument("--to-metadata", required=True, metavar="URL", help="postgresql://... (an empty database)")
    p.add_argument("--to-blobs", required=True, metavar="URL", help="s3://BUCKET/PREFIX or file:///path")
    p.add_argument("--to-blobs-endpoint", metavar="URL", help="endpoint of the S3-compatible store")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cosbeauty.storage.migrate import MigrationError, migrate
    try:
        migrate(args.source, args.to_metadata, args.to_blobs, args.to_blobs_endpoint)
    except (MigrationError, RuntimeError, OSError) as exc:
        print(f"cosbeauty migrate: {exc}", file=sys.stderr)
        return EXIT_ERROR
    key = os.path.join(args.source, "master.key")
    print("cosbeauty migrate: done. Every node needs the master key that sealed the signing keys "
          f"(--master-key-file {key} unless the source used another) and the root credentials "
          f"(copy {os.path.join(args.source, 'credentials.json')} into each node's data dir, or set "
          "COSBEAUTY_SECRET_ID / COSBEAUTY_SECRET_KEY).")
    return 0
