"""Multipart upload: initiate, upload part (and part copy), complete, abort, list parts/uploads.

Parts are stored as blobs; completing an upload commits an object whose segments *are* those
blobs, so nothing is copied or concatenated.

S3 additional checksums: ``x-amz-checksum-algorithm`` (CRC32, CRC32C, SHA1, SHA256) and
``x-amz-checksum-type`` (COMPOSITE, the default, or FULL_OBJECT for the CRCs) on initiate; each
part's checksum (header or aws-chunked trailer) is verified on upload and echoed; complete
recomputes every part's checksum from its blob (parts carry no checksum in storage), checks the
ones the request lists (InvalidPart; all are required, as on S3) and stores the object's checksum:
``base64(checksum(part digests...))-N`` (COMPOSITE) or the checksum of the whole content.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time

from starlette.responses import Response

from cosbeauty.api import xml
from cosbeauty.api.acl import read_grant_headers
from cosbeauty.api.flavour import owner_xml
from cosbeauty.api.auth.chunked import CHECKSUMS
from cosbeauty.api.bodies import receive_blob
from cosbeauty.api.context import Ctx, run
from cosbeauty.api.errors import CosError
from cosbeauty.api.listing import parse_max_keys
from cosbeauty.api.object_meta import new_meta
from cosbeauty.api.objects import copy_source
from cosbeauty.api.responses import empty, iso_date, quoted, xml_response
from cosbeauty.api.conditions import write_condition
from cosbeauty.api.versioning import copy_source_version, version_headers
from cosbeauty.storage import ObjectMeta, PartInfo, StorageError
from cosbeauty.storage.checksums import CRC_POLYS, crc64_combine, crc_combine
from cosbeauty.storage.checksums import HEADER as CRC_HEADER


async def _upload(ctx: Ctx):
    upload_id = ctx.query.get("uploadId", "")
    if not upload_id:
        raise ctx.error("NoSuchUpload", "uploadId is empty.")
    return await run(ctx.app.backend.get_upload, ctx.bucket, ctx.key, upload_id)


ALGORITHMS = {name.rsplit("-", 1)[-1].upper(): name for name in CHECKSUMS}    # CRC32 -> x-amz-checksum-crc32
CHECKSUM_BLOCK = 1024 * 1024


def _requested_checksum(ctx: Ctx) -> dict | None:
    """{"algorithm": "CRC32", "type": "COMPOSITE"} from initiate's headers (None: no checksum)."""
    algorithm = (ctx.header("x-amz-checksum-algorithm") or "").strip().upper()
    kind = (ctx.header("x-amz-checksum-type") or "").strip().upper()
    if not algorithm:
        if kind:
            raise ctx.error("InvalidRequest", "x-amz-checksum-type needs x-amz-checksum-algorithm.")
        return None
    if algorithm not in ALGORITHMS:
        raise ctx.error("InvalidRequest", f"Checksum algorithm {algorithm!r} is not supported here; use one of "
                                          f"{', '.join(ALGORITHMS)}.")
    kind = kind or "COMPOSITE"
    if kind not in ("COMPOSITE", "FULL_OBJECT"):
        raise ctx.error("InvalidRequest", "x-amz-checksum-type must be COMPOSITE or FULL_OBJECT.")
    if kind == "FULL_OBJECT" and algorithm.startswith("SHA"):
        raise ctx.error("InvalidRequest", f"The FULL_OBJECT checksum type cannot be used with {algorithm}.")
    return {"algorithm": algorithm, "type": kind}


async def initiate(ctx: Ctx) -> Response:
    await run(ctx.app.backend.get_bucket, ctx.bucket)
    checksum = _requested_checksum(ctx)
    await read_grant_headers(ctx)
    template = new_meta(ctx, ctx.bucket, ctx.key, 0, "")   # validates ACL and metadata now
    saved = {"content_type": template.content_type, "headers": template.headers, "acl": template.acl,
             "storage_class": template.storage_class, "tags": template.tags, "grants": template.grants}
    if checksum:
        saved["checksum"] = checksum
    upload = await run(ctx.app.backend.create_upload, ctx.bucket, ctx.key, saved)
    headers = {"x-amz-checksum-algorithm": checksum["algorithm"], "x-amz-checksum-type": checksum["type"]} \
        if checksum else None
    return xml_response("InitiateMultipartUploadResult",
                        {"Bucket": ctx.bucket, "Key": ctx.key, "UploadId": upload.upload_id}, headers=headers)


def _part_number(ctx: Ctx) -> int:
    raw = ctx.query.get("partNumber", "")
    try:
        n = int(raw)
    except ValueError:
        raise ctx.error("InvalidArgument", f"partNumber must be an integer, got {raw!r}.") from None
    if not 1 <= n <= ctx.app.config.max_parts:
        raise ctx.error("InvalidArgument", f"partNumber must be between 1 and {ctx.app.config.max_parts}.")
    return n


async def upload_part(ctx: Ctx) -> Response:
    number = _part_number(ctx)
    await ctx.app.authorizer.check(ctx, ["cos:UploadPart"])   # before revealing whether the upload exists
    upload = await _upload(ctx)
    if ctx.header("x-cos-copy-source") or ctx.header("x-amz-copy-source"):
        return await _upload_part_copy(ctx, upload, number)
    received = await receive_blob(ctx, max_size=ctx.app.config.max_part_size, allow_inline=False)
    sums = _part_checksums(ctx)
    part = PartInfo(number, received.size, received.md5_hex, time.time(), received.blob, received.crc64,
                    checksum=_encode_checksums(sums))
    await run(ctx.app.backend.put_part, upload.upload_id, part)
    return empty(200, {"etag": quoted(part.etag), CRC_HEADER: str(part.crc64), **sums})


def _encode_checksums(sums: dict[str, str]) -> str:
    """{"x-amz-checksum-crc32": "AAAAAA=="} -> "CRC32:AAAAAA==" (PartInfo.checksum)."""
    return " ".join(f"{name.rsplit('-', 1)[-1].upper()}:{value}" for name, value in sorted(sums.items()))


def _stored_checksums(part: PartInfo) -> dict[str, str]:
    """PartInfo.checksum -> {"CRC32": "AAAAAA=="}."""
    return dict(item.split(":", 1) for item in part.checksum.split() if ":" in item)


def _part_checksums(ctx: Ctx) -> dict[str, str]:
    """The part's S3 checksums the request carried, verified by now (headers or aws-chunked trailer)."""
    out = {name: v.strip() for name in CHECKSUMS if (v := ctx.header(name))}
    chunked = getattr(ctx.identity, "chunked", None)
    if chunked is not None:
        out.update(chunked.verified)
    return out


async def _upload_part_copy(ctx: Ctx, upload, number: int) -> Response:
    src_bucket, src_key = copy_source(ctx)
    await ctx.app.authorizer.check(ctx, ["cos:GetObject"], bucket=src_bucket, key=src_key)
    src_version = copy_source_version(ctx)
    src = await run(lambda: ctx.app.backend.get_object(src_bucket, src_key, version_id=src_version))
    if src.delete_marker:
        raise ctx.error("InvalidRequest", "The copy source version is a delete marker.")
    rng = ctx.header("x-cos-copy-source-range") or ctx.header("x-amz-copy-source-range")
    start, end = _copy_range(ctx, rng, src.size) if rng is not None else (0, src.size)
    backend = ctx.app.backend
    # an upload created with an algorithm: the copied part gets that checksum, as on S3
    algorithm = (upload.headers.get("checksum") or {}).get("algorithm")

    def copy() -> PartInfo:
        digest = CHECKSUMS[ALGORITHMS[algorithm]]() if algorithm else None
        writer = backend.blob_writer(allow_inline=False)
        try:
            for chunk in backend.iter_object(src, start, end):
                writer.write(chunk)
                if digest is not None:
                    digest.update(chunk)
            blob, _ = writer.finish()
        except BaseException:
            writer.abort()
            raise
        checksum = f"{algorithm}:{base64.b64encode(digest.digest()).decode()}" if digest is not None else ""
        return PartInfo(number, writer.size, writer.md5.hexdigest(), time.time(), blob, writer.crc64,
                        checksum=checksum)

    part = await run(copy)
    await run(backend.put_part, upload.upload_id, part)
    body = {"ETag": quoted(part.etag), "LastModified": iso_date(part.mtime)}
    body.update({"Checksum" + alg: value for alg, value in _stored_checksums(part).items()})
    return xml_response("CopyPartResult", body)


_COPY_RANGE = re.compile(r"bytes=(\d{1,20})-(\d{1,20})")


def _copy_range(ctx: Ctx, value: str, size: int) -> tuple[int, int]:
    """(start, end_exclusive) of x-cos-copy-source-range: exactly ``bytes=<first>-<last>`` (as COS
    and S3 document it), inside the source object."""
    m = _COPY_RANGE.fullmatch(value.strip())
    if m is None or int(m[2]) < int(m[1]):
        raise ctx.error("InvalidArgument", f"The copy source range {value!r} is not bytes=<first>-<last>.")
    first, last = int(m[1]), int(m[2])
    if last >= size:
        raise CosError("InvalidRange", f"The copy source range {value!r} is not inside the source object "
                                       f"({size} bytes).", status=400, resource=ctx.resource())
    return first, last + 1


def _requested_parts(ctx: Ctx, body: bytes) -> list[tuple[int, str, dict[str, str]]]:
    """(number, etag, {algorithm: base64 checksum}) of every <Part>, in order."""
    root = xml.parse(body, "CompleteMultipartUpload")
    parts = []
    for node in root.findall("Part"):
        try:
            number = int(xml.child_text(node, "PartNumber", "") or "")
        except ValueError:
            raise ctx.error("MalformedXML", "Every <Part> needs an integer <PartNumber>.") from None
        etag = (xml.child_text(node, "ETag", "") or "").strip().strip('"')
        sums = {alg: value.strip() for alg in ALGORITHMS if (value := xml.child_text(node, "Checksum" + alg))}
        parts.append((number, etag, sums))
    if not parts:
        raise ctx.error("MalformedXML", "CompleteMultipartUpload needs at least one <Part>.")
    numbers = [n for n, _, _ in parts]
    if numbers != sorted(numbers) or len(set(numbers)) != len(numbers):
        raise ctx.error("InvalidPartOrder")
    return parts


def _object_checksum(ctx: Ctx, checksum: dict, chosen: list[PartInfo],
                     claimed: list[dict[str, str]]) -> tuple[str, str]:
    """(header name, value) of the completed object's checksum, from the checksums stored with the
    parts (a part stored without one is read from its blob: blocking, run in a worker thread). Every
    part must list its checksum, and it must match."""
    algorithm = checksum["algorithm"]
    factory = CHECKSUMS[ALGORITHMS[algorithm]]
    whole = factory() if checksum["type"] == "FULL_OBJECT" else None
    combinable = whole is not None and all(algorithm in _stored_checksums(p) for p in chosen)
    digests = []
    for part, sums in zip(chosen, claimed):
        if algorithm not in sums:
            raise ctx.error("InvalidRequest", f"The upload was created with a {algorithm} checksum: the complete "
                                              f"request must give Checksum{algorithm} for every part "
                                              f"(part {part.number} has none).")
        stored = _stored_checksums(part).get(algorithm)
        if stored is not None:
            value = stored          # verified when the part was uploaded: its bytes are not read again
        else:                       # a part uploaded without this checksum: computed from its blob
            digest = factory()
            with ctx.app.backend.open_blob(part.blob) as f:
                while block := f.read(CHECKSUM_BLOCK):
                    digest.update(block)
            value = base64.b64encode(digest.digest()).decode()
        if value != sums[algorithm]:
            raise ctx.error("InvalidPart", f"Part {part.number}: Checksum{algorithm} does not match the part.")
        digests.append(base64.b64decode(value))
    if whole is not None:
        if combinable:              # the full-object CRC from the parts' CRCs, without reading a byte
            crc = 0
            for part, raw in zip(chosen, digests):
                crc = crc_combine(crc, int.from_bytes(raw, "big"), part.size, CRC_POLYS[algorithm])
            return ALGORITHMS[algorithm], base64.b64encode(crc.to_bytes(4, "big")).decode()
        for part in chosen:
            with ctx.app.backend.open_blob(part.blob) as f:
                while block := f.read(CHECKSUM_BLOCK):
                    whole.update(block)
        return ALGORITHMS[algorithm], base64.b64encode(whole.digest()).decode()
    combined = factory()
    combined.update(b"".join(digests))
    return ALGORITHMS[algorithm], f"{base64.b64encode(combined.digest()).decode()}-{len(chosen)}"


def _check_listed_parts(ctx: Ctx, chosen: list[PartInfo], claimed: list[dict[str, str]]) -> None:
    for part, sums in zip(chosen, claimed):
        stored = _stored_checksums(part)
        for algorithm, value in sums.items():
            if algorithm in stored:
                if stored[algorithm] != value:
                    raise ctx.error("InvalidPart", f"Part {part.number}: Checksum{algorithm} does not match the part.")
                continue
            digest = CHECKSUMS[ALGORITHMS[algorithm]]()
            with ctx.app.backend.open_blob(part.blob) as f:
                while block := f.read(CHECKSUM_BLOCK):
                    digest.update(block)
            if base64.b64encode(digest.digest()).decode() != value:
                raise ctx.error("InvalidPart", f"Part {part.number}: Checksum{algorithm} does not match the part.")


def _complete_result(ctx: Ctx, etag: str, crc: str | None, checksum: tuple[str, str] | None = None) -> Response:
    region = ctx.target.region or ctx.app.config.region
    body = {"Location": f"{ctx.bucket}.cos.{region}.myqcloud.com/{ctx.key}",
            "Bucket": ctx.bucket, "Key": ctx.key, "ETag": quoted(etag)}
    if checksum is not None:
        name, value = checksum
        body["Checksum" + name.rsplit("-", 1)[-1].upper()] = value
        body["ChecksumType"] = "COMPOSITE" if "-" in value else "FULL_OBJECT"
    return xml_response("CompleteMultipartUploadResult", body,
                        headers={CRC_HEADER: crc} if crc is not None else None)


async def _repeated_complete(ctx: Ctx) -> Response:
    """A complete for an upload that was already completed answers 200 with the same result (S3/COS
    behaviour, so a client retrying after a lost response succeeds); otherwise NoSuchUpload."""
    upload_id = ctx.query.get("uploadId", "")
    etag = await run(ctx.app.backend.completed_upload, ctx.bucket, ctx.key, upload_id)
    if etag is None:
        raise ctx.error("NoSuchUpload")
    await ctx.read_body(4 * 1024 * 1024)
    crc, checksum = None, None
    try:
        current = await run(lambda: ctx.app.backend.get_object(ctx.bucket, ctx.key, with_inline=False))
        if current.etag == etag:
            crc = current.headers.get(CRC_HEADER)
            checksum = next(((n, current.headers[n]) for n in CHECKSUMS if n in current.headers), None)
    except StorageError:
        pass
    return _complete_result(ctx, etag, crc, checksum)


async def complete(ctx: Ctx) -> Response:
    try:
        upload = await _upload(ctx)
    except StorageError as exc:
        if exc.code != "NoSuchUpload":
            raise
        return await _repeated_complete(ctx)
    cond = write_condition(ctx)
    requested = _requested_parts(ctx, await ctx.read_body(4 * 1024 * 1024))
    stored = {p.number: p for p in await run(ctx.app.backend.list_parts, upload.upload_id)}
    chosen: list[PartInfo] = []
    for i, (number, etag, _) in enumerate(requested):
        part = stored.get(number)
        if part is None or (etag and etag != part.etag):
            raise ctx.error("InvalidPart", f"Part {number} was not uploaded or its ETag does not match.")
        if i < len(requested) - 1 and part.size < ctx.app.config.min_part_size:
            raise ctx.error("EntityTooSmall", f"Part {number} is smaller than the minimum part size "
                                              f"({ctx.app.config.min_part_size} bytes); only the last part may be.")
        chosen.append(part)
    etag = hashlib.md5(b"".join(bytes.fromhex(p.etag) for p in chosen)).hexdigest() + f"-{len(chosen)}"
    saved = upload.headers
    crc = 0
    for p in chosen:
        crc = crc64_combine(crc, p.crc64, p.size)
    checksum = None
    if saved.get("checksum"):
        claimed = [sums for _, _, sums in requested]
        checksum = await run(_object_checksum, ctx, saved["checksum"], chosen, claimed)
    elif any(sums for _, _, sums in requested):
        # an upload created without an algorithm: the checksums the request lists are still
        # checked (boto3 sends one with every part by default), and the object gets none
        await run(_check_listed_parts, ctx, chosen, [sums for _, _, sums in requested])
    meta = ObjectMeta(bucket=ctx.bucket, key=ctx.key, size=sum(p.size for p in chosen), etag=etag,
                      mtime=time.time(), content_type=saved["content_type"],
                      headers={**saved["headers"], CRC_HEADER: str(crc), **dict([checksum] if checksum else [])},
                      acl=saved["acl"], grants=saved.get("grants", {}), storage_class=saved["storage_class"],
                      segments=[[p.blob, p.size] for p in chosen], tags=saved.get("tags", {}))
    await run(ctx.app.backend.complete_upload, upload, meta, [p.number for p in chosen], cond)
    response = _complete_result(ctx, etag, str(crc), checksum)
    response.headers.update(version_headers(ctx, meta.version_id))
    return response


async def abort(ctx: Ctx) -> Response:
    upload = await _upload(ctx)
    await run(ctx.app.backend.abort_upload, upload.upload_id)
    return empty(204)


async def list_parts(ctx: Ctx) -> Response:
    upload = await _upload(ctx)
    max_parts = parse_max_keys(ctx.query.get("max-parts"), "max-parts")
    try:
        marker = int(ctx.query.get("part-number-marker") or 0)
    except ValueError:
        raise ctx.error("InvalidArgument", "part-number-marker must be an integer.") from None
    parts = [p for p in await run(ctx.app.backend.list_parts, upload.upload_id) if p.number > marker]
    page, truncated = parts[:max_parts], len(parts) > max_parts
    owner = owner_xml(ctx)
    body = {
        "Bucket": ctx.bucket, "Key": ctx.key, "UploadId": upload.upload_id,
        "Initiator": owner, "Owner": owner, "StorageClass": "STANDARD",
        "PartNumberMarker": marker, "NextPartNumberMarker": page[-1].number if page else marker,
        "MaxParts": max_parts, "IsTruncated": truncated,
        "Part": [{"PartNumber": p.number, "LastModified": iso_date(p.mtime), "ETag": quoted(p.etag),
                  "Size": p.size, **{"Checksum" + alg: v for alg, v in _stored_checksums(p).items()}}
                 for p in page],
    }
    return xml_response("ListPartsResult", body)


async def list_uploads(ctx: Ctx) -> Response:
    await run(ctx.app.backend.get_bucket, ctx.bucket)
    prefix = ctx.query.get("prefix", "")
    max_uploads = parse_max_keys(ctx.query.get("max-uploads"), "max-uploads")
    key_marker = ctx.query.get("key-marker", "")
    id_marker = ctx.query.get("upload-id-marker", "")
    uploads = [u for u in await run(ctx.app.backend.list_uploads, ctx.bucket, prefix)
               if (u.key, u.upload_id) > (key_marker, id_marker) or not key_marker]
    page, truncated = uploads[:max_uploads], len(uploads) > max_uploads
    owner = owner_xml(ctx)
    body: dict = {"Bucket": ctx.bucket, "KeyMarker": key_marker, "UploadIdMarker": id_marker,
                  "MaxUploads": max_uploads, "IsTruncated": truncated, "Prefix": prefix}
    if truncated:
        body["NextKeyMarker"], body["NextUploadIdMarker"] = page[-1].key, page[-1].upload_id
    body["Upload"] = [{"Key": u.key, "UploadId": u.upload_id, "StorageClass": "STANDARD", "Initiator": owner,
                       "Owner": owner, "Initiated": iso_date(u.initiated)} for u in page]
    return xml_response("ListMultipartUploadsResult", body)
