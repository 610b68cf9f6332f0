"""Whole-request fuzzing over HTTP: random sub-resources, headers and bodies, each request COS-v5
signed over *every* header and parameter (so it reaches the handlers and their parsers instead of
stopping at the signature check). Property: the server answers every one with a well-formed
response that is not a 5xx (501 NotImplemented and 503 SlowDown aside), within a time bound. Shared by
tests/security/test_fuzz_http.py and bench/fuzz.py."""

from __future__ import annotations

import hashlib
import hmac
import socket
import time
from dataclasses import dataclass
from urllib.parse import quote

from hypothesis import strategies as st

from tests.security.fuzz_targets import SECRET_ID, SECRET_KEY, latin1, pic_operations, token, xml_bodies

REGION = "ap-guangzhou"
REQUEST_BOUND = 10.0


def _enc(s: str) -> str:
    return quote(s, safe="-_.~")


def cos_v5_authorization(method: str, path: str, params: list[tuple[str, str]], headers: dict[str, str],
                         now: float | None = None) -> str:
    """The COS v5 Authorization header signing every given parameter and header (per the COS
    documentation; written here independently of the server's verifier)."""
    start = int(now or time.time()) - 60
    key_time = f"{start};{start + 3600}"
    sign_key = hmac.new(SECRET_KEY.encode(), key_time.encode(), hashlib.sha1).hexdigest()
    p = sorted((_enc(k).lower(), _enc(v)) for k, v in params)
    h = sorted((_enc(k).lower(), _enc(v)) for k, v in headers.items())
    http = "\n".join([method.lower(), path, "&".join(f"{k}={v}" for k, v in p),
                      "&".join(f"{k}={v}" for k, v in h), ""])
    to_sign = f"sha1\n{key_time}\n{hashlib.sha1(http.encode()).hexdigest()}\n"
    signature = hmac.new(sign_key.encode(), to_sign.encode(), hashlib.sha1).hexdigest()
    return (f"q-sign-algorithm=sha1&q-ak={SECRET_ID}&q-sign-time={key_time}&q-key-time={key_time}"
            f"&q-header-list={';'.join(k for k, _ in h)}&q-url-param-list={';'.join(k for k, _ in p)}"
            f"&q-signature={signature}")


@dataclass
class Outcome:
    status: int
    seconds: float
    body: bytes


def send(port: int, bucket: str, method: str, key: str, params: list[tuple[str, str]], headers: dict[str, str],
         body: bytes) -> Outcome:
    host = f"{bucket}.cos.{REGION}.myqcloud.com"
    headers = {k.lower(): v for k, v in headers.items()}
    headers.update({"host": host, "content-length": str(len(body))})
    path = "/" + key
    headers["authorization"] = cos_v5_authorization(method, path, params, {k: v for k, v in headers.items()
                                                                            if k != "authorization"})
    query = "&".join(_enc(k) + ("=" + _enc(v) if v != "" else "") for k, v in params)
    target = quote(path, safe="/-_.~") + ("?" + query if query else "")
    head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    head += "connection: close\r\n\r\n"
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=REQUEST_BOUND) as s:
        s.sendall(head.encode("latin-1") + body)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    seconds = time.monotonic() - started
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else 0
    return Outcome(status, seconds, data.split(b"\r\n\r\n", 1)[-1])


BUCKET_SUBS = ["", "acl", "cors", "tagging", "versioning", "delete", "uploads", "policy", "lifecycle", "location",
               "versions", "list-type", "prefix", "marker", "max-keys", "encoding-type", "delimiter", "style",
               "referer", "website", "logging", "inventory", "object-lock", "x"]
OBJECT_SUBS = ["", "acl", "tagging", "uploads", "uploadId", "partNumber", "ci-process", "strength", "detect-url",
               "versionId", "attributes", "response-content-type", "response-content-disposition", "imageMogr2",
               "image_process", "restore", "append", "position", "torrent", "x"]
HEADER_VALUES = {
    "range": st.one_of(st.sampled_from(["bytes=0-0", "bytes=-1", "bytes=5-", "bytes=1-0", "bytes=0-1,3-4"]), token),
    "if-match": st.one_of(st.just("*"), token), "if-none-match": st.one_of(st.just("*"), token),
    "if-modified-since": st.one_of(st.just("Sun, 06 Nov 1994 08:49:37 GMT"), latin1),
    "if-unmodified-since": latin1,
    "x-cos-copy-source": st.one_of(st.just("fz-1250000000.cos.ap-guangzhou.myqcloud.com/seed"), latin1),
    "x-cos-copy-source-range": token, "x-cos-metadata-directive": st.sampled_from(["Copy", "Replaced", "x"]),
    "x-cos-acl": st.sampled_from(["private", "public-read", "public-read-write", "default", "x"]),
    "x-cos-grant-read": st.one_of(st.just('id="qcs::cam::uin/1:uin/1"'), latin1),
    "content-md5": st.one_of(st.just("1B2M2Y8AsgTpgAmY7PhCfg=="), token),
    "content-type": st.one_of(st.sampled_from(["text/html", "image/jpeg", "application/xml"]), latin1),
    "x-cos-meta-a": latin1, "x-cos-tagging": st.one_of(st.just("a=1&b=2"), latin1),
    "x-cos-storage-class": st.sampled_from(["STANDARD", "ARCHIVE", "x"]),
    "x-cos-server-side-encryption": st.sampled_from(["AES256", "x"]),
    "pic-operations": pic_operations.map(lambda s: s.encode("utf-8", "surrogatepass").decode("latin-1")),
    "origin": st.one_of(st.just("https://a.example"), latin1),
    "x-cos-traffic-limit": token, "content-encoding": token, "expires": latin1,
}


def _header_value_ok(v: str) -> bool:
    """A value HTTP can carry at all (no control characters; the parser answers those itself)."""
    return all(c == "\t" or " " <= c != "\x7f" for c in v) and v == v.strip() and len(v) < 4000


_headers = st.dictionaries(st.sampled_from(sorted(HEADER_VALUES)), st.just(None), max_size=4).flatmap(
    lambda names: st.fixed_dictionaries({n: HEADER_VALUES[n].filter(_header_value_ok) for n in names}))
_values = st.one_of(st.just(""), token, st.sampled_from(["AIFaceBeauty", "1", "0.5", "2", "-1", "true", "url"]))


def _params(names: list[str]) -> st.SearchStrategy:
    name = st.one_of(st.sampled_from(names), st.sampled_from(names), token.filter(bool))
    return st.lists(st.tuples(name, _values), max_size=3, unique_by=lambda kv: kv[0])


_bodies = st.one_of(xml_bodies, st.binary(max_size=200), st.just(b""))
_keys = st.one_of(st.just("seed"), st.just("new"), st.text(st.characters(min_codepoint=33, max_codepoint=0x2FFF,
                                                                         exclude_characters="?#%"), min_size=1,
                                                           max_size=20))
requests_strategy = st.one_of(
    st.tuples(st.sampled_from(["GET", "PUT", "POST", "HEAD", "DELETE"]), st.just(""), _params(BUCKET_SUBS),
              _headers, _bodies),
    st.tuples(st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD"]), _keys, _params(OBJECT_SUBS),
              _headers, _bodies))


def check_request(port: int, bucket: str, example: tuple) -> Outcome:
    method, key, params, headers, body = example
    if method in ("GET", "HEAD", "DELETE"):
        body = b""
    out = send(port, bucket, method, key, params, headers, body)
    if method == "DELETE" and key in ("", "seed") and out.status == 204:
        seed(port, bucket)                   # keep something to work on
    assert out.status, f"no HTTP response: {example!r}"
    assert out.status < 500 or out.status in (501, 503), f"{out.status} for {example!r}: {out.body[:300]!r}"
    if method != "HEAD" and out.status >= 400:
        assert out.body.startswith(b"<?xml") and b"<Code>" in out.body, (example, out.body[:200])
    assert out.seconds < REQUEST_BOUND, (example, out.seconds)
    return out


def seed(port: int, bucket: str) -> None:
    """The fuzzed bucket, with an object ``seed`` to read, copy and process."""
    for method, key, body in (("PUT", "", b""), ("PUT", "seed", b"seed object body")):
        out = send(port, bucket, method, key, [], {}, body)
        assert out.status == 200 or b"BucketAlreadyOwnedByYou" in out.body, out
