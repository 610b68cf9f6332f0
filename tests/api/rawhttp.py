"""Raw, signed HTTP for edge cases the SDKs refuse to send (dot segments, NUL, half bodies)."""

from __future__ import annotations

import socket
from urllib.parse import parse_qsl

import requests
from qcloud_cos import CosConfig
from qcloud_cos.cos_auth import CosS3Auth

from tests.conftest import REGION, SECRET_ID, SECRET_KEY


def cos_auth_header(method: str, bucket: str, key: str, headers: dict[str, str], params: dict | None = None) -> str:
    """The Authorization header cos-python-sdk-v5 would send for this request."""
    conf = CosConfig(Region=REGION, SecretId=SECRET_ID, SecretKey=SECRET_KEY)
    req = requests.Request(method, f"http://{bucket}.cos.{REGION}.myqcloud.com/x", params=params or {}).prepare()
    req.headers = requests.structures.CaseInsensitiveDict(headers)
    return CosS3Auth(conf, key, params=params or {})(req).headers["Authorization"]


def raw_request(port: int, method: str, bucket: str, raw_path: str, key: str, body: bytes = b"",
                headers: dict[str, str] | None = None, sign: bool = True) -> tuple[int, bytes]:
    """Send one request with ``raw_path`` exactly as given; returns (status, body)."""
    host = f"{bucket}.cos.{REGION}.myqcloud.com"
    hdrs = {"Host": host, "Content-Length": str(len(body)), **(headers or {})}
    if sign:   # like cos-python-sdk-v5: every header it signs and every query parameter
        params = dict(parse_qsl(raw_path.partition("?")[2], keep_blank_values=True))
        hdrs["Authorization"] = cos_auth_header(method, bucket, key, dict(hdrs), params=params)
    head = f"{method} {raw_path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items())
    head += "Connection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head.encode("latin-1") + body)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data.split(b"\r\n\r\n", 1)[1]
