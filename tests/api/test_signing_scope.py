"""A request does exactly what was signed (docs/signing.md), driven over HTTP with the real clients'
pre-signed URLs and header signatures:

* an unsigned header or query parameter that changes what a request does -> 403 naming it;
* a duplicated query parameter -> 400 (the signature and the handler can never read different values);
* a path-style signature over /A/x does not authorize /B/A/x;
* signature verification is linear: repeated names in q-header-list / SignedHeaders cannot stall
  the server, oversized Authorization headers are refused.
"""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest
import requests
from botocore.auth import HmacV1Auth, HmacV1QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from qcloud_cos import CosConfig
from qcloud_cos.cos_auth import CosS3Auth
from qcloud_cos.cos_exception import CosServiceError

from tests.api.rawhttp import cos_auth_header
from tests.api.wire import cos_presigner, s3_presigner, send, send_url
from tests.conftest import REGION, SECRET_ID, SECRET_KEY, new_bucket

SCHEMES = ["cos", "sigv4", "sigv2"]
OPS = {"PUT": "put_object", "GET": "get_object", "HEAD": "head_object", "DELETE": "delete_object"}


def presigned(port: int, scheme: str, method: str, bucket: str, key: str, params: dict | None = None) -> str:
    if scheme == "cos":
        return cos_presigner(port).get_presigned_url(Bucket=bucket, Key=key, Method=method, Expired=300,
                                                     Params=params or {})
    client = s3_presigner(port, "s3v4" if scheme == "sigv4" else "s3")
    url = client.generate_presigned_url(OPS[method], Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
    assert ("X-Amz-Signature=" in url) == (scheme == "sigv4")
    return url


def exists(cos, bucket: str, key: str) -> bool:
    try:
        cos.head_object(Bucket=bucket, Key=key)
        return True
    except CosServiceError as e:
        assert e.get_status_code() == 404
        return False


def refused_unsigned(reply, item: str, scheme: str, signed_anyway: bool = False) -> None:
    """403; AccessDenied naming ``item`` -- or SignatureDoesNotMatch where the scheme signs it anyway."""
    assert reply.status == 403, (reply.status, reply.body)
    if signed_anyway:
        assert reply.code == "SignatureDoesNotMatch", reply.body
        return
    assert reply.code == "AccessDenied", reply.body
    assert item in reply.message and "sign" in reply.message, reply.message


# -- unsigned headers -----------------------------------------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("copy_header,acl_header", [("x-cos-copy-source", "x-cos-acl"),
                                                    ("x-amz-copy-source", "x-amz-acl")])
def test_presigned_put_refuses_unsigned_copy_source(server, cos, bucket, scheme, copy_header, acl_header):
    cos.put_object(Bucket=bucket, Key="secret.txt", Body=b"top secret")
    url = presigned(server.port, scheme, "PUT", bucket, "upload.txt")
    reply = send_url(server.port, "PUT", url, {copy_header: f"{bucket}.cos.{REGION}.myqcloud.com/secret.txt",
                                               acl_header: "public-read"})
    # SigV2 puts every x-amz-* header into its string to sign
    refused_unsigned(reply, copy_header, scheme, signed_anyway=scheme == "sigv2" and copy_header.startswith("x-amz"))
    assert not exists(cos, bucket, "upload.txt")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_presigned_put_refuses_unsigned_acl_header(server, cos, bucket, scheme):
    url = presigned(server.port, scheme, "PUT", bucket, "acl.txt")
    reply = send_url(server.port, "PUT", url, {"x-cos-acl": "public-read"}, b"data")
    refused_unsigned(reply, "x-cos-acl", scheme)
    assert not exists(cos, bucket, "acl.txt")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_presigned_put_refuses_unsigned_pic_operations(server, cos, bucket, scheme):
    other = new_bucket(cos, "victim")
    ops = ('{"is_pic_info":1,"rules":[{"bucket":"%s","fileid":"/owned.jpg",'
           '"rule":"ci-process=AIFaceBeauty"}]}' % other)
    url = presigned(server.port, scheme, "PUT", bucket, "face.jpg")
    reply = send_url(server.port, "PUT", url, {"Pic-Operations": ops}, b"\xff\xd8\xff not really")
    refused_unsigned(reply, "pic-operations", scheme)
    assert not exists(cos, other, "owned.jpg") and not exists(cos, bucket, "face.jpg")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_presigned_put_refuses_unsigned_content_md5(server, cos, bucket, scheme):
    import base64
    import hashlib
    url = presigned(server.port, scheme, "PUT", bucket, "md5.txt")
    md5 = base64.b64encode(hashlib.md5(b"data").digest()).decode()
    reply = send_url(server.port, "PUT", url, {"Content-MD5": md5}, b"data")
    refused_unsigned(reply, "content-md5", scheme, signed_anyway=scheme == "sigv2")


def test_header_signed_request_refuses_header_added_after_signing(server, cos, bucket):
    host = f"{bucket}.cos.{REGION}.myqcloud.com"
    auth = cos_auth_header("PUT", bucket, "late.txt", {"Host": host, "Content-Length": "4"})
    reply = send(server.port, "PUT", "/late.txt", {"Host": host, "Authorization": auth,
                                                   "x-cos-acl": "public-read", "x-cos-meta-who": "mallory"}, b"data")
    refused_unsigned(reply, "x-cos-acl", "cos")
    assert "x-cos-meta-who" in reply.message
    assert not exists(cos, bucket, "late.txt")


# -- unsigned query parameters ----------------------------------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES)
def test_presigned_put_refuses_appended_acl(server, cos, bucket, scheme):
    cos.put_object(Bucket=bucket, Key="obj.txt", Body=b"private")
    url = presigned(server.port, scheme, "PUT", bucket, "obj.txt")
    body = (b'<AccessControlPolicy><Owner><ID>x</ID></Owner><AccessControlList><Grant>'
            b'<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group">'
            b'<URI>http://cam.qcloud.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission>'
            b'</Grant></AccessControlList></AccessControlPolicy>')
    reply = send_url(server.port, "PUT", url, {"x-cos-acl": "public-read"} if scheme != "cos" else {}, body,
                     extra_query="acl")
    if scheme == "cos":
        refused_unsigned(reply, "acl", scheme)
    else:
        assert reply.status == 403, reply.body
    assert cos.get_object_acl(Bucket=bucket, Key="obj.txt")["AccessControlList"]["Grant"]
    assert "AllUsers" not in str(cos.get_object_acl(Bucket=bucket, Key="obj.txt"))


@pytest.mark.parametrize("scheme", SCHEMES)
def test_presigned_get_refuses_appended_ci_process(server, cos, bucket, scheme):
    cos.put_object(Bucket=bucket, Key="p.jpg", Body=b"not an image")
    url = presigned(server.port, scheme, "GET", bucket, "p.jpg")
    reply = send_url(server.port, "GET", url, extra_query="ci-process=AIFaceBeauty&strength=1")
    refused_unsigned(reply, "ci-process", scheme, signed_anyway=scheme == "sigv4")


@pytest.mark.parametrize("scheme", ["cos", "sigv2"])
def test_presigned_list_refuses_appended_detect_url(server, cos, bucket, scheme):
    if scheme == "cos":
        url = cos_presigner(server.port).get_presigned_url(Bucket=bucket, Key="/", Method="GET", Expired=300)
    else:
        url = s3_presigner(server.port, "s3").generate_presigned_url("list_objects", Params={"Bucket": bucket})
        url = url.replace("encoding-type=url&", "")     # not signed by V2; the ci-process endpoint has no use for it
    assert send_url(server.port, "GET", url).status == 200
    reply = send_url(server.port, "GET", url, extra_query="ci-process=AIFaceBeauty&detect-url=" +
                     quote("http://127.0.0.1:1/x.jpg", safe=""))
    refused_unsigned(reply, "ci-process", scheme)
    assert "detect-url" in reply.message


def test_header_signed_request_refuses_param_outside_q_url_param_list(server, cos, bucket):
    cos.put_object(Bucket=bucket, Key="k.txt", Body=b"x")
    host = f"{bucket}.cos.{REGION}.myqcloud.com"
    auth = cos_auth_header("GET", bucket, "k.txt", {"Host": host})   # signs no parameters
    reply = send(server.port, "GET", "/k.txt?acl", {"Host": host, "Authorization": auth})
    refused_unsigned(reply, "acl", "cos")


def test_unsigned_response_overrides_still_allowed(server, cos, bucket):
    """COS v5 lets response-* stay out of q-url-param-list (SigV4 and SigV2 sign them by design)."""
    cos.put_object(Bucket=bucket, Key="r.txt", Body=b"hello")
    url = presigned(server.port, "cos", "GET", bucket, "r.txt")
    reply = send_url(server.port, "GET", url, extra_query="response-content-type=text%2Fplain")
    assert reply.status == 200, reply.body
    assert reply.headers["content-type"] == "text/plain" and reply.body == b"hello"


def test_signed_acl_and_header_in_cos_presigned_url_work(server, cos, bucket):
    cos.put_object(Bucket=bucket, Key="pub.txt", Body=b"x")
    url = cos_presigner(server.port).get_presigned_url(Bucket=bucket, Key="pub.txt", Method="PUT", Expired=300,
                                                       Params={"acl": ""}, Headers={"x-cos-acl": "public-read"})
    reply = send_url(server.port, "PUT", url, {"x-cos-acl": "public-read"})
    assert reply.status == 200, reply.body
    assert "AllUsers" in str(cos.get_object_acl(Bucket=bucket, Key="pub.txt"))


# -- one value per parameter ------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["cos", "sigv4", "sigv2"])
def test_duplicated_parameter_is_refused(server, cos, bucket, scheme):
    cos.put_object(Bucket=bucket, Key="a/1.txt", Body=b"1")
    cos.put_object(Bucket=bucket, Key="b/2.txt", Body=b"2")
    if scheme == "cos":
        url = cos_presigner(server.port).get_presigned_url(Bucket=bucket, Key="/", Method="GET", Expired=300,
                                                           Params={"prefix": "a/"})
    else:
        url = s3_presigner(server.port, "s3v4" if scheme == "sigv4" else "s3").generate_presigned_url(
            "list_objects", Params={"Bucket": bucket, "Prefix": "a/"})
    assert b"a/1.txt" in send_url(server.port, "GET", url).body
    for added in ("prefix=b%2F", "Prefix=b%2F"):
        reply = send_url(server.port, "GET", url, prepend_query=added)
        assert (reply.status, reply.code) == (400, "InvalidArgument"), reply.body
        assert "prefix" in reply.message.lower()
        assert b"b/2.txt" not in reply.body


@pytest.mark.parametrize("scheme", ["cos", "sigv4"])
def test_prepended_strength_cannot_override_the_signed_one(server, cos, bucket, scheme):
    """The probe: a URL signed for strength=0.1 with strength=1 put in front of it."""
    cos.put_object(Bucket=bucket, Key="face.jpg", Body=b"\xff\xd8\xff not processed")
    params = {"ci-process": "AIFaceBeauty", "strength": "0.1"}
    if scheme == "cos":
        url = cos_presigner(server.port).get_presigned_url(Bucket=bucket, Key="face.jpg", Method="GET",
                                                           Expired=300, Params=params)
    else:
        from botocore.auth import S3SigV4QueryAuth
        request = AWSRequest(method="GET", url=f"http://127.0.0.1:{server.port}/{bucket}/face.jpg?"
                                               "ci-process=AIFaceBeauty&strength=0.1")
        S3SigV4QueryAuth(Credentials(SECRET_ID, SECRET_KEY), "s3", REGION, expires=300).add_auth(request)
        url = request.url
    reply = send_url(server.port, "GET", url, prepend_query="strength=1")
    assert (reply.status, reply.code) == (400, "InvalidArgument"), reply.body
    assert "strength" in reply.message


def test_duplicated_sub_resource_is_refused(server, bucket):
    reply = send(server.port, "GET", "/?acl&acl", {"Host": f"{bucket}.cos.{REGION}.myqcloud.com"})
    assert (reply.status, reply.code) == (400, "InvalidArgument")


# -- path-style signatures bind the bucket -------------------------------------------------------


@pytest.fixture
def two_buckets(cos):
    """Bucket A with object x, bucket B with object '<A>/x' (path-style /B/A/x)."""
    a, b = new_bucket(cos, "pa"), new_bucket(cos, "pb")
    cos.put_object(Bucket=a, Key="x", Body=b"in A")
    cos.put_object(Bucket=b, Key=f"{a}/x", Body=b"in B")
    return a, b


def test_cos_path_style_signature_binds_bucket(server, two_buckets):
    a, b = two_buckets
    host = f"127.0.0.1:{server.port}"
    conf = CosConfig(Region=REGION, SecretId=SECRET_ID, SecretKey=SECRET_KEY, Scheme="http")
    prepared = requests.Request("GET", f"http://{host}/{a}/x", headers={"Host": host}).prepare()
    auth = CosS3Auth(conf, f"/{a}/x")(prepared).headers["Authorization"]   # signs path /A/x, like the console
    ok = send(server.port, "GET", f"/{a}/x", {"Host": host, "Authorization": auth})
    assert (ok.status, ok.body) == (200, b"in A")
    reply = send(server.port, "GET", f"/{b}/{a}/x", {"Host": host, "Authorization": auth})
    assert reply.status == 403 and reply.code == "SignatureDoesNotMatch", reply.body


def test_sigv2_path_style_signature_binds_bucket(server, two_buckets):
    a, b = two_buckets
    creds = Credentials(SECRET_ID, SECRET_KEY)
    request = AWSRequest(method="GET", url=f"http://127.0.0.1:{server.port}/{a}/x")
    HmacV1Auth(creds).add_auth(request)
    headers = dict(request.headers.items())
    assert send(server.port, "GET", f"/{a}/x", headers).status == 200
    reply = send(server.port, "GET", f"/{b}/{a}/x", headers)
    assert reply.status == 403 and reply.code == "SignatureDoesNotMatch", reply.body
    presign = AWSRequest(method="GET", url=f"http://127.0.0.1:{server.port}/{a}/x")
    HmacV1QueryAuth(creds, expires=300).add_auth(presign)
    assert send_url(server.port, "GET", presign.url).status == 200
    reply = send_url(server.port, "GET", presign.url.replace(f"/{a}/x", f"/{b}/{a}/x"))
    assert reply.status == 403, reply.body


def test_sigv4_path_style_signature_binds_bucket(server, two_buckets):
    a, b = two_buckets
    url = s3_presigner(server.port, "s3v4").generate_presigned_url("get_object", Params={"Bucket": a, "Key": "x"})
    assert send_url(server.port, "GET", url).status == 200
    assert send_url(server.port, "GET", url.replace(f"/{a}/x", f"/{b}/{a}/x")).status == 403


# -- verification is linear and bounded -------------------------------------------------------------


def _timed(fn):
    started = time.monotonic()
    result = fn()
    return result, time.monotonic() - started


@pytest.mark.parametrize("repeats", [17, 5000])
def test_repeated_cos_header_list_names_are_cheap(server, bucket, repeats):
    host = f"{bucket}.cos.{REGION}.myqcloud.com:{server.port}"   # with a port: two candidate host values
    now = int(time.time())
    window = f"{now - 60};{now + 600}"
    fields = (f"q-sign-algorithm=sha1&q-ak={SECRET_ID}&q-sign-time={window}&q-key-time={window}"
              f"&q-header-list={';'.join(['host'] * repeats)}&q-url-param-list=&q-signature={'0' * 40}")
    reply, took = _timed(lambda: send(server.port, "GET", "/x", {"Host": host, "Authorization": fields}, timeout=10))
    assert reply.status in (400, 403) and took < 2, (reply.status, took)
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in (item.split("=", 1) for item in fields.split("&")))
    reply, took = _timed(lambda: send(server.port, "GET", f"/x?{query}", {"Host": host}, timeout=10))
    assert reply.status in (400, 403) and took < 2, (reply.status, took)
    if repeats > 17:
        assert "q-header-list" in reply.message


def test_repeated_sigv4_signed_headers_are_cheap(server, bucket):
    amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    cred = f"{SECRET_ID}/{amz_date[:8]}/{REGION}/s3/aws4_request"
    auth = f"AWS4-HMAC-SHA256 Credential={cred}, SignedHeaders={';'.join(['host'] * 5000)}, Signature={'0' * 64}"
    headers = {"Authorization": auth, "x-amz-date": amz_date, "x-amz-content-sha256": "UNSIGNED-PAYLOAD"}
    reply, took = _timed(lambda: send(server.port, "GET", f"/{bucket}/x", headers, timeout=10))
    assert reply.status in (400, 403) and took < 2, (reply.status, took)


def test_oversized_authorization_is_refused(server, bucket):
    host = f"{bucket}.cos.{REGION}.myqcloud.com"
    auth = f"q-sign-algorithm=sha1&q-ak={SECRET_ID}&q-header-list={'x' * 40000}&q-signature=0"
    reply, took = _timed(lambda: send(server.port, "GET", "/x", {"Host": host, "Authorization": auth}, timeout=10))
    assert reply.status in (400, 403, 431) and took < 2, (reply.status, took)
    assert send(server.port, "GET", "/", {"Host": host}).status in (200, 403)   # still serving
