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
    # COS v5 signs the object path ("/key", decoded) for virtual-host requests; for path-style
    # requests the app passes both "/key" and "/bucket/key" candidates here. Empty: use ``path``.


@dataclass
class Identity:
    anonymous: bool
    access_key: str = ""
    scheme: str = ""                    # "cos", "cos-presigned", "sigv4", "sigv4-presigned", ""
    security_token: str | None = None   # x-cos-security-token / X-Amz-Security-Token, if any
    payload_sha256: str | None = None   # hex digest the client claims for the body (SigV4), to verify
    chunked: object | None = None       # aws-chunked decoding context when the body is aws-chunked
