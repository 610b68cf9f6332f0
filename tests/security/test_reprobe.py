"""Issue #13, re-run of the attacker's probe set after the fix: what still failed, driven over HTTP
against a real server (each test names the probe it repeats).

* a copy source whose percent-escapes are not UTF-8 (``%ff%fe``) was decoded with replacement
  characters and copied another object (the one named ``U+FFFD U+FFFD``);
* the console's own JSON API (``/console/api/...``) answered 500 to deeply nested JSON and skipped
  the one-value-per-parameter and what-must-be-signed rules the COS API enforces.
"""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest
import requests
from qcloud_cos import CosConfig
from qcloud_cos.cos_auth import CosS3Auth

from tests.api.wire import send
from tests.conftest import REGION, SECRET_ID, SECRET_KEY, cos_client, new_bucket, running_server


@pytest.fixture(scope="module")
def srv():
    with running_server("cosbeauty-reprobe-", ["--no-fsync"]) as server:
        yield server


@pytest.fixture(scope="module")
def cos(srv):
    return cos_client(srv.port)


def cos_auth(method: str, path: str, host: str, headers: dict | None = None, params: dict | None = None) -> str:
    """cos-python-sdk-v5's Authorization over ``path`` (signing host, ``headers`` and ``params``)."""
    conf = CosConfig(Region=REGION, SecretId=SECRET_ID, SecretKey=SECRET_KEY)
    req = requests.Request(method, f"http://{host}/x").prepare()
    req.headers = requests.structures.CaseInsensitiveDict({"Host": host, **(headers or {})})
    return CosS3Auth(conf, path, params=params or {}, expire=600)(req).headers["Authorization"]


def console(srv, method: str, path: str, params: dict | None = None, headers: dict | None = None,
            body: bytes = b"", query: str | None = None, signed_params: dict | None = None):
    """A signed console API call, path-style on the server's own host (as the browser makes it)."""
    host = f"127.0.0.1:{srv.port}"
    params = params or {}
    auth = cos_auth(method, path, host, headers, params if signed_params is None else signed_params)
    qs = query if query is not None else "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params.items())
    return send(srv.port, method, path + (f"?{qs}" if qs else ""), {"Authorization": auth, **(headers or {})}, body)


def test_copy_source_with_invalid_utf8_is_400_not_another_object(srv, cos):
    bucket = new_bucket(cos, "cpsrc")
    cos.put_object(Bucket=bucket, Key="\ufffd\ufffd", Body=b"the object named U+FFFD U+FFFD")
    host = f"{bucket}.cos.{REGION}.myqcloud.com"
    for source in (f"{host}/%ff%fe", f"/{bucket}/%ff%fe"):
        for name in ("x-cos-copy-source",):       # (the COS SDK's signer leaves x-amz-* out)
            headers = {name: source}
            reply = send(srv.port, "PUT", "/copy", {"Host": host, "Authorization": cos_auth("PUT", "/copy", host, headers),
                                                    **headers})
            assert reply.status == 400, (source, reply.status, reply.message)
            assert reply.code == "InvalidArgument" and "UTF-8" in reply.message, reply.body
    assert "Contents" not in cos.list_objects(Bucket=bucket, Prefix="copy")


@pytest.mark.parametrize("route", ["permissions", "ci"])
def test_console_api_deep_json_is_400(srv, cos, route):
    """Was 500 Internal Server Error with a RecursionError traceback in the log."""
    if route == "permissions":
        reply = console(srv, "GET", "/console/api/permissions", {"checks": "[" * 3000 + "]" * 3000})
    else:
        bucket = new_bucket(cos, "deep")
        reply = console(srv, "PUT", f"/console/api/ci/{bucket}", headers={"Content-Type": "application/json"},
                        body=b"[" * 2000 + b"]" * 2000)
    assert reply.status == 400, (reply.status, reply.body)
    assert b"nested too deep" in reply.body
    assert "Traceback" not in srv.log()


def test_console_api_obeys_the_signing_rules(srv, cos):
    bucket = new_bucket(cos, "crules")
    checks = '[{"action": "cos:GetObject", "bucket": "%s", "key": "a"}]' % bucket
    ok = console(srv, "GET", "/console/api/permissions", {"checks": checks})
    assert ok.status == 200, ok.body
    # one value per parameter: a second (unsigned, case-variant) checks is refused, not chosen
    dup = console(srv, "GET", "/console/api/permissions", {"checks": checks},
                  query=f"Checks=%5B%5D&checks={quote(checks, safe='')}")
    assert dup.status == 400 and b"more than once" in dup.body, dup.body
    # a parameter the signature does not cover
    unsigned = console(srv, "GET", "/console/api/permissions", {"checks": checks}, signed_params={})
    assert unsigned.status == 403 and b"query parameter checks" in unsigned.body, unsigned.body
    # an unsigned x-cos-* header on a signed console call
    auth = cos_auth("GET", f"/console/api/ci/{bucket}", f"127.0.0.1:{srv.port}")
    extra = send(srv.port, "GET", f"/console/api/ci/{bucket}", {"Authorization": auth, "x-cos-acl": "public-read"})
    assert extra.status == 403 and b"x-cos-acl" in extra.body, extra.body
    # a path that is not UTF-8 is refused, not decoded with replacement characters
    bad = console(srv, "GET", "/console/api/faces/%s/%%ff%%fe" % bucket)
    assert bad.status == 400, bad.body


def test_full_disk_on_admin_and_console_apis_is_507_without_traceback():
    """Probe 8 (full disk) on the mounted APIs: the COS API answered 507, but the admin API and the
    console API answered a bare 500 with a sqlite3 'database or disk is full' traceback."""
    import os

    from tests.api.test_bad_input_more import small_filesystem
    from tests.conftest import Server, free_port

    with small_filesystem("8m") as data_dir:
        server = Server(data_dir, free_port()).start()
        try:
            bucket = new_bucket(cos_client(server.port), "full")
            with open(os.path.join(data_dir, "filler"), "wb") as filler:   # fill the disk to the last byte
                try:
                    while True:
                        filler.write(b"\0" * 65536)
                        filler.flush()
                except OSError:
                    pass
            admin = console(server, "POST", "/-/admin/users", headers={"Content-Type": "application/json"},
                            body=b'{"name": "full-disk-user"}')
            assert admin.status == 507 and b"InsufficientStorage" in admin.body, (admin.status, admin.body)
            ci = console(server, "PUT", f"/console/api/ci/{bucket}", headers={"Content-Type": "application/json"},
                         body=b'{"bound": true}')
            assert ci.status == 507 and ci.code == "InsufficientStorage", (ci.status, ci.body)
            deadline = time.monotonic() + 10
            while server.log().count("InsufficientStorage (disk full)") < 2 and time.monotonic() < deadline:
                time.sleep(0.2)
            log = server.log()
            assert "Traceback" not in log, log
            assert log.count("InsufficientStorage (disk full)") == 2, log      # one line per failed request
        finally:
            server.stop()


def test_mounted_apis_carry_nosniff_and_the_sandbox_policy(srv, cos):
    """Probe 9 on every path: the COS API had the headers, the mounted JSON/text APIs did not (the
    console's faces reply echoes object keys). The console's own pages keep their own policy."""
    bucket = new_bucket(cos, "hdrs")
    cos.put_object(Bucket=bucket, Key="<svg>.jpg", Body=b"not an image")
    replies = {
        "healthz": send(srv.port, "GET", "/-/healthz"),
        "metrics": send(srv.port, "GET", "/-/metrics"),
        "admin": console(srv, "GET", "/-/admin/users"),
        "usage": console(srv, "GET", "/-/usage"),
        "console-info": send(srv.port, "GET", "/console/api/info"),
        "console-faces": console(srv, "GET", f"/console/api/faces/{bucket}/<svg>.jpg"),
        "console-404": console(srv, "GET", "/console/api/nope"),
    }
    for name, reply in replies.items():
        assert reply.headers.get("x-content-type-options") == "nosniff", (name, reply.headers)
        assert reply.headers.get("content-security-policy", "").startswith("sandbox;"), (name, reply.headers)
    page = send(srv.port, "GET", "/console/")
    assert page.status == 200 and page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["content-security-policy"].startswith("default-src 'self'"), page.headers


@pytest.mark.parametrize("key,filename", [(b"\xff\xfe", b"a.txt"), (b"${filename}", b"\xff\xfe")])
def test_post_object_form_fields_that_are_not_utf8_are_400(srv, cos, key, filename):
    """Probe 8 (%ff%fe keys) on the POST Object form: the key field (and ${filename}) was decoded with
    replacement characters, so it overwrote the object named U+FFFD U+FFFD."""
    bucket = new_bucket(cos, "form")
    cos.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    cos.put_object(Bucket=bucket, Key="\ufffd\ufffd", Body=b"original")
    body = (b'--zz\r\nContent-Disposition: form-data; name="key"\r\n\r\n' + key +
            b'\r\n--zz\r\nContent-Disposition: form-data; name="file"; filename="' + filename +
            b'"\r\nContent-Type: text/plain\r\n\r\noverwritten\r\n--zz--\r\n')
    reply = send(srv.port, "POST", f"/{bucket}", {"Content-Type": "multipart/form-data; boundary=zz"}, body)
    assert reply.status == 400 and reply.code == "MalformedPOSTRequest" and "UTF-8" in reply.message, reply.body
    assert cos.get_object(Bucket=bucket, Key="\ufffd\ufffd")["Body"].get_raw_stream().read() == b"original"


@pytest.mark.parametrize("value", ["0\x1f", "0.5\x1c"])
def test_strength_with_a_separator_control_character_is_400(srv, cos, value):
    """Found by bench/fuzz.py (probe 10): str.strip() removes \\x1c-\\x1f, float() does not accept
    them, so strength=0%1F was a 500 InternalError with a traceback."""
    from cosbeauty.cli import main as cli_main

    bucket = new_bucket(cos, "strength")
    for step in ("bind", "enable-ai"):
        assert cli_main(["ci", step, bucket, "--data-dir", srv.data_dir]) == 0
    cos.put_object(Bucket=bucket, Key="a.jpg", Body=b"\xff\xd8 not decoded: parameters are checked first")
    host = f"{bucket}.cos.{REGION}.myqcloud.com"
    params = {"ci-process": "AIFaceBeauty", "strength": value}
    reply = send(srv.port, "GET", f"/a.jpg?ci-process=AIFaceBeauty&strength={quote(value)}",
                 {"Host": host, "Authorization": cos_auth("GET", "/a.jpg", host, params=params)})
    assert reply.status == 400 and reply.code == "InvalidArgument" and "strength" in reply.message, reply.body


@pytest.mark.parametrize("scheme", ["cos", "sigv4", "sigv2"])
@pytest.mark.parametrize("method,extra", [("PUT", "uploads"), ("PUT", "append&position=0"),
                                          ("PUT", "ci-process=AIFaceBeauty"), ("GET", "image_process"),
                                          ("GET", "uploads"), ("GET", "partNumber=1"),
                                          ("GET", "imageMogr2/thumbnail/!50p"), ("GET", "x-cos-traffic-limit=1"),
                                          ("DELETE", "delete"), ("PUT", "versionId=v1")])
def test_unsigned_parameter_on_a_presigned_url_is_403_even_where_no_endpoint_takes_it(srv, cos, scheme, method, extra):
    """Probe 2: an appended parameter was answered 405 / 501 / 400 by the router before the signature
    checks ran; the rule is 403 naming the unsigned item (SigV4, and SigV2 for its sub-resources,
    sign the query: there it is SignatureDoesNotMatch)."""
    from tests.api.test_signing_scope import presigned
    from tests.api.wire import send_url

    bucket = new_bucket(cos, "unrt")
    cos.put_object(Bucket=bucket, Key="k", Body=b"k")
    reply = send_url(srv.port, method, presigned(srv.port, scheme, method, bucket, "k"), extra_query=extra,
                     body=b"x" if method == "PUT" else b"")
    assert reply.status == 403, (reply.status, reply.body)
    name = extra.split("=")[0].split("&")[0].split("/")[0]
    if reply.code == "AccessDenied":
        assert f"query parameter {name}" in reply.message, reply.message
    else:
        assert reply.code == "SignatureDoesNotMatch" and (scheme == "sigv4" or scheme == "sigv2"), reply.body


def test_mounted_apis_refuse_parameters_they_do_not_read(srv, cos):
    """Probe 7 (no silent fallback) on the mounted APIs: an unknown parameter was ignored, so a
    typo such as /-/admin/keys?usr=alice listed every user's keys instead of alice's."""
    bucket = new_bucket(cos, "params")
    for path, params in [("/-/admin/keys", {"usr": "alice"}), ("/-/admin/users", {"user": "alice"}),
                         ("/-/usage", {"buckt": bucket}), ("/console/api/permissions", {"check": "[]"}),
                         (f"/console/api/ci/{bucket}", {"bound": "true"})]:
        reply = console(srv, "GET", path, params)
        assert reply.status == 400, (path, reply.status, reply.body)
        assert b"Unknown query parameter" in reply.body, reply.body
    for path, params in [("/-/admin/keys", {"user": "alice"}), ("/-/usage", {"bucket": bucket, "since": "1h"}),
                         ("/console/api/permissions", {"checks": "[]"}), (f"/console/api/ci/{bucket}", {})]:
        reply = console(srv, "GET", path, params)
        assert reply.status in (200, 404), (path, reply.status, reply.body)      # 404: no such user


def test_path_style_cos_v5_without_host_cannot_replay_a_virtual_host_signature(srv, cos):
    """Probe 4 (Host not signed): a pre-signed GET for key ``A/x`` of bucket B that does not sign Host
    is the same HMAC as a path-style GET of key ``x`` in bucket A. Path-style COS v5 requests must sign
    Host, so the replay is refused; the same signature still works where it was meant to."""
    victim, other = new_bucket(cos), new_bucket(cos)
    cos.put_object(Bucket=victim, Key="x", Body=b"secret of A")
    cos.put_object(Bucket=other, Key=f"{victim}/x", Body=b"B's own object")
    conf = CosConfig(Region=REGION, SecretId=SECRET_ID, SecretKey=SECRET_KEY)
    req = requests.Request("GET", "http://h/x").prepare()
    req.headers = requests.structures.CaseInsensitiveDict({})
    auth = CosS3Auth(conf, f"{victim}/x", params={}, expire=600, sign_host=False)(req).headers["Authorization"]
    replay = send(srv.port, "GET", f"/{victim}/x", {"Authorization": auth})
    assert replay.status == 403 and b"secret of A" not in replay.body
    assert b"Host" in replay.body
    own = send(srv.port, "GET", f"/{victim}/x", {"Host": f"{other}.cos.{REGION}.myqcloud.com", "Authorization": auth})
    assert own.status == 200 and own.body == b"B's own object"
