"""Authorization: may the caller run these actions on this bucket/key?

* The root account may do everything.
* A sub-account may do what its attached policies allow and none denies (explicit deny wins).
  Temporary credentials need both the sub-account's policies and the token's inline policy
  (when minted with one) to allow, and a valid, unexpired session token.
* Anyone, signed or not, may additionally do what the bucket's policy (``?policy``, COS or S3
  JSON, principals including anonymous) allows them, or what a bucket/object ACL grants them
  (public-read, public-read-write, authenticated-read, bucket grants to a sub-account) -- unless a
  user policy, the token's policy or the bucket policy explicitly denies it (explicit deny wins).

A call needing several actions (a CI call: ``cos:GetObject`` + ``ci:CreateAIFaceBeautifyJob``)
needs every one of them. Each denial is logged to ``cosbeauty.audit`` (never a secret or token).
"""

from __future__ import annotations

import hmac
import logging
import time
from contextlib import nullcontext
from typing import TYPE_CHECKING

from cosbeauty.api.acl import acl_allows
from cosbeauty.api.context import run
from cosbeauty.api.errors import CosError
from cosbeauty.iam.crypto import token_digest
from cosbeauty.iam.bucket_policy import compile_policy, principal_ids
from cosbeauty.iam.policy import ALLOW, DENY, PolicyError, Request, TagContext, evaluate, resource_names
from cosbeauty.storage import StorageError

if TYPE_CHECKING:
    from cosbeauty.accounts import Principal
    from cosbeauty.api.apptypes import App
    from cosbeauty.api.context import Ctx

audit = logging.getLogger("cosbeauty.audit")


class _Reads:
    """The bucket and object rows one authorization reads, each read once (a PostgreSQL round trip
    in cluster mode): the bucket policy, tag conditions, the ACL and the existence check share them.
    A failed read is remembered too (the same StorageError again)."""

    def __init__(self, backend) -> None:
        self._backend = backend
        self._memo: dict[tuple, object] = {}

    def _once(self, key: tuple, read):
        if key not in self._memo:
            try:
                self._memo[key] = read()
            except StorageError as exc:
                self._memo[key] = exc
        value = self._memo[key]
        if isinstance(value, StorageError):
            raise value
        return value

    def get_bucket(self, bucket: str):
        return self._once(("b", bucket), lambda: self._backend.get_bucket(bucket))

    def get_object(self, bucket: str, key: str, *, with_inline: bool = False):
        return self._once(("o", bucket, key), lambda: self._backend.get_object(bucket, key, with_inline=False))


class Authorizer:
    def __init__(self, app: "App") -> None:
        self.app = app

    async def check(self, ctx: "Ctx", actions: tuple[str, ...] | list[str], *, bucket: str | None = None,
                    key: str | None = None) -> None:
        """Raise AccessDenied unless the caller may perform every action on bucket/key (default:
        the request's target); InvalidToken/ExpiredToken for bad temporary credentials.

        The root account is let through on the event loop (no storage read). Everyone else's
        decision reads the key, the user's policies, the bucket (policy, ACL, tags) and maybe the
        object -- each a PostgreSQL round trip in cluster mode -- so it runs in one worker-thread
        hop (:meth:`check_sync`), never on the loop."""
        if self._is_root(ctx):
            return
        await run(lambda: self.check_sync(ctx, actions, bucket=bucket, key=key))

    def _is_root(self, ctx: "Ctx") -> bool:
        """Signed with the root account's key (checked without a storage read)."""
        identity = ctx.identity
        if identity is None or identity.anonymous:
            return False
        if identity.access_key != self.app.accounts.root_access_key:
            return False
        principal = self.principal(ctx)     # the root's: no store read (a session token is refused here)
        return principal is not None and principal.is_root

    def check_sync(self, ctx: "Ctx", actions: tuple[str, ...] | list[str], *, bucket: str | None = None,
                   key: str | None = None) -> None:
        """:meth:`check` for a worker thread (blocking storage reads; the IAM store reads its
        generation row once for the key, principal and policy lookups)."""
        store = getattr(self.app.accounts, "store", None)
        with store.one_read() if store is not None else nullcontext():
            self._check_sync(ctx, actions, bucket, key)

    def _check_sync(self, ctx: "Ctx", actions: tuple[str, ...] | list[str], bucket: str | None,
                    key: str | None) -> None:
        bucket = ctx.bucket if bucket is None else bucket
        key = ctx.key if key is None else key
        principal = self.principal(ctx)
        if principal is not None and principal.is_root:
            return
        reads = _Reads(self.app.backend)
        for action in actions:
            if not self._allowed(ctx, principal, action, bucket, key, reads):
                self._existence(ctx, action, bucket, reads)
                resource = resource_names(self.app.config.region, self.app.config.appid, bucket, key)[0]
                self._audit(ctx, principal, action, resource, "AccessDenied")
                raise CosError("AccessDenied", f"Access Denied: {action} on {resource} is not allowed "
                                               f"for {principal.uin if principal else 'anonymous'}.",
                               resource=ctx.resource())

    def _existence(self, ctx: "Ctx", action: str, bucket: str, reads: _Reads) -> None:
        """Bucket names are public (one namespace, as on COS and S3), so a denied caller learns
        what anyone learns from PUT Bucket: 404 NoSuchBucket for a bucket that does not exist and
        409 BucketAlreadyExists when creating a name that is taken -- before AccessDenied. Only
        for the request's own bucket (not a copy source, nor the console's dry-run checks, which
        read AccessDenied as "not allowed")."""
        if not bucket or bucket != ctx.bucket:
            return
        try:
            reads.get_bucket(bucket)
            exists = True
        except StorageError as exc:
            if exc.code != "NoSuchBucket":
                return
            exists = False
        if action == "cos:PutBucket":
            if exists:
                raise CosError("BucketAlreadyExists", "The requested bucket name is not available.",
                               resource=ctx.resource())
        elif not exists:
            raise CosError("NoSuchBucket", "The specified bucket does not exist.", resource=ctx.resource())

    def principal(self, ctx: "Ctx") -> "Principal | None":
        """Who signed the request (None: anonymous), after checking any session token."""
        identity = ctx.identity
        if identity is None or identity.anonymous:
            return None
        if ctx.principal is not None and ctx.principal.access_key == identity.access_key:
            return ctx.principal
        accounts = self.app.accounts
        cred = accounts.credential(identity.access_key)
        token = identity.security_token
        if cred is not None and cred.temporary:
            if not token or not hmac.compare_digest(token_digest(token), cred.token_sha256 or ""):
                self._token_error(ctx, "InvalidToken", "The security token does not belong to this SecretId.")
            if cred.expires is not None and cred.expires <= time.time():
                self._token_error(ctx, "ExpiredToken", "The temporary credentials have expired.")
        elif token:
            self._token_error(ctx, "InvalidToken", "A security token was sent with a permanent key.")
        principal = accounts.principal(identity.access_key)
        if principal is None:       # disabled or deleted since the signature was checked
            self._token_error(ctx, "AccessDenied", "This key is not active.")
        ctx.principal = principal
        return principal

    def _allowed(self, ctx: "Ctx", principal: "Principal | None", action: str, bucket: str, key: str,
                 reads: _Reads) -> bool:
        cfg = self.app.config
        req = Request(action, resource_names(cfg.region, cfg.appid, bucket, key),
                      ctx.client_ip, ctx.scope.get("scheme") == "https", self._tags(ctx, bucket, key, reads),
                      ctx.header("referer"))
        bucket_decision = self._bucket_policy(bucket, req, principal, reads)
        if bucket_decision == DENY:
            return False
        if principal is not None:
            decisions = [evaluate(self.app.accounts.policies(principal), req)]
            if principal.session_policy is not None:
                decisions.append(evaluate([principal.session_policy], req))
            if DENY in decisions:
                return False
            if all(d == ALLOW for d in decisions):
                return True
        if bucket_decision == ALLOW:
            return True
        return acl_allows(reads, action, bucket, key, principal)       # type: ignore[arg-type]

    def _tags(self, ctx: "Ctx", bucket: str, key: str, reads: _Reads) -> TagContext:
        """Lazy tag lookups for tag conditions (qcs:resource_tag, Existing/RequestObjectTag)."""
        from cosbeauty.api.tagging import tags_from_header
        backend = reads
        return TagContext(lambda: backend.get_bucket(bucket).attrs.get("tags") if bucket else {},
                          lambda: backend.get_object(bucket, key, with_inline=False).tags if bucket and key else {},
                          lambda: tags_from_header(ctx))

    def _bucket_policy(self, bucket: str, req: Request, principal: "Principal | None", reads: _Reads) -> str | None:
        """The bucket policy's decision for this caller (None: no policy or no opinion)."""
        if not bucket:
            return None
        try:
            text = reads.get_bucket(bucket).attrs.get("policy")
        except StorageError:
            return None
        if not text:
            return None
        cfg = self.app.config
        try:
            policy = compile_policy(text, cfg.region, cfg.appid)
        except PolicyError:         # validated on PUT; a stored bad policy grants nothing
            return None
        ids = () if principal is None else principal_ids(cfg.appid, principal.uin, principal.name, principal.is_root)
        return policy.evaluate(req, ids)

    def _token_error(self, ctx: "Ctx", code: str, message: str) -> None:
        identity = ctx.identity
        self._audit(ctx, None, "-", ctx.resource(), code, key_id=identity.access_key if identity else "")
        raise CosError(code, message, resource=ctx.resource())

    @staticmethod
    def _audit(ctx: "Ctx", principal: "Principal | None", action: str, resource: str, outcome: str,
               key_id: str = "") -> None:
        who = principal.uin if principal is not None else ("anonymous" if not key_id else "-")
        key_id = key_id or (principal.access_key if principal is not None else "-")
        audit.warning("deny request_id=%s principal=%s secret_id=%s action=%s resource=%s ip=%s outcome=%s",
                      ctx.request_id, who, key_id, action, resource, ctx.client_ip or "-", outcome)
