"""Versioning, as far as this server implements it: every bucket is unversioned (or Suspended),
so each object has exactly one version, the ``null`` version.

* GET ``?versioning``: ``<VersioningConfiguration/>`` (never enabled) or ``Status=Suspended``;
* PUT ``?versioning``: ``Suspended`` is accepted (same behaviour as unversioned); ``Enabled`` is
  refused with 501 NotImplemented -- keeping old versions is not implemented;
* GET ``?versions`` (ListObjectVersions): the current objects as ``null`` versions, with prefix,
  delimiter, key-marker / version-id-marker and max-keys paging, so tools that empty a bucket
  through it work;
* ``?versionId=null`` on GET/HEAD/DELETE names the current object; any other id is NoSuchVersion.
"""

from __future__ import annotations

from starlette.responses import Response

from cosbeauty.api import xml
from cosbeauty.api.acl import owner_xml
from cosbeauty.api.context import Ctx, run
from cosbeauty.api.errors import CosError
from cosbeauty.api.listing import _encoder, _page, parse_max_keys
from cosbeauty.api.responses import empty, iso_date, quoted, xml_response

ATTR = "versioning"
NULL = "null"


def check_version_id(ctx: Ctx) -> None:
    """``versionId`` on an object request: only ``null`` (the one version every object has)."""
    vid = ctx.query.get("versionId")
    if vid is not None and vid != NULL:
        raise ctx.error("NoSuchVersion", f"Version {vid!r} does not exist: this bucket keeps only the "
                                         "current (null) version of each object.")


async def get_versioning(ctx: Ctx) -> Response:
    status = ctx.app.backend.get_bucket(ctx.bucket).attrs.get(ATTR)
    return xml_response("VersioningConfiguration", {"Status": status} if status else {})


async def put_versioning(ctx: Ctx) -> Response:
    root = xml.parse(await ctx.read_body(64 * 1024), "VersioningConfiguration")
    status = xml.child_text(root, "Status")
    if status == "Enabled":
        raise CosError("NotImplemented", "Versioning (Status=Enabled) is not implemented by this server; "
                                         "objects have only their current version.", resource=ctx.resource())
    if status != "Suspended":
        raise ctx.error("MalformedXML", "Status must be Enabled or Suspended.")
    await run(lambda: ctx.app.backend.update_bucket(ctx.bucket, attrs={ATTR: status}))
    return empty(200)


async def list_versions(ctx: Ctx) -> Response:
    q = ctx.query
    enc = _encoder(ctx)
    prefix, delimiter = q.get("prefix", ""), q.get("delimiter", "")
    key_marker, vid_marker = q.get("key-marker", ""), q.get("version-id-marker", "")
    if vid_marker and not key_marker:
        raise ctx.error("InvalidArgument", "A version-id-marker cannot be specified without a key-marker.")
    if vid_marker and vid_marker != NULL:
        raise ctx.error("InvalidArgument", "Invalid version id specified.")
    max_keys = parse_max_keys(q.get("max-keys"))
    page = _page(ctx, prefix, delimiter, key_marker, max_keys)
    owner = owner_xml(ctx)
    body: dict = {"Name": ctx.bucket}
    if "encoding-type" in q:
        body["EncodingType"] = q["encoding-type"]
    body.update({"Prefix": enc(prefix), "KeyMarker": enc(key_marker), "VersionIdMarker": vid_marker,
                 "MaxKeys": max_keys})
    if delimiter:
        body["Delimiter"] = enc(delimiter)
    body["IsTruncated"] = page.truncated
    if page.truncated:
        body["NextKeyMarker"] = enc(page.next_marker)
        body["NextVersionIdMarker"] = NULL
    body["Version"] = [{"Key": enc(o.key), "VersionId": NULL, "IsLatest": True, "LastModified": iso_date(o.mtime),
                        "ETag": quoted(o.etag), "Size": o.size, "StorageClass": o.storage_class, "Owner": owner}
                       for o in page.objects]
    body["CommonPrefixes"] = [{"Prefix": enc(p)} for p in page.prefixes]
    return xml_response("ListVersionsResult", body)
