"""CosApp counts the requests it serves, so the embedded backend commits a small PUT on the event
loop only while that PUT is the one request in flight and none overlapped another lately
(storage.local.LocalBackend.lone_request)."""

from __future__ import annotations

import asyncio
import threading

from cosbeauty.config import ServerConfig
from cosbeauty.server import build_app
from tests.api.rawhttp import cos_auth_header
from tests.conftest import APPID, REGION, SECRET_ID, SECRET_KEY

BUCKET = f"lone-{APPID}"
HOST = f"{BUCKET}.cos.{REGION}.myqcloud.com"


async def _call(app, method: str, key: str, body: bytes = b"") -> int:
    headers = {"Host": HOST, "Content-Length": str(len(body))}
    auth = cos_auth_header(method, BUCKET, key, headers)
    scope = {"type": "http", "http_version": "1.1", "method": method, "path": "/" + key,
             "raw_path": ("/" + key).encode(), "query_string": b"", "root_path": "", "scheme": "http",
             "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 5555),
             "headers": [(k.lower().encode(), v.encode()) for k, v in {**headers, "Authorization": auth}.items()]}
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict] = []

    async def receive() -> dict:
        await asyncio.sleep(0)      # as a socket read would: other requests' tasks run meanwhile
        return messages.pop() if messages else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)
    await app(scope, receive, send)
    return sent[0]["status"]


def _fast(db) -> None:
    db.commit_seconds = 0.0
    db._slow.clear()
    db._slow_count = 0


def test_in_flight_counts_requests_and_gates_the_inline_commit(tmp_path, monkeypatch):
    monkeypatch.setenv("COSBEAUTY_SECRET_ID", SECRET_ID)
    monkeypatch.setenv("COSBEAUTY_SECRET_KEY", SECRET_KEY)
    app = build_app(ServerConfig(data_dir=str(tmp_path / "data"), appid=APPID, region=REGION))
    backend = app.backend
    try:
        assert backend.lone_request == app._lone
        threads: list[str] = []
        real = backend._upsert

        def spy(conn, meta, cond=None):
            threads.append(threading.current_thread().name)
            return real(conn, meta, cond)
        backend._upsert = spy

        async def scenario() -> None:
            assert await _call(app, "PUT", "") == 200
            _fast(backend.db)       # as after fast commits (a slow disk would send it to the writer)
            assert await _call(app, "PUT", "one", b"x" * 4096) == 200            # alone: on the loop
            assert threads == ["MainThread"]
            assert await _call(app, "GET", "missing") == 404                    # errors leave the count too
            statuses = await asyncio.gather(*(_call(app, "PUT", f"k{i}", b"y" * 100) for i in range(4)))
            assert statuses == [200] * 4
            assert app.in_flight == 0
            _fast(backend.db)
            assert await _call(app, "PUT", "after", b"z") == 200      # requests overlapped just now:
            assert threads[-1] == "cosbeauty-sqlite-writer"           # not lone for CONCURRENT_HOLD
        asyncio.run(scenario())
        # the four concurrent PUTs were all in flight when they committed: the writer thread
        assert threads[1:] == ["cosbeauty-sqlite-writer"] * 5
        assert backend.get_object(BUCKET, "one").inline == b"x" * 4096
    finally:
        backend.close()
