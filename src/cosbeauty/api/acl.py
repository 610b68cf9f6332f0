"""Bucket and object ACLs: canned ACLs (``x-cos-acl`` / ``x-amz-acl``), explicit grants on buckets
(``x-cos-grant-*`` headers or an AccessControlPolicy body), GET/PUT ``?acl``, and the ACL half of
authorization (:func:`acl_allows`).

Storage: a bucket's canned ACL is ``BucketInfo.acl`` and its grants to accounts are
``attrs["grants"]`` (``{permission: [grantee id, ...]}``); an object's are ``ObjectMeta.acl``
(``default`` = the bucket's, as on COS) and ``ObjectMeta.grants``. Grants to everyone (AllUsers,
AuthenticatedUsers) are folded into the canned ACL. Two reserved keys of a grants dict:

* ``_owner``: ``[uin]`` of the sub-account that wrote the object (absent: the root account, which
  owns every bucket). The owner gets FULL_CONTROL from a canned ACL, may always read and change the
  object's ACL, and ``bucket-owner-read`` / ``bucket-owner-full-control`` add a grant to the bucket
  owner (the root account) next to it.
* ``_exact``: the ACL was set from an AccessControlPolicy body or grant headers, whose grants are
  kept exactly as given, the owner's included (no implicit owner FULL_CONTROL entry; an empty list
  stays empty). The root account is never limited by an ACL; a sub-account owner keeps READ_ACP
  and WRITE_ACP.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from starlette.responses import Response

from cosbeauty.api import xml
from cosbeauty.api.context import Ctx, run
from cosbeauty.api.errors import CosError
from cosbeauty.api.flavour import is_s3_client, owner_xml
from cosbeauty.api.responses import empty
from cosbeauty.storage import StorageError

if TYPE_CHECKING:
    from cosbeauty.accounts import Principal
    from cosbeauty.storage import Backend

BUCKET_ACLS = ("private", "public-read", "public-read-write", "authenticated-read")
OBJECT_ACLS = ("default",) + BUCKET_ACLS + ("bucket-owner-read", "bucket-owner-full-control")
AUTHENTICATED_USERS = "http://cam.qcloud.com/groups/global/AuthenticatedUsers"
AUTHENTICATED_IDS = (AUTHENTICATED_USERS, "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ALL_USERS = "http://cam.qcloud.com/groups/global/AllUsers"
ALL_USERS_IDS = (ALL_USERS, "http://acs.amazonaws.com/groups/global/AllUsers", "qcs::cam::anyone:anyone")
PERMISSIONS = ("READ", "WRITE", "READ_ACP", "WRITE_ACP", "FULL_CONTROL")
GRANT_HEADERS = {p: p.lower().replace("_", "-") for p in PERMISSIONS}     # x-cos-grant-<this>
OWNER_KEY, EXACT_KEY = "_owner", "_exact"       # reserved keys of a grants dict (module docstring)
ACP_ACTIONS = ("cos:GetObjectACL", "cos:PutObjectACL")
_ACCOUNT_ID = re.compile(r"qcs::cam::uin/(\d{1,20}):uin/(\d{1,20})")

# which ACL permission each action needs
OBJECT_READ = {"cos:GetObject", "cos:HeadObject"}
OBJECT_ACL_ACTIONS = OBJECT_READ | {"cos:GetObjectACL", "cos:PutObjectACL"}   # decided by the object's ACL too
NEEDS = {
    **{a: "READ" for a in OBJECT_READ | {"cos:GetBucket", "cos:HeadBucket", "cos:GetBucketObjectVersions"}},
    **{a: "WRITE" for a in ("cos:PutObject", "cos:PostObject", "cos:AppendObject", "cos:DeleteObject",
                            "cos:DeleteMultipleObjects",
                            "cos:InitiateMultipartUpload", "cos:UploadPart", "cos:CompleteMultipartUpload",
                            "cos:AbortMultipartUpload", "cos:ListParts", "cos:ListMultipartUploads")},
    "cos:GetBucketACL": "READ_ACP", "cos:GetObjectACL": "READ_ACP",
    "cos:PutBucketACL": "WRITE_ACP", "cos:PutObjectACL": "WRITE_ACP",
}
_CANNED_GRANTS = {"private": set(), "public-read": {"READ"}, "public-read-write": {"READ", "WRITE"},
                  "authenticated-read": set(), "bucket-owner-read": set(), "bucket-owner-full-control": set()}


def acl_allows(backend: "Backend", action: str, bucket: str, key: str, principal: "Principal | None") -> bool:
    """Does a bucket/object ACL let ``principal`` (None: anonymous) run ``action``? Canned public
    ACLs grant READ/WRITE to everyone; bucket grants name sub-accounts. ACLs never grant ``ci:``
    actions: image processing always needs a policy."""
    needed = NEEDS.get(action)
    if needed is None or not bucket:
        return False
    try:
        info = backend.get_bucket(bucket)
    except StorageError:
        return False
    canned = info.acl
    obj_grants: dict = {}
    owner = ""
    if key and action in OBJECT_ACL_ACTIONS:
        try:
            obj = backend.get_object(bucket, key, with_inline=False)
            obj_grants = obj.grants
            owner = object_owner(obj.grants)
            if action in OBJECT_READ:
                canned = info.acl if obj.acl == "default" else obj.acl
        except StorageError:
            # no such object: decided by the bucket's ACL, so whoever may list the bucket learns
            # NoSuchKey (404) and everyone else AccessDenied, as on S3 and COS
            pass
    if needed in _CANNED_GRANTS[canned]:
        return True
    if principal is None:
        return False
    if canned == "authenticated-read" and needed == "READ":
        return True
    names = {f"uin/{principal.account_uin}", f"uin/{principal.name}", principal.account_uin, principal.name,
             principal.uin} - {"", "uin/"}

    def named(grantee: str) -> bool:
        return grantee in names or grantee.rsplit(":", 1)[-1] in names
    if owner and named(owner) and (action in ACP_ACTIONS or EXACT_KEY not in obj_grants):
        return True         # the object's owner: FULL_CONTROL unless an exact ACL says otherwise; ACP always
    return any(named(grantee)
               for grants in (info.attrs.get("grants", {}), obj_grants)
               for perm in (needed, "FULL_CONTROL") for grantee in grants.get(perm, []))


def object_owner(grants: dict) -> str:
    """The grantee id of the sub-account that owns an object ("" = the root account)."""
    owners = grants.get(OWNER_KEY) or [""]
    return owners[0]


def writer_grants(ctx: Ctx, grants: dict[str, list[str]]) -> dict[str, list[str]]:
    """``grants`` of a new object with its writer recorded as owner when that is a sub-account
    (an object written by the root account or anonymously is the root's)."""
    principal = ctx.principal
    if principal is None or principal.is_root:
        return grants
    return {**grants, OWNER_KEY: [principal.uin]}


def canned_acl_from_request(ctx: Ctx, default: str, allowed=BUCKET_ACLS) -> str:
    headers = ctx.headers
    value = headers.get("x-cos-acl") or headers.get("x-amz-acl")
    if value is None:
        return default
    if value not in allowed:
        raise ctx.error("InvalidArgument", f"Unsupported ACL {value!r}; use one of {', '.join(allowed)}.")
    return value


# id="..." as documented; id=... unquoted as S3 also accepts (s3-tests sends it so)
_GRANTEE = re.compile(r'\s*(id|uri|emailAddress)\s*=\s*(?:"([^"]*)"|([^",\s]+))\s*(?:,|$)', re.IGNORECASE)


def _parse_grantees(value: str) -> list[str]:
    out, pos = [], 0
    while pos < len(value):
        m = _GRANTEE.match(value, pos)
        if m is None or m.end() == pos:
            raise CosError("InvalidArgument", f'Malformed grant header {value!r}; use id="qcs::cam::uin/..:uin/..".')
        if m.group(1).lower() == "emailaddress":
            raise _no_email()
        out.append(m.group(2) if m.group(2) is not None else m.group(3))
        pos = m.end()
    return out


def _check_grantees(ctx: Ctx, grants: dict[str, list[str]]) -> None:
    """Every grantee must be a group, ``qcs::cam::anyone:anyone`` or an account id
    ``qcs::cam::uin/<APPID>:uin/<uin>``; of this server's APPID it must name the root account or an
    existing sub-account (400 InvalidArgument otherwise, as S3 answers an unknown canonical id).
    Ids of other APPIDs are kept (other COS accounts, e.g. an ACL migrated from COS): they grant
    nothing here, since no one on this server signs as them."""
    appid = ctx.app.config.appid
    known: set[str] | None = None
    for ids in grants.values():
        for who in ids:
            if who in ALL_USERS_IDS or who in AUTHENTICATED_IDS:
                continue
            m = _ACCOUNT_ID.fullmatch(who)
            if m is None:
                raise CosError("InvalidArgument", f"Invalid id {who!r}: grant to an account as "
                                                  "qcs::cam::uin/<APPID>:uin/<uin>, or to a group by URI.")
            if m.group(1) != appid or m.group(2) == appid:
                continue
            if known is None:
                known = set(_display_names(ctx))
            if m.group(2) not in known:
                raise CosError("InvalidArgument", f"Invalid id {who!r}: no sub-account {m.group(2)} "
                                                  f"of account {appid}.")


def _no_email() -> CosError:
    return CosError("UnresolvableGrantByEmailAddress", "Accounts here have no e-mail addresses; grant by id.",
                    status=400)


def _fold(canned: str, grants: dict[str, list[str]]) -> tuple[str, dict[str, list[str]]]:
    """Move grants to everyone into the canned ACL; keep the rest, de-duplicated."""
    public = {p for p, ids in grants.items() if any(i in ALL_USERS_IDS for i in ids)}
    authenticated = {p for p, ids in grants.items() if any(i in AUTHENTICATED_IDS for i in ids)}
    if public & {"WRITE", "FULL_CONTROL"}:
        canned = "public-read-write"
    elif "READ" in public and canned == "private":
        canned = "public-read"
    elif "READ" in authenticated and canned == "private":
        canned = "authenticated-read"
    groups = ALL_USERS_IDS + AUTHENTICATED_IDS
    kept = {p: sorted({i for i in ids if i not in groups}) for p, ids in grants.items()}
    return canned, {p: ids for p, ids in kept.items() if ids}


_GRANT_HEADER_NAMES = tuple(p + s for s in GRANT_HEADERS.values() for p in ("x-cos-grant-", "x-amz-grant-"))
_GRANT_HEADER_SET = frozenset(_GRANT_HEADER_NAMES)


def has_grant_headers(ctx: Ctx) -> bool:
    """Whether the request names grantees in x-cos-grant-* / x-amz-grant-* headers."""
    headers = ctx.headers
    if _GRANT_HEADER_SET.isdisjoint(headers):     # the usual request: one C-level pass, no lookups
        return False
    return any(headers.get(name) for name in _GRANT_HEADER_NAMES)


async def read_grant_headers(ctx: Ctx) -> None:
    """Parse and check the grant headers in a worker thread, once per request (a grant to a
    sub-account reads the IAM store: a PostgreSQL round trip in cluster mode), into ``ctx.grants``,
    which :func:`object_acl_from_request` then takes on the event loop. Without grant headers it
    does nothing (no hop). Every handler that builds a new object's or bucket's ACL on the loop
    awaits this first."""
    if ctx.grants is None and has_grant_headers(ctx):
        ctx.grants = await run(_grants_from_headers, ctx)


def _grants_from_headers(ctx: Ctx) -> dict[str, list[str]]:
    grants: dict[str, list[str]] = {}
    for perm, suffix in GRANT_HEADERS.items():
        value = ctx.header("x-cos-grant-" + suffix) or ctx.header("x-amz-grant-" + suffix)
        if value:
            grants[perm] = _parse_grantees(value)
    _check_grantees(ctx, grants)
    return grants


def _grants_from_body(body: bytes) -> dict[str, list[str]]:
    """The grants of an AccessControlPolicy body, exactly (the owner's own grants included)."""
    root = xml.parse(body, "AccessControlPolicy")
    grants: dict[str, list[str]] = {}
    for grant in root.iter("Grant"):
        grantee = grant.find("Grantee")
        perm = xml.child_text(grant, "Permission", "") or ""
        if grantee is None or perm not in PERMISSIONS:
            raise CosError("MalformedXML", "Each Grant needs a Grantee and a Permission "
                                           f"({', '.join(PERMISSIONS)}).")
        if xml.child_text(grantee, "EmailAddress"):
            raise _no_email()
        who = xml.child_text(grantee, "URI") or xml.child_text(grantee, "ID") or ""
        if not who:
            raise CosError("MalformedXML", "Each Grantee needs an ID or a URI.")
        grants.setdefault(perm, []).append(who)
    return grants


async def _requested_acl(ctx: Ctx, allowed) -> tuple[str, dict[str, list[str]]]:
    """(canned, grants) from the x-cos-acl / x-cos-grant-* headers, else from the body (then
    marked ``_exact``). Like COS, the request replaces the whole ACL."""
    canned = canned_acl_from_request(ctx, default="", allowed=allowed)
    await read_grant_headers(ctx)       # may read the IAM store: in a worker thread
    grants = ctx.grants or {}
    if canned and grants:
        raise ctx.error("InvalidRequest", "Specifying both a canned ACL and grant headers is not allowed.")
    if canned:
        return _fold(canned, grants)
    if grants:      # grant headers are the whole ACL, as on S3: no implicit owner entry
        acl, kept = _fold("private", grants)
        return acl, {**kept, EXACT_KEY: []}
    body = await ctx.read_body(64 * 1024)
    if not body.strip():
        raise CosError("InvalidRequest", "Give an x-cos-acl header, x-cos-grant-* headers or an "
                                         "AccessControlPolicy body.")
    from_body = _grants_from_body(body)
    await run(_check_grantees, ctx, from_body)      # may read the IAM store
    canned, kept = _fold("private", from_body)
    return canned, {**kept, EXACT_KEY: []}


def _grant_xml(grantee: str, permission: str, display: str | None = None) -> str:
    """One <Grant> with a typed grantee (xsi:type), so boto3 and the COS SDK can put it back."""
    if grantee.startswith("http://") or grantee.startswith("https://"):
        inner, kind = f"<URI>{escape(grantee)}</URI>", "Group"
    else:
        inner = f"<ID>{escape(grantee)}</ID><DisplayName>{escape(display or grantee)}</DisplayName>"
        kind = "CanonicalUser"
    return (f'<Grant><Grantee xmlns:xsi="{XSI}" xsi:type="{kind}">{inner}</Grantee>'
            f"<Permission>{permission}</Permission></Grant>")


def _display_names(ctx: Ctx) -> dict[str, str]:
    """Sub-account uin -> name, for the DisplayName of grants to them (the grantee id otherwise)."""
    store = getattr(ctx.app.accounts, "store", None)
    if store is None:
        return {}
    return {str(u["uin"]): u["name"] for u in store.list_users()}


def _names_for(ctx: Ctx, grants: dict[str, list[str]]) -> dict[str, str]:
    """The display names ``_policy`` needs (an IAM store read: call it in a worker thread)."""
    return _display_names(ctx) if any(grants.values()) else {}


def _policy(ctx: Ctx, acl: str, grants: dict[str, list[str]], names: dict[str, str]) -> Response:
    """The AccessControlPolicy document. Group grantees are spelled as the client's service does:
    ``http://cam.qcloud.com/groups/global/...`` for COS clients, ``http://acs.amazonaws.com/...``
    for S3 clients (boto3, s3-tests compare the URI). The order is COS's for COS clients (owner
    first) and S3's for S3 clients (group grants first, as s3-tests expects)."""
    bucket_owner = owner_xml(ctx)
    owner_id = object_owner(grants) or bucket_owner["ID"]
    owner = {"ID": owner_id, "DisplayName": names.get(owner_id.rsplit("/", 1)[-1], owner_id)} \
        if owner_id != bucket_owner["ID"] else bucket_owner
    s3 = is_s3_client(ctx)
    groups = []
    for perm in [p for p in ("READ", "WRITE") if p in _CANNED_GRANTS[acl]]:
        groups.append(_grant_xml(ALL_USERS_IDS[1] if s3 else ALL_USERS, perm))
    if acl == "authenticated-read":
        groups.append(_grant_xml(AUTHENTICATED_IDS[1] if s3 else AUTHENTICATED_USERS, "READ"))
    owners = [] if EXACT_KEY in grants else [_grant_xml(owner["ID"], "FULL_CONTROL", owner["DisplayName"])]
    if owner is not bucket_owner and acl in ("bucket-owner-read", "bucket-owner-full-control"):
        owners.append(_grant_xml(bucket_owner["ID"], "READ" if acl == "bucket-owner-read" else "FULL_CONTROL",
                                 bucket_owner["DisplayName"]))
    entries = groups + owners if s3 else owners + groups
    for perm in PERMISSIONS:
        for i in grants.get(perm, []):
            display = bucket_owner["DisplayName"] if i == bucket_owner["ID"] else names.get(i.rsplit("/", 1)[-1])
            entries.append(_grant_xml(i, perm, display))
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<AccessControlPolicy>'
            f"<Owner><ID>{escape(owner['ID'])}</ID><DisplayName>{escape(owner['DisplayName'])}</DisplayName></Owner>"
            f"<AccessControlList>{''.join(entries)}</AccessControlList></AccessControlPolicy>")
    return Response(body.encode(), media_type="application/xml", headers={"x-cos-acl": acl})


async def get_bucket_acl(ctx: Ctx) -> Response:
    def read() -> tuple[str, dict, dict]:     # one worker-thread hop for the bucket and the names
        info = ctx.app.backend.get_bucket(ctx.bucket)
        grants = info.attrs.get("grants", {})
        return info.acl, grants, _names_for(ctx, grants)
    return _policy(ctx, *await run(read))


async def put_bucket_acl(ctx: Ctx) -> Response:
    acl, grants = await _requested_acl(ctx, BUCKET_ACLS)
    await run(lambda: ctx.app.backend.update_bucket(ctx.bucket, acl=acl, attrs={"grants": grants}))
    return empty(200)


async def get_object_acl(ctx: Ctx) -> Response:
    from cosbeauty.api.versioning import load

    def read() -> tuple[str, dict, dict]:     # one worker-thread hop for every read
        meta = load(ctx, with_inline=False)       # the current version, or ?versionId=
        acl = meta.acl if meta.acl != "default" else ctx.app.backend.get_bucket(ctx.bucket).acl
        return acl, meta.grants, _names_for(ctx, meta.grants)
    return _policy(ctx, *await run(read))


async def put_object_acl(ctx: Ctx) -> Response:
    from cosbeauty.api.versioning import load
    acl, grants = await _requested_acl(ctx, OBJECT_ACLS)
    vid = ctx.query.get("versionId") or None

    def write() -> None:    # read and write in one worker-thread hop
        owner = object_owner(load(ctx, with_inline=False).grants)     # a new ACL keeps the object's owner
        if owner:
            grants[OWNER_KEY] = [owner]
        ctx.app.backend.update_object(ctx.bucket, ctx.key, acl=acl, grants=grants, version_id=vid)
    await run(write)
    return empty(200)


def object_acl_from_request(ctx: Ctx, allowed=OBJECT_ACLS, default: str = "default") -> tuple[str, dict[str, list[str]]]:
    """(canned ACL, grants) for a new object (or bucket: ``allowed=BUCKET_ACLS``) from x-cos-acl /
    x-amz-acl and x-cos-grant-* / x-amz-grant-* (PUT, copy, initiate, PUT Bucket); giving both a
    canned ACL and grants is InvalidRequest. On the event loop, :func:`read_grant_headers` must
    have been awaited first (the grantee check may read the IAM store); in a worker thread the
    headers are read here."""
    canned = canned_acl_from_request(ctx, "", allowed)
    if ctx.grants is not None:
        grants = ctx.grants
    else:
        grants = _grants_from_headers(ctx) if has_grant_headers(ctx) else {}
    if canned and grants:
        raise ctx.error("InvalidRequest", "Specifying both a canned ACL and grant headers is not allowed.")
    if not grants:
        return canned or default, {}
    acl, kept = _fold("private", grants)
    return acl, {**kept, EXACT_KEY: []}
