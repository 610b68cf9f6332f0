"""Server configuration: one dataclass, defaults readable at a glance."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


@dataclass
class ServerConfig:
    data_dir: str = "./data"
    host: str = "127.0.0.1"
    port: int = 8000
    appid: str = "1250000000"
    region: str = "ap-guangzhou"
    # virtual-host endpoints: "<bucket>.<endpoint>" in the Host header selects the bucket
    # ("<bucket>.localhost" resolves to loopback in browsers and curl, RFC 6761)
    endpoints: list[str] = field(default_factory=lambda: ["localhost"])
    fsync: bool = True
    max_object_size: int = 5 * 1024**4          # single PUT limit (5 TiB, like COS)
    max_part_size: int = 5 * 1024**3
    min_part_size: int = 1024 * 1024            # all parts but the last (COS: 1 MiB)
    max_parts: int = 10000
    max_key_bytes: int = 850                    # COS object key limit
    bucket_names: str = "both"                  # which new bucket names PUT Bucket accepts: cos|s3|both
    signature_skew: int = 900                   # seconds of clock skew tolerated
    # image processing (Cloud Infinite)
    ci_workers: int = max(1, (os.cpu_count() or 2))
    ci_queue: int = 32                          # queued jobs beyond the workers before 503 SlowDown
    ci_max_input_bytes: int = 32 * 1024 * 1024
    ci_max_pixels: int = 50_000_000
    detect_url_allow: list[str] = field(default_factory=list)   # hosts/CIDRs allowed despite the SSRF guard
    detect_url_max_bytes: int = 32 * 1024 * 1024
    detect_url_timeout: float = 10.0
    detect_url_max_redirects: int = 3
    detect_url_workers: int = 8                 # fetch threads, apart from the request/storage threads
    detect_url_queue: int = 32                  # fetches waiting for a thread before 503 SlowDown
    # connection limits and transport (see docs/security.md, cosbeauty.http_limits)
    max_header_bytes: int = 64 * 1024           # request line + headers; more -> 431
    header_timeout: float = 20.0                # seconds from a request's first byte to the end of its head
    keep_alive_timeout: float = 30.0            # idle connection (before the first / between requests)
    body_timeout: float = 60.0                  # a request body must move >= 1 KiB per this many seconds
    send_timeout: float = 60.0                  # a waiting response must deliver >= 1 KiB per this many seconds
    max_connections: int = 1000                 # open connections; more are refused with 503
    tls_cert: str | None = None                 # PEM certificate chain: serve HTTPS (TLS 1.2+)
    tls_key: str | None = None                  # PEM private key
    trusted_proxies: list[str] = field(default_factory=list)   # CIDRs whose X-Forwarded-* are believed
    # cluster mode (docs/cluster.md)
    blobs: str | None = None                    # blob store URL: file:///path or s3://BUCKET/PREFIX (None: <data>/blobs)
    blobs_endpoint: str | None = None           # endpoint URL of the S3-compatible store
    metadata: str | None = None                 # postgresql://... (None: SQLite in <data>/meta.sqlite3)
    master_key_file: str | None = None          # key sealing signing keys (None: <data>/master.key)
    metrics_public: bool = False                # /-/metrics for every client (default: loopback only)
    drain_seconds: float = 0.0                  # after SIGTERM: /-/readyz 503 this long before stopping
    shutdown_timeout: float | None = None       # after SIGTERM, for in-flight requests (None: $COSBEAUTY_SHUTDOWN_TIMEOUT_SECONDS or 30 s)
    log_level: str = "info"

    @property
    def service_hosts(self) -> set[str]:
        return {f"cos.{self.region}.myqcloud.com", "service.cos.myqcloud.com", *self.endpoints}
