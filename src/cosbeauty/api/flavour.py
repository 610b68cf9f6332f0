"""COS or S3: where the two services answer differently, each client gets its own service's answer.

Small helpers shared by the handlers that shape answers (ACLs, listings, versions, multipart,
buckets), kept apart from them so those modules need not import each other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cosbeauty.api.context import Ctx


def is_s3_client(ctx: "Ctx") -> bool:
    """An S3 client (SigV4/V2 signature, a pre-signed S3 URL or any x-amz-* header) rather than a
    COS one."""
    identity = ctx.identity
    if identity is not None and identity.scheme.startswith("sigv"):
        return True
    return any(k.startswith("x-amz-") for k in ctx.headers) or "X-Amz-Algorithm" in ctx.query


def owner_xml(ctx: "Ctx") -> dict:
    """The <Owner> element of the account that owns this server's buckets."""
    appid = ctx.app.config.appid
    uin = f"qcs::cam::uin/{appid}:uin/{appid}"
    return {"ID": uin, "DisplayName": appid}
