"""CAM-style policy documents: parsing (strict, with messages a human can act on) and evaluation.

    {"version": "2.0",
     "statement": [{"effect": "allow",
                    "action": ["name/cos:GetObject", "ci:CreateAIFaceBeautifyJob"],
                    "resource": ["qcs::cos:ap-guangzhou:uid/1250000000:photos-1250000000/faces/*"],
                    "condition": {"ip_equal": {"qcs:ip": ["127.0.0.1/32"]}}}]}

``*`` in an action or resource matches any run of characters (``/`` included). Actions compare
case-insensitively with an optional ``name/`` prefix; resources compare case-sensitively.
A request is allowed when some statement allows it and no statement denies it (explicit deny wins).
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any, Iterable

ALLOW, DENY = "allow", "deny"
IP_KEYS = ("qcs:ip",)
SECURE_KEYS = ("qcs:secure_transport", "cos:secure-transport")


class PolicyError(ValueError):
    """A policy document that does not parse or uses something this server does not support."""


@dataclass(frozen=True)
class Request:
    """One authorization question: may the caller run ``action`` on any of ``resources``?"""

    action: str                     # "cos:GetObject"
    resources: tuple[str, ...]      # equivalent spellings of the target (see resource_names)
    ip: str                         # client address
    secure: bool                    # came in over HTTPS
    tags: "TagContext | None" = None   # tags for tag conditions, looked up only when a policy has one
    referer: str | None = None      # the Referer header (qcs:referer; unsigned, whatever the client sends)


class TagContext:
    """Tags a request is judged by, read lazily (most policies have no tag condition):
    ``resource`` = the bucket's tags (COS ``qcs:resource_tag``), ``existing`` = the object's current
    tags (``s3:ExistingObjectTag/<k>``), ``requested`` = the tags the request sets (``x-cos-tagging``
    / ``x-amz-tagging``, ``s3:RequestObjectTag/<k>``)."""

    def __init__(self, resource, existing, requested) -> None:
        self._get = {"resource": resource, "existing": existing, "requested": requested}
        self._cache: dict[str, dict] = {}

    def get(self, which: str) -> dict[str, str]:
        if which not in self._cache:
            try:
                self._cache[which] = dict(self._get[which]() or {})
            except Exception:       # no bucket/object: no tags
                self._cache[which] = {}
        return self._cache[which]


def resource_names(region: str, appid: str, bucket: str, key: str) -> tuple[str, ...]:
    """Every spelling of a target a statement may use: the COS six-segment form, the CI form
    (``bucket/<bucket>/<key>``) and the legacy ``prefix//<appid>/<short-bucket>/`` form. Both
    COS and CI spellings cover both services' actions, as the CI documentation's own examples do."""
    base = f"uid/{appid}:"
    if not bucket:
        return (f"qcs::cos:{region}:{base}",)
    short = bucket[: -len(appid) - 1] if bucket.endswith("-" + appid) else bucket
    names = (f"qcs::cos:{region}:{base}{bucket}/{key}",
             f"qcs::ci:{region}:{base}bucket/{bucket}/{key}",
             f"qcs::cos:{region}:{base}prefix//{appid}/{short}/{key}")
    return names if key else names + (f"qcs::cos:{region}:{base}{bucket}",)


def _glob(pattern: str, *, ignore_case: bool) -> re.Pattern:
    body = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.compile(body, re.IGNORECASE if ignore_case else 0)


def _strings(value: Any, what: str) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) and v for v in items):
        raise PolicyError(f"{what} must be a non-empty string or list of strings")
    return items


STRING_OPERATORS = ("string_equal", "string_not_equal", "string_like", "string_not_like")
RESOURCE_TAG_KEY = "qcs:resource_tag"                # COS: values "key&value" of the bucket's tags
EXISTING_TAG_PREFIX = "cos:existingobjecttag/"       # S3 s3:ExistingObjectTag/<key>
REQUEST_TAG_PREFIX = "cos:requestobjecttag/"         # S3 s3:RequestObjectTag/<key>
REFERER_KEY = "qcs:referer"                          # S3 aws:Referer
IF_EXIST = "_if_exist"      # operator suffix: the condition holds when the request has no value for the key


def _string_values(key: str, req: Request) -> list[str]:
    """The request's values for a string condition key (empty: the key is absent)."""
    if key == REFERER_KEY:
        return [] if req.referer is None else [req.referer]
    if req.tags is None:
        return []
    if key == RESOURCE_TAG_KEY:
        return [f"{k}&{v}" for k, v in req.tags.get("resource").items()]
    for prefix, which in ((EXISTING_TAG_PREFIX, "existing"), (REQUEST_TAG_PREFIX, "requested")):
        if key.startswith(prefix):
            value = req.tags.get(which).get(key[len(prefix):])
            return [] if value is None else [value]
    return []


@dataclass(frozen=True)
class Condition:
    operator: str                   # ip_equal, ip_not_equal, bool_equal, string_(not_)equal|like
    key: str
    values: tuple
    if_exists: bool = False         # <operator>_if_exist (S3 ...IfExists): holds when the key is absent

    def holds(self, req: Request) -> bool:
        if self.operator in STRING_OPERATORS:
            have = _string_values(self.key, req)
            if self.if_exists and not have:
                return True
            if self.operator.endswith("like"):
                hit = any(p.fullmatch(h) for p in self.values for h in have)
            else:
                hit = any(h in self.values for h in have)
            return hit if "_not_" not in self.operator else not hit
        if self.operator == "bool_equal":
            return req.secure in self.values
        try:
            ip = ipaddress.ip_address(req.ip)
        except ValueError:
            return False            # no usable client address: ip_equal fails, and so does ip_not_equal
        inside = any(ip in net for net in self.values)
        return inside if self.operator == "ip_equal" else not inside


def _condition(operator: str, key: str, raw: Any) -> Condition:
    if operator.endswith(IF_EXIST) and operator[:-len(IF_EXIST)] in STRING_OPERATORS:
        plain = _condition(operator[:-len(IF_EXIST)], key, raw)
        return Condition(plain.operator, plain.key, plain.values, if_exists=True)
    values = _strings(raw, f"condition {operator}.{key}")
    if operator in ("ip_equal", "ip_not_equal"):
        if key not in IP_KEYS:
            raise PolicyError(f"{operator} supports the key qcs:ip, not {key!r}")
        try:
            return Condition(operator, key, tuple(ipaddress.ip_network(v, strict=False) for v in values))
        except ValueError as exc:
            raise PolicyError(f"condition {operator}.{key}: {exc}") from None
    if operator == "bool_equal":
        if key not in SECURE_KEYS:
            raise PolicyError(f"bool_equal supports the keys {', '.join(SECURE_KEYS)}, not {key!r}")
        if any(v.lower() not in ("true", "false") for v in values):
            raise PolicyError(f"condition bool_equal.{key} takes \"true\" or \"false\"")
        return Condition(operator, key, tuple(v.lower() == "true" for v in values))
    if operator in STRING_OPERATORS:
        low = key.lower()
        if low not in (RESOURCE_TAG_KEY, REFERER_KEY) and not low.startswith((EXISTING_TAG_PREFIX, REQUEST_TAG_PREFIX)):
            raise PolicyError(f"{operator} supports the keys qcs:referer, qcs:resource_tag, cos:ExistingObjectTag/<key> "
                              f"and cos:RequestObjectTag/<key> (aws:Referer, s3:... in bucket policies), not {key!r}")
        key = low if low in (RESOURCE_TAG_KEY, REFERER_KEY) else low.split("/", 1)[0] + "/" + key.split("/", 1)[1]
        if operator.endswith("like"):
            return Condition(operator, key, tuple(_glob(v, ignore_case=False) for v in values))
        return Condition(operator, key, tuple(values))
    raise PolicyError(f"unsupported condition operator {operator!r} (use ip_equal, ip_not_equal, bool_equal, "
                      "string_equal, string_not_equal, string_like, string_not_like; the string ones also "
                      f"with {IF_EXIST})")


# one permission under several documented names: a statement naming any of them allows (or denies)
# the call. Tencent's face-effect page says ci:FaceEffect in English (and in the older Chinese page),
# ci:CreateFaceEffectJob in the current Chinese one.
ACTION_ALIASES = {"ci:FaceEffect": ("ci:FaceEffect", "ci:CreateFaceEffectJob")}


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[re.Pattern, ...]
    resources: tuple[re.Pattern, ...]
    conditions: tuple[Condition, ...]

    def applies(self, req: Request) -> bool:
        names = ACTION_ALIASES.get(req.action, (req.action,))
        return (any(p.fullmatch(name) for p in self.actions for name in names)
                and any(p.fullmatch(r) for p in self.resources for r in req.resources)
                and all(c.holds(req) for c in self.conditions))


def _statement(raw: Any, n: int) -> Statement:
    if not isinstance(raw, dict):
        raise PolicyError(f"statement {n} must be an object")
    unknown = set(raw) - {"effect", "action", "resource", "condition", "principal", "sid"}
    if unknown:
        raise PolicyError(f"statement {n}: unknown field(s) {', '.join(sorted(unknown))}")
    effect = str(raw.get("effect", "")).lower()
    if effect not in (ALLOW, DENY):
        raise PolicyError(f"statement {n}: effect must be allow or deny")
    if "action" not in raw or "resource" not in raw:
        raise PolicyError(f"statement {n}: action and resource are required")
    actions = tuple(_glob(a.removeprefix("name/"), ignore_case=True)
                    for a in _strings(raw["action"], f"statement {n} action"))
    resources = tuple(_glob(r, ignore_case=False) for r in _strings(raw["resource"], f"statement {n} resource"))
    cond_raw = raw.get("condition", {})
    if not isinstance(cond_raw, dict) or not all(isinstance(v, dict) for v in cond_raw.values()):
        raise PolicyError(f"statement {n}: condition must map operators to {{key: value}} objects")
    conditions = tuple(_condition(op, key, value) for op, keys in cond_raw.items() for key, value in keys.items())
    return Statement(effect, actions, resources, conditions)


@dataclass(frozen=True)
class Policy:
    statements: tuple[Statement, ...]


def parse_policy(document: str | dict) -> Policy:
    """Parse and validate a policy document (JSON text or an already decoded object)."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError as exc:
            raise PolicyError(f"policy is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise PolicyError("policy must be a JSON object")
    if str(document.get("version", "")) != "2.0":
        raise PolicyError('policy version must be "2.0"')
    raw = document.get("statement")
    raw = [raw] if isinstance(raw, dict) else raw
    if not isinstance(raw, list) or not raw:
        raise PolicyError("policy needs a non-empty statement list")
    return Policy(tuple(_statement(s, n) for n, s in enumerate(raw, 1)))


def evaluate(policies: Iterable[Policy], req: Request) -> str | None:
    """DENY if any statement denies, else ALLOW if any allows, else None (no opinion)."""
    allowed = False
    for policy in policies:
        for st in policy.statements:
            if st.applies(req):
                if st.effect == DENY:
                    return DENY
                allowed = True
    return ALLOW if allowed else None
