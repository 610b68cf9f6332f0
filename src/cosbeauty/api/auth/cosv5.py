"""Tencent COS signature v5 verification (``Authorization: q-sign-algorithm=sha1&...`` and pre-signed URLs).

Mirrors ``qcloud_cos.cos_auth.CosS3Auth``::

    HttpString   = f"{method.lower()}\\n{path}\\n{params}\\n{headers}\\n"
    StringToSign = f"sha1\\n{q-sign-time}\\n{sha1_hex(HttpString)}\\n"
    SignKey      = hmac_sha1_hex(secret, q-key-time)
    Signature    = hmac_sha1_hex(SignKey, StringToSign)

``params`` / ``headers`` are the request parameters / headers named in ``q-url-param-list`` /
``q-header-list``: names lower-cased, names and values ``quote(..., safe='-_.~')``, sorted,
``k=v`` joined by ``&``. ``path`` is the decoded object path (``/key``).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Callable, Iterable, NamedTuple
from urllib.parse import quote, unquote

from cosbeauty.api.auth.types import Identity, SignedRequest
from cosbeauty.api.errors import CosError

MAX_START_SKEW = 900      # seconds a signature's start time may lie in the future
EXPIRY_GRACE = 60         # seconds a signature is still accepted after its end time
HINT_LIMIT = 400          # characters of HttpString echoed in SignatureDoesNotMatch

MAX_NAMES = 256           # names in q-header-list / q-url-param-list
MAX_LIST_CHARS = 8192     # characters of either list

_REQUIRED = ("q-sign-algorithm", "q-ak", "q-sign-time", "q-key-time", "q-signature")
TOKEN_NAMES = ("x-cos-security-token", "x-ci-security-token")


class CosAuth(NamedTuple):      # immutable, and cheaper to build than a frozen dataclass
    access_key: str
    sign_time: str
    key_time: str
    header_list: tuple[str, ...]
    param_list: tuple[str, ...]
    signature: str


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _encode(text: str) -> str:
    return quote(_utf8(text), safe="-_.~")


def _canonical(name: str) -> str:
    """A listed name as the request carries it: percent-decoded, lower-case."""
    return (unquote(name) if "%" in name else name).lower()


def _names(field: str, value: str) -> tuple[str, ...]:
    """The names of a ``q-header-list`` / ``q-url-param-list``: at most MAX_NAMES, each once."""
    if not value:
        return ()
    if len(value) > MAX_LIST_CHARS:
        raise CosError("AccessDenied", f"COS signature is malformed: {field} is longer than {MAX_LIST_CHARS} characters")
    if ";" not in value:        # one name (q-header-list is often just "host"): nothing to compare
        return (value,)
    names = tuple(name for name in value.split(";") if name)
    if len(names) > MAX_NAMES:
        raise CosError("AccessDenied", f"COS signature is malformed: {field} names more than {MAX_NAMES} items")
    seen: set[str] = set()
    for name in names:
        canonical = _canonical(name)
        if canonical in seen:
            raise CosError("AccessDenied", f"COS signature is malformed: {field} names '{canonical}' more than once")
        seen.add(canonical)
    return names


def parse_fields(fields: dict[str, str]) -> CosAuth:
    """Build a :class:`CosAuth` from the ``q-*`` fields (header string or query)."""
    missing = [name for name in _REQUIRED if not fields.get(name)]
    if missing:
        raise CosError("AccessDenied", f"COS signature is malformed: missing {', '.join(missing)}")
    if fields["q-sign-algorithm"].lower() != "sha1":
        raise CosError("AccessDenied", "COS signature is malformed: q-sign-algorithm must be sha1")
    return CosAuth(
        access_key=fields["q-ak"],
        sign_time=fields["q-sign-time"],
        key_time=fields["q-key-time"],
        header_list=_names("q-header-list", fields.get("q-header-list", "")),
        param_list=_names("q-url-param-list", fields.get("q-url-param-list", "")),
        signature=fields["q-signature"].lower(),
    )


def parse_auth_string(auth: str) -> CosAuth:
    """Parse ``q-sign-algorithm=sha1&q-ak=...&q-signature=...`` (the Authorization header form)."""
    fields: dict[str, str] = {}
    for item in auth.split("&"):
        name, _, value = item.partition("=")
        fields[name.strip()] = value.strip()
    return parse_fields(fields)


def parse_query(query: Iterable[tuple[str, str]]) -> CosAuth:
    """Parse the ``q-*`` parameters of a pre-signed URL (values already percent-decoded)."""
    return parse_fields({k: v for k, v in query if k.startswith("q-")})


def _parse_window(name: str, value: str) -> tuple[int, int]:
    start, sep, end = value.partition(";")
    try:
        window = int(start), int(end)
    except ValueError:
        window = None
    if not sep or window is None or window[0] > window[1]:
        raise CosError("AccessDenied", f"COS signature is malformed: {name} must be '<start>;<end>' epoch seconds")
    return window


def check_time(auth: CosAuth, now: float) -> None:
    """Reject expired (AccessDenied, as COS does) and not-yet-valid (RequestTimeTooSkewed) signatures."""
    windows = (("q-sign-time", auth.sign_time), ("q-key-time", auth.key_time))
    if auth.key_time == auth.sign_time:     # as SDKs sign: one window, checked once (same outcome)
        windows = windows[:1]
    for name, value in windows:
        start, end = _parse_window(name, value)
        if now > end + EXPIRY_GRACE:
            raise CosError("AccessDenied", "Request has expired")
        if start > now + MAX_START_SKEW:
            raise CosError("RequestTimeTooSkewed", f"{name} starts in the future beyond the allowed clock skew")


def _signed_params(query: list[tuple[str, str]], names: tuple[str, ...]) -> str:
    if not names:       # nothing signed (most header-signed requests): nothing to encode
        return ""
    encoded = {_encode(k).lower(): _encode(v) for k, v in query}
    pairs = []
    for name in names:
        if name not in encoded:
            raise CosError("SignatureDoesNotMatch",
                           f"q-url-param-list names '{name}' but the request has no such parameter")
        pairs.append((name, encoded[name]))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _host_without_port(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _header_values(headers: dict[str, str], name: str) -> list[str]:
    """Candidate values of one signed header; the SDK signs ``host`` without the port when it takes it from the URL."""
    value = headers.get(_canonical(name))
    if value is None:
        raise CosError("SignatureDoesNotMatch", f"q-header-list names '{name}' but the request has no such header")
    if name != "host":
        return [value]
    return list(dict.fromkeys([value, _host_without_port(value)]))


def _signed_header_strings(headers: dict[str, str], names: tuple[str, ...]) -> list[str]:
    """The header part of HttpString: one string, or two when ``host`` carries a port (signed with
    or without it). Names are unique (see :func:`_names`), so this is linear in the list."""
    fixed: list[tuple[str, str]] = []
    host: list[tuple[str, str]] = []
    for name in names:
        values = _header_values(headers, name)
        if len(values) == 1:
            fixed.append((name, _encode(values[0])))
        else:
            host = [(name, _encode(value)) for value in values]
    variants = [[pair] for pair in host] or [[]]
    return ["&".join(f"{k}={v}" for k, v in sorted([*fixed, *extra])) for extra in variants]


def _candidate_paths(req: SignedRequest) -> list[str]:
    return list(dict.fromkeys([*req.cos_paths, req.path or "/"]))


def http_string(method: str, path: str, params: str, headers: str) -> str:
    return f"{method.lower()}\n{path}\n{params}\n{headers}\n"


def string_to_sign(sign_time: str, http: str) -> str:
    digest = hashlib.sha1(_utf8(http)).hexdigest()
    return f"sha1\n{sign_time}\n{digest}\n"


_SIGN_KEYS: dict[tuple[str, str], "hmac.HMAC"] = {}     # (secret, q-key-time) -> HMAC keyed with SignKey
_SIGN_KEYS_MAX = 256


def _sign_key(secret: str, key_time: str) -> "hmac.HMAC":
    """An HMAC-SHA1 keyed with ``SignKey = hmac_sha1_hex(secret, q-key-time)`` and fed nothing yet
    (sign with a ``copy()``: that skips the key setup and the digest lookup of a new HMAC),
    remembered: an SDK signs every request of a second (or of a whole key window) with the same key
    time. Keyed by the secret itself, so a changed secret never meets an old entry; bounded
    (cleared when full)."""
    cache_key = (secret, key_time)
    mac = _SIGN_KEYS.get(cache_key)
    if mac is None:
        key = hmac.digest(_utf8(secret), _utf8(key_time), "sha1").hex().encode()
        mac = hmac.new(key, digestmod="sha1")
        if len(_SIGN_KEYS) >= _SIGN_KEYS_MAX:
            _SIGN_KEYS.clear()
        _SIGN_KEYS[cache_key] = mac
    return mac


def sign(secret: str, key_time: str, sign_time: str, http: str) -> str:
    mac = _sign_key(secret, key_time).copy()
    mac.update(_utf8(string_to_sign(sign_time, http)))
    return mac.hexdigest()


def _mismatch(auth: CosAuth, http: str, token: str | None) -> CosError:
    shown = http.replace(_encode(token), "<redacted>") if token else http
    shown = shown if len(shown) <= HINT_LIMIT else shown[:HINT_LIMIT] + "..."
    sts = string_to_sign(auth.sign_time, http)
    return CosError(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        f"Check your key and signing method. HttpString: {shown!r}; StringToSign: {sts!r}",
    )


def verify(req: SignedRequest, auth: CosAuth, lookup_secret: Callable[[str], str | None], now: float,
           scheme: str, token: str | None) -> Identity:
    """Check time window, access key and signature of a parsed COS v5 signature."""
    check_time(auth, now)
    secret = lookup_secret(auth.access_key)
    if secret is None:
        raise CosError("InvalidAccessKeyId")
    if req.bucket and not req.virtual_host and "host" not in {_canonical(n) for n in auth.header_list}:
        # without Host, a signature over "/A/x" for key "A/x" of bucket B (virtual-host) would also be
        # a path-style signature for key "x" of bucket A
        raise CosError("AccessDenied", "A path-style COS v5 request must sign the Host header "
                                       "(q-header-list must name host).")
    params = _signed_params(req.query, auth.param_list)
    candidates = [
        http_string(req.method, path, params, headers)
        for path in _candidate_paths(req)
        for headers in _signed_header_strings(req.headers, auth.header_list)
    ]
    for http in candidates:
        expected = sign(secret, auth.key_time, auth.sign_time, http)
        if hmac.compare_digest(expected.encode(), _utf8(auth.signature)):
            return Identity(anonymous=False, access_key=auth.access_key, scheme=scheme, security_token=token,
                            signed_headers=frozenset(map(_canonical, auth.header_list)),
                            signed_params=frozenset(map(_canonical, auth.param_list)))
    raise _mismatch(auth, candidates[0], token)


def _token(req: SignedRequest) -> str | None:
    for name in TOKEN_NAMES:
        if name in req.headers:
            return req.headers[name]
    if not req.query:
        return None
    query = dict(req.query)
    return next((query[name] for name in TOKEN_NAMES if name in query), None)


def verify_header(req: SignedRequest, authorization: str, lookup_secret: Callable[[str], str | None],
                  now: float) -> Identity:
    return verify(req, parse_auth_string(authorization), lookup_secret, now, "cos", _token(req))


def verify_presigned(req: SignedRequest, auth: CosAuth, lookup_secret: Callable[[str], str | None],
                     now: float) -> Identity:
    return verify(req, auth, lookup_secret, now, "cos-presigned", _token(req))
