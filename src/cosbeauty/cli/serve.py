"""``cosbeauty serve``."""

from __future__ import annotations

import argparse

from cosbeauty.cli import serve_options
from cosbeauty.cli import cluster_options
from cosbeauty.config import ServerConfig


def register(sub: argparse._SubParsersAction) -> None:
    d = ServerConfig()
    p = sub.add_parser("serve", help="run the COS-compatible server")
    p.add_argument("--data-dir", default=d.data_dir, help="data directory (default %(default)s)")
    p.add_argument("--host", default=d.host)
    p.add_argument("--port", type=int, default=d.port)
    p.add_argument("--appid", default=d.appid)
    p.add_argument("--region", default=d.region)
    p.add_argument("--endpoint", action="append", default=[], metavar="HOST",
                   help="extra virtual-host endpoint: <bucket>.HOST selects the bucket (repeatable; "
                        "'localhost' is always one)")
    p.add_argument("--no-fsync", dest="fsync", action="store_false",
                   help="acknowledge writes before they are on stable storage (faster, not crash-safe)")
    p.add_argument("--ci-workers", type=int, default=d.ci_workers, help="image processing threads")
    p.add_argument("--ci-queue", type=int, default=d.ci_queue, help="queued image jobs before 503 SlowDown")
    p.add_argument("--detect-url-allow", action="append", default=[], metavar="HOST_OR_CIDR",
                   help="allow detect-url fetches from this host or network despite the SSRF guard")
    p.add_argument("--log-level", default=d.log_level)
    cluster_options.add_arguments(p)
    p.add_argument("--bucket-names", choices=("cos", "s3", "both"), default=d.bucket_names,
                   help="bucket names PUT Bucket accepts: cos = <name>-<APPID> only (as Tencent COS), "
                        "s3 = Amazon S3 rules, both = either (default %(default)s)")
    serve_options.add_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cosbeauty.server import serve

    d = ServerConfig()
    config = ServerConfig(data_dir=args.data_dir, host=args.host, port=args.port, appid=args.appid,
                          region=args.region, endpoints=[*d.endpoints, *args.endpoint], fsync=args.fsync,
                          ci_workers=args.ci_workers, ci_queue=args.ci_queue,
                          detect_url_allow=args.detect_url_allow, log_level=args.log_level, **cluster_options.config_kwargs(args),
                          bucket_names=args.bucket_names, **serve_options.config_kwargs(args))
    serve(config)
    return 0
