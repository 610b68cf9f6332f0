"""AWS Signature Version 4 verification for S3 clients (header and pre-signed query forms), plus legacy V2.

Canonical request (S3 flavour, as botocore's ``S3SigV4Auth`` builds it)::

    METHOD \\n canonical-uri \\n canonical-query \\n canonical-headers \\n \\n signed-headers \\n payload

* canonical-uri: the path exactly as sent (S3 does not normalise or double-encode);
* canonical-query: every parameter but ``X-Amz-Signature``, URI-encoded (``-_.~`` unreserved), sorted;
* canonical-headers: ``name:trimmed value`` for each signed header, in SignedHeaders order;
* payload: ``x-amz-content-sha256`` (``UNSIGNED-PAYLOAD`` for pre-signed URLs without it).
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from email.utils import parsedate_tz, mktime_tz
from typing import Callable
from urllib.parse import quote

from cosbeauty.api.auth.chunked import (
    CHECKSUMS, STREAMING_MODES, ChunkedContext, decoded_content_length, same_signature, utf8,
)
from cosbeauty.api.auth.types import Identity, SignedRequest
from cosbeauty.api.errors import CosError

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = 900            # seconds (AWS: 15 minutes)
MAX_EXPIRES = 604800      # seconds (7 days)
MAX_SIGNED_HEADERS = 256  # names in SignedHeaders
HINT_LIMIT = 600          # characters of the canonical request echoed in SignatureDoesNotMatch
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")
_AMZ_DATE = re.compile(r"[0-9]{8}T[0-9]{6}Z")


@dataclass(frozen=True)
class Credential:
    access_key: str
    date: str
    region: str
    service: str

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


@dataclass(frozen=True)
class SigV4Params:
    credential: Credential
    amz_date: str
    signed_headers: tuple[str, ...]
    signature: str


# -- parsing ---------------------------------------------------------------------------------


def parse_credential(value: str) -> Credential:
    parts = value.strip().rsplit("/", 4)
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts[:4]):
        raise CosError("InvalidArgument", "SigV4 Credential must be <key>/<yyyymmdd>/<region>/<service>/aws4_request")
    return Credential(*parts[:4])


def _signed_header_names(value: str) -> tuple[str, ...]:
    """SignedHeaders: at most MAX_SIGNED_HEADERS names, each once, ``host`` among them (as AWS requires)."""
    names = tuple(name.strip().lower() for name in value.split(";", MAX_SIGNED_HEADERS) if name.strip())
    if not names:
        raise CosError("InvalidArgument", "SigV4 SignedHeaders is empty")
    if len(names) > MAX_SIGNED_HEADERS:
        raise CosError("InvalidArgument", f"SigV4 SignedHeaders names more than {MAX_SIGNED_HEADERS} headers")
    if len(set(names)) != len(names):
        twice = next(name for i, name in enumerate(names) if name in names[:i])
        raise CosError("InvalidArgument", f"SigV4 SignedHeaders names '{twice}' more than once")
    if "host" not in names:
        raise CosError("InvalidArgument", "SigV4 SignedHeaders must include host")
    return names


def _authorization_fields(authorization: str) -> dict[str, str]:
    rest = authorization[len(ALGORITHM):]
    fields: dict[str, str] = {}
    for item in rest.split(","):
        name, _, value = item.strip().partition("=")
        fields[name.strip()] = value.strip()
    return fields


def _amz_date_from_headers(headers: dict[str, str]) -> str:
    if "x-amz-date" in headers:
        return headers["x-amz-date"].strip()
    try:
        return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(mktime_tz(parsedate_tz(headers.get("date", "")))))
    except (TypeError, ValueError, OverflowError, OSError, IndexError):
        raise CosError("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header") from None


def _epoch(amz_date: str) -> int:
    if not _AMZ_DATE.fullmatch(amz_date):
        raise CosError("AccessDenied", "X-Amz-Date must be in the ISO 8601 basic format yyyyMMddTHHmmssZ")
    try:
        return calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))
    except ValueError:
        raise CosError("AccessDenied", "X-Amz-Date is not a valid date") from None


def _checked_params(credential: Credential, amz_date: str, signed_headers: str, signature: str) -> SigV4Params:
    _epoch(amz_date)
    if credential.date != amz_date[:8]:
        raise CosError("InvalidArgument", "SigV4 credential date does not match the request date")
    return SigV4Params(credential, amz_date, _signed_header_names(signed_headers), signature.strip().lower())


def parse_header(authorization: str, headers: dict[str, str]) -> SigV4Params:
    fields = _authorization_fields(authorization)
    missing = [name for name in ("Credential", "SignedHeaders", "Signature") if not fields.get(name)]
    if missing:
        raise CosError("InvalidArgument", f"SigV4 Authorization header is missing {', '.join(missing)}")
    return _checked_params(parse_credential(fields["Credential"]), _amz_date_from_headers(headers),
                           fields["SignedHeaders"], fields["Signature"])


def parse_query(query: dict[str, str]) -> tuple[SigV4Params, int]:
    """Parse the ``X-Amz-*`` parameters of a pre-signed URL; returns the params and X-Amz-Expires."""
    required = ("X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature")
    missing = [name for name in required if not query.get(name)]
    if missing:
        raise CosError("InvalidArgument", f"Pre-signed URL is missing {', '.join(missing)}")
    expires = query["X-Amz-Expires"].strip()
    # as S3: 0 is a URL that has expired (403 in verify_presigned); negative, over a week or not a
    # number is 400 AuthorizationQueryParametersError
    if not re.fullmatch(r"[0-9]{1,7}", expires) or int(expires) > MAX_EXPIRES:
        raise CosError("AuthorizationQueryParametersError",
                       f"X-Amz-Expires must be a number of seconds from 0 to {MAX_EXPIRES} (a week)", status=400)
    params = _checked_params(parse_credential(query["X-Amz-Credential"]), query["X-Amz-Date"].strip(),
                             query["X-Amz-SignedHeaders"], query["X-Amz-Signature"])
    return params, int(expires)


# -- canonical request -----------------------------------------------------------------------


def aws_quote(text: str, safe: str = "-_.~") -> str:
    return quote(utf8(text), safe=safe)


def canonical_query(query: list[tuple[str, str]]) -> str:
    pairs = sorted((aws_quote(k), aws_quote(v)) for k, v in query if k != "X-Amz-Signature")
    return "&".join(f"{k}={v}" for k, v in pairs)


def canonical_headers(headers: dict[str, str], names: tuple[str, ...]) -> str:
    lines = []
    for name in names:
        if name not in headers:
            raise CosError("SignatureDoesNotMatch", f"SignedHeaders names '{name}' but the request has no such header")
        lines.append(f"{name}:{' '.join(headers[name].split())}\n")
    return "".join(lines)


def canonical_uris(req: SignedRequest) -> list[str]:
    """The path as sent first; then a re-encoding of the decoded path (clients that encode loosely)."""
    return list(dict.fromkeys([req.raw_path or "/", aws_quote(req.path or "/", safe="/~")]))


def canonical_request(method: str, uri: str, query: str, headers: str, names: tuple[str, ...], payload: str) -> str:
    return "\n".join([method.upper(), uri, query, headers, ";".join(names), payload])


def string_to_sign(params: SigV4Params, canonical: str) -> str:
    digest = hashlib.sha256(utf8(canonical)).hexdigest()
    return "\n".join([ALGORITHM, params.amz_date, params.credential.scope, digest])


def signing_key(secret: str, credential: Credential) -> bytes:
    key = utf8(f"AWS4{secret}")
    for part in (credential.date, credential.region, credential.service, "aws4_request"):
        key = hmac.new(key, utf8(part), hashlib.sha256).digest()
    return key


# -- verification ----------------------------------------------------------------------------


def _redacted(text: str, token: str | None) -> str:
    text = text.replace(token, "<redacted>") if token else text
    return text if len(text) <= HINT_LIMIT else text[:HINT_LIMIT] + "..."


def _check_signature(req: SignedRequest, params: SigV4Params, key: bytes, payload: str, token: str | None) -> None:
    query = canonical_query(req.query)
    headers = canonical_headers(req.headers, params.signed_headers)
    canonicals = [canonical_request(req.method, uri, query, headers, params.signed_headers, payload)
                  for uri in canonical_uris(req)]
    for canonical in canonicals:
        expected = hmac.new(key, utf8(string_to_sign(params, canonical)), hashlib.sha256).hexdigest()
        if same_signature(expected, params.signature):
            return
    raise CosError(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your key and "
        f"signing method. StringToSign: {string_to_sign(params, canonicals[0])!r}; "
        f"CanonicalRequest: {_redacted(canonicals[0], token)!r}",
    )


def _secret(lookup_secret: Callable[[str], str | None], access_key: str) -> str:
    secret = lookup_secret(access_key)
    if secret is None:
        raise CosError("InvalidAccessKeyId")
    return secret


def _chunked_context(req: SignedRequest, params: SigV4Params, key: bytes, mode: str) -> ChunkedContext:
    trailer = req.headers.get("x-amz-trailer", "").strip().lower() or None
    if trailer is not None and trailer not in CHECKSUMS:
        raise CosError("InvalidRequest", f"x-amz-trailer {trailer!r} is not supported here; use one of "
                                         f"{', '.join(CHECKSUMS)}.")
    return ChunkedContext(mode=mode, signing_key=key, amz_date=params.amz_date, scope=params.credential.scope,
                          seed_signature=params.signature, trailer=trailer,
                          decoded_length=decoded_content_length(req.headers))


def _identity(req: SignedRequest, params: SigV4Params, key: bytes, payload: str, scheme: str,
              token: str | None) -> Identity:
    identity = Identity(anonymous=False, access_key=params.credential.access_key, scheme=scheme,
                        security_token=token, signed_headers=frozenset(params.signed_headers),
                        signed_params=None)   # the canonical query is the whole query string
    if _SHA256_HEX.fullmatch(payload):
        identity.payload_sha256 = payload.lower()
    elif payload in STREAMING_MODES:
        identity.chunked = _chunked_context(req, params, key, payload)
    return identity


def _check_payload_value(payload: str) -> None:
    if payload == UNSIGNED_PAYLOAD or payload in STREAMING_MODES or _SHA256_HEX.fullmatch(payload):
        return
    if payload.startswith("STREAMING-"):
        raise CosError("NotImplemented", f"x-amz-content-sha256 mode {payload} is not supported")
    raise CosError("InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a STREAMING-* mode "
                                      "or a valid sha256 value")


def verify_header(req: SignedRequest, authorization: str, lookup_secret: Callable[[str], str | None],
                  now: float) -> Identity:
    params = parse_header(authorization, req.headers)
    if abs(now - _epoch(params.amz_date)) > MAX_SKEW:
        raise CosError("RequestTimeTooSkewed")
    payload = req.headers.get("x-amz-content-sha256", "").strip()
    if not payload:
        raise CosError("InvalidRequest", "Missing required header for this request: x-amz-content-sha256")
    _check_payload_value(payload)
    key = signing_key(_secret(lookup_secret, params.credential.access_key), params.credential)
    token = req.headers.get("x-amz-security-token")
    _check_signature(req, params, key, payload, token)
    return _identity(req, params, key, payload, "sigv4", token)


def verify_presigned(req: SignedRequest, lookup_secret: Callable[[str], str | None], now: float) -> Identity:
    query = dict(req.query)
    params, expires = parse_query(query)
    signed_at = _epoch(params.amz_date)
    if signed_at > now + MAX_SKEW:
        raise CosError("RequestTimeTooSkewed", "X-Amz-Date is in the future")
    if now > signed_at + expires or expires == 0:
        raise CosError("AccessDenied", "Request has expired")
    payload = req.headers.get("x-amz-content-sha256", "").strip() or UNSIGNED_PAYLOAD
    _check_payload_value(payload)
    key = signing_key(_secret(lookup_secret, params.credential.access_key), params.credential)
    token = query.get("X-Amz-Security-Token") or req.headers.get("x-amz-security-token")
    _check_signature(req, params, key, payload, token)
    return _identity(req, params, key, payload, "sigv4-presigned", token)


# -- legacy AWS signature version 2 (HMAC-SHA1) ----------------------------------------------
# boto3's generate_presigned_url() still emits V2 URLs (AWSAccessKeyId/Expires/Signature) unless
# the client is configured with signature_version="s3v4", so V2 is verified too (header and query).

SIGV2_SUBRESOURCES = frozenset({
    "accelerate", "acl", "cors", "defaultObjectAcl", "location", "logging", "partNumber", "policy",
    "requestPayment", "torrent", "versioning", "versionId", "versions", "website", "uploads", "uploadId",
    "response-content-type", "response-content-language", "response-expires", "response-cache-control",
    "response-content-disposition", "response-content-encoding", "delete", "lifecycle", "tagging", "restore",
    "storageClass", "notification", "replication", "analytics", "metrics", "inventory", "select", "select-type",
    "object-lock",
})


def _v2_paths(req: SignedRequest) -> list[str]:
    """The path part of the V2 canonical resource. It always names the bucket: "/bucket/key" for
    virtual-host requests too, so a signature for one bucket never fits another."""
    raw = req.raw_path or "/"
    prefix = "/" + req.bucket if req.virtual_host and req.bucket else ""
    paths = [prefix + raw, prefix + aws_quote(req.path or "/", safe="/~")]
    # botocore signs bucket-level requests with a trailing slash ("/bucket/") that it does not send
    bucket_level = raw.strip("/") == req.bucket if req.bucket else raw.count("/") == 1
    if bucket_level and not req.virtual_host and raw != "/" and not raw.endswith("/"):
        paths.append(raw + "/")
    return list(dict.fromkeys(paths))


def _v2_resources(req: SignedRequest) -> list[str]:
    pairs = sorted((k, v) for k, v in req.query if k in SIGV2_SUBRESOURCES)
    sub = "&".join(f"{k}={v}" if v else k for k, v in pairs)
    return [path + (f"?{sub}" if sub else "") for path in _v2_paths(req)]


def _v2_signed(req: SignedRequest, from_query: bool) -> dict:
    """What a V2 string to sign covers: every x-amz-* header, Content-MD5, Content-Type, Date, the
    sub-resource parameters (and, pre-signed, the x-amz-* parameters)."""
    headers = {k for k in req.headers if k.startswith("x-amz-")} | {"content-md5", "content-type", "date"}
    params = {k.lower() for k, _ in req.query
              if k in SIGV2_SUBRESOURCES or (from_query and k.lower().startswith("x-amz-"))}
    return {"signed_headers": frozenset(headers), "signed_params": frozenset(params)}


def _v2_amz_headers(req: SignedRequest, from_query: bool) -> str:
    amz = {k: " ".join(v.split()) for k, v in req.headers.items() if k.startswith("x-amz-")}
    if from_query:
        amz.update((k.lower(), v) for k, v in req.query if k.lower().startswith("x-amz-"))
    return "".join(f"{k}:{amz[k]}\n" for k in sorted(amz))


def _v2_string_to_sign(req: SignedRequest, date: str, resource: str, from_query: bool) -> str:
    values = {**{k.lower(): v for k, v in req.query if from_query}, **req.headers}
    standard = [values.get("content-md5", "").strip(), values.get("content-type", "").strip(), date]
    return "\n".join([req.method.upper(), *standard, _v2_amz_headers(req, from_query) + resource])


def _v2_check(req: SignedRequest, access_key: str, signature: str, dates: list[str],
              lookup_secret: Callable[[str], str | None], from_query: bool) -> None:
    secret = utf8(_secret(lookup_secret, access_key))
    candidates = [_v2_string_to_sign(req, date, resource, from_query)
                  for date in dates for resource in _v2_resources(req)]
    for sts in candidates:
        expected = base64.b64encode(hmac.new(secret, utf8(sts), hashlib.sha1).digest()).decode()
        if same_signature(expected, signature):
            return
    raise CosError("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you "
                                            f"provided. StringToSign: {_redacted(candidates[0], None)!r}")


def _v2_header_time(headers: dict[str, str]) -> float:
    value = (headers.get("x-amz-date") or headers.get("date", "")).strip()
    if _AMZ_DATE.fullmatch(value):
        return _epoch(value)
    try:
        return mktime_tz(parsedate_tz(value))
    except (TypeError, ValueError, OverflowError, IndexError):
        raise CosError("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header") from None


def verify_v2_header(req: SignedRequest, authorization: str, lookup_secret: Callable[[str], str | None],
                     now: float) -> Identity:
    access_key, sep, signature = authorization[len("AWS "):].strip().rpartition(":")
    if not sep or not access_key:
        raise CosError("InvalidArgument", "AWS signature version 2 Authorization must be 'AWS <key>:<signature>'")
    if abs(now - _v2_header_time(req.headers)) > MAX_SKEW:
        raise CosError("RequestTimeTooSkewed")
    dates = list(dict.fromkeys([req.headers.get("date", "").strip(), ""]))
    _v2_check(req, access_key, signature.strip(), dates, lookup_secret, from_query=False)
    return Identity(anonymous=False, access_key=access_key, scheme="sigv2",
                    security_token=req.headers.get("x-amz-security-token"), **_v2_signed(req, from_query=False))


def verify_v2_presigned(req: SignedRequest, lookup_secret: Callable[[str], str | None], now: float) -> Identity:
    query = dict(req.query)
    expires = query.get("Expires", "").strip()
    if not re.fullmatch(r"[0-9]{1,12}", expires):
        raise CosError("AccessDenied", "Query-string authentication requires the Expires parameter (epoch seconds)")
    if now > int(expires):
        raise CosError("AccessDenied", "Request has expired")
    _v2_check(req, query["AWSAccessKeyId"], query["Signature"], [expires], lookup_secret, from_query=True)
    return Identity(anonymous=False, access_key=query["AWSAccessKeyId"], scheme="sigv2-presigned",
                    security_token=query.get("x-amz-security-token"), **_v2_signed(req, from_query=True))
