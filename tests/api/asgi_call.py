"""Drive the real application (build_app) in-process through its ASGI interface, signing like
cos-python-sdk-v5: for tests that check on which thread the app does something."""

from __future__ import annotations

import asyncio

import requests
from qcloud_cos import CosConfig
from qcloud_cos.cos_auth import CosS3Auth

from tests.conftest import REGION, SECRET_ID, SECRET_KEY


def cos_authorization(method: str, host: str, path: str, headers: dict[str, str], params: dict | None = None,
                      secret_id: str = SECRET_ID, secret_key: str = SECRET_KEY) -> str:
    """The Authorization header cos-python-sdk-v5 sends for ``path`` (signed as the full path)."""
    conf = CosConfig(Region=REGION, SecretId=secret_id, SecretKey=secret_key)
    req = requests.Request(method, f"http://{host}/x", params=params or {}).prepare()
    req.headers = requests.structures.CaseInsensitiveDict(headers)
    return CosS3Auth(conf, path.lstrip("/"), params=params or {})(req).headers["Authorization"]


async def call(app, method: str, bucket: str, key: str, body: bytes = b"", headers: dict[str, str] | None = None,
               params: dict[str, str] | None = None, *, host: str | None = None, secret_id: str = SECRET_ID,
               secret_key: str = SECRET_KEY) -> tuple[int, bytes]:
    """One signed request to ``app``: virtual-host style on ``bucket``'s host, or path ``/key`` on
    ``host``; (status, body)."""
    host = host or f"{bucket}.cos.{REGION}.myqcloud.com"
    hdrs = {"Host": host, "Content-Length": str(len(body)), **(headers or {})}
    path = "/" + key
    hdrs["Authorization"] = cos_authorization(method, host, path, dict(hdrs), params, secret_id, secret_key)
    query = "&".join(f"{k}={v}" if v else k for k, v in (params or {}).items())
    scope = {"type": "http", "http_version": "1.1", "method": method, "path": path, "raw_path": path.encode(),
             "query_string": query.encode(), "root_path": "", "scheme": "http", "server": ("127.0.0.1", 80),
             "client": ("127.0.0.1", 5555),
             "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in hdrs.items()]}
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict] = []

    async def receive() -> dict:
        await asyncio.sleep(0)      # as a socket read would: other tasks run meanwhile
        return messages.pop() if messages else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)
    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])
