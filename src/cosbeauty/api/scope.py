"""What a request may carry, and what its signature must cover (docs/signing.md).

The app runs three checks on every COS API request before any handler sees it:

1. :func:`check_unique` -- one value per query parameter: a name given twice (compared
   case-insensitively, as COS v5 signs names lower-cased) is 400 InvalidArgument, so the
   signature check and a handler can never read different values.
2. :func:`check_known` -- every query parameter is one the endpoint reads (``Endpoint.params``),
   the endpoint's own sub-resource, or a signature parameter; anything else is answered, never
   ignored: 501 NotImplemented for a COS/S3 feature this server does not implement
   (``?style``, ``?imageMogr2/...``), 400 InvalidArgument otherwise.
3. :func:`check_signed` -- every header and query parameter that changes what a request does is
   covered by its signature, else 403 AccessDenied naming what is not.
"""

from __future__ import annotations

from typing import Iterable

from cosbeauty.api.auth import Identity
from cosbeauty.api.errors import CosError

# the signature itself (verified by the authenticator, never read by handlers)
AUTH_PARAMS = frozenset({
    # COS v5 pre-signed URLs (fields, or the whole Authorization string in ``sign``) and tokens
    "q-sign-algorithm", "q-ak", "q-sign-time", "q-key-time", "q-header-list", "q-url-param-list",
    "q-signature", "sign", "x-cos-security-token", "x-ci-security-token",
    # SigV4 pre-signed URLs
    "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
    "X-Amz-Signature", "X-Amz-Security-Token",
    # SigV2 pre-signed URLs
    "AWSAccessKeyId", "Signature", "Expires", "x-amz-security-token",
    # the operation name newer botocore versions add to some URLs (signed by SigV4 like all the query)
    "x-id",
})

# GET/HEAD object response header overrides: COS lets them stay out of the signature
RESPONSE_OVERRIDES = {
    "response-content-type": "content-type", "response-content-language": "content-language",
    "response-expires": "expires", "response-cache-control": "cache-control",
    "response-content-disposition": "content-disposition", "response-content-encoding": "content-encoding",
}

# listing parameters: which page of a listing the caller may read anyway, never what is done. They
# may stay unsigned: SigV2 cannot sign them (they are not in its sub-resource list, S3 accepts them
# unsigned) and cos-python-sdk-v5 sends GET Service's marker/max-keys outside q-url-param-list.
LIST_PARAMS = ("prefix", "delimiter", "marker", "max-keys", "encoding-type", "list-type", "continuation-token",
               "start-after", "fetch-owner")
LISTING_PARAMS = frozenset({*LIST_PARAMS, "key-marker", "upload-id-marker", "version-id-marker", "max-uploads",
                            "max-parts", "part-number-marker",
                            # GET Service filters: cos-python-sdk-v5 list_buckets() sends them unsigned too
                            "region", "tagkey", "tagvalue", "create-time", "range"})

# parameters of the processing itself (ci-process=AIFaceBeauty, and Pic-Operations rules)
PROCESSING_PARAMS = ("strength",)

# request headers a signature need not cover: the signature's own
SIGNATURE_HEADERS = frozenset({"x-amz-content-sha256", "x-amz-date", "x-amz-security-token",
                               "x-cos-security-token", "x-ci-security-token"})
SIGNED_HEADER_PREFIXES = ("x-cos-", "x-amz-", "x-ci-")
SIGNED_HEADER_NAMES = frozenset({"pic-operations", "content-md5"})

# COS / S3 sub-resources and processing parameters this server does not implement (anywhere it is
# not declared by an endpoint): 501, by name. partNumber is implemented for upload part only.
UNIMPLEMENTED = frozenset({
    "abac", "accelerate", "analytics", "annotation", "append", "attributes", "CIStatus", "domain",
    "encryption", "intelligent-tiering", "intelligenttiering", "inventory", "legal-hold", "lifecycle",
    "logging", "metadataConfiguration", "metadataTable", "metrics", "notification", "object-lock", "origin",
    "ownershipControls", "pic", "policyStatus", "publicAccessBlock", "referer", "renameObject",
    "replication", "requestPayment", "restore", "retention", "select", "select-type", "session", "style",
    "torrent", "website", "position", "partNumber",
    # Cloud Infinite image processing (?imageMogr2/..., ?imageInfo ...), other than ci-process
    "imageMogr2", "imageView2", "imageInfo", "imageAve", "exif", "imageSlim", "watermark", "picinfo",
})


def _feature(name: str) -> str:
    """``imageMogr2/thumbnail/!50p|watermark/1`` -> ``imageMogr2``."""
    return name.split("/", 1)[0].split("|", 1)[0]


def _shown(name: str) -> str:
    return name if len(name) <= 64 else name[:64] + "..."


def check_unique(names: Iterable[str]) -> None:
    seen: set[str] = set()
    for name in names:
        folded = name.lower()
        if folded in seen:
            raise CosError("InvalidArgument", f"The query parameter '{_shown(name)}' is given more than once; "
                                              "every parameter may appear only once.")
        seen.add(folded)


def check_known(method: str, level: str, sub: str | None, accepted: Iterable[str], query: Iterable[str],
                known: frozenset[str]) -> None:
    """``accepted``: what the matched endpoint reads; ``known``: what any endpoint reads."""
    allowed = AUTH_PARAMS.union(accepted, (sub,) if sub else ())
    for name in query:
        if name in allowed:
            continue
        where = f"{method} {level}" + (f" ?{sub}" if sub else "")
        feature = _feature(name)
        if feature in UNIMPLEMENTED:
            raise CosError("NotImplemented", f"The '{_shown(feature)}' query parameter ('{_shown(name)}') is not "
                                             f"implemented by this server on {where}.")
        if name in known:
            raise CosError("InvalidArgument", f"The query parameter '{_shown(name)}' is not supported on {where}.")
        raise CosError("InvalidArgument", f"Unknown query parameter '{_shown(name)}' on {where}.")


def check_only(names: Iterable[str], accepted: Iterable[str], where: str) -> None:
    """For the mounted APIs (admin, usage, console): a query parameter the route does not read is
    400 InvalidArgument, never ignored (``?usr=alice`` must not list every user's keys)."""
    allowed = AUTH_PARAMS.union(accepted)
    for name in names:
        if name not in allowed:
            raise CosError("InvalidArgument", f"Unknown query parameter '{_shown(name)}' on {where}.")


def _must_sign(header: str) -> bool:
    return header in SIGNED_HEADER_NAMES or (header.startswith(SIGNED_HEADER_PREFIXES)
                                             and header not in SIGNATURE_HEADERS)


def unsigned_items(identity: Identity, headers: Iterable[str], query: Iterable[str]) -> list[str]:
    """Headers (lower-case names) and query parameters the request carries that change what it does
    but that its signature does not cover. Anonymous requests are not signed at all: nothing."""
    if identity.anonymous:
        return []
    signed = identity.signed_headers
    missing = [f"header {h}" for h in sorted(h for h in headers if h not in signed and _must_sign(h))]
    if identity.signed_params is not None:
        for name in query:
            if name in AUTH_PARAMS or name in RESPONSE_OVERRIDES or name in LISTING_PARAMS:
                continue
            if name.lower() not in identity.signed_params:
                missing.append(f"query parameter {_shown(name)}")
    return missing


def check_signed(identity: Identity, headers: Iterable[str], query: Iterable[str]) -> None:
    missing = unsigned_items(identity, headers, query)
    if not missing:
        return
    how = {"cos": "q-header-list / q-url-param-list", "cos-presigned": "q-header-list / q-url-param-list",
           "sigv4": "SignedHeaders", "sigv4-presigned": "X-Amz-SignedHeaders",
           "sigv2": "the string to sign", "sigv2-presigned": "the string to sign"}.get(identity.scheme, "the signature")
    hint = ("; signature version 2 cannot sign x-cos-* headers or processing parameters: use COS v5 or SigV4"
            if identity.scheme.startswith("sigv2") else "")
    raise CosError("AccessDenied", f"The request carries {', '.join(missing)} not covered by its signature "
                                   f"({how}); sign them or leave them out{hint}.")
