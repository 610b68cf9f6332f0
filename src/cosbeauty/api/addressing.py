"""Where a request points: (bucket, key) from the Host header (virtual-host) or the path (path-style).

* ``<name>-<appid>.cos.<region>.myqcloud.com`` -> bucket ``<name>-<appid>`` (what cos-python-sdk-v5
  sends in ``Host`` even when it connects to an IP); ``.pic.`` and ``.ci.`` hosts are the Cloud
  Infinite endpoints of the same bucket;
* ``<bucket>.<endpoint>`` for every configured endpoint;
* anything else (an IP, ``localhost``, ``cos.<region>.myqcloud.com``) -> path-style ``/<bucket>/<key>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cosbeauty.api import bucket_names
from cosbeauty.api.errors import CosError

_COS_HOST = re.compile(
    r"^(?P<bucket>[^.]+)\.(?P<service>cos|pic|ci)\.(?P<region>[a-z0-9-]+)\.(?:myqcloud\.com|tencentcos\.cn)$")
_SERVICE_HOST = re.compile(
    r"^(?P<service>cos|pic|ci)\.(?P<region>[a-z0-9-]+)\.(?:myqcloud\.com|tencentcos\.cn)$")
_BUCKET = re.compile(r"^(?P<name>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)-(?P<appid>[0-9]{1,20})$")
MAX_BUCKET_LEN = 60


@dataclass
class Target:
    bucket: str          # "" for the service (list buckets)
    key: str             # "" for bucket-level requests
    virtual_host: bool
    region: str = ""
    service: str = "cos"     # "pic"/"ci" for Cloud Infinite endpoints (<bucket>.pic.<region>.myqcloud.com)


def split_host(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def resolve(host_header: str, path: str, endpoints: list[str]) -> Target:
    """``path`` is the percent-decoded request path."""
    host = split_host(host_header)
    m = _COS_HOST.match(host)
    if m:
        return Target(m["bucket"], path[1:], True, m["region"], m["service"])
    m = _SERVICE_HOST.match(host)
    if m and m["service"] != "cos":   # CI service-level calls (e.g. GET /picbucket): no bucket
        return Target("", path[1:], True, m["region"], m["service"])
    for endpoint in endpoints:
        suffix = "." + endpoint.lower()
        if host.endswith(suffix) and len(host) > len(suffix):
            return Target(host[: -len(suffix)], path[1:], True)
    trimmed = path[1:]
    bucket, _, key = trimmed.partition("/")
    return Target(bucket, key, False)


def check_bucket_name(name: str, appid: str | None = None) -> None:
    """COS naming: ``<name>-<appid>``; name of lowercase letters, digits and inner dashes. Without
    ``appid`` (requests to existing buckets): any name a bucket may have under some
    ``--bucket-names`` mode (COS or S3 rules, see api/bucket_names.py)."""
    if appid is None and bucket_names.plausible(name):
        return
    m = _BUCKET.match(name)
    if not m or len(name) > MAX_BUCKET_LEN:
        raise CosError("InvalidBucketName",
                       f"Bucket name {name!r} must look like <name>-<appid>: lowercase letters, digits "
                       f"and dashes, not starting or ending with a dash, at most {MAX_BUCKET_LEN} characters.",
                       resource=name)
    if appid is not None and m["appid"] != appid:
        raise CosError("InvalidBucketName",
                       f"Bucket name {name!r} must end with this server's APPID (-{appid}).", resource=name)


def check_key(key: str, max_bytes: int) -> None:
    """Keys are opaque (never file paths here), but refuse what COS refuses and what is dangerous."""
    if len(key.encode("utf-8", "surrogatepass")) > max_bytes:
        raise CosError("KeyTooLong", f"Object key is longer than {max_bytes} bytes.")
    if "\x00" in key:
        raise CosError("InvalidObjectName", "Object key must not contain NUL.")
    # '.' and '..' segments are ordinary key characters here, as on COS (Tencent's own SDK test
    # uploads "abc/../"): keys are never used as file paths (blobs are named by random ids).
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        raise CosError("InvalidObjectName", "Object key must be valid UTF-8.") from None
