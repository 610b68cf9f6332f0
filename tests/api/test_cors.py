"""Bucket CORS: PUT/GET/DELETE ?cors through cos-python-sdk-v5 and boto3, the unsigned OPTIONS
preflight, and the CORS headers on actual (signed, pre-signed and anonymous) requests."""

from __future__ import annotations

import base64
import hashlib
import uuid

import httpx
import pytest
from botocore.exceptions import ClientError
from qcloud_cos.cos_exception import CosServiceError

from tests.conftest import APPID, REGION, new_bucket

APP = "http://app.example.com"
RULES = {
    "CORSRule": [
        {"ID": "web", "AllowedOrigin": [APP, "http://*.example.org"], "AllowedMethod": ["GET", "PUT", "HEAD"],
         "AllowedHeader": ["content-type", "x-cos-meta-*"], "ExposeHeader": ["ETag", "x-cos-request-id"],
         "MaxAgeSeconds": 600},
        {"ID": "any-get", "AllowedOrigin": ["*"], "AllowedMethod": ["GET"]},
    ]
}


def cos_error(fn, *args, **kwargs) -> CosServiceError:
    with pytest.raises(CosServiceError) as e:
        fn(*args, **kwargs)
    return e.value


def options(server, bucket: str, path: str = "x", headers: dict | None = None, vhost: bool = False) -> httpx.Response:
    """An unsigned preflight, as a browser sends it."""
    if vhost:
        url = f"http://127.0.0.1:{server.port}/{path}"
        headers = {"Host": f"{bucket}.cos.{REGION}.myqcloud.com", **(headers or {})}
    else:
        url = f"http://127.0.0.1:{server.port}/{bucket}/{path}"
    return httpx.request("OPTIONS", url, headers=headers or {})


def xml_code(resp: httpx.Response) -> str:
    return resp.text.split("<Code>", 1)[1].split("</Code>", 1)[0]


@pytest.fixture
def cors_bucket(cos) -> str:
    name = new_bucket(cos, "cors")
    cos.put_bucket_cors(Bucket=name, CORSConfiguration=RULES)
    cos.put_object(Bucket=name, Key="pub/a.txt", Body=b"hello")
    return name


# -- configuration round trips -------------------------------------------------------------
def test_cos_sdk_round_trip(cos, bucket):
    err = cos_error(cos.get_bucket_cors, Bucket=bucket)
    assert (err.get_status_code(), err.get_error_code()) == (404, "NoSuchCORSConfiguration")
    cos.put_bucket_cors(Bucket=bucket, CORSConfiguration=RULES)
    got = cos.get_bucket_cors(Bucket=bucket)
    assert got["CORSRule"][0] == {"ID": "web", "AllowedOrigin": [APP, "http://*.example.org"],
                                  "AllowedMethod": ["GET", "PUT", "HEAD"],
                                  "AllowedHeader": ["content-type", "x-cos-meta-*"],
                                  "ExposeHeader": ["ETag", "x-cos-request-id"], "MaxAgeSeconds": "600"}
    assert got["CORSRule"][1] == {"ID": "any-get", "AllowedOrigin": ["*"], "AllowedMethod": ["GET"]}
    # PUT replaces the whole configuration
    cos.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRule": [
        {"AllowedOrigin": "http://b.example", "AllowedMethod": "POST"}]})
    got = cos.get_bucket_cors(Bucket=bucket)
    assert got["CORSRule"] == [{"AllowedOrigin": ["http://b.example"], "AllowedMethod": ["POST"]}]
    cos.delete_bucket_cors(Bucket=bucket)
    assert cos_error(cos.get_bucket_cors, Bucket=bucket).get_error_code() == "NoSuchCORSConfiguration"
    cos.delete_bucket_cors(Bucket=bucket)      # deleting nothing is fine


def test_boto3_round_trip(s3, cos):
    bucket = new_bucket(cos, "cors3")
    with pytest.raises(ClientError) as e:
        s3.get_bucket_cors(Bucket=bucket)
    assert e.value.response["Error"]["Code"] == "NoSuchCORSConfiguration"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    rules = [{"ID": "r1", "AllowedOrigins": ["https://*.example.com"], "AllowedMethods": ["GET", "PUT"],
              "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3000},
             {"AllowedOrigins": ["*"], "AllowedMethods": ["HEAD"]}]
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == rules
    assert s3.delete_bucket_cors(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        s3.get_bucket_cors(Bucket=bucket)
    assert e.value.response["Error"]["Code"] == "NoSuchCORSConfiguration"


def _put_raw(server, bucket: str, body: bytes) -> httpx.Response:
    """PUT ?cors with an arbitrary body, signed like the SDK signs it."""
    from tests.api.rawhttp import cos_auth_header
    headers = {"Host": f"{bucket}.cos.{REGION}.myqcloud.com", "Content-Type": "application/xml",
               "Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()}
    headers["Authorization"] = cos_auth_header("PUT", bucket, "/", dict(headers), params={"cors": ""})
    return httpx.put(f"http://127.0.0.1:{server.port}/?cors", content=body, headers=headers)


def _doc(*rules: str) -> bytes:
    return ("<CORSConfiguration>" + "".join(f"<CORSRule>{r}</CORSRule>" for r in rules)
            + "</CORSConfiguration>").encode()


_ANY_GET = "<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"


@pytest.mark.parametrize("body, code", [
    (b"not xml", "MalformedXML"),
    (b"<CORSConfiguration/>", "MalformedXML"),
    (b"<Other><CORSRule/></Other>", "MalformedXML"),
    (_doc("<AllowedMethod>GET</AllowedMethod>"), "MalformedXML"),
    (_doc("<AllowedOrigin>*</AllowedOrigin>"), "MalformedXML"),
    (_doc(_ANY_GET + "<Bogus>1</Bogus>"), "MalformedXML"),
    (_doc(_ANY_GET + "<MaxAgeSeconds>soon</MaxAgeSeconds>"), "MalformedXML"),
    (_doc("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod>"), "InvalidArgument"),
    (_doc("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>get</AllowedMethod>"), "InvalidArgument"),
    (_doc("<AllowedOrigin>http://*.*.example.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"),
     "InvalidArgument"),
    (_doc(_ANY_GET + "<MaxAgeSeconds>-1</MaxAgeSeconds>"), "InvalidArgument"),
    (_doc(*[_ANY_GET] * 101), "InvalidArgument"),
])
def test_bad_configuration_is_refused_and_previous_kept(server, cos, cors_bucket, body, code):
    resp = _put_raw(server, cors_bucket, body)
    assert resp.status_code == 400, resp.text
    assert xml_code(resp) == code
    assert cos.get_bucket_cors(Bucket=cors_bucket)["CORSRule"][0]["ID"] == "web"
    assert options(server, cors_bucket, headers={"Origin": APP, "Access-Control-Request-Method": "PUT"}
                   ).status_code == 200


def test_hundred_rules_and_namespace_accepted(server, cos, bucket):
    rule = b"<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"
    body = (b'<?xml version="1.0"?><CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            + rule * 100 + b"<ResponseVary>true</ResponseVary></CORSConfiguration>")
    assert _put_raw(server, bucket, body).status_code == 200
    got = cos.get_bucket_cors(Bucket=bucket)
    assert len(got["CORSRule"]) == 100 and got["ResponseVary"] == "true"


def test_bad_content_md5_refused(server, cos, cors_bucket):
    from tests.api.rawhttp import cos_auth_header
    body = b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>" \
           b"</CORSRule></CORSConfiguration>"
    headers = {"Host": f"{cors_bucket}.cos.{REGION}.myqcloud.com", "Content-MD5": base64.b64encode(b"x" * 16).decode()}
    headers["Authorization"] = cos_auth_header("PUT", cors_bucket, "/", dict(headers), params={"cors": ""})
    resp = httpx.put(f"http://127.0.0.1:{server.port}/?cors", content=body, headers=headers)
    assert (resp.status_code, xml_code(resp)) == (400, "BadDigest")
    assert len(cos.get_bucket_cors(Bucket=cors_bucket)["CORSRule"]) == 2


def test_cors_configuration_needs_authorization(server, cors_bucket):
    url = f"http://127.0.0.1:{server.port}/{cors_bucket}?cors"
    assert httpx.get(url).status_code == 403
    assert httpx.delete(url).status_code == 403
    resp = httpx.put(url, content=b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
                                  b"<AllowedMethod>DELETE</AllowedMethod></CORSRule></CORSConfiguration>")
    assert (resp.status_code, xml_code(resp)) == (403, "AccessDenied")


# -- preflight --------------------------------------------------------------------------------
def test_preflight_exact_origin(server, cors_bucket):
    resp = options(server, cors_bucket, "pub/a.txt", {
        "Origin": APP, "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "Content-Type, X-Cos-Meta-Author"})
    assert resp.status_code == 200, resp.text
    h = resp.headers
    assert h["access-control-allow-origin"] == APP
    assert h["access-control-allow-methods"] == "GET,PUT,HEAD"
    assert h["access-control-allow-headers"] == "content-type,x-cos-meta-author"
    assert h["access-control-expose-headers"] == "ETag,x-cos-request-id"
    assert h["access-control-max-age"] == "600"
    assert "vary" not in h                      # ResponseVary defaults to false in COS
    assert h["x-cos-request-id"] and resp.content == b""
    assert "Access-Control-Allow-Origin: " in _raw_header_names(resp)


def _raw_header_names(resp: httpx.Response) -> str:
    return "".join(f"{k.decode()}: " for k, _ in resp.headers.raw)


def test_preflight_wildcard_origins(server, cors_bucket):
    def pre(origin, method="GET"):
        return options(server, cors_bucket, "k", {"Origin": origin, "Access-Control-Request-Method": method})
    ok = pre("http://cdn.example.org", "PUT")
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "http://cdn.example.org"
    assert pre("http://a.b.example.org", "PUT").status_code == 200
    assert pre("http://example.org", "PUT").status_code == 403          # '*.' needs a sub-domain
    assert pre("https://cdn.example.org", "PUT").status_code == 403     # scheme is part of the origin
    assert pre("http://cdn.example.org.evil.com", "PUT").status_code == 403
    # any origin may GET (second rule): Allow-Origin is '*', as the rule says
    anyone = pre("http://elsewhere.test")
    assert anyone.status_code == 200
    assert anyone.headers["access-control-allow-origin"] == "*"
    assert anyone.headers["access-control-allow-methods"] == "GET"
    assert "access-control-max-age" not in anyone.headers
    # but the first matching rule wins for the app's own origin
    assert pre(APP).headers["access-control-max-age"] == "600"


def test_preflight_method_mismatch(server, cors_bucket):
    for method in ("DELETE", "POST", "put"):
        resp = options(server, cors_bucket, "k", {"Origin": APP, "Access-Control-Request-Method": method})
        assert resp.status_code == 403
        assert xml_code(resp) == "AccessForbidden"
        assert "CORSResponse: This CORS request is not allowed" in resp.text
        assert "access-control-allow-origin" not in resp.headers


def test_preflight_header_mismatch(server, cors_bucket):
    base = {"Origin": APP, "Access-Control-Request-Method": "PUT"}
    bad = options(server, cors_bucket, "k", {**base, "Access-Control-Request-Headers": "content-type,authorization"})
    assert (bad.status_code, xml_code(bad)) == (403, "AccessForbidden")
    # the GET-for-anyone rule allows no headers at all
    bad = options(server, cors_bucket, "k", {"Origin": "http://other.test", "Access-Control-Request-Method": "GET",
                                             "Access-Control-Request-Headers": "range"})
    assert bad.status_code == 403
    good = options(server, cors_bucket, "k", {**base, "Access-Control-Request-Headers": "CONTENT-TYPE,x-cos-meta-a"})
    assert good.status_code == 200
    assert good.headers["access-control-allow-headers"] == "content-type,x-cos-meta-a"


def test_preflight_without_configuration(server, bucket):
    resp = options(server, bucket, "k", {"Origin": APP, "Access-Control-Request-Method": "GET"})
    assert (resp.status_code, xml_code(resp)) == (403, "AccessForbidden")
    assert "CORS is not enabled for this bucket" in resp.text


def test_preflight_missing_headers(server, cors_bucket):
    resp = options(server, cors_bucket, "k", {"Access-Control-Request-Method": "GET"})
    assert resp.status_code == 400 and "Origin" in resp.text
    resp = options(server, cors_bucket, "k", {"Origin": APP})
    assert resp.status_code == 400 and "Access-Control-Request-Method" in resp.text


def test_preflight_on_any_bucket_resource(server, cors_bucket):
    hdrs = {"Origin": APP, "Access-Control-Request-Method": "GET"}
    assert options(server, cors_bucket, "", hdrs).status_code == 200                 # OPTIONS /bucket/
    assert options(server, cors_bucket, "?lifecycle", hdrs).status_code == 200       # any sub-resource
    assert options(server, cors_bucket, "k?uploadId=1", hdrs).status_code == 200
    assert options(server, cors_bucket, "deep/key.jpg", hdrs, vhost=True).status_code == 200
    assert options(server, cors_bucket, "", hdrs, vhost=True).status_code == 200
    missing = options(server, f"nobucket{uuid.uuid4().hex[:6]}-{APPID}", "k", hdrs)
    assert (missing.status_code, xml_code(missing)) == (404, "NoSuchBucket")


def test_preflight_ignores_bad_signature(server, cors_bucket):
    """Preflights are never authenticated: even a garbage Authorization header is not looked at."""
    resp = options(server, cors_bucket, "k", {"Origin": APP, "Access-Control-Request-Method": "GET",
                                              "Authorization": "q-sign-algorithm=sha1&q-ak=nobody"})
    assert resp.status_code == 200


def test_signed_options_elsewhere_not_special(server):
    """OPTIONS on the service (no bucket) is not a preflight endpoint."""
    resp = httpx.request("OPTIONS", f"http://127.0.0.1:{server.port}/",
                         headers={"Origin": APP, "Access-Control-Request-Method": "GET"})
    assert resp.status_code == 405


# -- actual requests --------------------------------------------------------------------------
def test_actual_get_and_put_with_origin(server, s3, cors_bucket):
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": cors_bucket, "Key": "pub/a.txt"})
    resp = httpx.get(get_url, headers={"Origin": APP})
    assert resp.status_code == 200 and resp.content == b"hello"
    assert resp.headers["access-control-allow-origin"] == APP
    assert resp.headers["access-control-expose-headers"] == "ETag,x-cos-request-id"
    assert "vary" not in resp.headers
    # without an Origin nothing is added
    plain = httpx.get(get_url)
    assert plain.status_code == 200
    assert not [k for k in plain.headers if k.startswith("access-control-")]
    # PUT from the app's origin (first rule allows PUT)
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": cors_bucket, "Key": "up/b.txt"})
    resp = httpx.put(put_url, content=b"from the browser", headers={"Origin": APP})
    assert resp.status_code == 200
    assert resp.headers["access-control-allow-origin"] == APP
    assert resp.headers["etag"]
    # HEAD is allowed by the first rule
    head_url = s3.generate_presigned_url("head_object", Params={"Bucket": cors_bucket, "Key": "up/b.txt"})
    assert httpx.head(head_url, headers={"Origin": APP}).headers["access-control-allow-origin"] == APP


def test_actual_request_method_or_origin_not_allowed(server, s3, cors_bucket):
    # another origin may GET (rule 2, Allow-Origin '*', no exposed headers) ...
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": cors_bucket, "Key": "pub/a.txt"})
    resp = httpx.get(get_url, headers={"Origin": "http://other.test"})
    assert resp.headers["access-control-allow-origin"] == "*"
    assert "access-control-expose-headers" not in resp.headers
    # ... but not PUT: the request itself still runs (COS does not block it), without CORS headers
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": cors_bucket, "Key": "up/c.txt"})
    resp = httpx.put(put_url, content=b"x", headers={"Origin": "http://other.test"})
    assert resp.status_code == 200
    assert "access-control-allow-origin" not in resp.headers
    # DELETE is in no rule
    del_url = s3.generate_presigned_url("delete_object", Params={"Bucket": cors_bucket, "Key": "up/c.txt"})
    resp = httpx.delete(del_url, headers={"Origin": APP})
    assert resp.status_code == 204 and "access-control-allow-origin" not in resp.headers


def test_error_responses_carry_cors_headers(server, s3, cors_bucket):
    missing = s3.generate_presigned_url("get_object", Params={"Bucket": cors_bucket, "Key": "no/such"})
    resp = httpx.get(missing, headers={"Origin": APP})
    assert resp.status_code == 404 and "<Code>NoSuchKey</Code>" in resp.text
    assert resp.headers["access-control-allow-origin"] == APP
    assert resp.headers["access-control-expose-headers"] == "ETag,x-cos-request-id"
    # an anonymous request to a private bucket: 403 AccessDenied, still readable by the page
    resp = httpx.get(f"http://127.0.0.1:{server.port}/{cors_bucket}/pub/a.txt", headers={"Origin": APP})
    assert (resp.status_code, xml_code(resp)) == (403, "AccessDenied")
    assert resp.headers["access-control-allow-origin"] == APP
    # a bad signature
    bad = missing.replace("Signature=", "Signature=0")
    resp = httpx.get(bad, headers={"Origin": APP})
    assert resp.status_code == 403 and resp.headers["access-control-allow-origin"] == APP
    # HEAD errors have no body but the headers are there
    resp = httpx.head(f"http://127.0.0.1:{server.port}/{cors_bucket}/no/such", headers={"Origin": APP})
    assert resp.status_code in (403, 404) and resp.headers["access-control-allow-origin"] == APP
    # a bucket without configuration / that does not exist: nothing added
    resp = httpx.get(f"http://127.0.0.1:{server.port}/nope{uuid.uuid4().hex[:6]}-{APPID}/k", headers={"Origin": APP})
    assert resp.status_code in (403, 404) and "access-control-allow-origin" not in resp.headers


def test_ci_process_responses_carry_cors_headers(server, s3, cors_bucket):
    url = s3.generate_presigned_url("get_object", Params={"Bucket": cors_bucket, "Key": "pub/a.txt"})
    resp = httpx.get(url + "&ci-process=AIFaceBeauty", headers={"Origin": APP})
    assert resp.status_code >= 400          # not a CI bucket / not an image
    assert resp.headers["access-control-allow-origin"] == APP


def test_response_vary(server, cos, s3, bucket):
    cos.put_object(Bucket=bucket, Key="k", Body=b"v")
    cos.put_bucket_cors(Bucket=bucket, CORSConfiguration={
        "CORSRule": [{"AllowedOrigin": APP, "AllowedMethod": "GET"}], "ResponseVary": "true"})
    assert cos.get_bucket_cors(Bucket=bucket)["ResponseVary"] == "true"
    pre = options(server, bucket, "k", {"Origin": APP, "Access-Control-Request-Method": "GET"})
    assert pre.status_code == 200 and pre.headers["vary"] == "Origin"
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    assert httpx.get(url, headers={"Origin": APP}).headers["vary"] == "Origin"
    # a non-matching origin still gets Vary (the answer depends on Origin), but no Allow-Origin
    other = httpx.get(url, headers={"Origin": "http://other.test"})
    assert other.headers["vary"] == "Origin" and "access-control-allow-origin" not in other.headers


# -- a real browser ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def page_server():
    """A tiny page on another loopback origin (http://127.0.0.1:<p1>)."""
    import functools
    import http.server
    import tempfile
    import threading

    root = tempfile.mkdtemp(prefix="cosbeauty-cors-page-")
    with open(f"{root}/index.html", "w") as f:
        f.write("<!doctype html><title>cors page</title><p>page</p>")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        import shutil
        shutil.rmtree(root, ignore_errors=True)


FETCH = """
const [url, init, done] = arguments;
fetch(url, init).then(async r => done({ok: true, status: r.status, text: await r.text(),
                                       etag: r.headers.get('ETag')}))
                .catch(e => done({ok: false, error: String(e)}));
"""


def test_browser_fetch_needs_cors(server, cos, page_server):
    from tests.browser import browser_missing, chromium
    reason = browser_missing()
    if reason:
        pytest.skip(reason)
    import boto3
    from botocore.config import Config

    from tests.conftest import SECRET_ID, SECRET_KEY

    bucket = new_bucket(cos, "web")
    cos.put_object(Bucket=bucket, Key="hello.txt", Body=b"hi from cos")
    # virtual-host URLs on <bucket>.localhost:<port> (Chromium resolves *.localhost to loopback)
    s3v = boto3.client("s3", endpoint_url=f"http://localhost:{server.port}", region_name=REGION,
                       aws_access_key_id=SECRET_ID, aws_secret_access_key=SECRET_KEY,
                       config=Config(s3={"addressing_style": "virtual"}, signature_version="s3v4"))
    get_url = s3v.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "hello.txt"})
    put_url = s3v.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "up.txt",
                                                               "ContentType": "application/json"})
    assert get_url.startswith(f"http://{bucket}.localhost:{server.port}/")
    direct = httpx.get(get_url.replace(f"{bucket}.localhost", "127.0.0.1", 1),
                       headers={"Host": f"{bucket}.localhost:{server.port}"})
    assert direct.text == "hi from cos"     # the URL is good; only CORS stands in the browser's way

    with chromium(timeout=20) as drv:
        drv.get(page_server + "/index.html")
        put_init = {"method": "PUT", "body": '{"a": 1}', "headers": {"Content-Type": "application/json"}}
        # no CORS configuration: the browser refuses both (the PUT already at its preflight)
        assert drv.execute_async_script(FETCH, get_url, {"cache": "no-store"})["ok"] is False
        assert drv.execute_async_script(FETCH, put_url, put_init)["ok"] is False
        assert "up.txt" not in [c["Key"] for c in cos.list_objects(Bucket=bucket).get("Contents", [])]

        cos.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRule": [{
            "AllowedOrigin": [page_server], "AllowedMethod": ["GET", "PUT"], "AllowedHeader": ["content-type"],
            "ExposeHeader": ["ETag"], "MaxAgeSeconds": 5}]})
        got = drv.execute_async_script(FETCH, get_url, {"cache": "no-store"})
        assert got == {"ok": True, "status": 200, "text": "hi from cos", "etag": got["etag"]}
        assert got["etag"] == f'"{hashlib.md5(b"hi from cos").hexdigest()}"'     # exposed header readable
        put = drv.execute_async_script(FETCH, put_url, put_init)
        assert put["ok"] is True and put["status"] == 200, put
        body = cos.get_object(Bucket=bucket, Key="up.txt")["Body"].get_raw_stream().read()
        assert body == b'{"a": 1}'
