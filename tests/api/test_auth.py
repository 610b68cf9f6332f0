"""Signature verification against signatures produced by the real client code (cos-python-sdk-v5, botocore/boto3)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import io
import random
import time
import zlib
from typing import AsyncIterator, Iterable
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import boto3
import pytest
import requests
from botocore.auth import HmacV1Auth, HmacV1QueryAuth, S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum, Sha1Checksum, Sha256Checksum
from qcloud_cos import CosConfig, CosS3Client
from qcloud_cos.cos_auth import CosS3Auth

from cosbeauty.api.auth import Identity, SignedRequest, authenticate
from cosbeauty.api.auth.chunked import (
    SIGNED_PAYLOAD,
    SIGNED_PAYLOAD_TRAILER,
    ChunkedContext,
    _crc32c_python,
    crc32c,
    decode_aws_chunked,
    decoded_content_length,
)
from cosbeauty.api.auth.sigv4 import Credential, signing_key
from cosbeauty.api.errors import CosError

AK, SK = "AKIDcosbeautyTEST", "s3cr3t/Key+with=chars"
SECRETS = {AK: SK}
lookup = SECRETS.get
BUCKET = "photos-1250000000"
KEYS = ["a.txt", "dir/sub/deep/file name.jpg", "unicode/图片 ü.png", "plus+and%percent", "sp ace/a./b", "~t!lde'(x)*"]


# -- helpers ---------------------------------------------------------------------------------


def as_signed_request(method: str, url: str, headers: Iterable[tuple[str, str | bytes]],
                      cos_paths: Iterable[str] = ()) -> SignedRequest:
    """What the app does with the ASGI scope: raw path, decoded path, parse_qsl query, lower-case headers."""
    parts = urlsplit(url)
    merged: dict[str, str] = {}
    for name, value in headers:
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        key = name.lower()
        merged[key] = f"{merged[key]},{text}" if key in merged else text
    merged.setdefault("host", parts.netloc)   # http clients add Host from the URL
    return SignedRequest(method=method, raw_path=parts.path or "/", path=unquote(parts.path) or "/",
                         query=parse_qsl(parts.query, keep_blank_values=True), headers=merged,
                         cos_paths=list(cos_paths))


def code_of(req: SignedRequest, now: float | None = None, secrets: dict[str, str] = SECRETS) -> str:
    with pytest.raises(CosError) as info:
        authenticate(req, secrets.get, now=now)
    return info.value.code


def replace_query(req: SignedRequest, name: str, value: str) -> SignedRequest:
    query = [(k, value if k == name else v) for k, v in req.query]
    return SignedRequest(req.method, req.raw_path, req.path, query, dict(req.headers), list(req.cos_paths))


def with_headers(req: SignedRequest, **changes: str) -> SignedRequest:
    return SignedRequest(req.method, req.raw_path, req.path, list(req.query), {**req.headers, **changes},
                         list(req.cos_paths))


def cos_config(**extra: object) -> CosConfig:
    return CosConfig(Region="ap-guangzhou", SecretId=AK, SecretKey=SK, Scheme="http", **extra)


def cos_signed(method: str, key: str, params: dict[str, str] | None = None, headers: dict[str, str] | None = None,
               data: bytes | None = None, expire: int = 10000, conf: CosConfig | None = None) -> SignedRequest:
    """Sign like CosS3Client does: requests.Request(...).prepare() with CosS3Auth."""
    conf = conf or cos_config()
    url = conf.uri(bucket=BUCKET, path=key)
    prepared = requests.Request(method, url, params=params or {}, headers=headers or {}, data=data).prepare()
    CosS3Auth(conf, key, params=params or {}, expire=expire)(prepared)
    return as_signed_request(method, prepared.url, prepared.headers.items())


def run(agen: AsyncIterator[bytes]) -> bytes:
    async def collect() -> bytes:
        return b"".join([piece async for piece in agen])
    return asyncio.run(collect())


async def pieces(parts: Iterable[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def decode(body: bytes | list[bytes], ctx: ChunkedContext) -> bytes:
    return run(decode_aws_chunked(pieces([body] if isinstance(body, bytes) else body), ctx))


# -- COS v5: header signatures ---------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS)
def test_cos_header_signature_valid_for_awkward_keys(key: str) -> None:
    req = cos_signed("PUT", key, headers={"x-cos-meta-note": "a b/c", "Content-Type": "image/jpeg"}, data=b"body")
    identity = authenticate(req, lookup)
    assert identity == Identity(anonymous=False, access_key=AK, scheme="cos")


@pytest.mark.parametrize("params", [
    {"acl": ""},
    {"uploads": ""},
    {"ci-process": "AIFaceBeauty", "strength": "0.3"},
    {"prefix": "a b/+c%", "delimiter": "/", "max-keys": "10"},
    {"partNumber": "3", "uploadId": "1700000000abc"},
])
def test_cos_header_signature_with_query_params(params: dict[str, str]) -> None:
    req = cos_signed("GET", "dir/img 1.jpg", params=params)
    assert authenticate(req, lookup).access_key == AK


def test_cos_signature_rejections() -> None:
    req = cos_signed("PUT", "dir/x.jpg", params={"ci-process": "AIFaceBeauty", "strength": "0.3"},
                     headers={"x-cos-meta-a": "1"}, data=b"abc")
    assert code_of(req, secrets={AK: "wrong"}) == "SignatureDoesNotMatch"
    assert code_of(req, secrets={}) == "InvalidAccessKeyId"
    assert code_of(with_headers(req, **{"x-cos-meta-a": "2"})) == "SignatureDoesNotMatch"
    assert code_of(replace_query(req, "strength", "0.9")) == "SignatureDoesNotMatch"
    moved = SignedRequest(req.method, "/dir/y.jpg", "/dir/y.jpg", req.query, req.headers)
    assert code_of(moved) == "SignatureDoesNotMatch"
    other_method = SignedRequest("POST", req.raw_path, req.path, req.query, req.headers)
    assert code_of(other_method) == "SignatureDoesNotMatch"
    missing = SignedRequest(req.method, req.raw_path, req.path, req.query,
                            {k: v for k, v in req.headers.items() if k != "x-cos-meta-a"})
    assert code_of(missing) == "SignatureDoesNotMatch"


def test_cos_mismatch_message_has_hint_but_no_secret() -> None:
    req = cos_signed("GET", "k.txt")
    with pytest.raises(CosError) as info:
        authenticate(req, {AK: "wrong"}.get)
    assert "HttpString: 'get\\n/k.txt\\n" in info.value.message
    assert SK not in info.value.message and "wrong" not in info.value.message


def test_cos_time_window() -> None:
    signed_at = time.time()
    req = cos_signed("GET", "k.txt", expire=30)
    assert authenticate(req, lookup, now=signed_at + 20).access_key == AK
    with pytest.raises(CosError) as info:
        authenticate(req, lookup, now=signed_at + 600)
    assert (info.value.code, info.value.message) == ("AccessDenied", "Request has expired")
    assert code_of(req, now=signed_at - 3600) == "RequestTimeTooSkewed"


@pytest.mark.parametrize("bad", ["1;", "abc;def", "200;100", "100"])
def test_cos_malformed_sign_time(bad: str) -> None:
    req = cos_signed("GET", "k.txt")
    auth = req.headers["authorization"]
    start = auth.index("q-sign-time=") + len("q-sign-time=")
    end = auth.index("&", start)
    assert code_of(with_headers(req, authorization=auth[:start] + bad + auth[end:])) == "AccessDenied"


def test_cos_host_signed_without_port_when_taken_from_url() -> None:
    conf = cos_config(Domain="localhost:9000")
    req = cos_signed("GET", "dir/k.txt", conf=conf)
    assert req.headers["host"] == "localhost:9000"
    assert "host" in req.headers["authorization"].split("q-header-list=")[1].split("&")[0].split(";")
    assert authenticate(req, lookup).access_key == AK


def test_cos_path_style_candidates() -> None:
    req = cos_signed("GET", "dir/k.txt")
    path_style = SignedRequest(req.method, f"/{BUCKET}/dir/k.txt", f"/{BUCKET}/dir/k.txt", req.query, req.headers,
                               cos_paths=["/dir/k.txt", f"/{BUCKET}/dir/k.txt"])
    assert authenticate(path_style, lookup).scheme == "cos"


def test_cos_get_auth_with_headers_and_params() -> None:
    client = CosS3Client(cos_config())
    auth = client.get_auth(Method="PUT", Bucket=BUCKET, Key="a b/c.jpg", Headers={"Content-Type": "image/png"},
                           Params={"acl": ""})
    url = client._conf.uri(bucket=BUCKET, path="a b/c.jpg") + "?acl"
    req = as_signed_request("PUT", url, [("Content-Type", "image/png"), ("Authorization", auth)])
    assert req.headers["host"] == f"{BUCKET}.cos.ap-guangzhou.myqcloud.com"
    assert authenticate(req, lookup).scheme == "cos"


class _CapturingSession:
    """Stands in for CosS3Client's requests session: records the prepared request, answers 200."""

    def __init__(self, session: requests.Session) -> None:
        self.session = session
        self.sent: list[requests.PreparedRequest] = []

    def send(self, prepared: requests.PreparedRequest, **_: object) -> requests.Response:
        self.sent.append(prepared)
        response = requests.Response()
        response.status_code = 200
        response.headers.update({"ETag": '"0"', "x-cos-request-id": "r", "Content-Length": "0"})
        response._content = b""
        response.url = prepared.url
        response.raw = io.BytesIO(b"")
        return response


@pytest.fixture
def cos_client(monkeypatch: pytest.MonkeyPatch) -> tuple[CosS3Client, _CapturingSession]:
    client = CosS3Client(cos_config(Token="tmp-token/+="))
    capture = _CapturingSession(client._session)
    monkeypatch.setattr(client._session, "send", capture.send)
    return client, capture


def test_cos_sdk_requests_verify_and_capture_token(cos_client: tuple[CosS3Client, _CapturingSession]) -> None:
    client, capture = cos_client
    client.put_object(Bucket=BUCKET, Key="相册/a b+c%.jpg", Body=b"\xff\xd8 jpeg", ContentType="image/jpeg",
                      Metadata={"x-cos-meta-owner": "me"})
    client.head_object(Bucket=BUCKET, Key="dir/x y.png")
    client.get_object(Bucket=BUCKET, Key="dir/x y.png", ResponseContentType="text/plain")
    client.put_object_acl(Bucket=BUCKET, Key="k", ACL="public-read")
    assert len(capture.sent) == 4
    for prepared in capture.sent:
        req = as_signed_request(prepared.method, prepared.url, prepared.headers.items())
        identity = authenticate(req, lookup)
        assert (identity.scheme, identity.security_token) == ("cos", "tmp-token/+=")


# -- COS v5: pre-signed URLs -----------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS)
def test_cos_presigned_url(key: str) -> None:
    client = CosS3Client(cos_config())
    url = client.get_presigned_url(Bucket=BUCKET, Key=key, Method="PUT", Expired=120)
    identity = authenticate(as_signed_request("PUT", url, []), lookup)
    assert (identity.scheme, identity.access_key) == ("cos-presigned", AK)


def test_cos_presigned_download_with_params_and_token() -> None:
    client = CosS3Client(cos_config())
    params = {"ci-process": "AIFaceBeauty", "strength": "0.3", "x-cos-security-token": "tok en"}
    url = client.get_presigned_download_url(Bucket=BUCKET, Key="face/p 1.jpg", Params=params)
    req = as_signed_request("GET", url, [])
    identity = authenticate(req, lookup)
    assert (identity.scheme, identity.security_token) == ("cos-presigned", "tok en")
    assert code_of(replace_query(req, "strength", "1")) == "SignatureDoesNotMatch"
    assert code_of(as_signed_request("PUT", url, [])) == "SignatureDoesNotMatch"
    assert code_of(req, now=time.time() + 400) == "AccessDenied"


def test_cos_whole_auth_string_in_sign_param() -> None:
    client = CosS3Client(cos_config())
    auth = client.get_auth(Method="GET", Bucket=BUCKET, Key="k 1.txt")
    url = client._conf.uri(bucket=BUCKET, path="k 1.txt") + "?sign=" + quote(auth, safe="")
    assert authenticate(as_signed_request("GET", url, []), lookup).scheme == "cos-presigned"


# -- SigV4 -----------------------------------------------------------------------------------


class StreamingSigner(S3SigV4Auth):
    """botocore's signer with the payload hash replaced by a fixed mode (botocore has no chunk signer)."""

    mode = SIGNED_PAYLOAD

    def payload(self, request: AWSRequest) -> str:
        return self.mode


class TrailerStreamingSigner(StreamingSigner):
    mode = SIGNED_PAYLOAD_TRAILER


class UnsignedPayloadSigner(StreamingSigner):
    mode = "UNSIGNED-PAYLOAD"


def sigv4_signed(method: str, url: str, headers: dict[str, str] | None = None, body: bytes = b"",
                 token: str | None = None, signer: type[S3SigV4Auth] = S3SigV4Auth) -> SignedRequest:
    request = AWSRequest(method=method, url=url, headers=headers or {}, data=body)
    signer(Credentials(AK, SK, token), "s3", "us-east-1").add_auth(request)
    return as_signed_request(method, request.url, request.headers.items())


def sigv4_presigned(method: str, url: str, expires: int = 300, token: str | None = None) -> SignedRequest:
    request = AWSRequest(method=method, url=url)
    S3SigV4QueryAuth(Credentials(AK, SK, token), "s3", "us-east-1", expires=expires).add_auth(request)
    return as_signed_request(method, request.url, [])


ENDPOINT = "http://127.0.0.1:9000"
S3_URLS = [
    f"{ENDPOINT}/bucket/a.txt",
    f"{ENDPOINT}/bucket/{quote('dir/sub/file name+%.jpg', safe='/~')}",
    f"{ENDPOINT}/bucket/{quote('图片/ü.png', safe='/~')}",
    f"{ENDPOINT}/bucket/k?acl",
    f"{ENDPOINT}/bucket/k?uploads",
    f"{ENDPOINT}/bucket/k?ci-process=AIFaceBeauty&strength=0.3",
    f"{ENDPOINT}/bucket?list-type=2&prefix=a%20b%2F%2B&delimiter=%2F",
]


@pytest.mark.parametrize("url", S3_URLS)
def test_sigv4_header_valid(url: str) -> None:
    req = sigv4_signed("PUT", url, headers={"Content-Type": "image/jpeg", "x-amz-meta-a": "  x   y "}, body=b"data")
    identity = authenticate(req, lookup)
    assert (identity.scheme, identity.access_key) == ("sigv4", AK)
    assert identity.payload_sha256 == hashlib.sha256(b"data").hexdigest()


def test_sigv4_header_rejections() -> None:
    signed_at = time.time()
    req = sigv4_signed("PUT", f"{ENDPOINT}/bucket/k?ci-process=AIFaceBeauty&strength=0.3",
                       headers={"x-amz-meta-a": "1"}, body=b"d")
    assert code_of(req, secrets={AK: "nope"}) == "SignatureDoesNotMatch"
    assert code_of(req, secrets={}) == "InvalidAccessKeyId"
    assert code_of(with_headers(req, **{"x-amz-meta-a": "2"})) == "SignatureDoesNotMatch"
    assert code_of(replace_query(req, "strength", "0.4")) == "SignatureDoesNotMatch"
    assert code_of(SignedRequest("PUT", "/bucket/j", "/bucket/j", req.query, req.headers)) == "SignatureDoesNotMatch"
    assert code_of(req, now=signed_at + 1000) == "RequestTimeTooSkewed"
    assert code_of(req, now=signed_at - 1000) == "RequestTimeTooSkewed"
    no_hash = {k: v for k, v in req.headers.items() if k != "x-amz-content-sha256"}
    assert code_of(SignedRequest("PUT", req.raw_path, req.path, req.query, no_hash)) == "InvalidRequest"
    assert code_of(with_headers(req, authorization=f"AWS {AK}:c2ln")) == "SignatureDoesNotMatch"
    assert code_of(with_headers(req, authorization="Bearer x")) == "InvalidArgument"


def test_sigv4_token_and_unsigned_payload() -> None:
    req = sigv4_signed("GET", f"{ENDPOINT}/bucket/k", token="session/tok+en", signer=UnsignedPayloadSigner)
    assert req.headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
    identity = authenticate(req, lookup)
    assert identity.security_token == "session/tok+en"
    assert identity.payload_sha256 is None and identity.chunked is None


def test_sigv4_loosely_encoded_path_falls_back_to_reencoding() -> None:
    req = sigv4_signed("GET", f"{ENDPOINT}/bucket/a%20b")
    loose = SignedRequest("GET", "/bucket/a b", "/bucket/a b", req.query, req.headers)
    assert authenticate(loose, lookup).scheme == "sigv4"


@pytest.mark.parametrize("url", S3_URLS)
def test_sigv4_presigned_valid(url: str) -> None:
    identity = authenticate(sigv4_presigned("GET", url, token="tok"), lookup)
    assert (identity.scheme, identity.security_token, identity.payload_sha256) == ("sigv4-presigned", "tok", None)


def test_sigv4_presigned_rejections() -> None:
    signed_at = time.time()
    req = sigv4_presigned("GET", f"{ENDPOINT}/bucket/k?ci-process=AIFaceBeauty", expires=60)
    with pytest.raises(CosError) as info:
        authenticate(req, lookup, now=signed_at + 120)
    assert (info.value.code, info.value.message) == ("AccessDenied", "Request has expired")
    assert code_of(req, now=signed_at - 3600) == "RequestTimeTooSkewed"
    assert code_of(replace_query(req, "ci-process", "x")) == "SignatureDoesNotMatch"
    assert code_of(replace_query(req, "X-Amz-Expires", "604801")) == "AuthorizationQueryParametersError"
    assert code_of(replace_query(req, "X-Amz-Expires", "120")) == "SignatureDoesNotMatch"
    assert code_of(replace_query(req, "X-Amz-Credential", "x")) == "InvalidArgument"
    assert code_of(SignedRequest("PUT", req.raw_path, req.path, req.query, req.headers)) == "SignatureDoesNotMatch"


@pytest.mark.parametrize("url", S3_URLS)
def test_sigv2_header_and_query(url: str) -> None:
    request = AWSRequest(method="PUT", url=url, headers={"Content-Type": "image/png", "x-amz-meta-a": "b"}, data=b"d")
    HmacV1Auth(Credentials(AK, SK, "tok")).add_auth(request)
    req = as_signed_request("PUT", request.url, request.headers.items())
    assert authenticate(req, lookup).scheme == "sigv2"
    assert code_of(with_headers(req, **{"x-amz-meta-a": "c"})) == "SignatureDoesNotMatch"
    assert code_of(req, now=time.time() + 3600) == "RequestTimeTooSkewed"
    presigned = AWSRequest(method="GET", url=url)
    HmacV1QueryAuth(Credentials(AK, SK), expires=60).add_auth(presigned)
    req = as_signed_request("GET", presigned.url, [])
    assert authenticate(req, lookup).scheme == "sigv2-presigned"
    assert code_of(req, now=time.time() + 120) == "AccessDenied"


def test_anonymous_and_mixed_mechanisms() -> None:
    assert authenticate(as_signed_request("GET", f"{ENDPOINT}/b/k?acl", []), lookup) == Identity(anonymous=True)
    cos_req = cos_signed("GET", "k")
    mixed = SignedRequest("GET", "/k", "/k", [("q-sign-algorithm", "sha1"), ("X-Amz-Algorithm", "AWS4-HMAC-SHA256")],
                          {"host": "h"})
    assert code_of(mixed) == "InvalidArgument"
    assert authenticate(cos_req, lookup).scheme == "cos"


# -- boto3, unmodified, with requests captured before they are sent --------------------------


def boto3_capture(endpoint: str, token: str | None = None, **config: object) -> tuple[object, list[object]]:
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=AK,
                          aws_secret_access_key=SK, aws_session_token=token,
                          config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, **config))
    sent: list[object] = []

    def answer(request: object, **_: object) -> AWSResponse:
        sent.append(request)
        body = b"<InitiateMultipartUploadResult><UploadId>u</UploadId></InitiateMultipartUploadResult>"

        class Raw:
            def stream(self, **__: object) -> Iterable[bytes]:
                yield body

        return AWSResponse(request.url, 200, {"ETag": '"0"'}, Raw())

    client.meta.events.register("before-send.s3", answer)
    return client, sent


def body_bytes(body: object) -> bytes:
    if body is None:
        return b""
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    return body.read()


def test_boto3_requests_verify() -> None:
    client, sent = boto3_capture(ENDPOINT, token="sess")
    client.put_object(Bucket="bucket", Key="dir/a b+%/图.jpg", Body=b"jpeg", Metadata={"k": "v"})
    client.get_object(Bucket="bucket", Key="a b", Range="bytes=0-1")
    client.put_object_acl(Bucket="bucket", Key="k", ACL="private")
    client.create_multipart_upload(Bucket="bucket", Key="big file")
    client.head_object(Bucket="bucket", Key="~x")
    assert len(sent) == 5
    for request in sent:
        identity = authenticate(as_signed_request(request.method, request.url, request.headers.items()), lookup)
        assert (identity.scheme, identity.security_token) == ("sigv4", "sess")


def test_boto3_https_upload_is_unsigned_aws_chunked_with_crc32_trailer() -> None:
    client, sent = boto3_capture("https://127.0.0.1:9443")
    data = b"hello aws-chunked body \x00\xff" * 3
    client.put_object(Bucket="bucket", Key="k", Body=data)
    request = sent[0]
    req = as_signed_request(request.method, request.url, request.headers.items())
    identity = authenticate(req, lookup)
    ctx = identity.chunked
    assert isinstance(ctx, ChunkedContext) and ctx.trailer == "x-amz-checksum-crc32"
    assert decoded_content_length(req.headers) == len(data) == ctx.decoded_length
    body = body_bytes(request.body)
    for cut in range(len(body) + 1):
        assert decode([body[:cut], body[cut:]], ctx) == data
    assert decode([bytes([b]) for b in body], ctx) == data
    bad = body.replace(b"x-amz-checksum-crc32:", b"x-amz-checksum-crc32:A")
    with pytest.raises(CosError, match="BadDigest"):
        decode(bad, ctx)


@pytest.mark.parametrize("signature_version, scheme", [(None, "sigv2-presigned"), ("s3v4", "sigv4-presigned")])
def test_boto3_presigned_urls(signature_version: str | None, scheme: str) -> None:
    """boto3 presigns with V2 unless the client is configured with signature_version='s3v4'."""
    client, _ = boto3_capture(ENDPOINT, token="sess", signature_version=signature_version)
    for method, params in [("get_object", {"Bucket": "bucket", "Key": "dir/a b+c.jpg"}),
                           ("put_object", {"Bucket": "bucket", "Key": "图/ü"}),
                           ("list_objects_v2", {"Bucket": "bucket", "Prefix": "a b/"})]:
        url = client.generate_presigned_url(method, Params=params, ExpiresIn=600)
        http_method = "PUT" if method == "put_object" else "GET"
        identity = authenticate(as_signed_request(http_method, url, []), lookup)
        assert (identity.scheme, identity.security_token) == (scheme, "sess")


# -- aws-chunked -----------------------------------------------------------------------------


def _hmac_hex(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def signed_chunked_body(ctx: ChunkedContext, chunks: list[bytes], trailer: tuple[str, str] | None = None) -> bytes:
    """Encode per the AWS spec (sigv4-streaming / sigv4-streaming-trailers), independently of the decoder."""
    empty = hashlib.sha256(b"").hexdigest()
    previous, out = ctx.seed_signature, []
    for chunk in [*chunks, b""]:
        sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", ctx.amz_date, ctx.scope, previous, empty,
                         hashlib.sha256(chunk).hexdigest()])
        previous = _hmac_hex(ctx.signing_key, sts)
        out.append(b"%x;chunk-signature=%s\r\n%s" % (len(chunk), previous.encode(), chunk + b"\r\n" if chunk else b""))
    if trailer:
        line = f"{trailer[0]}:{trailer[1]}"
        sts = "\n".join(["AWS4-HMAC-SHA256-TRAILER", ctx.amz_date, ctx.scope, previous,
                         hashlib.sha256(f"{line}\n".encode()).hexdigest()])
        out.append(f"{line}\r\nx-amz-trailer-signature:{_hmac_hex(ctx.signing_key, sts)}\r\n".encode())
    out.append(b"\r\n")
    return b"".join(out)


def streaming_context(data: bytes, signer: type[StreamingSigner] = StreamingSigner,
                      trailer: str | None = None) -> ChunkedContext:
    headers = {"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data))}
    if trailer:
        headers["x-amz-trailer"] = trailer
    req = sigv4_signed("PUT", f"{ENDPOINT}/bucket/stream.bin", headers=headers, signer=signer)
    ctx = authenticate(req, lookup).chunked
    assert isinstance(ctx, ChunkedContext) and ctx.mode == signer.mode
    return ctx


def test_signed_chunks_every_split() -> None:
    data = b"0123456789abcdefghij"
    ctx = streaming_context(data)
    body = signed_chunked_body(ctx, [data[:7], data[7:16], data[16:]])
    for cut in range(len(body) + 1):
        assert decode([body[:cut], body[cut:]], ctx) == data
    for a in range(0, len(body), 7):
        for b in range(a, len(body), 11):
            assert decode([body[:a], body[a:b], body[b:]], ctx) == data


def test_signed_chunks_rejections() -> None:
    data = b"payload bytes"
    ctx = streaming_context(data)
    body = signed_chunked_body(ctx, [data[:5], data[5:]])
    tampered = body.replace(b"ad bytes", b"ad bytez")
    with pytest.raises(CosError, match="SignatureDoesNotMatch"):
        decode(tampered, ctx)
    other_chain = signed_chunked_body(ChunkedContext(**{**ctx.__dict__, "seed_signature": "0" * 64}), [data])
    with pytest.raises(CosError, match="SignatureDoesNotMatch"):
        decode(other_chain, ctx)
    with pytest.raises(CosError, match="IncompleteBody"):
        decode(body[:-40], ctx)
    with pytest.raises(CosError, match="InvalidRequest"):
        decode(body + b"junk", ctx)
    unsigned_framing = b"d\r\npayload bytes\r\n0\r\n\r\n"
    with pytest.raises(CosError, match="SignatureDoesNotMatch"):
        decode(unsigned_framing, ctx)


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


@pytest.mark.parametrize("name, digest", [
    ("x-amz-checksum-crc32", lambda d: zlib.crc32(d).to_bytes(4, "big")),
    ("x-amz-checksum-crc32c", lambda d: crc32c(d, 0).to_bytes(4, "big")),
    ("x-amz-checksum-sha1", lambda d: hashlib.sha1(d).digest()),
    ("x-amz-checksum-sha256", lambda d: hashlib.sha256(d).digest()),
])
def test_signed_chunks_with_trailer(name: str, digest: object) -> None:
    data = b"trailer-checked payload" * 5
    ctx = streaming_context(data, TrailerStreamingSigner, trailer=name)
    body = signed_chunked_body(ctx, [data[:50], data[50:]], trailer=(name, _b64(digest(data))))
    assert decode([bytes([b]) for b in body], ctx) == data
    wrong = signed_chunked_body(ctx, [data[:50], data[50:]], trailer=(name, _b64(digest(b"other"))))
    with pytest.raises(CosError, match="BadDigest"):
        decode(wrong, ctx)
    forged = body.replace(b"x-amz-trailer-signature:", b"x-amz-trailer-signature:0")
    with pytest.raises(CosError, match="SignatureDoesNotMatch"):
        decode(forged, ctx)


def test_crc32c_fallback_matches_reference() -> None:
    assert _crc32c_python(b"123456789") == 0xE3069283
    blob = random.Random(7).randbytes(3000)
    assert _crc32c_python(blob[1000:], _crc32c_python(blob[:1000])) == crc32c(blob, 0)


@pytest.mark.parametrize("checksum_cls, name", [(Crc32Checksum, "x-amz-checksum-crc32"),
                                                (Sha1Checksum, "x-amz-checksum-sha1"),
                                                (Sha256Checksum, "x-amz-checksum-sha256")])
def test_botocore_aws_chunked_wrapper_small_chunks(checksum_cls: type, name: str) -> None:
    data = random.Random(1).randbytes(100)
    body = AwsChunkedWrapper(io.BytesIO(data), checksum_cls=checksum_cls, checksum_name=name, chunk_size=9).read()
    ctx = ChunkedContext(mode="STREAMING-UNSIGNED-PAYLOAD-TRAILER", signing_key=b"", amz_date="", scope="",
                         seed_signature="", trailer=name, decoded_length=len(data))
    assert decode([body[i:i + 5] for i in range(0, len(body), 5)], ctx) == data
    with pytest.raises(CosError, match="IncompleteBody"):
        decode(body, ChunkedContext(**{**ctx.__dict__, "decoded_length": len(data) + 1}))
    with pytest.raises(CosError, match="InvalidRequest"):
        decode(body, ChunkedContext(**{**ctx.__dict__, "decoded_length": len(data) - 1}))


@pytest.mark.parametrize("body, code", [
    (b"zz\r\nab\r\n0\r\n\r\n", "InvalidRequest"),
    (b"2\r\nabXY0\r\n\r\n", "InvalidRequest"),
    (b"f" * 5000, "InvalidRequest"),
    (b"ffffffffffffffffff\r\n", "InvalidRequest"),
    (b"5\r\nab", "IncompleteBody"),
    (b"", "IncompleteBody"),
    (b"2\r\nab\r\n0\r\nno-colon\r\n\r\n", "InvalidRequest"),
])
def test_chunked_framing_errors(body: bytes, code: str) -> None:
    ctx = ChunkedContext(mode="STREAMING-UNSIGNED-PAYLOAD-TRAILER", signing_key=b"", amz_date="", scope="",
                         seed_signature="")
    with pytest.raises(CosError) as info:
        decode(body, ctx)
    assert info.value.code == code


def test_aws_documented_streaming_example() -> None:
    """The worked example of the AWS "Signature Calculations for the Authorization Header: Transferring
    Payload in Multiple Chunks" page (seed and chunk signatures published there)."""
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    headers = {
        "host": "s3.amazonaws.com", "x-amz-date": "20130524T000000Z", "x-amz-storage-class": "REDUCED_REDUNDANCY",
        "x-amz-content-sha256": SIGNED_PAYLOAD, "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": "66560", "content-length": "66824",
        "authorization": "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                         "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
                         "x-amz-decoded-content-length;x-amz-storage-class,"
                         "Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
    }
    req = SignedRequest("PUT", "/examplebucket/chunkObject.txt", "/examplebucket/chunkObject.txt", [], headers)
    ctx = authenticate(req, {"AKIAIOSFODNN7EXAMPLE": secret}.get, now=1369353600).chunked
    body = (b"10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n"
            + b"a" * 65536 + b"\r\n"
            + b"400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n"
            + b"a" * 1024 + b"\r\n"
            + b"0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n")
    assert len(body) == 66824
    assert decode([body[i:i + 4096] for i in range(0, len(body), 4096)], ctx) == b"a" * 66560
    key = signing_key(secret, Credential("AKIAIOSFODNN7EXAMPLE", "20130524", "us-east-1", "s3"))
    assert key == ctx.signing_key


# -- fuzz: anything malformed must surface as CosError ---------------------------------------


ALPHABET = "q-sign=&;:,/ AWS4HMACSHA256Credential SignedHeaders Signature0123456789abcdef\x00é图%+\r\n"


def _garble(rng: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(3)
        pos = rng.randrange(len(chars) + 1)
        if op == 0 and chars:
            del chars[min(pos, len(chars) - 1)]
        elif op == 1:
            chars.insert(pos, rng.choice(ALPHABET))
        elif chars:
            chars[min(pos, len(chars) - 1)] = rng.choice(ALPHABET)
    return "".join(chars)


def test_fuzz_authorization_and_query_only_raise_cos_error() -> None:
    rng = random.Random(20240601)
    cos_req = cos_signed("PUT", "a b.jpg", params={"acl": ""}, data=b"x")
    v4_req = sigv4_signed("PUT", f"{ENDPOINT}/b/k?acl", body=b"x", token="t")
    pre_req = sigv4_presigned("GET", f"{ENDPOINT}/b/k?acl")
    cos_pre = as_signed_request("GET", CosS3Client(cos_config()).get_presigned_url(BUCKET, "k", "GET"), [])
    v2_request = AWSRequest(method="GET", url=f"{ENDPOINT}/b/k?acl")
    HmacV1Auth(Credentials(AK, SK)).add_auth(v2_request)
    v2_req = as_signed_request("GET", v2_request.url, v2_request.headers.items())
    v2_presigned = AWSRequest(method="GET", url=f"{ENDPOINT}/b/k?acl")
    HmacV1QueryAuth(Credentials(AK, SK)).add_auth(v2_presigned)
    v2_pre = as_signed_request("GET", v2_presigned.url, [])
    for _ in range(1500):
        base = rng.choice([cos_req, v4_req, v2_req])
        garbled = with_headers(base, authorization=_garble(rng, base.headers["authorization"]))
        header = rng.choice(list(base.headers))
        garbled = with_headers(garbled, **{header: _garble(rng, base.headers[header] or "x")})
        qbase = rng.choice([pre_req, cos_pre, v2_pre])
        name, value = rng.choice(qbase.query)
        for req in (garbled, replace_query(qbase, name, _garble(rng, value or "x"))):
            try:
                authenticate(req, lookup, now=time.time() + rng.choice([0, 0, 10**6, -(10**6)]))
            except CosError:
                pass


def test_fuzz_chunked_bodies_only_raise_cos_error() -> None:
    rng = random.Random(99)
    data = b"fuzz payload " * 4
    ctx = streaming_context(data, TrailerStreamingSigner, trailer="x-amz-checksum-crc32")
    body = signed_chunked_body(ctx, [data[:20], data[20:]],
                               trailer=("x-amz-checksum-crc32", _b64(zlib.crc32(data).to_bytes(4, "big"))))
    unsigned_ctx = ChunkedContext(mode="STREAMING-UNSIGNED-PAYLOAD-TRAILER", signing_key=b"", amz_date="", scope="",
                                  seed_signature="", trailer="x-amz-checksum-sha256")
    for _ in range(1500):
        mutated = bytearray(body)
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(len(mutated))
            action = rng.randrange(3)
            if action == 0:
                mutated[pos] = rng.randrange(256)
            elif action == 1:
                del mutated[pos:pos + rng.randint(1, 30)]
            else:
                mutated[pos:pos] = rng.choice([b"\r\n", b";", b"0", b":", b"ffff", b"\n"])
        cuts = sorted(rng.sample(range(len(mutated) + 1), k=min(3, len(mutated) + 1)))
        parts = [bytes(mutated[a:b]) for a, b in zip([0, *cuts], [*cuts, len(mutated)])]
        for context in (ctx, unsigned_ctx):
            try:
                decode(parts, context)
            except CosError:
                pass
