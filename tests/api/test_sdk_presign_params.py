"""cos-python-sdk-v5's signing helpers used as its documentation shows (issue 14 item 5):
``get_auth(Method, Bucket, Key, Headers, Params)`` handed to another client, and
``get_presigned_url`` / ``get_presigned_download_url`` with extra ``Params`` and ``Headers``."""

from __future__ import annotations

import httpx

from tests.api.test_cos_sdk import presigning_client


def plain(method: str, url: str, headers: dict | None = None, **kw) -> httpx.Response:
    """A request to a <bucket>.localhost URL sent to 127.0.0.1, as a browser would."""
    u = httpx.URL(url)
    return httpx.request(method, u.copy_with(host="127.0.0.1"), headers={"Host": f"{u.host}:{u.port}", **(headers or {})},
                         **kw)


def test_get_auth_with_params_and_headers(server, cos, bucket):
    cos.put_object(Bucket=bucket, Key="doc 1.txt", Body=b"hello")
    signer = presigning_client(server.port)
    host = f"{bucket}.localhost:{server.port}"
    # a signature for GET ?acl, made for a mobile client that sends the request itself
    auth = signer.get_auth(Method="GET", Bucket=bucket, Key="doc 1.txt", Params={"acl": ""})
    r = httpx.get(f"http://127.0.0.1:{server.port}/doc%201.txt?acl", headers={"Host": host, "Authorization": auth})
    assert r.status_code == 200 and b"<AccessControlPolicy>" in r.content
    # the signed parameter is effective; the same signature without it does not pass
    r = httpx.get(f"http://127.0.0.1:{server.port}/doc%201.txt", headers={"Host": host, "Authorization": auth})
    assert r.status_code == 403
    # a response override and a header, both signed
    auth = signer.get_auth(Method="GET", Bucket=bucket, Key="doc 1.txt",
                           Params={"response-content-type": "text/x-signed"}, Headers={"Range": "bytes=0-1"})
    r = httpx.get(f"http://127.0.0.1:{server.port}/doc%201.txt?response-content-type=text%2Fx-signed",
                  headers={"Host": host, "Authorization": auth, "Range": "bytes=0-1"})
    assert r.status_code == 206 and r.content == b"he" and r.headers["content-type"] == "text/x-signed"
    # response-* overrides may stay unsigned, as on COS (docs/signing.md) ...
    r = httpx.get(f"http://127.0.0.1:{server.port}/doc%201.txt?response-content-type=text%2Fx-signed"
                  "&response-cache-control=no-store", headers={"Host": host, "Authorization": auth,
                                                                 "Range": "bytes=0-1"})
    assert r.status_code == 206 and r.headers["cache-control"] == "no-store"
    # ... but an unsigned parameter that changes what is read is refused, not ignored
    r = httpx.get(f"http://127.0.0.1:{server.port}/doc%201.txt?response-content-type=text%2Fx-signed"
                  "&versionId=null", headers={"Host": host, "Authorization": auth, "Range": "bytes=0-1"})
    assert r.status_code == 403 and b"versionId" in r.content, r.text


def test_presigned_urls_with_params(server, cos, bucket):
    cos.put_object(Bucket=bucket, Key="pic.txt", Body=b"content")
    signer = presigning_client(server.port)
    url = signer.get_presigned_download_url(Bucket=bucket, Key="pic.txt", Expired=300,
                                            Params={"response-content-disposition": "attachment; filename=a.txt"})
    r = plain("GET", url)
    assert r.status_code == 200 and r.headers["content-disposition"] == "attachment; filename=a.txt"
    url = signer.get_presigned_url(Bucket=bucket, Key="up.txt", Method="PUT", Expired=300,
                                   Headers={"Content-Type": "text/plain"})
    assert plain("PUT", url, content=b"x", headers={"Content-Type": "text/plain"}).status_code == 200
    assert cos.get_object(Bucket=bucket, Key="up.txt")["Content-Type"] == "text/plain"
    # the signed header is effective: another content type does not pass
    assert plain("PUT", url, content=b"y", headers={"Content-Type": "image/png"}).status_code == 403
    url = signer.get_presigned_url(Bucket=bucket, Key="pic.txt", Method="GET", Expired=300, Params={"acl": ""})
    r = plain("GET", url)
    assert r.status_code == 200 and b"<AccessControlPolicy>" in r.content
