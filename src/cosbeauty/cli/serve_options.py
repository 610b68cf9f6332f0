"""``cosbeauty serve`` flags for connection limits, TLS, trusted proxies and detect-url fetching."""

from __future__ import annotations

import argparse
import ipaddress

from cosbeauty.config import ServerConfig


def _cidr(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an IP address or CIDR network: {value!r}") from None


def add_arguments(p: argparse.ArgumentParser) -> None:
    d = ServerConfig()
    g = p.add_argument_group("limits and transport (see docs/security.md)")
    g.add_argument("--max-header-bytes", type=int, default=d.max_header_bytes,
                   help="request line + headers larger than this are refused with 431 (default %(default)s)")
    g.add_argument("--header-timeout", type=float, default=d.header_timeout,
                   help="seconds a request head may take from its first byte (default %(default)s)")
    g.add_argument("--keep-alive-timeout", type=float, default=d.keep_alive_timeout,
                   help="seconds an idle connection stays open (default %(default)s)")
    g.add_argument("--body-timeout", type=float, default=d.body_timeout,
                   help="seconds in which a request body must move at least 1 KiB (default %(default)s)")
    g.add_argument("--send-timeout", type=float, default=d.send_timeout,
                   help="seconds in which a waiting response must deliver at least 1 KiB (default %(default)s)")
    g.add_argument("--max-connections", type=int, default=d.max_connections,
                   help="open connections; more are refused with 503 (default %(default)s, lowered to fit "
                        "the open-file limit)")
    g.add_argument("--tls-cert", metavar="FILE", default=None, help="PEM certificate (chain): serve HTTPS")
    g.add_argument("--tls-key", metavar="FILE", default=None, help="PEM private key for --tls-cert")
    g.add_argument("--trusted-proxy", dest="trusted_proxies", action="append", default=[], type=_cidr,
                   metavar="CIDR", help="believe X-Forwarded-Proto/-For from this address or network "
                                        "(repeatable; default: none)")
    g.add_argument("--detect-url-timeout", type=float, default=d.detect_url_timeout,
                   help="seconds a detect-url download may take in all, redirects included (default %(default)s)")
    g.add_argument("--detect-url-workers", type=int, default=d.detect_url_workers,
                   help="threads for detect-url downloads (default %(default)s)")
    g.add_argument("--detect-url-queue", type=int, default=d.detect_url_queue,
                   help="detect-url downloads waiting for a thread before 503 SlowDown (default %(default)s)")


def config_kwargs(args: argparse.Namespace) -> dict:
    """The ServerConfig fields these flags set."""
    if bool(args.tls_cert) != bool(args.tls_key):
        raise SystemExit("cosbeauty serve: --tls-cert and --tls-key go together")
    return {name: getattr(args, name) for name in (
        "max_header_bytes", "header_timeout", "keep_alive_timeout", "body_timeout", "send_timeout",
        "max_connections", "tls_cert", "tls_key", "trusted_proxies", "detect_url_timeout", "detect_url_workers",
        "detect_url_queue")}
