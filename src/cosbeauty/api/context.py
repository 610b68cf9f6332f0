"""Per-request context handed to every handler: target, query, headers, identity, body access."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, AsyncIterator
from urllib.parse import parse_qsl, unquote_to_bytes

import anyio

from cosbeauty.api.addressing import Target
from cosbeauty.api.digests import BodyChecks
from cosbeauty.api.errors import CosError

if TYPE_CHECKING:
    from cosbeauty.api.apptypes import App
    from cosbeauty.api.auth import Identity


class ClientDisconnected(Exception):
    pass


async def run(fn, *args):
    """Run blocking storage or CPU work in a worker thread."""
    return await anyio.to_thread.run_sync(fn, *args)


class Ctx:
    def __init__(self, app: "App", scope: dict, receive, request_id: str) -> None:
        self.app = app
        self.scope = scope
        self.receive = receive
        self.request_id = request_id
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        # Input that cannot mean one thing (percent-escapes that are not UTF-8): raised by the app
        # before anything else, as 400. (The server would otherwise replace them with U+FFFD, so
        # different keys would collide.)
        self.bad_input: CosError | None = None
        raw = scope.get("raw_path")
        self.raw_path: str = self.path
        if raw:
            if b"?" in raw:
                raw = raw.split(b"?", 1)[0]
            self.raw_path = raw.decode("latin-1")
            try:    # without a percent-escape the path is the raw bytes (unquote_to_bytes would return them)
                self.path = (unquote_to_bytes(raw) if b"%" in raw else raw).decode("utf-8")
            except UnicodeDecodeError:
                self.bad_input = CosError("InvalidURI", "The request path is not valid UTF-8 once percent-decoded; "
                                                        "object keys are UTF-8.")
        self.query_string: str = scope.get("query_string", b"").decode("latin-1")
        try:
            self.query_pairs: list[tuple[str, str]] = parse_qsl(self.query_string, keep_blank_values=True,
                                                                errors="strict") if self.query_string else []
        except UnicodeDecodeError:
            self.query_pairs = parse_qsl(self.query_string, keep_blank_values=True)
            self.bad_input = self.bad_input or CosError(
                "InvalidArgument", "The query string is not valid UTF-8 once percent-decoded.")
        self.query: dict[str, str] = {}
        for k, v in self.query_pairs:
            self.query.setdefault(k, v)
        headers: dict[str, str] = {}
        for k, v in scope["headers"]:
            name = k.decode("latin-1").lower()
            if name in headers:
                headers[name] = f"{headers[name]},{v.decode('latin-1')}"
            else:
                headers[name] = v.decode("latin-1")
        self.headers = headers
        self.target: Target = Target("", "", False)
        self.identity: "Identity | None" = None
        self.principal = None           # set by the authorizer (accounts.Principal)
        # the x-cos-grant-* / x-amz-grant-* headers, parsed and checked in a worker thread (they may
        # name sub-accounts: an IAM store read) by acl.read_grant_headers; None: not read yet
        self.grants: dict[str, list[str]] | None = None
        self._consumed = False

    # convenience ------------------------------------------------------------------------
    @property
    def bucket(self) -> str:
        return self.target.bucket

    @property
    def key(self) -> str:
        return self.target.key

    @property
    def client_ip(self) -> str:
        client = self.scope.get("client")
        return client[0] if client else ""

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)

    def resource(self) -> str:
        if not self.bucket:
            return "/"
        region = self.target.region or self.app.config.region
        return f"{self.bucket}.cos.{region}.myqcloud.com/{self.key}"

    def error(self, code: str, message: str | None = None) -> CosError:
        return CosError(code, message, resource=self.resource())

    # body ---------------------------------------------------------------------------------
    async def _raw_stream(self) -> AsyncIterator[bytes]:
        if self._consumed:
            raise RuntimeError("request body already consumed")
        self._consumed = True
        while True:
            msg = await self.receive()
            if msg["type"] == "http.disconnect":
                raise ClientDisconnected()
            body = msg.get("body", b"")
            if body:
                yield body
            if not msg.get("more_body", False):
                return

    def stream(self) -> AsyncIterator[bytes]:
        """The request body as decoded bytes (aws-chunked framing removed and verified)."""
        raw = self._raw_stream()
        chunked = getattr(self.identity, "chunked", None)
        if chunked is not None:
            from cosbeauty.api.auth.chunked import decode_aws_chunked
            return decode_aws_chunked(raw, chunked)
        return raw

    def declared_length(self) -> int | None:
        """Decoded body length from the headers, if the client said."""
        value = self.headers.get("x-amz-decoded-content-length")
        if value is None and getattr(self.identity, "chunked", None) is None:
            value = self.headers.get("content-length")
        if value is None:
            return None
        try:
            n = int(value)
        except ValueError:
            raise self.error("InvalidArgument", "Content-Length is not a number.") from None
        if n < 0:
            raise self.error("InvalidArgument", "Content-Length is negative.")
        return n

    async def read_body(self, limit: int) -> bytes:
        """Read a small body (XML, JSON) fully; refuse more than ``limit`` bytes."""
        checks = BodyChecks(self)
        chunks: list[bytes] = []
        size = 0
        async for chunk in self.stream():
            size += len(chunk)
            if size > limit:
                raise self.error("EntityTooLarge", f"This request body must be at most {limit} bytes.")
            chunks.append(chunk)
            checks.update(chunk)
        body = b"".join(chunks)
        checks.check(hashlib.md5(body).digest() if checks.md5 is not None else None)
        return body
