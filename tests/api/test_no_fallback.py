"""No silent fallback: a sub-resource, processing or other query parameter this server does not
implement is answered with a COS error naming it -- never by running another operation (creating
a bucket, returning the object or the original image with 200)."""

from __future__ import annotations

import uuid

import pytest
from qcloud_cos.cos_exception import CosServiceError

from tests.api.rawhttp import cos_auth_header
from tests.api.wire import send
from tests.conftest import APPID, REGION


def signed(port: int, method: str, bucket: str, key: str, query: str, params: dict[str, str],
           headers: dict[str, str] | None = None, body: bytes = b""):
    """A request signed like cos-python-sdk-v5 signs it (every parameter in q-url-param-list)."""
    host = f"{bucket}.cos.{REGION}.myqcloud.com"
    hdrs = {"Host": host, **(headers or {})}
    hdrs["Authorization"] = cos_auth_header(method, bucket, key, dict(hdrs), params=params)
    return send(port, method, "/" + key + (f"?{query}" if query else ""), hdrs, body)


def bucket_exists(cos, name: str) -> bool:
    try:
        cos.head_bucket(Bucket=name)
        return True
    except CosServiceError as e:
        assert e.get_status_code() == 404
        return False


@pytest.mark.parametrize("sub", ["style", "publicAccessBlock", "ownershipControls", "intelligent-tiering",
                                 "lifecycle", "website"])
def test_put_unimplemented_bucket_sub_resource_creates_nothing(server, cos, sub):
    name = f"nf{uuid.uuid4().hex[:10]}-{APPID}"
    reply = signed(server.port, "PUT", name, "", sub, {sub: ""}, body=b"<x/>")
    assert (reply.status, reply.code) == (501, "NotImplemented"), reply.body
    assert sub in reply.message
    assert not bucket_exists(cos, name)


@pytest.mark.parametrize("method,query,name", [
    ("GET", "attributes", "attributes"),
    ("GET", "policyStatus", "policyStatus"),
    ("GET", "imageMogr2/thumbnail/!50p", "imageMogr2"),
    ("GET", "imageInfo", "imageInfo"),
    ("GET", "exif", "exif"),
    ("GET", "imageAve", "imageAve"),
    ("GET", "imageView2/1/w/100", "imageView2"),
    ("GET", "watermark/2/text/aGk", "watermark"),
    ("GET", "partNumber=1", "partNumber"),
    ("HEAD", "partNumber=1", "partNumber"),
])
def test_unimplemented_object_parameters_are_answered(server, cos, bucket, method, query, name):
    cos.put_object(Bucket=bucket, Key="img.jpg", Body=b"\xff\xd8\xff original bytes")
    key, _, value = query.partition("=")
    reply = signed(server.port, method, bucket, "img.jpg", query, {key: value})
    assert reply.status == 501, (reply.status, reply.body)
    if method == "GET":
        assert reply.code == "NotImplemented" and name in reply.message
        assert b"original bytes" not in reply.body


def test_policy_status_on_bucket_is_not_a_listing(server, cos, bucket):
    cos.put_object(Bucket=bucket, Key="listed.txt", Body=b"x")
    reply = signed(server.port, "GET", bucket, "", "policyStatus", {"policyStatus": ""})
    assert (reply.status, reply.code) == (501, "NotImplemented") and b"listed.txt" not in reply.body


@pytest.mark.parametrize("query", ["foo=bar", "t=123", "Acl", "ACL="])
def test_unknown_parameter_is_invalid_argument(server, cos, bucket, query):
    cos.put_object(Bucket=bucket, Key="k.txt", Body=b"body")
    key, _, value = query.partition("=")
    reply = signed(server.port, "GET", bucket, "k.txt", query, {key: value})
    assert (reply.status, reply.code) == (400, "InvalidArgument"), reply.body
    assert key in reply.message


def test_parameter_of_another_operation_is_invalid_argument(server, cos, bucket):
    cos.put_object(Bucket=bucket, Key="k.txt", Body=b"body")
    reply = signed(server.port, "PUT", bucket, "k.txt", "max-keys=5", {"max-keys": "5"}, body=b"new")
    assert (reply.status, reply.code) == (400, "InvalidArgument") and "max-keys" in reply.message
    assert cos.get_object(Bucket=bucket, Key="k.txt")["Body"].get_raw_stream().read() == b"body"


def test_unknown_ci_process_is_invalid_argument(server, cos, bucket):
    cos.put_object(Bucket=bucket, Key="f.jpg", Body=b"\xff\xd8\xff original")
    reply = signed(server.port, "GET", bucket, "f.jpg", "ci-process=imageMogr2", {"ci-process": "imageMogr2"})
    assert (reply.status, reply.code) == (400, "InvalidArgument") and "imageMogr2" in reply.message
    reply = signed(server.port, "GET", bucket, "f.jpg", "ci-process=AIFaceBeauty&radius=3",
                   {"ci-process": "AIFaceBeauty", "radius": "3"})
    assert (reply.status, reply.code) == (400, "InvalidArgument") and "radius" in reply.message


@pytest.mark.parametrize("rule,name", [("ci-process=AIFaceBeauty&radius=3", "radius"),
                                       ("ci-process=AIFaceBeauty&strength=0.1&strength=1", "strength"),
                                       ("imageMogr2/thumbnail/!50p", "imageMogr2")])
def test_pic_operations_rule_with_unknown_or_repeated_parameter(server, cos, bucket, rule, name):
    ops = '{"is_pic_info":1,"rules":[{"fileid":"out.jpg","rule":"%s"}]}' % rule
    reply = signed(server.port, "PUT", bucket, "in.jpg", "", {}, {"Pic-Operations": ops}, b"\xff\xd8\xff x")
    assert (reply.status, reply.code) == (400, "InvalidArgument"), reply.body
    assert name in reply.message


def test_known_parameters_still_work(server, cos, bucket):
    cos.put_object(Bucket=bucket, Key="dir/a.txt", Body=b"a")
    reply = signed(server.port, "GET", bucket, "", "prefix=dir%2F&max-keys=5", {"prefix": "dir/", "max-keys": "5"})
    assert reply.status == 200 and b"dir/a.txt" in reply.body
    reply = signed(server.port, "GET", bucket, "dir/a.txt", "response-content-type=text%2Fplain",
                   {"response-content-type": "text/plain"})
    assert reply.status == 200 and reply.headers["content-type"] == "text/plain"
