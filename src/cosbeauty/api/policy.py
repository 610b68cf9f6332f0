"""Authorization: who may run which action on which resource.

The root account may do everything. Anonymous requests are allowed only where a bucket or
object ACL grants it (public-read: reads; public-read-write: reads and writes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cosbeauty.api.errors import CosError
from cosbeauty.storage import StorageError

if TYPE_CHECKING:
    from cosbeauty.api.app import CosApp
    from cosbeauty.api.context import Ctx

READ_ACTIONS = {"cos:GetObject", "cos:HeadObject", "cos:GetBucket", "cos:HeadBucket"}
WRITE_ACTIONS = {"cos:PutObject", "cos:DeleteObject", "cos:InitiateMultipartUpload", "cos:UploadPart",
                 "cos:CompleteMultipartUpload", "cos:AbortMultipartUpload", "cos:ListParts",
                 "cos:DeleteMultipleObjects"}


class Authorizer:
    def __init__(self, app: "CosApp") -> None:
        self.app = app

    async def check(self, ctx: "Ctx", actions: tuple[str, ...] | list[str], *, bucket: str | None = None,
                    key: str | None = None) -> None:
        """Raise AccessDenied unless the caller may perform every action on bucket/key."""
        bucket = ctx.bucket if bucket is None else bucket
        key = ctx.key if key is None else key
        identity = ctx.identity
        if identity is not None and not identity.anonymous:
            principal = self.app.accounts.principal(identity.access_key)
            if principal is not None and principal.is_root:
                ctx.principal = principal
                return
            raise CosError("AccessDenied", "Access Denied.", resource=ctx.resource())
        if all(self._acl_allows(action, bucket, key) for action in actions):
            return
        raise CosError("AccessDenied", "Access Denied: anonymous access is not allowed here.",
                       resource=ctx.resource())

    def _acl_allows(self, action: str, bucket: str, key: str) -> bool:
        if not bucket:
            return False
        try:
            acl = self.app.backend.get_bucket(bucket).acl
            if key and action in READ_ACTIONS | WRITE_ACTIONS:
                try:
                    obj_acl = self.app.backend.get_object(bucket, key, with_inline=False).acl
                    if obj_acl != "default":
                        acl = obj_acl
                except StorageError:
                    pass
        except StorageError:
            return False
        if action in READ_ACTIONS:
            return acl in ("public-read", "public-read-write")
        if action in WRITE_ACTIONS:
            return acl == "public-read-write"
        return False
