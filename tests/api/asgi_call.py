"""Drive the real application (build_app) in-process through its ASGI interface, signing like
cos-python-sdk-v5: for tests that check on which thread the app does something."""

from __future__ import annotations

import asyncio

from tests.api.rawhttp import cos_auth_header
from tests.conftest import APPID, REGION


async def call(app, method: str, bucket: str, key: str, body: bytes = b"", headers: dict[str, str] | None = None,
               params: dict[str, str] | None = None, path: str | None = None) -> tuple[int, bytes]:
    """One signed request (virtual-host style) to ``app``; (status, body)."""
    host = f"{bucket}.cos.{REGION}.myqcloud.com"
    hdrs = {"Host": host, "Content-Length": str(len(body)), **(headers or {})}
    hdrs["Authorization"] = cos_auth_header(method, bucket, key, dict(hdrs), params=params)
    query = "&".join(f"{k}={v}" if v else k for k, v in (params or {}).items())
    raw = path if path is not None else "/" + key
    scope = {"type": "http", "http_version": "1.1", "method": method, "path": raw, "raw_path": raw.encode(),
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


APP_BUCKET = f"loop-{APPID}"
