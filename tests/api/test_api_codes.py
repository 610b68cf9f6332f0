"""Codes and shapes real clients depend on (issue 14 item 7), through cos-python-sdk-v5 / boto3."""

from __future__ import annotations

import socket
import time

import pytest
import requests
from botocore.exceptions import ClientError
from qcloud_cos.cos_exception import CosServiceError

from tests.conftest import APPID, REGION, new_bucket
from tests.iam.conftest import make_user


def code(exc: ClientError) -> str:
    return exc.response["Error"]["Code"]


def test_expired_presigned_urls_are_403(server, cos, s3, bucket):
    cos.put_object(Bucket=bucket, Key="p.txt", Body=b"x")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "p.txt"}, ExpiresIn=1)
    assert requests.get(url, timeout=10).status_code == 200
    time.sleep(2.1)
    r = requests.get(url, timeout=10)
    assert r.status_code == 403 and b"<Code>AccessDenied</Code>" in r.content
    # a COS pre-signed URL whose window is over (real signature, made with the SDK's signer)
    from qcloud_cos import CosConfig
    from qcloud_cos.cos_auth import CosS3Auth
    conf = CosConfig(Region=REGION, SecretId=cos._conf._secret_id, SecretKey=cos._conf._secret_key)
    req = requests.Request("GET", f"http://{server.port}/p.txt").prepare()
    signed = CosS3Auth(conf, key="p.txt", expire=-3000)(req).headers["Authorization"]
    r = requests.get(f"http://127.0.0.1:{server.port}/{bucket}/p.txt?{signed}", timeout=10)
    assert r.status_code == 403, r.content


def test_bucket_already_owned_by_you(cos, s3):
    name = new_bucket(cos)
    with pytest.raises(CosServiceError) as e:
        cos.create_bucket(Bucket=name)
    assert (e.value.get_error_code(), e.value.get_status_code()) == ("BucketAlreadyOwnedByYou", 409)
    with pytest.raises(ClientError) as e2:
        s3.create_bucket(Bucket=name)
    assert code(e2.value) == "BucketAlreadyOwnedByYou"


def test_complete_twice_answers_the_same_result(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")
    part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"a" * 100)
    parts = {"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}
    first = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"], MultipartUpload=parts)
    again = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"], MultipartUpload=parts)
    assert again["ETag"] == first["ETag"] and again["Key"] == "mp"
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId="nosuchupload", MultipartUpload=parts)
    assert code(e.value) == "NoSuchUpload"


def test_storage_class_header_only_when_not_standard(cos, s3, bucket):
    cos.put_object(Bucket=bucket, Key="std", Body=b"1")
    cos.put_object(Bucket=bucket, Key="ia", Body=b"1", StorageClass="STANDARD_IA")
    assert "x-cos-storage-class" not in cos.head_object(Bucket=bucket, Key="std")
    assert cos.head_object(Bucket=bucket, Key="ia")["x-cos-storage-class"] == "STANDARD_IA"
    assert "StorageClass" not in s3.head_object(Bucket=bucket, Key="std")
    assert s3.head_object(Bucket=bucket, Key="ia")["StorageClass"] == "STANDARD_IA"


def _raw_head_lines(port: int, request: bytes) -> list[str]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(65536)
    return data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")[1:]


def test_connection_header_capitalised(server):
    for conn, expect in (("keep-alive", "keep-alive"), ("close", "close")):
        lines = _raw_head_lines(server.port, f"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: {conn}\r\n\r\n".encode())
        assert f"Connection: {expect}" in lines, lines
        assert not any(line.startswith("connection:") for line in lines), lines


def test_anonymous_get_of_missing_key(server, cos):
    public = new_bucket(cos)
    cos.put_bucket_acl(Bucket=public, ACL="public-read")
    cos.put_object(Bucket=public, Key="gone", Body=b"x")
    url = f"http://127.0.0.1:{server.port}/{public}/gone"
    assert requests.get(url, timeout=10).status_code == 200
    cos.delete_object(Bucket=public, Key="gone")
    r = requests.get(url, timeout=10)
    assert r.status_code == 404 and b"NoSuchKey" in r.content
    private = new_bucket(cos)
    r = requests.get(f"http://127.0.0.1:{server.port}/{private}/gone", timeout=10)
    assert r.status_code == 403        # may not list: does not learn whether the key exists


def test_acl_round_trip_boto3(server, s3, bucket):
    acl = s3.get_bucket_acl(Bucket=bucket)
    grantee = {"Type": "CanonicalUser", "ID": f"qcs::cam::uin/{APPID}:uin/{make_user(server).uin}"}
    assert all("Type" in g["Grantee"] for g in acl["Grants"])
    s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={
        "Owner": acl["Owner"], "Grants": acl["Grants"] + [{"Grantee": grantee, "Permission": "READ"}]})
    again = s3.get_bucket_acl(Bucket=bucket)
    ids = [(g["Grantee"].get("ID"), g["Permission"]) for g in again["Grants"]]
    assert (grantee["ID"], "READ") in ids
    # a group grant round-trips as a canned ACL
    s3.put_bucket_acl(Bucket=bucket, ACL="authenticated-read")
    groups = [g for g in s3.get_bucket_acl(Bucket=bucket)["Grants"] if g["Grantee"]["Type"] == "Group"]
    assert groups == [{"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"},
                       "Permission": "READ"}]


def test_acl_round_trip_cos_sdk(server, cos, bucket):
    acl = cos.get_bucket_acl(Bucket=bucket)
    grants = acl["AccessControlList"]["Grant"]
    grants = grants if isinstance(grants, list) else [grants]
    assert grants[0]["Grantee"]["Type"] == "CanonicalUser"
    uin = make_user(server).uin
    grants.append({"Grantee": {"Type": "CanonicalUser", "ID": f"qcs::cam::uin/{APPID}:uin/{uin}"},
                   "Permission": "WRITE"})
    cos.put_bucket_acl(Bucket=bucket, AccessControlPolicy={"Owner": acl["Owner"],
                                                           "AccessControlList": {"Grant": grants}})
    again = cos.get_bucket_acl(Bucket=bucket)["AccessControlList"]["Grant"]
    assert any(g["Grantee"].get("ID", "").endswith(uin) and g["Permission"] == "WRITE" for g in again)


def test_authenticated_read(server, cos):
    b = new_bucket(cos)
    cos.put_object(Bucket=b, Key="k", Body=b"data")
    cos.put_object_acl(Bucket=b, Key="k", ACL="authenticated-read")
    assert requests.get(f"http://127.0.0.1:{server.port}/{b}/k", timeout=10).status_code == 403
    user = make_user(server)            # no policy at all: only the ACL can let it read
    assert user.cos(server).get_object(Bucket=b, Key="k")["Body"].get_raw_stream().read() == b"data"
    for canned in ("bucket-owner-read", "bucket-owner-full-control"):
        cos.put_object_acl(Bucket=b, Key="k", ACL=canned)
        assert cos.get_object_acl(Bucket=b, Key="k")


def test_x_amz_request_id(s3, cos, bucket):
    meta = s3.head_bucket(Bucket=bucket)["ResponseMetadata"]
    assert meta["RequestId"] and meta["HTTPHeaders"]["x-amz-request-id"] == meta["HTTPHeaders"]["x-cos-request-id"]
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="missing")
    assert e.value.response["ResponseMetadata"]["RequestId"]


def test_cors_allow_methods_on_actual_requests(server, cos, bucket):
    cos.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRule": [
        {"AllowedOrigin": ["http://app.example"], "AllowedMethod": ["GET", "PUT"], "AllowedHeader": ["*"]}]})
    cos.put_object(Bucket=bucket, Key="c", Body=b"1")
    cos.put_bucket_acl(Bucket=bucket, ACL="public-read")
    r = requests.get(f"http://127.0.0.1:{server.port}/{bucket}/c", headers={"Origin": "http://app.example"}, timeout=10)
    assert r.headers["Access-Control-Allow-Origin"] == "http://app.example"
    assert r.headers["Access-Control-Allow-Methods"] == "GET,PUT"


def test_no_delimiter_element_unless_sent(server, cos, bucket):
    cos.put_object(Bucket=bucket, Key="a/b", Body=b"1")
    cos.put_bucket_acl(Bucket=bucket, ACL="public-read")
    base = f"http://127.0.0.1:{server.port}/{bucket}/"
    assert b"<Delimiter" not in requests.get(base, timeout=10).content
    assert b"<Delimiter" not in requests.get(base + "?list-type=2", timeout=10).content
    assert b"<Delimiter>/</Delimiter>" in requests.get(base + "?delimiter=/", timeout=10).content
    assert "Delimiter" not in cos.list_objects(Bucket=bucket)


def test_content_encoding_without_aws_chunked(s3, bucket):
    import gzip
    body = gzip.compress(b"hello " * 1000)
    s3.put_object(Bucket=bucket, Key="z.gz", Body=body, ContentEncoding="gzip", ChecksumAlgorithm="CRC32")
    head = s3.head_object(Bucket=bucket, Key="z.gz")
    assert head["ContentEncoding"] == "gzip"


@pytest.mark.parametrize("algorithm", ["CRC32", "SHA1", "SHA256"])     # CRC32C: botocore needs awscrt
def test_s3_checksums_verified_and_returned(s3, bucket, algorithm):
    body = b"checksummed body " * 100
    put = s3.put_object(Bucket=bucket, Key=f"c-{algorithm}", Body=body, ChecksumAlgorithm=algorithm)
    field = f"Checksum{algorithm}"
    assert put[field]
    got = s3.get_object(Bucket=bucket, Key=f"c-{algorithm}", ChecksumMode="ENABLED")
    assert got[field] == put[field] and got["Body"].read() == body
    assert s3.head_object(Bucket=bucket, Key=f"c-{algorithm}", ChecksumMode="ENABLED")[field] == put[field]
    assert field not in s3.get_object(Bucket=bucket, Key=f"c-{algorithm}", Range="bytes=0-9")
    assert field not in s3.head_object(Bucket=bucket, Key=f"c-{algorithm}")


def test_wrong_s3_checksum_is_bad_digest(server, bucket):
    from tests.api.test_conditional import with_header
    from tests.conftest import s3_client
    client = s3_client(server.port)
    with_header(client, "PutObject", "x-amz-checksum-sha256", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
    with pytest.raises(ClientError) as e:
        client.put_object(Bucket=bucket, Key="bad", Body=b"data")
    assert code(e.value) in ("BadDigest", "InvalidRequest")


def test_crc32c_checksum_header(server, bucket):
    import base64

    import crcmod.predefined
    from tests.api.test_conditional import with_header
    from tests.conftest import s3_client
    body = b"crc32c body"
    value = base64.b64encode(crcmod.predefined.mkCrcFun("crc-32c")(body).to_bytes(4, "big")).decode()
    client = s3_client(server.port)
    with_header(client, "PutObject", "x-amz-checksum-crc32c", value)
    client.put_object(Bucket=bucket, Key="c32c", Body=body)
    with_header(client, "HeadObject", "x-amz-checksum-mode", "ENABLED")
    head = client.head_object(Bucket=bucket, Key="c32c")["ResponseMetadata"]["HTTPHeaders"]
    assert head["x-amz-checksum-crc32c"] == value
    bad = s3_client(server.port)
    with_header(bad, "PutObject", "x-amz-checksum-crc32c", "AAAAAA==")
    with pytest.raises(ClientError) as e:
        bad.put_object(Bucket=bucket, Key="c32c-bad", Body=body)
    assert code(e.value) == "BadDigest"


def test_aws_chunked_gzip_upload_keeps_only_gzip(server, bucket):
    """boto3 over HTTPS sends a gzip body as `Content-Encoding: gzip,aws-chunked` with a CRC32
    trailer: captured from boto3 (HTTPS endpoint, nothing sent) and replayed here byte for byte."""
    import gzip
    import http.client
    from urllib.parse import urlsplit

    import boto3
    from botocore.awsrequest import AWSResponse
    from botocore.config import Config

    from tests.conftest import REGION, SECRET_ID, SECRET_KEY, s3_client
    client = boto3.client("s3", endpoint_url="https://127.0.0.1:9443", region_name=REGION,
                          aws_access_key_id=SECRET_ID, aws_secret_access_key=SECRET_KEY,
                          config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    sent = []

    def capture(request, **_):
        sent.append(request)

        class Raw:
            def stream(self, **__):
                yield b""
        return AWSResponse(request.url, 200, {"ETag": '"0"'}, Raw())
    client.meta.events.register("before-send.s3", capture)
    body = gzip.compress(b"zipped " * 500)
    client.put_object(Bucket=bucket, Key="z.gz", Body=body, ContentEncoding="gzip")
    request = sent[0]
    headers = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()}
    assert "aws-chunked" in headers["Content-Encoding"]
    raw = request.body if isinstance(request.body, bytes) else request.body.read()
    url = urlsplit(request.url)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.putrequest("PUT", url.path + (f"?{url.query}" if url.query else ""), skip_host=True,
                    skip_accept_encoding=True)
    conn.putheader("Host", url.netloc)       # what the signature covers (the server ignores the port)
    for name, value in headers.items():
        if name.lower() != "expect":
            conn.putheader(name, value)
    conn.endheaders(raw, encode_chunked=True)        # Transfer-Encoding: chunked, as boto3 sends it
    resp = conn.getresponse()
    assert resp.status == 200, resp.read()
    head = s3_client(server.port).head_object(Bucket=bucket, Key="z.gz")
    assert head["ContentEncoding"] == "gzip" and head["ContentLength"] == len(body)


def test_upload_part_copy_range_is_checked(s3, bucket):
    """UploadPartCopy's x-amz-copy-source-range must be bytes=<first>-<last> inside the source:
    beyond it is InvalidRange, malformed is InvalidArgument (never a silent whole-object copy)."""
    s3.put_object(Bucket=bucket, Key="src", Body=b"12345")
    up = s3.create_multipart_upload(Bucket=bucket, Key="dst")
    src = {"Bucket": bucket, "Key": "src"}
    for bad, code in (("bytes=0-21", "InvalidRange"), ("bytes=5-5", "InvalidRange"), ("bytes=3-1", "InvalidArgument"),
                      ("bytes=-2", "InvalidArgument"), ("bytes=0-", "InvalidArgument"), ("0-1", "InvalidArgument")):
        with pytest.raises(ClientError) as e:
            s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=up["UploadId"], PartNumber=1,
                                CopySource=src, CopySourceRange=bad)
        assert e.value.response["Error"]["Code"] == code, bad
    s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=up["UploadId"], PartNumber=1, CopySource=src,
                        CopySourceRange="bytes=1-3")
    assert s3.list_parts(Bucket=bucket, Key="dst", UploadId=up["UploadId"])["Parts"][0]["Size"] == 3


def test_list_objects_v1_prefix_as_each_service_answers(s3, cos, bucket):
    """boto3 sends encoding-type=url on ListObjects and decodes keys and markers but not v1's own
    <Prefix> (S3 leaves it unencoded); cos-python-sdk-v5 decodes it (COS encodes it)."""
    for key in ("a b/1", "line\nbreak"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    for prefix in ("a b/", "line\n"):
        got = s3.list_objects(Bucket=bucket, Prefix=prefix)
        assert got["Prefix"] == prefix and [c["Key"] for c in got["Contents"]] == [prefix.replace("/", "/1")
                                                                                  if "/" in prefix else "line\nbreak"]
        assert s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Prefix"] == prefix
    got = cos.list_objects(Bucket=bucket, Prefix="a b/")      # the SDK sends encoding-type=url and decodes
    assert got["Prefix"] == "a b/" and got["Contents"][0]["Key"] == "a b/1"
    raw = cos.list_objects(Bucket=bucket, Prefix="a b/", EncodingType="url")     # the caller decodes
    assert raw["Prefix"] == "a%20b/" and raw["Contents"][0]["Key"] == "a%20b/1"


def test_sigv4_presigned_expires_bounds(s3, bucket):
    """X-Amz-Expires=0 is an expired URL (403, as S3); negative or over a week is S3's 400
    AuthorizationQueryParametersError."""
    s3.put_object(Bucket=bucket, Key="exp", Body=b"x")
    for expires, status, code in ((0, 403, b"AccessDenied"), (-1000, 400, b"AuthorizationQueryParametersError"),
                                  (604801, 400, b"AuthorizationQueryParametersError"), (60, 200, None)):
        url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "exp"}, ExpiresIn=expires)
        r = requests.get(url, timeout=10)
        assert r.status_code == status, (expires, r.text)
        if code:
            assert code in r.content
