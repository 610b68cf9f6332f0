"""Bucket naming modes (``cosbeauty serve --bucket-names cos|s3|both``).

* ``cos``: Tencent's rule only -- ``<name>-<APPID>`` with this server's APPID, the name part of
  lowercase letters, digits and inner dashes, at most 60 characters in all.
* ``s3``: Amazon S3's general-purpose rule -- 3 to 63 characters of lowercase letters, digits,
  dots and dashes, starting and ending with a letter or digit, no ``..``, ``.-`` or ``-.``, not an
  IPv4 address, not ``xn--...``/``...-s3alias``/``...--ol-s3``.
* ``both`` (the default): a name is accepted when either rule accepts it. ``<name>-<APPID>`` names
  keep working with the COS SDK and the CI endpoints, and a boto3 user's existing names work too.
  (Every COS name of this APPID is also a valid S3 name, so ``s3`` and ``both`` accept the same
  set; they differ in the error message only. ``cos`` is for a server that must refuse what
  Tencent would refuse.)

The mode only decides which *new* names PUT Bucket accepts. Requests to existing buckets are
checked with :func:`plausible`, the union of both rules, so a bucket created under one mode stays
reachable after a restart under another.
"""

from __future__ import annotations

import re

from cosbeauty.api.errors import CosError

MODES = ("cos", "s3", "both")
DEFAULT_MODE = "both"

_COS = re.compile(r"^(?P<name>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)-(?P<appid>[0-9]{1,20})$")
COS_MAX_LEN = 60
_S3 = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")


def is_cos_name(name: str, appid: str | None = None) -> bool:
    m = _COS.match(name)
    return bool(m) and len(name) <= COS_MAX_LEN and (appid is None or m["appid"] == appid)


def is_s3_name(name: str) -> bool:
    if not _S3.match(name) or _IPV4.match(name):
        return False
    if ".." in name or ".-" in name or "-." in name:
        return False
    return not (name.startswith("xn--") or name.endswith("-s3alias") or name.endswith("--ol-s3"))


def plausible(name: str) -> bool:
    """Could this name belong to a bucket under any mode (used for requests to existing buckets)."""
    return is_cos_name(name) or is_s3_name(name)


def check_new(name: str, mode: str, appid: str) -> None:
    """Raise InvalidBucketName unless PUT Bucket may create ``name`` under ``mode``."""
    if mode not in MODES:
        raise ValueError(f"bucket naming mode must be one of {MODES}, not {mode!r}")
    cos_ok = is_cos_name(name, appid)
    if mode == "cos" and not cos_ok:
        if is_cos_name(name):
            raise CosError("InvalidBucketName",
                           f"Bucket name {name!r} must end with this server's APPID (-{appid}).", resource=name)
        raise CosError("InvalidBucketName",
                       f"Bucket name {name!r} must look like <name>-{appid}: lowercase letters, digits and "
                       f"dashes, not starting or ending with a dash, at most {COS_MAX_LEN} characters "
                       "(this server runs with --bucket-names cos).", resource=name)
    if mode in ("s3", "both") and not (cos_ok or is_s3_name(name)):
        raise CosError("InvalidBucketName",
                       f"Bucket name {name!r} is not valid: use 3-63 lowercase letters, digits, dots and "
                       f"dashes, starting and ending with a letter or digit (or <name>-{appid}).",
                       resource=name)
