"""Raw HTTP for security tests: send exactly the method, target, headers and body given, and
build the three kinds of pre-signed URLs (COS v5, SigV4, SigV2) the real clients produce."""

from __future__ import annotations

import http.client
from dataclasses import dataclass
from urllib.parse import urlsplit

from tests.conftest import REGION, SECRET_ID, SECRET_KEY


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def code(self) -> str:
        text = self.body.decode("utf-8", "replace")
        return text.split("<Code>", 1)[1].split("</Code>", 1)[0] if "<Code>" in text else ""

    @property
    def message(self) -> str:
        text = self.body.decode("utf-8", "replace")
        return text.split("<Message>", 1)[1].split("</Message>", 1)[0] if "<Message>" in text else ""


def send(port: int, method: str, target: str, headers: dict[str, str] | None = None, body: bytes = b"",
         timeout: float = 30) -> Reply:
    """One request on a fresh connection; ``target`` is sent byte for byte (path and query)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        hdrs = {"Host": f"127.0.0.1:{port}", **(headers or {})}
        if body or method in ("PUT", "POST"):
            hdrs.setdefault("Content-Length", str(len(body)))
        for name, value in hdrs.items():
            conn.putheader(name, value)
        conn.endheaders(body or None)
        resp = conn.getresponse()
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


def send_url(port: int, method: str, url: str, headers: dict[str, str] | None = None, body: bytes = b"",
             extra_query: str = "", prepend_query: str = "") -> Reply:
    """Send to a (pre-signed) URL's host and target via 127.0.0.1, optionally adding query text."""
    parts = urlsplit(url)
    query = "&".join(q for q in (prepend_query, parts.query, extra_query) if q)
    target = parts.path + (f"?{query}" if query else "")
    return send(port, method, target, {"Host": parts.netloc, **(headers or {})}, body)


def cos_presigner(port: int):
    """cos-python-sdk-v5 with the bucket in the host name (<bucket>.localhost:<port>)."""
    from qcloud_cos import CosConfig, CosS3Client
    return CosS3Client(CosConfig(Region=REGION, SecretId=SECRET_ID, SecretKey=SECRET_KEY,
                                 Endpoint=f"localhost:{port}", Scheme="http"))


def s3_presigner(port: int, version: str | None):
    """boto3, path-style; ``version`` "s3v4" signs with SigV4, "s3" with SigV2 (HMAC-SHA1)."""
    import boto3
    from botocore.config import Config
    config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                    **({"signature_version": version} if version else {}))
    return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name=REGION,
                        aws_access_key_id=SECRET_ID, aws_secret_access_key=SECRET_KEY, config=config)
