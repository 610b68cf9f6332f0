"""HTTPS on the server itself (issue #13 item 11): ``--tls-cert/--tls-key``, TLS 1.2+ only, real
SDK clients against a CA the test makes, and policies' secure-transport condition seeing the real
scheme -- X-Forwarded-Proto counts only from a ``--trusted-proxy``."""

from __future__ import annotations

import json
import socket
import ssl
import uuid

import pytest
import requests

from tests.conftest import APPID, REGION, SECRET_ID, SECRET_KEY, new_bucket, running_server
from tests.security.tls_ca import make_tls_files


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    return make_tls_files(str(tmp_path_factory.mktemp("tls")))


@pytest.fixture(scope="module")
def tls_server(tls):
    with running_server("cosbeauty-tls-", ["--no-fsync", "--tls-cert", tls.cert, "--tls-key", tls.key]) as srv:
        yield srv


def https_cos(port: int, ca: str, secret_id: str = SECRET_ID, secret_key: str = SECRET_KEY):
    from qcloud_cos import CosConfig, CosS3Client
    conf = CosConfig(Region=REGION, SecretId=secret_id, SecretKey=secret_key, IP="127.0.0.1", Port=port,
                     Scheme="https", VerifySSL=ca, ServiceDomain=f"127.0.0.1:{port}")
    return CosS3Client(conf, retry=0)


def admin(base: str, verify, method: str, route: str, body=None) -> requests.Response:
    """A root-signed admin API call (COS v5, as the SDK signs)."""
    from qcloud_cos import CosConfig
    from qcloud_cos.cos_auth import CosS3Auth
    path = "/-/admin" + route
    auth = CosS3Auth(CosConfig(Region=REGION, SecretId=SECRET_ID, SecretKey=SECRET_KEY), key=path.lstrip("/"))
    host = base.split("://", 1)[1]
    return requests.request(method, base + path, data=None if body is None else json.dumps(body),
                            headers={"Host": host}, auth=auth, verify=verify, timeout=30)


def https_only_user(base: str, verify) -> tuple[str, str]:
    """A sub-account allowed PutObject only over secure transport; returns its key pair."""
    name = "tls" + uuid.uuid4().hex[:8]
    assert admin(base, verify, "POST", "/users", {"name": name}).status_code == 201
    key = admin(base, verify, "POST", f"/users/{name}/keys").json()
    doc = {"version": "2.0", "statement": [{"effect": "allow", "action": ["name/cos:PutObject"], "resource": ["*"],
                                            "condition": {"bool_equal": {"qcs:secure_transport": "true"}}}]}
    assert admin(base, verify, "PUT", f"/users/{name}/policies/https", doc).status_code == 204
    return key["secret_id"], key["secret_key"]


def cos_with_headers(port: int, secret_id: str, secret_key: str, headers: dict[str, str]):
    """A COS SDK client whose requests carry extra (unsigned) headers, on a session of its own
    (the SDK's built-in session is shared by every client in the process)."""
    from qcloud_cos import CosConfig, CosS3Client
    session = requests.Session()
    session.headers.update(headers)
    conf = CosConfig(Region=REGION, SecretId=secret_id, SecretKey=secret_key, IP="127.0.0.1", Port=port,
                     Scheme="http", ServiceDomain=f"127.0.0.1:{port}")
    return CosS3Client(conf, retry=0, session=session)


def put_code(client, bucket: str, **kw) -> str:
    from qcloud_cos.cos_exception import CosServiceError
    try:
        client.put_object(Bucket=bucket, Key="t.txt", Body=b"t", **kw)
        return "OK"
    except CosServiceError as err:
        return err.get_error_code()


def test_cos_sdk_over_https(tls_server, tls):
    cos = https_cos(tls_server.port, tls.ca)
    bucket = new_bucket(cos, "tls")
    cos.put_object(Bucket=bucket, Key="a.txt", Body=b"over tls")
    assert cos.get_object(Bucket=bucket, Key="a.txt")["Body"].get_raw_stream().read() == b"over tls"
    assert bucket in [b["Name"] for b in cos.list_buckets()["Buckets"]["Bucket"]]


def test_boto3_over_https(tls_server, tls):
    import boto3
    from botocore.config import Config
    s3 = boto3.client("s3", endpoint_url=f"https://127.0.0.1:{tls_server.port}", region_name=REGION,
                      aws_access_key_id=SECRET_ID, aws_secret_access_key=SECRET_KEY, verify=tls.ca,
                      config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    bucket = f"tlsb{uuid.uuid4().hex[:8]}-{APPID}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="b.txt", Body=b"boto over tls")
    assert s3.get_object(Bucket=bucket, Key="b.txt")["Body"].read() == b"boto over tls"


def test_untrusted_certificate_is_refused_by_clients(tls_server):
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"https://127.0.0.1:{tls_server.port}/", timeout=10)        # system CAs only


def handshake(port: int, ca: str, minimum: ssl.TLSVersion, maximum: ssl.TLSVersion) -> str:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(ca)
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    ctx.minimum_version, ctx.maximum_version = minimum, maximum
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            return s.version()


def test_only_tls_1_2_and_newer(tls_server, tls):
    v = ssl.TLSVersion
    assert handshake(tls_server.port, tls.ca, v.TLSv1_3, v.TLSv1_3) == "TLSv1.3"
    assert handshake(tls_server.port, tls.ca, v.TLSv1_2, v.TLSv1_2) == "TLSv1.2"
    for old in (v.TLSv1, v.TLSv1_1):
        with pytest.raises((ssl.SSLError, ConnectionResetError)):
            handshake(tls_server.port, tls.ca, old, old)


def test_secure_transport_condition_sees_https(tls_server, tls):
    base = f"https://127.0.0.1:{tls_server.port}"
    bucket = new_bucket(https_cos(tls_server.port, tls.ca), "sec")
    sid, skey = https_only_user(base, tls.ca)
    assert put_code(https_cos(tls_server.port, tls.ca, sid, skey), bucket) == "OK"


def test_forwarded_proto_ignored_without_trusted_proxy(server, cos):
    from tests.conftest import cos_client
    bucket = new_bucket(cos, "sec")
    sid, skey = https_only_user(server.endpoint, True)
    user = cos_client(server.port, sid, skey)
    assert put_code(user, bucket) == "AccessDenied"                                  # plain HTTP
    spoofed = cos_with_headers(server.port, sid, skey, {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    assert put_code(spoofed, bucket) == "AccessDenied"                               # not believed


def test_forwarded_proto_from_trusted_proxy():
    from tests.conftest import cos_client
    with running_server("cosbeauty-proxy-", ["--no-fsync", "--trusted-proxy", "127.0.0.1/32"]) as srv:
        bucket = new_bucket(cos_client(srv.port), "sec")
        sid, skey = https_only_user(srv.endpoint, True)
        direct = cos_client(srv.port, sid, skey)
        assert put_code(direct, bucket) == "AccessDenied"                            # the proxy said nothing
        proxied = cos_with_headers(srv.port, sid, skey, {"X-Forwarded-Proto": "https"})
        assert put_code(proxied, bucket) == "OK"                                     # the proxy terminated TLS


def test_stalled_tls_handshake_is_dropped(tls):
    """A TCP connection to the TLS port that never handshakes is closed after --header-timeout
    (asyncio's default would hold it for 60 s, outside the connection cap)."""
    import time
    with running_server("cosbeauty-tls-", ["--no-fsync", "--tls-cert", tls.cert, "--tls-key", tls.key,
                                           "--header-timeout", "1.5"]) as srv:
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        started = time.monotonic()
        try:
            assert s.recv(100) == b""
        except ConnectionResetError:
            pass
        assert time.monotonic() - started < 6
        s.close()
