from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SignedRequest:
    method: str                         # "GET", "PUT", ...
    raw_path: str                       # the path exactly as on the wire (percent-encoded), no query
    path: str                           # percent-decoded path
    query: list[tuple[str, str]]        # decoded query pairs, in order, blank values kept ("acl" -> ("acl", ""))
    headers: dict[str, str]             # lower-case names; repeated headers joined with ","
    cos_paths: list[str] = field(default_factory=list)
    # COS v5 signs the decoded path: "/key" for virtual-host requests, "/bucket/key" for path-style
    # ones (the app passes the candidates here; never "/key" for a path-style request, so a
    # signature over /A/x cannot authorize /B/A/x). Empty: use ``path``.
    bucket: str = ""                    # the bucket the request addresses ("" if none or unknown)
    virtual_host: bool = False          # bucket named by the Host header (SigV2 then signs "/bucket" + path)


@dataclass
class Identity:
    anonymous: bool
    access_key: str = ""
    scheme: str = ""                    # "cos", "cos-presigned", "sigv4", "sigv4-presigned", ""
    security_token: str | None = None   # x-cos-security-token / X-Amz-Security-Token, if any
    payload_sha256: str | None = None   # hex digest the client claims for the body (SigV4), to verify
    chunked: object | None = None       # aws-chunked decoding context when the body is aws-chunked
    # What the signature covers (docs/signing.md): lower-case header names, and lower-case query
    # parameter names (None: every query parameter, as SigV4 signs the whole query string). Not part
    # of an identity's equality: it describes the request, not who signed it.
    signed_headers: frozenset[str] = field(default=frozenset(), compare=False)
    signed_params: frozenset[str] | None = field(default=frozenset(), compare=False)
