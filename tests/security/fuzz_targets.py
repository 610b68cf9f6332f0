"""Fuzz targets for every parser that sees untrusted bytes (issue #13 item 10).

Each :class:`Target` pairs a hypothesis strategy with a call into one parser and the exception
types that parser declares. A run passes when every example returns or raises one of those types
within ``TIME_BOUND`` seconds. Used by tests/security/test_fuzz_parsers.py (short, in the suite)
and bench/fuzz.py (long runs that print what they find).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any, Callable

from hypothesis import strategies as st

TIME_BOUND = 2.0          # seconds per example; generous for a shared 2-core machine
SECRET_ID = "AKIDcosbeautyTESTKEY0000000000000001"
SECRET_KEY = "cosbeauty-test-secret-key-000001"
NOW = 1_764_000_000.0


@dataclass(frozen=True)
class Target:
    name: str
    strategy: st.SearchStrategy
    run: Callable[[Any], object]
    allowed: Callable[[], tuple[type[BaseException], ...]]   # lazily imported error types


class TooSlow(AssertionError):
    pass


def _timed(target: Target, example: Any) -> float:
    started = time.perf_counter()
    try:
        target.run(example)
    except target.allowed():
        pass
    return time.perf_counter() - started


def check(target: Target, example: Any) -> None:
    """Run one example; raise if it escapes with an undeclared exception or takes too long. A slow
    input is timed again: only one that is slow twice counts (the machine is shared; a real
    blow-up is slow every time)."""
    if _timed(target, example) > TIME_BOUND:
        elapsed = _timed(target, example)
        if elapsed > TIME_BOUND:
            raise TooSlow(f"{target.name}: {elapsed:.2f} s for one input (bound {TIME_BOUND} s)")


# -- building blocks ---------------------------------------------------------------------------
text = st.text(max_size=80)
latin1 = st.text(st.characters(max_codepoint=255), max_size=120)
token = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz-0123456789;,=&/_.%*: "), max_size=40)
header_names = st.sampled_from(["host", "content-type", "content-md5", "x-cos-acl", "x-amz-date", "date",
                                "x-amz-content-sha256", "x-cos-security-token", "pic-operations",
                                "x-cos-copy-source", "content-length", "range", "origin"])


def maybe(valid: st.SearchStrategy, noise: st.SearchStrategy = token) -> st.SearchStrategy:
    return st.one_of(valid, valid, noise)


def name_list(names: st.SearchStrategy = header_names) -> st.SearchStrategy:
    return st.lists(names, max_size=40).map(";".join)


# -- signatures --------------------------------------------------------------------------------
def _signed_request(method: str, path: str, query: list[tuple[str, str]], headers: dict[str, str]):
    from cosbeauty.api.auth import SignedRequest
    return SignedRequest(method=method, raw_path=path, path=path, query=query,
                         headers={"host": "b-1250000000.cos.ap-guangzhou.myqcloud.com", **headers},
                         cos_paths=[path], bucket="b-1250000000", virtual_host=True)


def _lookup(access_key: str) -> str | None:
    return SECRET_KEY if access_key == SECRET_ID else None


def _authenticate(example: tuple) -> object:
    from cosbeauty.api.auth import authenticate
    method, path, query, headers = example
    return authenticate(_signed_request(method, path, query, headers), _lookup, NOW)


_window = maybe(st.tuples(st.integers(0, 2 * 10**9), st.integers(0, 2 * 10**9)).map(lambda t: f"{t[0]};{t[1]}"))
_ak = maybe(st.just(SECRET_ID))
_hex = maybe(st.text("0123456789abcdef", min_size=40, max_size=64))
cos_fields = st.fixed_dictionaries({
    "q-sign-algorithm": maybe(st.just("sha1")), "q-ak": _ak, "q-sign-time": _window, "q-key-time": _window,
    "q-header-list": maybe(name_list()), "q-url-param-list": maybe(name_list(st.sampled_from(
        ["acl", "ci-process", "strength", "detect-url", "uploads", "partnumber", "uploadid", "x"]))),
    "q-signature": _hex}, optional={"x-extra": token})
cos_auth = cos_fields.map(lambda d: "&".join(f"{k}={v}" for k, v in d.items()))
_credential = st.tuples(_ak, maybe(st.just("20251124")), maybe(st.just("ap-guangzhou")), maybe(st.just("s3")),
                        maybe(st.just("aws4_request"))).map("/".join)
sigv4_auth = st.tuples(_credential, maybe(name_list()), _hex).map(
    lambda t: f"AWS4-HMAC-SHA256 Credential={t[0]}, SignedHeaders={t[1]}, Signature={t[2]}")
sigv2_auth = st.tuples(_ak, maybe(st.text(max_size=40))).map(lambda t: f"AWS {t[0]}:{t[1]}")
auth_headers = st.fixed_dictionaries(
    {"authorization": st.one_of(cos_auth, sigv4_auth, sigv2_auth, latin1)},
    optional={"x-amz-date": maybe(st.just("20251124T160000Z")), "date": latin1,
              "x-amz-content-sha256": maybe(st.sampled_from(["UNSIGNED-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"])),
              "x-cos-security-token": token, "x-cos-acl": token, "content-md5": token})
query_pairs = st.lists(st.tuples(st.sampled_from(
    ["q-sign-algorithm", "q-ak", "q-sign-time", "q-key-time", "q-header-list", "q-url-param-list", "q-signature",
     "sign", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
     "X-Amz-Signature", "AWSAccessKeyId", "Signature", "Expires", "acl", "ci-process", "strength", "x"]),
    st.one_of(token, st.just("sha1"), st.just(SECRET_ID), st.just("AWS4-HMAC-SHA256"), latin1)), max_size=14)
methods = st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD"])
paths = st.one_of(st.just("/k"), st.text(max_size=30).map(lambda p: "/" + p))


def _auth_allowed() -> tuple:
    from cosbeauty.api.errors import CosError
    return (CosError,)


def _cos_presigned_query() -> st.SearchStrategy:
    return cos_fields.map(lambda d: list(d.items()))


# -- aws-chunked ---------------------------------------------------------------------------------
def _chunk_body() -> st.SearchStrategy:
    sizes = st.one_of(st.integers(0, 70).map(lambda n: f"{n:x}"), token)
    chunk = st.tuples(sizes, st.one_of(st.just(""), st.just(";chunk-signature=" + "0" * 64), token),
                      st.binary(max_size=80), st.sampled_from([b"\r\n", b"\n", b""]))
    structured = st.lists(chunk, max_size=6).map(
        lambda cs: b"".join(s.encode() + e.encode() + b"\r\n" + d + t for s, e, d, t in cs))
    return st.one_of(structured, st.binary(max_size=400),
                     structured.map(lambda b: b + b"0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"))


def _split_source(body: bytes, splits: list[int]):
    """An async byte source that yields ``body`` cut at the (wrapped) offsets in ``splits``."""
    pieces, start = [], 0
    for cut in sorted(s % (len(body) + 1) for s in splits):
        pieces.append(body[start:cut])
        start = cut
    pieces.append(body[start:])

    async def source():
        for piece in pieces:
            yield piece
    return source()


def _decode_chunked(example: tuple) -> object:
    from cosbeauty.api.auth.chunked import STREAMING_MODES, ChunkedContext, decode_aws_chunked
    body, mode_index, splits, trailer, length = example
    ctx = ChunkedContext(mode=STREAMING_MODES[mode_index % len(STREAMING_MODES)], signing_key=b"k" * 32,
                         amz_date="20251124T160000Z", scope="20251124/ap-guangzhou/s3/aws4_request",
                         seed_signature="0" * 64, trailer=trailer, decoded_length=length)
    source = _split_source(body, splits)

    async def drain() -> int:
        return sum([len(b) async for b in decode_aws_chunked(source, ctx)])

    return asyncio.run(drain())


# -- XML, CORS, Pic-Operations, policies ------------------------------------------------------------
_tags = st.sampled_from(["CORSConfiguration", "CORSRule", "AllowedOrigin", "AllowedMethod", "AllowedHeader",
                         "ExposeHeader", "MaxAgeSeconds", "ID", "Delete", "Object", "Key", "Quiet",
                         "Tagging", "TagSet", "Tag", "Value", "CompleteMultipartUpload", "Part", "PartNumber",
                         "ETag", "VersioningConfiguration", "Status", "AccessControlPolicy", "Grant", "x"])
_leaf = st.one_of(st.text(max_size=20), st.sampled_from(["*", "GET", "PUT", "https://*.example.com", "3000", "-1"]))


def _xml_tree(depth: int = 3) -> st.SearchStrategy:
    return st.recursive(
        st.tuples(_tags, _leaf).map(lambda t: f"<{t[0]}>{_escape(t[1])}</{t[0]}>"),
        lambda children: st.tuples(_tags, st.lists(children, max_size=5)).map(
            lambda t: f"<{t[0]}>{''.join(t[1])}</{t[0]}>"),
        max_leaves=25)


def _escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


xml_bodies = st.one_of(
    _xml_tree().map(lambda s: s.encode()),
    st.binary(max_size=300),
    st.text(max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.sampled_from([b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>',
                     b"<a>" * 3000 + b"</a>" * 3000, b"<a xmlns='urn:x'><b/></a>", b"\xef\xbb\xbf<a/>"]))


def _xml_parse(body: bytes) -> object:
    from cosbeauty.api import xml
    return xml.parse(body)


def _cors(example: tuple) -> object:
    from cosbeauty.api import cors
    body, origin, method, headers = example
    config = cors.parse_config(body)
    return cors.match(config, origin, method, headers)


cors_bodies = st.one_of(xml_bodies, st.lists(st.tuples(
    st.lists(st.sampled_from(["*", "https://a.example", "http://*.x", "**", "*a*", ""]), max_size=3),
    st.lists(st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD", "get", "PATCH", ""]), max_size=3),
    st.lists(st.sampled_from(["*", "x-cos-meta-*", "content-type", "a*b*"]), max_size=3),
    st.one_of(st.integers(-5, 10**12).map(str), token)), max_size=4).map(lambda rules: (
        "<CORSConfiguration>" + "".join(
            "<CORSRule>" + "".join(f"<AllowedOrigin>{o}</AllowedOrigin>" for o in r[0])
            + "".join(f"<AllowedMethod>{m}</AllowedMethod>" for m in r[1])
            + "".join(f"<AllowedHeader>{h}</AllowedHeader>" for h in r[2])
            + f"<MaxAgeSeconds>{_escape(r[3])}</MaxAgeSeconds></CORSRule>" for r in rules)
        + "</CORSConfiguration>").encode()))

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=True), st.text(max_size=30)),
    lambda children: st.one_of(st.lists(children, max_size=5), st.dictionaries(st.text(max_size=10), children,
                                                                               max_size=5)),
    max_leaves=30)
_rule = st.fixed_dictionaries({}, optional={
    "fileid": st.one_of(st.text(max_size=40), st.sampled_from(["/a.jpg", "../x", "a/../../b", "", "/" * 900])),
    "rule": st.one_of(st.text(max_size=60), st.sampled_from(
        ["ci-process=AIFaceBeauty&strength=0.5", "ci-process=AIFaceBeauty&strength=2", "imageMogr2/thumbnail/1x1",
         "ci-process=AIFaceBeauty&ci-process=x", "ci-process=&&&", "ci-process=AIFaceBeauty&strength=1e3"])),
    "bucket": st.one_of(st.text(max_size=20), st.just("other-1250000000"))})
pic_operations = st.one_of(
    st.fixed_dictionaries({"rules": st.lists(_rule, max_size=7)},
                          optional={"is_pic_info": st.one_of(json_values, st.sampled_from([0, 1, "1"]))}).map(json.dumps),
    json_values.map(lambda v: json.dumps(v)),
    latin1,
    st.integers(1, 6000).map(lambda n: '{"rules":' + "[" * n + "]" * n + "}"))


def _pic_operations(header: str) -> object:
    from cosbeauty.api import pic_operations
    return pic_operations.parse(header, "b-1250000000", "k.jpg", 850)


_statement = st.fixed_dictionaries({}, optional={
    "effect": st.one_of(st.sampled_from(["allow", "deny", "Allow"]), json_values),
    "action": st.one_of(st.sampled_from(["name/cos:GetObject", "cos:*", "*"]), json_values),
    "resource": st.one_of(st.sampled_from(["*", "qcs::cos:ap-guangzhou:uid/1250000000:b-1250000000/*"]), json_values),
    "condition": st.one_of(json_values, st.fixed_dictionaries({
        st.sampled_from(["ip_equal", "ip_not_equal", "bool_equal", "x"]): st.dictionaries(
            st.sampled_from(["qcs:ip", "qcs:secure_transport", "x"]),
            st.one_of(st.text(max_size=20), st.lists(st.text(max_size=20), max_size=3)), max_size=2)}))})
policies = st.one_of(
    st.fixed_dictionaries({"version": st.sampled_from(["2.0", "1"]), "statement": st.lists(_statement, max_size=4)}),
    json_values, st.text(max_size=100))


def _policy(doc: Any) -> object:
    from cosbeauty.iam.policy import parse_policy
    return parse_policy(doc)


def _policy_allowed() -> tuple:
    from cosbeauty.iam.policy import PolicyError
    return (PolicyError,)


# -- processing parameters, Range, addressing, detect-url ---------------------------------------
def _strength(value: str) -> object:
    from cosbeauty.imaging.registry import parse_strength
    return parse_strength({"strength": value})


def _image_param_allowed() -> tuple:
    from cosbeauty.imaging.errors import ImageError
    return (ImageError,)


ranges = st.tuples(st.one_of(
    st.tuples(st.integers(0, 10**20), st.integers(0, 10**20)).map(lambda t: f"bytes={t[0]}-{t[1]}"),
    st.integers(0, 10**20).map(lambda n: f"bytes=-{n}"), st.integers(0, 10**20).map(lambda n: f"bytes={n}-"),
    st.text(st.sampled_from("bytes=-,0123456789 \t"), max_size=30), latin1), st.integers(0, 10**12))


def _range(example: tuple) -> object:
    from cosbeauty.api.objects import parse_range
    value, size = example
    result = parse_range(value, size)
    if result is not None:
        start, end = result
        assert 0 <= start < end <= size or (size == 0 and start == end == 0), (value, size, result)
    return result


def _addressing(example: tuple) -> object:
    from cosbeauty.api import addressing
    host, path, key = example
    target = addressing.resolve(host, path, ["localhost"])
    if target.bucket:
        addressing.check_bucket_name(target.bucket)
    addressing.check_key(key, 850)
    return target


def _detect_url(raw: str) -> object:
    from cosbeauty.ci import fetch
    url = fetch.decode_detect_url(raw)
    return fetch._parse(url)        # scheme/host/port checks; no network


def _fetch_allowed() -> tuple:
    from cosbeauty.ci.fetch import FetchError
    return (FetchError,)


# -- image header sniffing ------------------------------------------------------------------------
MAGICS = [b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", b"\xff\xd8\xff\xe1\x00\x40Exif\x00\x00II*\x00\x08\x00\x00\x00",
          b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"RIFF\x00\x00\x00\x00WEBPVP8 ", b"RIFF\x00\x00\x00\x00WEBPVP8L",
          b"RIFF\x00\x00\x00\x00WEBPVP8X", b"BM", b"II*\x00", b"MM\x00*", b"GIF89a"]


def _tiny_images() -> list[bytes]:
    import io

    from PIL import Image
    out = []
    for fmt in ("JPEG", "PNG", "WEBP", "BMP", "TIFF"):
        buf = io.BytesIO()
        Image.new("RGB", (3, 2), (200, 120, 90)).save(buf, fmt)
        out.append(buf.getvalue())
    return out


def _mutate(data: bytes, edits: list[tuple[int, int]]) -> bytes:
    buf = bytearray(data)
    for pos, value in edits:
        if buf:
            buf[pos % len(buf)] = value
    return bytes(buf)


image_bytes = st.one_of(
    st.tuples(st.sampled_from(MAGICS), st.binary(max_size=300)).map(lambda t: t[0] + t[1]),
    st.tuples(st.sampled_from(range(5)), st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)),
                                                  max_size=12), st.integers(0, 400)).map(
        lambda t: _mutate(_tiny_images()[t[0]], t[1])[: max(8, len(_tiny_images()[t[0]]) - t[2])]),
    st.binary(max_size=200))


def _probe(data: bytes) -> object:
    from cosbeauty.imaging.codec import Limits, image_info, probe
    limits = Limits(max_bytes=1 << 20, max_pixels=4_000_000)
    probe(data, limits)
    return image_info(data, limits)


def _decode(data: bytes) -> object:
    from cosbeauty.imaging.codec import Limits, decode
    return decode(data, Limits(max_bytes=1 << 20, max_pixels=4_000_000))


# -- multipart/form-data (POST Object) ------------------------------------------------------------
_form_part = st.tuples(st.sampled_from(["key", "file", "policy", "x-cos-meta-a", "", "a\"b"]),
                       st.one_of(st.none(), st.just("f.jpg"), token),
                       st.one_of(st.binary(max_size=60), st.just(b"--B"), st.just(b"\r\n--B")),
                       st.sampled_from(["form-data", "attachment", "FORM-DATA", ""]))
form_bodies = st.one_of(
    st.lists(_form_part, max_size=5).map(lambda parts: b"".join(
        b"--B\r\nContent-Disposition: " + kind.encode() + b"; name=\"" + name.encode() + b"\""
        + (b"; filename=\"" + fn.encode() + b"\"" if fn is not None else b"") + b"\r\n\r\n" + body + b"\r\n"
        for name, fn, body, kind in parts) + b"--B--\r\n"),
    st.binary(max_size=400))
content_types = st.one_of(st.just("multipart/form-data; boundary=B"), st.just('multipart/form-data; boundary="B"'),
                          latin1, st.just("multipart/form-data; boundary=" + "x" * 71))


def _form(example: tuple) -> object:
    from cosbeauty.api.formdata import FormReader, boundary_of
    content_type, body, splits = example
    boundary = boundary_of(content_type)
    source = _split_source(body, splits)

    async def read_all() -> int:
        reader, total = FormReader(source, boundary), 0
        while (part := await reader.next_part()) is not None:
            total += len(await reader.read_field(1024)) if part.filename is None else \
                sum([len(c) async for c in reader.chunks()])
        return total

    return asyncio.run(read_all())


TARGETS = [
    Target("auth-header", st.tuples(methods, paths, query_pairs, auth_headers), _authenticate, _auth_allowed),
    Target("auth-presigned", st.tuples(methods, paths, st.one_of(query_pairs, _cos_presigned_query()),
                                       st.just({})), _authenticate, _auth_allowed),
    Target("aws-chunked", st.tuples(_chunk_body(), st.integers(0, 2), st.lists(st.integers(0, 500), max_size=4),
                                    st.sampled_from([None, "x-amz-checksum-crc32", "x-amz-checksum-sha256"]),
                                    st.one_of(st.none(), st.integers(0, 200))), _decode_chunked, _auth_allowed),
    Target("xml-body", xml_bodies, _xml_parse, _auth_allowed),
    Target("cors-rules", st.tuples(cors_bodies, latin1, st.sampled_from(["GET", "PUT", "PATCH", ""]),
                                   st.lists(token, max_size=4)), _cors, _auth_allowed),
    Target("pic-operations", pic_operations, _pic_operations, _auth_allowed),
    Target("iam-policy", policies, _policy, _policy_allowed),
    Target("strength", st.one_of(st.floats().map(repr), latin1, st.sampled_from(["1e0", "0x1", "-0", ".5", "1."])),
           _strength, _image_param_allowed),
    Target("range", ranges, _range, _auth_allowed),
    Target("addressing", st.tuples(st.one_of(latin1, st.sampled_from(["b-1250000000.cos.ap-guangzhou.myqcloud.com",
                                                                      "x.localhost:8000", "[::1]:80", ":::"])),
                                   st.one_of(paths, st.just("/b-1250000000/k")), st.text(max_size=60)),
           _addressing, _auth_allowed),
    Target("detect-url", st.one_of(latin1, st.sampled_from(["http://[::1", "http://a:99999/", "https://x:-1/",
                                                            "http%3A%2F%2F127.0.0.1%2F", "http://u:p@h/"])),
           _detect_url, _fetch_allowed),
    Target("form-data", st.tuples(content_types, form_bodies, st.lists(st.integers(0, 500), max_size=4)), _form,
           _auth_allowed),
    Target("image-probe", image_bytes, _probe, _image_param_allowed),
    Target("image-decode", image_bytes, _decode, _image_param_allowed),
]
