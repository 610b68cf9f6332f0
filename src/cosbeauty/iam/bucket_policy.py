"""Bucket policies (``PUT/GET/DELETE /?policy``) in the COS and the S3 spelling, compiled to the
CAM engine of :mod:`cosbeauty.iam.policy` plus a principal matcher.

COS::

    {"version": "2.0", "Statement": [{"Principal": {"qcs": ["qcs::cam::anyone:anyone"]},
      "Effect": "Allow", "Action": ["name/cos:GetObject"],
      "Resource": ["qcs::cos:ap-guangzhou:uid/1250000000:photos-1250000000/*"]}]}

S3::

    {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*",
      "Action": "s3:GetObject", "Resource": "arn:aws:s3:::photos/secret/*",
      "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]}

Field names are case-insensitive. S3 actions become ``cos:`` actions (``s3:ListBucket`` ->
``cos:GetBucket``, the rest by name; action names compare case-insensitively), ``arn:aws:s3:::b/k``
resources become ``qcs::cos:<region>:uid/<appid>:b/k``, and the conditions ``IpAddress`` /
``NotIpAddress`` (``aws:SourceIp``) and ``Bool`` (``aws:SecureTransport``) become ``ip_equal`` /
``ip_not_equal`` / ``bool_equal``. Principals: ``*``, ``{"AWS": "*"}``, ``qcs::cam::anyone:anyone``
(everyone, anonymous included), ``qcs::cam::uin/<appid>:uin/<uin>`` (a root or sub-account, as
:attr:`Principal.uin`), ``arn:aws:iam::<appid>:root`` and ``arn:aws:iam::<appid>:user/<name>``.
Anything else is refused with a message (``PolicyError`` -> MalformedPolicy), never ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cosbeauty.iam.policy import ALLOW, DENY, PolicyError, Request, Statement, _statement

MAX_POLICY_BYTES = 20 * 1024
ANYONE = ("*", "qcs::cam::anyone:anyone", "qcs::cam::anonymous:anonymous")
_S3_ACTIONS = {
    "listbucket": "GetBucket", "listbucketversions": "GetBucketObjectVersions",
    "listbucketmultipartuploads": "ListMultipartUploads", "listmultipartuploadparts": "ListParts",
    "listallmybuckets": "GetService",
}
_S3_CONDITIONS = {"ipaddress": "ip_equal", "notipaddress": "ip_not_equal", "bool": "bool_equal",
                  "stringequals": "string_equal", "stringnotequals": "string_not_equal",
                  "stringlike": "string_like", "stringnotlike": "string_not_like"}
_S3_CONDITION_KEYS = {"aws:sourceip": "qcs:ip", "aws:securetransport": "qcs:secure_transport",
                      "aws:referer": "qcs:referer"}


def _condition_operator(op: str) -> str:
    """S3 spelling -> CAM spelling (``StringLikeIfExists`` -> ``string_like_if_exist``)."""
    low = op.lower()
    if low.endswith("ifexists") and low[:-8] in _S3_CONDITIONS:
        return _S3_CONDITIONS[low[:-8]] + "_if_exist"
    return _S3_CONDITIONS.get(low, op)


def _condition_key(key: str) -> str:
    low = key.lower()
    if low.startswith("s3:existingobjecttag/") or low.startswith("s3:requestobjecttag/"):
        return "cos:" + key[3:]
    return _S3_CONDITION_KEYS.get(low, key)


@dataclass(frozen=True)
class PolicyStatement:
    principals: tuple[str, ...]     # normalized principal ids ("*" = everyone)
    statement: Statement


@dataclass(frozen=True)
class BucketPolicy:
    statements: tuple[PolicyStatement, ...]

    def evaluate(self, req: Request, principal_ids: tuple[str, ...]) -> str | None:
        """DENY / ALLOW / None for a caller known by ``principal_ids`` (() = anonymous)."""
        allowed = False
        for ps in self.statements:
            if not ("*" in ps.principals or any(p in ps.principals for p in principal_ids)):
                continue
            if ps.statement.applies(req):
                if ps.statement.effect == DENY:
                    return DENY
                allowed = True
        return ALLOW if allowed else None


def principal_ids(appid: str, uin: str, name: str, is_root: bool) -> tuple[str, ...]:
    """The spellings a policy may use for a signed caller."""
    ids = [uin]
    if is_root:
        ids += [f"arn:aws:iam::{appid}:root", f"qcs::cam::uin/{appid}:uin/{appid}"]
    else:
        ids.append(f"arn:aws:iam::{appid}:user/{name}")
    return tuple(ids)


def _lower_keys(raw: dict) -> dict:
    return {str(k).lower(): v for k, v in raw.items()}


def _list(value: Any, what: str) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) and v for v in items):
        raise PolicyError(f"{what} must be a non-empty string or list of strings")
    return items


def _principals(raw: Any, n: int) -> tuple[str, ...]:
    if raw is None:
        raise PolicyError(f"statement {n}: a bucket policy statement needs a Principal")
    if isinstance(raw, str):
        values = _list(raw, f"statement {n} Principal")
    elif isinstance(raw, dict):
        values = []
        for kind, ids in raw.items():
            if str(kind).lower() not in ("qcs", "aws", "cam"):
                raise PolicyError(f"statement {n}: Principal kind {kind!r} is not supported (use qcs or AWS)")
            values += _list(ids, f"statement {n} Principal.{kind}")
    else:
        raise PolicyError(f"statement {n}: Principal must be \"*\" or {{\"qcs\": [...]}} / {{\"AWS\": [...]}}")
    return tuple("*" if v in ANYONE else v for v in values)


def _action(value: str) -> str:
    if value.lower().startswith("s3:"):
        name = value[3:]
        return "cos:" + _S3_ACTIONS.get(name.lower(), name)
    return value


def _resource(value: str, region: str, appid: str) -> str:
    if value.startswith("arn:aws:s3:::"):
        return f"qcs::cos:{region}:uid/{appid}:{value[len('arn:aws:s3:::'):]}"
    if value == "*" or value.startswith("qcs::"):
        return value
    raise PolicyError(f"resource {value!r} must be qcs::cos:<region>:uid/<appid>:<bucket>/<key> or arn:aws:s3:::<bucket>/<key>")


def _conditions(raw: Any, n: int) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise PolicyError(f"statement {n}: Condition must be an object")
    out: dict = {}
    for op, keys in raw.items():
        cam_op = _condition_operator(str(op))
        if not isinstance(keys, dict):
            raise PolicyError(f"statement {n}: Condition {op} must map keys to values")
        out[cam_op] = {_condition_key(str(k)): v for k, v in keys.items()}
    return out


def _compile(text: str, region: str, appid: str) -> BucketPolicy:
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError(f"policy is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise PolicyError("policy must be a JSON object")
    doc = _lower_keys(doc)
    unknown = set(doc) - {"version", "statement", "id"}
    if unknown:
        raise PolicyError(f"unknown top-level field(s) {', '.join(sorted(unknown))}")
    if str(doc.get("version", "2.0")) not in ("2.0", "2012-10-17", "2008-10-17"):
        raise PolicyError('Version must be "2.0" (COS) or "2012-10-17" (S3)')
    raw = doc.get("statement")
    raw = [raw] if isinstance(raw, dict) else raw
    if not isinstance(raw, list) or not raw:
        raise PolicyError("policy needs a non-empty Statement list")
    out = []
    for n, st in enumerate(raw, 1):
        if not isinstance(st, dict):
            raise PolicyError(f"statement {n} must be an object")
        st = _lower_keys(st)
        unknown = set(st) - {"effect", "action", "resource", "condition", "principal", "sid"}
        if unknown:
            raise PolicyError(f"statement {n}: unknown or unsupported field(s) {', '.join(sorted(unknown))} "
                              "(NotAction, NotResource and NotPrincipal are not supported)")
        principals = _principals(st.get("principal"), n)
        cam = {"effect": str(st.get("effect", "")).lower(),
               "action": [_action(a) for a in _list(st.get("action"), f"statement {n} Action")],
               "resource": [_resource(r, region, appid) for r in _list(st.get("resource"), f"statement {n} Resource")],
               "condition": _conditions(st.get("condition"), n)}
        out.append(PolicyStatement(principals, _statement(cam, n)))
    return BucketPolicy(tuple(out))


@lru_cache(maxsize=256)
def compile_policy(text: str, region: str, appid: str) -> BucketPolicy:
    """Parse and validate a stored or submitted policy (cached by its text). Raises PolicyError."""
    if len(text.encode()) > MAX_POLICY_BYTES:
        raise PolicyError(f"a bucket policy may be at most {MAX_POLICY_BYTES} bytes")
    return _compile(text, region, appid)

