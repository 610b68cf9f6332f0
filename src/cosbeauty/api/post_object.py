"""POST Object: browser form upload (``POST /`` on a bucket, multipart/form-data), COS and S3 flavours.

Authentication is by the form itself, not by an Authorization header: the endpoint is declared
``unsigned=True`` in api/router.py so the application neither authenticates the request nor runs
its signed-scope check (a browser cannot sign headers); this handler then verifies, in this order:

1. the signature over the ``policy`` field --
   * COS: ``q-sign-algorithm=sha1``, ``q-ak``, ``q-key-time``, ``q-signature`` =
     HMAC-SHA1(HMAC-SHA1-hex(SecretKey, q-key-time), SHA1-hex(policy JSON)) (q-key-time must be current);
   * S3 SigV4: ``x-amz-algorithm=AWS4-HMAC-SHA256``, ``x-amz-credential``, ``x-amz-date``,
     ``x-amz-signature`` = hex HMAC-SHA256(signing key, base64 policy) (boto3 generate_presigned_post);
   * S3 V2: ``AWSAccessKeyId``, ``signature`` = base64 HMAC-SHA1(SecretKey, base64 policy);
   * none of these and no policy: an anonymous upload, allowed only by an ACL or bucket policy;
2. the policy: ``expiration`` in the future, and every condition (``{"field": "value"}``,
   ``["eq", "$field", v]``, ``["starts-with", "$field", prefix]``, ``["content-length-range", min, max]``)
   holds. As on S3, every form field that changes the upload (key, acl, Content-Type, x-*-meta-*,
   success_action_*, ...) must be named by a condition: the policy is what was signed, so an
   unsigned field has no effect -- it is refused (AccessDenied) rather than ignored;
3. authorization of ``cos:PostObject`` on the key, as for any request (policies, ACLs, bucket policy);
   temporary credentials pass their token in ``x-cos-security-token`` / ``x-amz-security-token``.

Fields after the ``file`` part are ignored, as S3 does. ``key`` may contain ``${filename}``. The
answer: ``success_action_redirect`` (303 to it with bucket, key and etag), else
``success_action_status`` 200 / 201 (PostResponse XML) / 204 (default).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from datetime import datetime, timezone
from urllib.parse import quote, urlencode

from starlette.responses import Response

from cosbeauty.api import addressing, versioning
from cosbeauty.api.acl import OBJECT_ACLS, writer_grants
from cosbeauty.api.auth import Identity
from cosbeauty.api.bodies import abort_writer
from cosbeauty.api.auth.sigv4 import parse_credential, signing_key
from cosbeauty.api.context import Ctx, run
from cosbeauty.api.errors import CosError
from cosbeauty.api.formdata import FormReader, bad, boundary_of
from cosbeauty.api.object_meta import MAX_USER_META
from cosbeauty.api.responses import headers_to_store, meta_size, quoted, xml_response
from cosbeauty.api.tagging import tags_from_xml
from cosbeauty.storage import ObjectMeta
from cosbeauty.storage.checksums import HEADER as CRC_HEADER

MAX_FIELDS = 64
FIELD_LIMIT = 64 * 1024
DRAIN_LIMIT = 1024 * 1024          # bytes of fields after the file we read (and ignore) before answering
BATCH = 1 << 20
# fields that carry the signature itself: never policy conditions
_SIGNATURE_FIELDS = {"policy", "signature", "x-amz-signature", "q-signature", "awsaccesskeyid", "q-ak",
                     "q-key-time", "q-sign-time", "q-sign-algorithm", "x-amz-algorithm", "x-amz-credential",
                     "x-amz-date", "x-amz-security-token", "x-cos-security-token", "file"}


# fields this handler uses (besides the signature fields, x-ignore-* and user metadata x-cos-/x-amz-meta-*)
_USED_FIELDS = {"key", "acl", "x-cos-acl", "x-amz-acl", "content-type", "cache-control", "content-disposition",
                "content-encoding", "expires", "x-cos-storage-class", "x-amz-storage-class", "success_action_status",
                "success_action_redirect", "redirect", "bucket", "tagging"}


def _check_known(fields: dict[str, str]) -> None:
    """A field this server would not act on is refused (501), never silently dropped."""
    for name in fields:
        if name in _USED_FIELDS or name in _SIGNATURE_FIELDS or name.startswith(("x-ignore-", "x-cos-meta-",
                                                                                  "x-amz-meta-")):
            continue
        raise CosError("NotImplemented", f"The form field {name!r} is not supported by this server's POST Object.")


def _denied(message: str) -> CosError:
    return CosError("AccessDenied", message)


def _hmac_sha1_hex(key: bytes, msg: bytes) -> str:
    return hmac.new(key, msg, hashlib.sha1).hexdigest()


async def _read_fields(form: FormReader) -> tuple[dict[str, str], object]:
    """Every field before the file part (names lower-cased), and the file part."""
    fields: dict[str, str] = {}
    while True:
        part = await form.next_part()
        if part is None:
            raise bad("The form has no file field.")
        name = part.name.lower()
        if name == "file":
            return fields, part
        if len(fields) >= MAX_FIELDS:
            raise bad(f"A form may have at most {MAX_FIELDS} fields.")
        if name in fields:
            raise bad(f"The form field {part.name!r} is given twice.")
        fields[name] = await form.read_field(FIELD_LIMIT)


def _authenticate(ctx: Ctx, fields: dict[str, str], policy_b64: str | None) -> Identity:
    lookup = ctx.app.accounts.lookup_secret
    if "q-signature" in fields or "q-ak" in fields:
        for name in ("q-sign-algorithm", "q-ak", "q-key-time", "q-signature"):
            if not fields.get(name):
                raise _denied(f"The COS form signature needs the {name} field.")
        if fields["q-sign-algorithm"].lower() != "sha1":
            raise _denied("q-sign-algorithm must be sha1.")
        start, _, end = fields["q-key-time"].partition(";")
        try:
            start_t, end_t = int(start), int(end)
        except ValueError:
            raise _denied("q-key-time must be '<start>;<end>' epoch seconds.") from None
        now = time.time()
        if now > end_t or start_t > now + ctx.app.config.signature_skew:
            raise _denied("Request has expired (q-key-time).")
        secret = _secret(lookup, fields["q-ak"])
        if policy_b64 is None:
            raise _denied("A signed form upload needs a policy field.")
        policy_json = _decode_policy(policy_b64)
        sign_key = _hmac_sha1_hex(secret.encode(), fields["q-key-time"].encode())
        expected = _hmac_sha1_hex(sign_key.encode(), hashlib.sha1(policy_json).hexdigest().encode())
        _compare(expected, fields["q-signature"].lower())
        return Identity(False, fields["q-ak"], "cos-post", fields.get("x-cos-security-token"))
    if "x-amz-signature" in fields:
        if fields.get("x-amz-algorithm") != "AWS4-HMAC-SHA256":
            raise _denied("x-amz-algorithm must be AWS4-HMAC-SHA256.")
        try:
            cred = parse_credential(fields.get("x-amz-credential", ""))
        except CosError:
            raise _denied("x-amz-credential is malformed.") from None
        if policy_b64 is None:
            raise _denied("A signed form upload needs a policy field.")
        key = signing_key(_secret(lookup, cred.access_key), cred)
        _compare(hmac.new(key, policy_b64.encode(), hashlib.sha256).hexdigest(), fields["x-amz-signature"].lower())
        return Identity(False, cred.access_key, "sigv4-post", fields.get("x-amz-security-token"))
    if "signature" in fields or "awsaccesskeyid" in fields:
        for name in ("policy", "AWSAccessKeyId", "signature"):        # as S3: a malformed form, 400
            if not fields.get(name.lower()):
                raise CosError("InvalidArgument", f"Bucket POST must contain a field named '{name}'.")
        secret = _secret(lookup, fields["awsaccesskeyid"])
        digest = hmac.new(secret.encode(), policy_b64.encode(), hashlib.sha1).digest()
        _compare(base64.b64encode(digest).decode(), fields.get("signature", ""))
        return Identity(False, fields["awsaccesskeyid"], "sigv2-post", fields.get("x-amz-security-token"))
    if policy_b64 is not None:
        raise _denied("The form has a policy but no signature.")
    return Identity(anonymous=True)


def _secret(lookup, access_key: str) -> str:
    secret = lookup(access_key)
    if secret is None:
        raise CosError("InvalidAccessKeyId")
    return secret


def _compare(expected: str, provided: str) -> None:
    if not hmac.compare_digest(expected.encode(), provided.encode("utf-8", "replace")):
        raise CosError("SignatureDoesNotMatch", "The form's signature over its policy does not match.")


def _decode_policy(policy_b64: str) -> bytes:
    try:
        return base64.b64decode(policy_b64.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise bad("The policy field is not base64.") from None


# ISO 8601 in UTC as COS and S3 document it: 2025-01-01T12:00:00.000Z (fraction optional)
_EXPIRATION = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z")


def _expiration(value: object) -> float:
    if not isinstance(value, str):
        raise bad("The policy needs an expiration.")
    text = value.strip()
    try:
        if _EXPIRATION.fullmatch(text) is None:
            raise ValueError(text)
        when = datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        raise bad(f"The policy expiration {value!r} is not an ISO 8601 UTC time like "
                  "2025-01-01T12:00:00.000Z.") from None
    return when.replace(tzinfo=timezone.utc).timestamp()


def _check_policy(ctx: Ctx, policy_b64: str | None, fields: dict[str, str], key: str) -> tuple[int, int] | None:
    """Enforce the policy; returns the content-length-range, if any."""
    if policy_b64 is None:
        return None
    try:
        doc = json.loads(_decode_policy(policy_b64))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise bad("The policy is not JSON.") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("conditions"), list):
        raise bad("The policy needs a conditions list.")
    if _expiration(doc.get("expiration")) < time.time():
        raise _denied("Invalid according to Policy: Policy expired.")
    values = {**fields, "key": key, "bucket": ctx.bucket}
    covered: set[str] = set()
    length: tuple[int, int] | None = None
    for cond in doc["conditions"]:
        if isinstance(cond, dict) and len(cond) == 1:
            (name, want), = cond.items()
            op, name = "eq", str(name).lower().lstrip("$")
        elif isinstance(cond, list) and len(cond) == 3 and isinstance(cond[0], str):
            op = cond[0].lower()
            if op == "content-length-range":
                try:
                    length = (int(cond[1]), int(cond[2]))
                except (TypeError, ValueError):
                    raise bad("content-length-range needs two integers.") from None
                continue
            name, want = str(cond[1]).lower().lstrip("$"), cond[2]
        else:
            raise bad(f"Unsupported policy condition {cond!r}.")
        if not isinstance(want, str):
            raise bad(f"Policy condition {cond!r} needs a string value.")
        covered.add(name)
        got = values.get(name, "")
        if name in ("q-sign-time",):
            got = fields.get("q-key-time", "")
        if op == "eq" and got != want or op == "starts-with" and not got.startswith(want) \
                or op not in ("eq", "starts-with"):
            raise _denied(f"Invalid according to Policy: Policy Condition failed: {json.dumps(cond)}")
    for name in fields:
        if name not in covered and name not in _SIGNATURE_FIELDS and not name.startswith("x-ignore-"):
            raise _denied(f"Invalid according to Policy: Extra input fields: {name}")
    return length


def _object_meta(ctx: Ctx, fields: dict[str, str], key: str, part_type: str | None) -> ObjectMeta:
    stored = headers_to_store(fields)
    if meta_size(stored) > MAX_USER_META:
        raise ctx.error("InvalidArgument", f"User metadata may be at most {MAX_USER_META} bytes.")
    acl = fields.get("x-cos-acl") or fields.get("x-amz-acl") or fields.get("acl") or "default"
    if acl not in OBJECT_ACLS:
        raise ctx.error("InvalidArgument", f"Unsupported ACL {acl!r}.")
    sclass = (fields.get("x-cos-storage-class") or fields.get("x-amz-storage-class") or "STANDARD").upper()
    tags = tags_from_xml(fields["tagging"].encode()) if fields.get("tagging") else {}   # S3's XML field
    return ObjectMeta(bucket=ctx.bucket, key=key, size=0, etag="", mtime=time.time(),
                      content_type=fields.get("content-type") or part_type or "application/octet-stream",
                      headers=stored, acl=acl, storage_class=sclass, tags=tags,
                      grants=writer_grants(ctx, {}))      # a sub-account's form upload is its object


async def _receive_file(ctx: Ctx, form: FormReader, limit: int):
    writer = ctx.app.backend.blob_writer()
    batch: list[bytes] = []
    pending = 0
    try:
        async for chunk in form.chunks():
            if writer.size + pending + len(chunk) > limit:
                raise ctx.error("EntityTooLarge", f"The file is larger than the {limit} bytes allowed.")
            batch.append(chunk)
            pending += len(chunk)
            if pending >= BATCH:
                await run(writer.write, b"".join(batch))
                batch, pending = [], 0
        if batch:
            await run(writer.write, b"".join(batch))
        blob, inline = writer.finish() if writer.buffered else await run(writer.finish)
    except BaseException as exc:
        await abort_writer(writer, exc)
        raise
    return writer, blob, inline


async def _drain(form: FormReader) -> None:
    seen = 0
    while seen <= DRAIN_LIMIT and await form.next_part() is not None:
        async for chunk in form.chunks():
            seen += len(chunk)
            if seen > DRAIN_LIMIT:
                return


def _location(ctx: Ctx, key: str) -> str:
    host = ctx.headers.get("host", "")
    path = "/" + quote(key) if ctx.target.virtual_host else f"/{ctx.bucket}/{quote(key)}"
    return f"{ctx.scope.get('scheme', 'http')}://{host}{path}"


async def post_object(ctx: Ctx) -> Response:
    if ctx.query_pairs:     # unsigned=True skips the app's parameter check: nothing here reads one
        raise ctx.error("InvalidArgument", "POST Object takes no query parameters; put everything in the form.")
    form = FormReader(ctx.stream(), boundary_of(ctx.header("content-type") or ""))
    await run(ctx.app.backend.get_bucket, ctx.bucket)
    fields, part = await _read_fields(form)
    key = fields.get("key", "")
    if not key:
        raise ctx.error("InvalidArgument", "The form needs a key field.")
    if "${filename}" in key:
        key = key.replace("${filename}", (part.filename or "").replace("\\", "/").rsplit("/", 1)[-1])
    addressing.check_key(key, ctx.app.config.max_key_bytes)
    _check_known(fields)
    policy_b64 = fields.get("policy")

    def admit() -> tuple[int, int] | None:
        """Signature, policy and authorization in one worker-thread hop: the key lookup and the
        authorizer's reads are PostgreSQL round trips in cluster mode."""
        ctx.identity = _authenticate(ctx, fields, policy_b64)
        ctx.principal = None
        length = _check_policy(ctx, policy_b64, fields, key)
        ctx.app.authorizer.check_sync(ctx, ["cos:PostObject"], key=key)
        return length
    length = await run(admit)
    meta = _object_meta(ctx, fields, key, part.content_type)
    limit = min(ctx.app.config.max_object_size, length[1] if length else ctx.app.config.max_object_size)
    writer, blob, inline = await _receive_file(ctx, form, limit)
    if length and writer.size < length[0]:
        if blob:
            await run(ctx.app.backend.drop_blobs, [blob])
        raise ctx.error("EntityTooSmall", f"The file is smaller than the {length[0]} bytes the policy requires.")
    meta.size, meta.etag = writer.size, writer.md5.hexdigest()
    meta.segments, meta.inline = ([[blob, writer.size]] if blob else []), inline
    meta.headers[CRC_HEADER] = str(writer.crc64)
    await ctx.app.backend.put_object_async(meta)
    await _drain(form)
    headers = {"etag": quoted(meta.etag), "location": _location(ctx, key), CRC_HEADER: str(writer.crc64),
               **versioning.version_headers(ctx, meta.version_id)}
    redirect = fields.get("success_action_redirect") or fields.get("redirect")
    if redirect:
        sep = "&" if "?" in redirect else "?"
        headers["location"] = redirect + sep + urlencode({"bucket": ctx.bucket, "key": key, "etag": quoted(meta.etag)})
        return Response(b"", status_code=303, headers=headers)
    status = fields.get("success_action_status", "204")
    if status == "201":
        return xml_response("PostResponse", {"Location": _location(ctx, key), "Bucket": ctx.bucket, "Key": key,
                                             "ETag": quoted(meta.etag)}, status=201, headers=headers)
    return Response(b"", status_code=200 if status == "200" else 204, headers=headers)
