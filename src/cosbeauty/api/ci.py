"""Cloud Infinite processes (``AIFaceBeauty``, ``face-effect``) over the COS API, the three ways
Tencent exposes them:

1. on download: ``GET /<key>?ci-process=AIFaceBeauty[&strength=][&ignore-error=1]`` and
   ``GET /?ci-process=AIFaceBeauty&detect-url=<url>`` -> the processed image (face-effect:
   ``<Response><ResultImage>`` XML with the image in base64, as Tencent documents it);
2. on upload: ``PUT /<key>`` with ``Pic-Operations`` -> original and results stored, UploadResult;
3. on a stored object: ``POST /<key>?image_process`` with ``Pic-Operations`` -> results stored.

Upload and cloud processing validate everything (header, target buckets, permissions,
activation) before reading the body, process every rule in memory, and only then store
anything: a failing rule stores nothing, not even the original (see docs/ci.md).
"""

from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass

from starlette.responses import Response

from cosbeauty.api import pic_operations, versioning, xml
from cosbeauty.api.acl import read_grant_headers
from cosbeauty.api.context import Ctx, run
from cosbeauty.api.errors import CosError
from cosbeauty.api.object_meta import new_meta
from cosbeauty.api.pic_operations import PicOperations, Rule
from cosbeauty.api.responses import BlobResponse, object_headers, quoted
from cosbeauty.ci import activation
from cosbeauty.ci.fetch import FetchError, decode_detect_url
from cosbeauty.ci.metering import OK, ORIGINAL
from cosbeauty.ci.service import MIME, CiService, Processed
from cosbeauty.imaging import registry
from cosbeauty.imaging.errors import ImageError
from cosbeauty.imaging.registry import Process
from cosbeauty.storage import ObjectMeta, StorageError

# processing failures that ignore-error=1 turns into "answer the original image"
RECOVERABLE = {"ImageTooLarge", "UndecodableImage", "InvalidImageFormat", "FaceBeautifyFailed"}


def _service(ctx: Ctx) -> CiService:
    return ctx.app.services["ci"]


# -- request parameters --------------------------------------------------------------------
def _process_of(ctx: Ctx) -> Process:
    name = ctx.query.get("ci-process", "")
    process = registry.get(name)
    if process is None:
        raise ctx.error("InvalidArgument", f"Unsupported ci-process {name!r}; this server supports: "
                                           f"{', '.join(registry.names())}.")
    return process


def _params(ctx: Ctx, process: Process) -> dict[str, str]:
    """The processing parameters, each one read by ``process`` (another process's parameter is
    refused, never ignored) and valid: 400 InvalidArgument, or 501 for an unimplemented variant."""
    known = registry.all_params()
    params = {k: v for k, v in ctx.query.items() if k in known}
    foreign = sorted(set(params) - set(process.params))
    if foreign:
        raise ctx.error("InvalidArgument", f"ci-process={process.name} does not read {', '.join(foreign)}; "
                                           f"its parameters: {', '.join(process.params)}.")
    try:
        process.validate(params)
    except ImageError as exc:
        raise ctx.error(exc.code, exc.message) from None
    return params


def _ignore_error(ctx: Ctx, process: Process) -> bool:
    value = ctx.query.get("ignore-error")
    if value is not None and not process.ignore_error:
        raise ctx.error("InvalidArgument", f"ignore-error is not supported by ci-process={process.name}.")
    if value not in (None, "", "0", "1"):
        raise ctx.error("InvalidArgument", "ignore-error must be 0 or 1.")
    return value == "1"


def _request(ctx: Ctx) -> tuple[Process, dict[str, str], bool]:
    process = _process_of(ctx)
    return process, _params(ctx, process), _ignore_error(ctx, process)


def _require_ai(ctx: Ctx, bucket: str) -> None:
    activation.require_ai(ctx.app.backend.get_bucket(bucket))


# -- processing, metered ---------------------------------------------------------------------
def _output_bytes(processed: Processed) -> int:
    mask = getattr(processed.result, "mask", None)
    return len(processed.result.data) + (len(mask) if mask else 0)


async def _process(ctx: Ctx, method: str, process: Process, data: bytes, params: dict[str, str], *,
                   with_quality: bool = False, ignore: bool = False) -> Processed:
    """Process and record one billable call, its outcome too on failure (with ``ignore``, a
    recoverable failure is recorded as answered with the original)."""
    svc = _service(ctx)
    op = process.op(params)
    started = time.perf_counter()
    try:
        out = await svc.process(process.name, data, params, with_quality=with_quality)
    except CosError as err:
        original = ignore and err.code in RECOVERABLE
        await svc.meter_call(ctx.bucket, method, op, ctx.request_id, started, input_bytes=len(data),
                             output_bytes=len(data) if original else 0, outcome=ORIGINAL if original else err.code)
        raise
    await svc.meter_call(ctx.bucket, method, op, ctx.request_id, started, input_bytes=len(data),
                         output_bytes=_output_bytes(out), faces=len(out.result.faces), outcome=OK)
    return out


def _xml_body(out: Processed) -> bytes:
    """Tencent's face-effect answer: ``<Response><ResultImage>`` (+ ``<ResultMask>``), base64."""
    body = {"ResultImage": base64.b64encode(out.result.data).decode("ascii")}
    mask = getattr(out.result, "mask", None)
    if mask is not None:
        body["ResultMask"] = base64.b64encode(mask).decode("ascii")
    return xml.render("Response", body)


async def _answer_image(ctx: Ctx, method: str, process: Process, data: bytes, params: dict[str, str],
                        ignore: bool, original_type: str) -> Response:
    try:
        out = await _process(ctx, method, process, data, params, ignore=ignore)
    except CosError as err:
        if not (ignore and err.code in RECOVERABLE):
            raise
        return Response(data, headers={"content-type": original_type})
    if process.reply == registry.XML:       # megabytes of base64: off the event loop
        return Response(await run(_xml_body, out), headers={"content-type": "application/xml"})
    return Response(out.result.data, headers={"content-type": MIME[out.result.format]})


async def _meter_original(ctx: Ctx, method: str, op: str, size: int) -> None:
    await _service(ctx).meter_call(ctx.bucket, method, op, ctx.request_id, time.perf_counter(),
                                   input_bytes=size, output_bytes=size, outcome=ORIGINAL)


def _read_all(ctx: Ctx, meta: ObjectMeta) -> bytes:
    return b"".join(ctx.app.backend.iter_object(meta))


def _check_size(ctx: Ctx, size: int) -> None:
    limit = _service(ctx).limits.max_bytes
    if size > limit:
        raise ctx.error("ImageTooLarge", f"The image is {size} bytes; processing accepts at most {limit}.")


# -- method 1: on download --------------------------------------------------------------------
async def get_processed(ctx: Ctx) -> Response:
    process, params, ignore = _request(ctx)
    if "detect-url" in ctx.query:
        return await get_detect_url(ctx)
    await ctx.app.authorizer.check(ctx, ["cos:GetObject", process.action])

    def ai_and_meta() -> ObjectMeta:        # one worker-thread hop: metadata reads never run on the loop
        _require_ai(ctx, ctx.bucket)
        return versioning.load(ctx, with_inline=True)      # the current version, or ?versionId=
    meta = await run(ai_and_meta)
    try:
        _check_size(ctx, meta.size)
    except CosError:
        if not ignore:
            raise
        await _meter_original(ctx, "download", process.op(params), meta.size)
        return BlobResponse(ctx.app.backend.iter_object(meta), 200, object_headers(meta), meta.size)
    data = meta.inline if meta.inline is not None else await run(_read_all, ctx, meta)
    return await _answer_image(ctx, "download", process, data, params, ignore, meta.content_type)


async def get_detect_url(ctx: Ctx) -> Response:
    process, params, ignore = _request(ctx)
    raw = ctx.query.get("detect-url")
    if not raw:
        raise ctx.error("InvalidArgument", "Bucket-level ci-process needs a detect-url parameter.")
    try:
        url = decode_detect_url(raw)
    except FetchError as exc:
        raise ctx.error(exc.code, exc.message) from None
    await ctx.app.authorizer.check(ctx, [process.action])
    await run(_require_ai, ctx, ctx.bucket)
    svc = _service(ctx)
    started = time.perf_counter()
    try:
        data = await svc.fetch(url)
    except CosError as err:
        await svc.meter_call(ctx.bucket, "detect-url", process.op(params), ctx.request_id, started, input_bytes=0,
                             outcome=err.code)
        raise
    return await _answer_image(ctx, "detect-url", process, data, params, ignore, "application/octet-stream")


# -- methods 2 and 3: Pic-Operations ------------------------------------------------------------
@dataclass
class _Output:
    rule: Rule
    processed: Processed


def _parse_operations(ctx: Ctx) -> PicOperations:
    return pic_operations.parse(ctx.header("pic-operations"), ctx.bucket, ctx.key, ctx.app.config.max_key_bytes)


def _ci_actions(ops: PicOperations) -> list[str]:
    """The CAM action of every rule's process (each once, in rule order)."""
    return list(dict.fromkeys(registry.get(rule.process).action for rule in ops.rules))


async def _authorize(ctx: Ctx, ops: PicOperations, source_actions: list[str]) -> None:
    """Caller may act on the source, every target bucket exists and is writable, CI is on."""
    await ctx.app.authorizer.check(ctx, [*source_actions, *_ci_actions(ops)])

    def targets_exist() -> None:            # one worker-thread hop for every rule's bucket
        for i, rule in enumerate(ops.rules, 1):
            try:
                ctx.app.backend.get_bucket(rule.bucket)
            except StorageError:
                raise ctx.error("NoSuchBucket", f"Pic-Operations rule {i}: target bucket {rule.bucket} "
                                                f"does not exist.") from None
    await run(targets_exist)
    for rule in ops.rules:
        await ctx.app.authorizer.check(ctx, ["cos:PutObject"], bucket=rule.bucket, key=rule.key)
    await run(_require_ai, ctx, ctx.bucket)


async def _run_rules(ctx: Ctx, method: str, ops: PicOperations, data: bytes) -> list[_Output]:
    return [_Output(rule, await _process(ctx, method, registry.get(rule.process), data, rule.params,
                                         with_quality=True))
            for rule in ops.rules]


def _write_blob(ctx: Ctx, data: bytes) -> tuple[str, str | None, bytes | None, int]:
    writer = ctx.app.backend.blob_writer()
    try:
        writer.write(data)
        blob, inline = writer.finish()
    except BaseException:
        writer.abort()
        raise
    return writer.md5.hexdigest(), blob, inline, writer.crc64


@dataclass
class _Pending:
    bucket: str
    key: str
    data: bytes
    content_type: str | None     # None: from the request (the uploaded original)


async def _commit(ctx: Ctx, items: list[_Pending]) -> list[ObjectMeta]:
    """Write every blob, then commit the rows. Nothing is visible until all bytes are durable."""
    await read_grant_headers(ctx)
    written = await run(lambda: [_write_blob(ctx, item.data) for item in items])
    try:
        metas = []
        for item, (md5, blob, inline, crc) in zip(items, written):
            meta = new_meta(ctx, item.bucket, item.key, len(item.data), md5, segments=[[blob, len(item.data)]]
                            if blob else [], inline=inline, headers=None if item.content_type is None else {},
                            crc64=crc)
            if item.content_type is not None:
                meta.content_type = item.content_type
            metas.append(meta)
    except BaseException:
        await run(ctx.app.backend.drop_blobs, [blob for _, blob, _, _ in written if blob])
        raise
    for meta in metas:
        await run(ctx.app.backend.put_object, meta)
    return metas


def _result_xml(ctx: Ctx, output: _Output, meta: ObjectMeta) -> dict:
    result = output.processed.result
    return {"Key": meta.key, "Location": pic_operations.location(meta.bucket, ctx.app.config.region, meta.key),
            "Format": result.format, "Width": result.width, "Height": result.height, "Size": meta.size,
            "Quality": output.processed.quality, "ETag": quoted(meta.etag)}


async def _original_xml(ctx: Ctx, ops: PicOperations, data: bytes, etag: str) -> dict:
    out = {"Key": ctx.key, "Location": pic_operations.location(ctx.bucket, ctx.app.config.region, ctx.key)}
    if ops.is_pic_info:
        out["ImageInfo"] = pic_operations.image_info_xml(await _service(ctx).image_info(data))
    out["ETag"] = quoted(etag)
    return out


def _reply(ctx: Ctx, original: dict, outputs: list[_Output], metas: list[ObjectMeta]) -> Response:
    results = [_result_xml(ctx, o, m) for o, m in zip(outputs, metas)]
    return Response(pic_operations.upload_result(original, results), headers={"content-type": "application/xml"})


async def _read_upload(ctx: Ctx) -> bytes:
    declared = ctx.declared_length()
    if declared is not None:
        _check_size(ctx, declared)
    try:
        return await ctx.read_body(_service(ctx).limits.max_bytes)
    except CosError as err:
        if err.code == "EntityTooLarge":
            raise ctx.error("ImageTooLarge", "The uploaded image is larger than processing accepts.") from None
        raise


async def put_with_pic_operations(ctx: Ctx) -> Response:
    ops = _parse_operations(ctx)
    await _authorize(ctx, ops, ["cos:PutObject"])
    data = await _read_upload(ctx)
    original = await _original_xml(ctx, ops, data, hashlib.md5(data).hexdigest())
    outputs = await _run_rules(ctx, "upload", ops, data)
    pending = [_Pending(o.rule.bucket, o.rule.key, o.processed.result.data, MIME[o.processed.result.format])
               for o in outputs]
    if not any((p.bucket, p.key) == (ctx.bucket, ctx.key) for p in pending):   # else a result replaces it
        pending.insert(0, _Pending(ctx.bucket, ctx.key, data, None))
    metas = await _commit(ctx, pending)
    return _reply(ctx, original, outputs, metas[len(metas) - len(outputs):])


async def image_process(ctx: Ctx) -> Response:
    ops = _parse_operations(ctx)
    await _authorize(ctx, ops, ["cos:GetObject"])
    meta = await versioning.fetch(ctx, with_inline=True)      # the current version, or ?versionId=
    _check_size(ctx, meta.size)
    data = meta.inline if meta.inline is not None else await run(_read_all, ctx, meta)
    original = await _original_xml(ctx, ops, data, meta.etag)
    outputs = await _run_rules(ctx, "cloud", ops, data)
    metas = await _commit(ctx, [_Pending(o.rule.bucket, o.rule.key, o.processed.result.data,
                                         MIME[o.processed.result.format]) for o in outputs])
    return _reply(ctx, original, outputs, metas)
