"""Pick the signature scheme a request uses and verify it."""

from __future__ import annotations

import time
from typing import Callable

from cosbeauty.api.auth import cosv5, sigv4
from cosbeauty.api.auth.types import Identity, SignedRequest
from cosbeauty.api.errors import CosError

MAX_AUTHORIZATION = 16 * 1024   # bytes of an Authorization header (a signature is well under 4 KiB)
COS_PREFIX = "q-sign-algorithm="
SIGV4_PREFIX = sigv4.ALGORITHM + " "


def _verify_authorization(req: SignedRequest, authorization: str, lookup_secret: Callable[[str], str | None],
                          now: float) -> Identity:
    if authorization.startswith(COS_PREFIX):
        return cosv5.verify_header(req, authorization, lookup_secret, now)
    if authorization.startswith(SIGV4_PREFIX):
        return sigv4.verify_header(req, authorization, lookup_secret, now)
    if authorization.startswith("AWS "):
        return sigv4.verify_v2_header(req, authorization, lookup_secret, now)
    raise CosError("InvalidArgument", "Unsupported Authorization Type")


def _query_scheme(names: set[str], sign: str | None) -> str:
    has_cos = "q-sign-algorithm" in names or (sign or "").startswith(COS_PREFIX)
    has_sigv4 = "X-Amz-Algorithm" in names
    has_sigv2 = "AWSAccessKeyId" in names and "Signature" in names
    if has_cos + has_sigv4 + has_sigv2 > 1:
        raise CosError("InvalidArgument", "Only one auth mechanism allowed")
    return "cos" if has_cos else "sigv4" if has_sigv4 else "sigv2" if has_sigv2 else ""


def _verify_query(req: SignedRequest, lookup_secret: Callable[[str], str | None], now: float) -> Identity:
    names = {name for name, _ in req.query}
    sign = next((value for name, value in req.query if name == "sign"), None)
    scheme = _query_scheme(names, sign)
    if scheme == "cos":
        auth = cosv5.parse_query(req.query) if "q-sign-algorithm" in names else cosv5.parse_auth_string(sign or "")
        return cosv5.verify_presigned(req, auth, lookup_secret, now)
    if scheme == "sigv4":
        algorithm = dict(req.query)["X-Amz-Algorithm"]
        if algorithm != sigv4.ALGORITHM:
            raise CosError("InvalidArgument", f"X-Amz-Algorithm only supports {sigv4.ALGORITHM}")
        return sigv4.verify_presigned(req, lookup_secret, now)
    if scheme == "sigv2":
        return sigv4.verify_v2_presigned(req, lookup_secret, now)
    return Identity(anonymous=True)


def authenticate(req: SignedRequest, lookup_secret: Callable[[str], str | None], now: float | None = None) -> Identity:
    """Verify the request's signature (COS v5 or SigV4, header or pre-signed) and return who signed it.

    A request without any signature yields ``Identity(anonymous=True)``. Failures raise
    :class:`CosError`.
    """
    now = time.time() if now is None else now
    authorization = req.headers.get("authorization", "").strip()
    if len(authorization) > MAX_AUTHORIZATION:
        raise CosError("InvalidArgument", f"The Authorization header is longer than {MAX_AUTHORIZATION} bytes.")
    if authorization:
        return _verify_authorization(req, authorization, lookup_secret, now)
    return _verify_query(req, lookup_secret, now)
