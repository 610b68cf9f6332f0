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


_cos_hosts: dict[str, tuple[str, str, str] | None] = {}   # Host header -> _COS_HOST's (bucket, region, service)
_COS_HOSTS_MAX = 1024


def _cos_host(host_header: str) -> tuple[str, str, str] | None:
    """(bucket, region, service) of a ``<bucket>.<service>.<region>.myqcloud.com`` Host header, or
    None; remembered, as a connection sends the same Host on every request (bounded: host names of
    DNS length only, cleared when full). A pure function of the header."""
    try:
        return _cos_hosts[host_header]
    except KeyError:
        pass
    m = _COS_HOST.match(split_host(host_header))
    found = (m["bucket"], m["region"], m["service"]) if m else None
    if len(host_header) > 300:
        return found
    if len(_cos_hosts) >= _COS_HOSTS_MAX:
        _cos_hosts.clear()
    _cos_hosts[host_header] = found
    return found


def resolve(host_header: str, path: str, endpoints: list[str]) -> Target:
    """``path`` is the percent-decoded request path."""
    cos = _cos_host(host_header)
    if cos is not None:
        bucket, region, service = cos
        return Target(bucket, path[1:], True, region, service)
    host = split_host(host_header)
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


_plausible: set[str] = set()       # names bucket_names.plausible() accepted (a pure function of the name)
_PLAUSIBLE_MAX = 1024


def _remember_plausible(name: str) -> bool:
    """``bucket_names.plausible(name)``, remembered when true: every request to a bucket checks its
    name, and a few regular expressions per request add up. Bounded (cleared when full)."""
    if not bucket_names.plausible(name):
        return False
    if len(_plausible) >= _PLAUSIBLE_MAX:
        _plausible.clear()
    _plausible.add(name)
    return True


def check_bucket_name(name: str, appid: str | None = None) -> None:
    """COS naming: ``<name>-<appid>``; name of lowercase letters, digits and inner dashes. Without
    ``appid`` (requests to existing buckets): any name a bucket may have under some
    ``--bucket-names`` mode (COS or S3 rules, see api/bucket_names.py)."""
    if appid is None and (name in _plausible or _remember_plausible(name)):
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
