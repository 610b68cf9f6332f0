"""Conditional writes (S3): ``If-None-Match: *`` and ``If-Match: <etag>[, <etag>]`` on PUT Object,
copy, Complete Multipart Upload, and ``If-Match`` on DELETE Object.

The condition becomes a :class:`cosbeauty.storage.WriteCondition` that the storage checks inside
the metadata transaction that writes the object, so of two concurrent ``If-None-Match: *`` writers
exactly one succeeds and the other gets ``412 PreconditionFailed``. :func:`precheck` only fails
early (before a large body is read); it decides nothing on its own.
"""

from __future__ import annotations

from cosbeauty.api.context import Ctx
from cosbeauty.api.errors import CosError
from cosbeauty.storage import StorageError, WriteCondition


def _etags(value: str) -> tuple[str, ...]:
    out = []
    for tag in value.split(","):
        tag = tag.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        out.append(tag.strip('"'))
    return tuple(t for t in out if t)


def write_condition(ctx: Ctx, *, delete: bool = False) -> WriteCondition | None:
    """The request's write precondition, or None. ``If-None-Match`` other than ``*`` is refused
    (S3 supports only ``*`` on writes), as is ``If-None-Match`` on DELETE."""
    if_match = ctx.headers.get("if-match")
    if_none = ctx.headers.get("if-none-match")
    if if_match is None and if_none is None:
        return None
    if if_none is not None:
        if delete:
            raise CosError("NotImplemented", "If-None-Match is not supported on DELETE; use If-Match.")
        if if_none.strip() != "*":
            raise CosError("NotImplemented", "On writes If-None-Match supports only '*' (create if absent).")
    tags = _etags(if_match) if if_match is not None else None
    if if_match is not None and not tags:
        raise CosError("InvalidArgument", "If-Match needs an ETag.")
    return WriteCondition(if_match=tags, if_none_match=if_none is not None)


def precheck(ctx: Ctx, bucket: str, key: str, cond: WriteCondition | None) -> None:
    """Fail before reading a body when the condition already does not hold (advisory only)."""
    if cond is None:
        return
    try:
        current = ctx.app.backend.get_object(bucket, key, with_inline=False).etag
    except StorageError as exc:
        if exc.code != "NoSuchKey":
            raise
        current = None
    cond.check(current)
