"""The console without a browser: static files and their content types, the console JSON API
(info, faces, CI switches) and the in-browser COS v5 signer (run under node) against the SDK."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import shutil
import subprocess
import time
import uuid
from unittest import mock
from urllib.parse import quote

import httpx
import pytest

from cosbeauty.console import STATIC_DIR
from tests.conftest import APPID, SECRET_ID, SECRET_KEY, cos_client

EXPECTED_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
NODE = shutil.which("node")
SIGNER = os.path.join(STATIC_DIR, "js", "sigv5.js")


@pytest.fixture(scope="module")
def http(console_server):
    with httpx.Client(base_url=console_server.endpoint, timeout=60) as client:
        yield client


def cos_v5(method: str, path: str, params: dict | None = None, headers: dict | None = None,
           secret_id: str = SECRET_ID, secret_key: str = SECRET_KEY, now: int | None = None) -> str:
    """Independent Python COS v5 signer (the SDK's algorithm), for requests the SDK cannot make."""
    enc = lambda s: quote(str(s).encode(), safe="-_.~")  # noqa: E731
    now = int(time.time()) if now is None else now
    key_time = f"{now - 60};{now + 600}"
    p = {enc(k).lower(): enc(v) for k, v in (params or {}).items()}
    h = {enc(k).lower(): enc(v) for k, v in (headers or {}).items()}
    http_string = (f"{method.lower()}\n{path}\n" + "&".join(f"{k}={v}" for k, v in sorted(p.items())) + "\n"
                   + "&".join(f"{k}={v}" for k, v in sorted(h.items())) + "\n")
    sts = f"sha1\n{key_time}\n{hashlib.sha1(http_string.encode()).hexdigest()}\n"
    sign_key = hmac.new(secret_key.encode(), key_time.encode(), hashlib.sha1).hexdigest()
    sig = hmac.new(sign_key.encode(), sts.encode(), hashlib.sha1).hexdigest()
    return (f"q-sign-algorithm=sha1&q-ak={secret_id}&q-sign-time={key_time}&q-key-time={key_time}"
            f"&q-header-list={';'.join(sorted(h))}&q-url-param-list={';'.join(sorted(p))}&q-signature={sig}")


# -- static files -----------------------------------------------------------------------------
def test_console_redirects_to_slash(http):
    r = http.get("/console?x=1", follow_redirects=False)
    assert r.status_code == 308
    assert r.headers["location"] == "/console/?x=1"


def test_index_is_the_app_shell(http):
    r = http.get("/console/")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert '<script type="module" src="js/main.js"></script>' in r.text
    assert 'href="console.css"' in r.text
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp and "script-src 'self'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-cache"


def test_every_asset_is_served_with_its_content_type(http):
    served = 0
    for folder, _, files in os.walk(STATIC_DIR):
        for name in files:
            rel = os.path.relpath(os.path.join(folder, name), STATIC_DIR).replace(os.sep, "/")
            r = http.get(f"/console/{rel}")
            assert r.status_code == 200, rel
            ext = os.path.splitext(name)[1]
            assert r.headers["content-type"].split(";")[0] == EXPECTED_TYPES[ext], rel
            with open(os.path.join(folder, name), "rb") as f:
                assert r.content == f.read()
            served += 1
    assert served >= 10


def test_module_imports_resolve(http):
    """Every relative ES-module import names a file the server serves (no build step, no CDN)."""
    import re
    for folder, _, files in os.walk(os.path.join(STATIC_DIR, "js")):
        for name in files:
            path = os.path.join(folder, name)
            source = open(path, encoding="utf-8").read()
            assert "http://" not in source.replace("http://www.w3.org/2000/svg", "") and "https://" not in source, name
            for spec in re.findall(r'^import .* from "(\.[^"]+)";', source, re.M):
                target = os.path.normpath(os.path.join(folder, spec))
                rel = os.path.relpath(target, STATIC_DIR).replace(os.sep, "/")
                assert http.get(f"/console/{rel}").status_code == 200, (name, spec)


def test_conditional_get_and_head(http):
    r = http.get("/console/js/main.js")
    etag = r.headers["etag"]
    assert http.get("/console/js/main.js", headers={"if-none-match": etag}).status_code == 304
    head = http.head("/console/console.css")
    assert head.status_code == 200 and head.headers["content-type"].startswith("text/css")


@pytest.mark.parametrize("path", ["/console/nope.js", "/console/js/", "/console/%2e%2e/app.py",
                                  "/console/..%2f__init__.py", "/console/js/../../app.py"])
def test_missing_and_traversal_are_404(console_server, path):
    import socket
    with socket.create_connection(("127.0.0.1", console_server.port)) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    assert reply.split(b" ", 2)[1] == b"404", reply[:200]
    assert b"import" not in reply


def test_post_to_static_is_refused(http):
    assert http.post("/console/", content=b"x").status_code == 405


# -- console API ---------------------------------------------------------------------------------
def test_info_is_public_and_secret_free(http):
    r = http.get("/console/api/info")
    assert r.status_code == 200
    assert r.json() == {"appid": APPID, "region": "ap-guangzhou", "server": "cosbeauty"}
    assert SECRET_KEY not in r.text and SECRET_ID not in r.text


@pytest.fixture(scope="module")
def photo_bucket(console_server):
    from PIL import Image
    from skimage import data

    cos = cos_client(console_server.port)
    bucket = f"console{uuid.uuid4().hex[:8]}-{APPID}"
    cos.create_bucket(Bucket=bucket)
    buf = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buf, "JPEG", quality=90)
    cos.put_object(Bucket=bucket, Key="people/astronaut.jpg", Body=buf.getvalue())
    cos.put_object(Bucket=bucket, Key="notes.txt", Body=b"not an image")
    return bucket


def test_faces_needs_a_signature(http, photo_bucket):
    r = http.get(f"/console/api/faces/{photo_bucket}/people/astronaut.jpg")
    assert r.status_code == 403
    assert b"<Code>AccessDenied</Code>" in r.content


def test_faces_rejects_a_wrong_key(http, photo_bucket):
    path = f"/console/api/faces/{photo_bucket}/people/astronaut.jpg"
    auth = cos_v5("GET", path, secret_key="wrong")
    r = http.get(path, headers={"authorization": auth})
    assert r.status_code == 403 and b"SignatureDoesNotMatch" in r.content


def test_faces_of_the_astronaut(http, photo_bucket):
    path = f"/console/api/faces/{photo_bucket}/people/astronaut.jpg"
    r = http.get(path, headers={"authorization": cos_v5("GET", path, headers={"host": f"127.0.0.1:{http.base_url.port}"})})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["width"], body["height"]) == (512, 512)
    assert len(body["faces"]) == 1
    face = body["faces"][0]
    # Eileen Collins' face is in the upper middle of skimage's astronaut
    assert 140 < face["x"] + face["width"] / 2 < 260 and 60 < face["y"] + face["height"] / 2 < 160
    assert face["score"] > 0.5


def test_faces_of_a_non_image_and_a_missing_key(http, photo_bucket):
    for key, status, code in (("notes.txt", 400, b"InvalidImageFormat"), ("nope.jpg", 404, b"NoSuchKey")):
        path = f"/console/api/faces/{photo_bucket}/{key}"
        r = http.get(path, headers={"authorization": cos_v5("GET", path)})
        assert r.status_code == status and code in r.content, r.text


def test_ci_switches(http, photo_bucket):
    path = f"/console/api/ci/{photo_bucket}"
    r = http.get(path, headers={"authorization": cos_v5("GET", path)})
    assert r.status_code == 200
    assert (r.json()["bound"], r.json()["ai"]) == (False, False)
    body = json.dumps({"bound": True, "ai": True})
    hdrs = {"content-type": "application/json"}
    r = http.put(path, content=body, headers={**hdrs, "authorization": cos_v5("PUT", path, headers=hdrs)})
    assert r.status_code == 200, r.text
    assert (r.json()["bound"], r.json()["ai"]) == (True, True)
    # the COS API sees it: AIFaceBeauty works now
    resp = http.get(f"/{photo_bucket}/people/astronaut.jpg", params={"ci-process": "AIFaceBeauty", "strength": "0.6"},
                    headers={"authorization": cos_v5("GET", f"/{photo_bucket}/people/astronaut.jpg",
                                                     params={"ci-process": "AIFaceBeauty", "strength": "0.6"},
                                                     headers={"host": http.base_url.netloc.decode()})})
    assert resp.status_code == 200 and resp.headers["content-type"] == "image/jpeg"
    # unbinding turns AI off too
    off = json.dumps({"bound": False})
    r = http.put(path, content=off, headers={**hdrs, "authorization": cos_v5("PUT", path, headers=hdrs)})
    assert (r.json()["bound"], r.json()["ai"]) == (False, False)


@pytest.mark.parametrize("body", [b"not json", b"[]", b"{}", b'{"bound": 1}', b'{"other": true}'])
def test_ci_switches_reject_bad_bodies(http, photo_bucket, body):
    path = f"/console/api/ci/{photo_bucket}"
    r = http.put(path, content=body, headers={"authorization": cos_v5("PUT", path)})
    assert r.status_code == 400 and b"InvalidArgument" in r.content


def test_ci_switches_need_a_signature(http, photo_bucket):
    path = f"/console/api/ci/{photo_bucket}"
    assert http.put(path, content=b'{"bound": true}').status_code == 403
    assert http.get(f"/console/api/ci/nosuch-{APPID}", headers={
        "authorization": cos_v5("GET", f"/console/api/ci/nosuch-{APPID}")}).status_code == 404


def test_unknown_console_api(http):
    assert http.get("/console/api/nothing").status_code == 404


# -- the browser's signer against the SDK ----------------------------------------------------------
CASES = [
    {"method": "GET", "path": "/", "params": {}, "headers": {"host": "127.0.0.1:8000"}},
    {"method": "GET", "path": "/photos-1250000000/", "params": {"prefix": "a b/ç+&=", "delimiter": "/", "marker": "",
                                                              "max-keys": "50"}, "headers": {"host": "127.0.0.1"}},
    {"method": "PUT", "path": "/photos-1250000000/照片/a b+c!'()*.jpg", "params": {},
     "headers": {"host": "localhost:9000", "Content-Type": "image/jpeg", "x-cos-meta-Note": "ünï cødé ~-_."}},
    {"method": "POST", "path": "/photos-1250000000/people/astronaut.jpg", "params": {"image_process": ""},
     "headers": {"host": "127.0.0.1:1", "Pic-Operations": json.dumps({"is_pic_info": 1, "rules": [
         {"fileid": "/out/x.jpg", "rule": "ci-process=AIFaceBeauty&strength=0.35"}]})}},
    {"method": "PUT", "path": "/b-1250000000/k", "params": {"partNumber": "3", "uploadId": "Ab%2F/+=="}, "headers": {}},
    {"method": "GET", "path": "/b-1250000000/k", "params": {"ci-process": "AIFaceBeauty", "strength": "0.50",
                                                           "response-content-disposition": "attachment; filename*=UTF-8''x.jpg"},
     "headers": {}},
]
NOW = 1_750_000_000


def sdk_authorization(case: dict, expire: int = 900) -> str:
    from qcloud_cos import CosConfig
    from qcloud_cos.cos_auth import CosS3Auth

    conf = CosConfig(Region="ap-guangzhou", SecretId=SECRET_ID, SecretKey=SECRET_KEY)
    auth = CosS3Auth(conf, key=case["path"], params=case["params"], expire=expire, sign_host=False)

    class Req:
        method = case["method"]
        url = "http://127.0.0.1:8000" + quote(case["path"])
        headers = dict(case["headers"])

    with mock.patch("qcloud_cos.cos_auth.time.time", return_value=NOW + 0.7):
        return auth(Req()).headers["Authorization"]


def node_authorizations(cases: list[dict], expire: int = 900) -> list[dict]:
    script = f"""
import {{ signRequest, cosEncode }} from {json.dumps("file://" + SIGNER)};
const cases = JSON.parse(process.argv[1]);
const out = [];
for (const c of cases) {{
  out.push(await signRequest({{ secretId: {json.dumps(SECRET_ID)}, secretKey: {json.dumps(SECRET_KEY)},
    method: c.method, path: c.path, params: c.params, headers: c.headers, now: {NOW + 0.7}, expires: {expire} }}));
}}
out.push({{ encoded: cosEncode("a b/ç+&=!'()*~-_.") }});
console.log(JSON.stringify(out));
"""
    run = subprocess.run([NODE, "--input-type=module", "-e", script, json.dumps(cases)], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_js_signer_matches_the_sdk():
    results = node_authorizations(CASES)
    assert results[-1]["encoded"] == quote("a b/ç+&=!'()*~-_.".encode(), safe="-_.~")
    for case, js in zip(CASES, results):
        assert js["authorization"] == sdk_authorization(case), case


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_js_signer_matches_the_server_verifier():
    from cosbeauty.api.auth import SignedRequest, authenticate

    results = node_authorizations(CASES)
    for case, js in zip(CASES, results):
        headers = {k.lower(): v for k, v in case["headers"].items()}
        req = SignedRequest(method=case["method"], raw_path=quote(case["path"]), path=case["path"],
                            query=list(case["params"].items()), headers={**headers, "authorization": js["authorization"]},
                            cos_paths=[case["path"]])
        ident = authenticate(req, {SECRET_ID: SECRET_KEY}.get, NOW + 5)
        assert ident.access_key == SECRET_ID and not ident.anonymous
