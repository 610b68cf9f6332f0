"""``cosbeauty serve`` flags for cluster mode: blob store, shared master key, health/metrics, draining
(docs/cluster.md)."""

from __future__ import annotations

import argparse

from cosbeauty.config import ServerConfig


def add_arguments(p: argparse.ArgumentParser) -> None:
    d = ServerConfig()
    g = p.add_argument_group("cluster mode (see docs/cluster.md)")
    g.add_argument("--blobs", metavar="URL", default=d.blobs,
                   help="where object bytes live: file:///path (shared file system) or s3://BUCKET/PREFIX "
                        "(S3-compatible store; credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or "
                        "AWS_SHARED_CREDENTIALS_FILE). Default: <data-dir>/blobs")
    g.add_argument("--blobs-endpoint", metavar="URL", default=d.blobs_endpoint,
                   help="endpoint of the S3-compatible store for s3:// (e.g. http://rgw:7480)")
    g.add_argument("--metadata", metavar="URL", default=d.metadata,
                   help="shared metadata store: postgresql://USER@HOST:PORT/DB (psycopg conninfo URL; password "
                        "from the URL, PGPASSWORD or ~/.pgpass). Needs --blobs. Default: <data-dir>/meta.sqlite3")
    g.add_argument("--master-key-file", metavar="FILE", default=d.master_key_file,
                   help="32-byte key sealing signing keys, the same file on every node (also "
                        "COSBEAUTY_MASTER_KEY_FILE, or the key itself in COSBEAUTY_MASTER_KEY). "
                        "Default: <data-dir>/master.key")
    g.add_argument("--metrics-public", action="store_true", default=d.metrics_public,
                   help="serve /-/metrics to any client (default: loopback clients only)")
    g.add_argument("--drain-seconds", type=float, default=d.drain_seconds,
                   help="after SIGTERM, seconds /-/readyz answers 503 while requests are still served, "
                        "before the server stops accepting (default %(default)s)")
    g.add_argument("--shutdown-timeout", type=float, default=None, metavar="SECONDS",
                   help="once the server stops accepting, seconds in-flight requests get to finish before "
                        "they are cut and the process exits (default 30; also "
                        "COSBEAUTY_SHUTDOWN_TIMEOUT_SECONDS)")


def config_kwargs(args: argparse.Namespace) -> dict:
    """The ServerConfig fields these flags set."""
    if args.blobs_endpoint and not (args.blobs or "").startswith("s3://"):
        raise SystemExit("cosbeauty serve: --blobs-endpoint needs --blobs s3://BUCKET/PREFIX")
    if args.metadata and args.metadata.split("://", 1)[0] not in ("postgresql", "postgres"):
        raise SystemExit("cosbeauty serve: --metadata takes a postgresql://USER@HOST:PORT/DB URL")
    if args.metadata and not args.blobs:
        raise SystemExit("cosbeauty serve: --metadata postgresql://... needs a shared blob store (--blobs "
                         "s3://BUCKET/PREFIX or --blobs file:///shared/path): bytes in one node's data dir are "
                         "invisible to the other nodes")
    kwargs = {name: getattr(args, name) for name in (
        "blobs", "blobs_endpoint", "metadata", "master_key_file", "metrics_public", "drain_seconds")}
    if args.shutdown_timeout is not None:
        if args.shutdown_timeout < 0:
            raise SystemExit("cosbeauty serve: --shutdown-timeout must be >= 0")
        kwargs["shutdown_timeout"] = args.shutdown_timeout
    return kwargs
