"""Connection-level limits on top of uvicorn's httptools protocol.

uvicorn (and llhttp underneath) put no bound on the size of a request head, keep a connection
that never sends a byte forever, time out nothing while a head or body trickles in, and answer a
PUT that carried ``Expect: 100-continue`` early (404, 403) while leaving the connection open --
the client then sends its next request, which the server reads as the old body. This protocol:

* counts the bytes of every request head (request line + headers) *before* handing them to the
  parser; past ``max_header_bytes`` it answers ``431`` and closes, so memory per connection stays
  bounded no matter what the client sends;
* closes a connection that stays idle (no request started) for ``keep_alive_timeout`` seconds,
  from the moment it is accepted and after every response;
* answers ``408`` and closes when a request head is not complete ``header_timeout`` seconds after
  its first byte (slowloris);
* closes when a request body stalls: less than 1 KiB of it in ``body_timeout`` seconds while the
  server is ready to read it (silent or dripping senders);
* closes when a response stalls: less than 1 KiB delivered in ``send_timeout`` seconds while
  writes wait (a slow reader that makes progress is not cut);
* refuses connections beyond ``max_connections`` with ``503`` + close at once;
* closes the connection after a response sent while the client still waits for
  ``100 Continue`` (it has not sent the body, and will not).

Every refusal writes a complete response, half-closes, and drains what the client still sends
for a moment, so the client reads the answer instead of a connection reset.

The clocks cost nothing per request on the common path: the head and body timers are armed only
when a chunk of input ends inside a head or a body (a request whose head and body arrive in one
read never arms them), and the idle (keep-alive) clock is one timer per connection that checks the
time the connection went idle when it fires, instead of a timer armed after every response and
cancelled by the next request.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

LINGER_SECONDS = 1.0     # how long a refused connection is drained before it is closed
TCP_INFO = getattr(socket, "TCP_INFO", 11)
TCPI_BYTES_ACKED = 120   # offset of tcpi_bytes_acked (u64) in Linux's struct tcp_info
MIN_PROGRESS = 1024      # bytes a body / a stalled response must move per body_timeout / send_timeout


@dataclass(frozen=True)
class HttpLimits:
    max_header_bytes: int = 64 * 1024     # request line + all headers
    header_timeout: float = 20.0          # first byte of a request head -> end of the head
    keep_alive_timeout: float = 30.0      # idle connection, before the first and between requests
    body_timeout: float = 60.0            # longest silence while the server waits for body bytes
    send_timeout: float = 60.0            # longest time a response may wait for the client to read
    max_connections: int = 1000           # open HTTP connections; more are refused with 503


def _response(status: int, reason: str, code: str, message: str) -> bytes:
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>").encode()
    return (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/xml\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n").encode() + body


TOO_LARGE = _response(431, "Request Header Fields Too Large", "RequestHeaderSectionTooLarge",
                      "Your request header section exceeds the maximum allowed size.")
HEAD_TIMEOUT = _response(408, "Request Timeout", "RequestTimeout",
                         "Your request head was not completed in time.")
BUSY = _response(503, "Service Unavailable", "SlowDown",
                 "Too many open connections; please reduce your request rate.")


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """Use :func:`protocol_class` to get a subclass bound to a set of limits."""

    limits: HttpLimits = HttpLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True          # the parser is between messages or inside a head
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._send_timer: asyncio.TimerHandle | None = None
        self._body_bytes = 0          # request body bytes received on this connection
        self._body_mark = 0           # ... when the body timer was last armed
        self._head_pending = False    # a head has begun and not completed: its clock runs
        self._body_pending = False    # a body is owed: its clock runs
        self._idle_since: float | None = None     # loop time the connection went idle (None: busy)
        self._idle_timer: asyncio.TimerHandle | None = None
        self._refused = False

    # -- connection ----------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            self.logger.warning("refusing a connection: %d open (limit %d)",
                                len(self.connections) - 1, self.limits.max_connections)
            self._refuse(BUSY)
            return
        # idle from the start: uvicorn only arms its keep-alive timer after a response
        self._went_idle()

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self._head_timer, self._body_timer, self._send_timer, self._idle_timer):
            if timer is not None:
                timer.cancel()
        self._idle_timer = None
        super().connection_lost(exc)

    # -- idle (keep-alive) clock: one timer per connection -------------------------------
    def _went_idle(self) -> None:
        self._idle_since = self.loop.time()
        if self._idle_timer is None:
            self._idle_timer = self.loop.call_later(self.timeout_keep_alive, self._idle_check)

    def _unset_keepalive_if_required(self) -> None:     # uvicorn: on every read, and when a response ends
        self._idle_since = None

    def _idle_check(self) -> None:
        self._idle_timer = None
        since = self._idle_since
        if since is None or self.transport.is_closing():
            return                    # busy: the next response re-arms the clock
        remaining = since + self.timeout_keep_alive - self.loop.time()
        if remaining > 0:             # it went busy and idle again meanwhile: wait for the rest
            self._idle_timer = self.loop.call_later(remaining, self._idle_check)
            return
        self.timeout_keep_alive_handler()

    def on_response_complete(self) -> None:
        """uvicorn's, with the idle clock above instead of a keep-alive timer per response."""
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self._unset_keepalive_if_required()
        self.flow.resume_reading()
        if self.pipeline:             # pipelined requests wait for this response: start the next
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        else:
            self._went_idle()

    # -- input -----------------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        self._feed(data)
        if self._refused or self.transport.is_closing():
            return
        # the clocks of a head or a body this chunk left unfinished (none for a whole request)
        if self._head_pending and self._in_head and self._head_timer is None:
            self._head_timer = self.loop.call_later(self.limits.header_timeout, self._head_timed_out)
        if self._body_pending and self._body_timer is None:
            self._arm_body_timer()

    def _feed(self, data: bytes) -> None:
        if self._refused:
            return                    # draining after a refusal
        if not self._in_head:
            self._body_bytes += len(data)
            super().data_received(data)
            return
        self._head_pending = True     # bytes of a head (even blank lines before one) start its clock
        allowance = self.limits.max_header_bytes - self._head_bytes
        if len(data) <= allowance:
            self._head_bytes += len(data)
            super().data_received(data)
            return
        # feed only what the head may still use; the rest only if the head completed within it
        self._head_bytes += allowance
        super().data_received(data[:allowance])
        if self._refused or self.transport.is_closing():
            return
        if self._in_head:
            self.logger.info("request head over %d bytes from %s: 431", self.limits.max_header_bytes,
                             self.client and self.client[0])
            self._refuse(TOO_LARGE)
            return
        self._feed(data[allowance:])

    # -- parser callbacks ----------------------------------------------------------------
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._head_pending = True

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        self._head_pending = False
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        previous = self.cycle
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is not None and cycle is not previous:
            self._watch_response_start(cycle)
            self._body_pending = True     # armed at the end of this chunk if the body is still owed
            if self._body_timer is not None:
                self._body_timer.cancel()
                self._body_timer = None

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True
        self._head_bytes = 0
        self._body_pending = False
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    # -- write flow ----------------------------------------------------------------------
    def pause_writing(self) -> None:
        super().pause_writing()
        if self._send_timer is None:
            self._send_timer = self.loop.call_later(self.limits.send_timeout, self._send_timed_out,
                                                    self._delivered())

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._send_timer is not None:
            self._send_timer.cancel()
            self._send_timer = None

    # -- helpers -------------------------------------------------------------------------
    def _watch_response_start(self, cycle: Any) -> None:
        """At the start of each response: a response sent before ``100 Continue`` while the body
        is still owed ends the connection (the client will not send that body, so whatever it sends
        next would be misread as the body); and a response on a connection that is closing says so
        once (the app may have written ``Connection: keep-alive`` itself)."""
        send = cycle.send

        async def send_with_connection_header(message: Any) -> None:
            if message["type"] == "http.response.start":
                if cycle.waiting_for_100_continue and cycle.more_body:
                    cycle.keep_alive = False
                if not cycle.keep_alive:
                    headers = [(k, v) for k, v in message.get("headers", []) if bytes.lower(k) != b"connection"]
                    message = {**message, "headers": [*headers, (_connection_name(), b"close")]}
            await send(message)

        cycle.send = send_with_connection_header

    def _arm_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
        self._body_mark = self._body_bytes
        self._body_timer = self.loop.call_later(self.limits.body_timeout, self._body_timed_out, self.cycle)

    def _body_timed_out(self, cycle: Any) -> None:
        """Every ``body_timeout`` while a body is owed: the client must have sent at least
        MIN_PROGRESS bytes of it meanwhile (a silent or dripping sender is cut), unless we were
        the ones not reading (back-pressure, or no ``100 Continue`` sent yet)."""
        self._body_timer = None
        if self.transport.is_closing() or cycle is not self.cycle or not cycle.more_body:
            return
        if self.flow.read_paused or cycle.waiting_for_100_continue or \
                self._body_bytes - self._body_mark >= MIN_PROGRESS:
            self._arm_body_timer()
            return
        self.logger.info("request body from %s: under %d bytes in %.0f s: closing", self.client and self.client[0],
                         MIN_PROGRESS, self.limits.body_timeout)
        self.transport.close()

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or not self._in_head:
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # the previous request is still being answered (a client may send a stray CRLF after a
            # body): the next head's turn has not come yet, so its clock starts over
            self._head_timer = self.loop.call_later(self.limits.header_timeout, self._head_timed_out)
            return
        self.logger.info("request head not complete after %.0f s from %s: 408", self.limits.header_timeout,
                         self.client and self.client[0])
        self._refuse(HEAD_TIMEOUT)

    def _delivered(self) -> int:
        """Bytes the client has acknowledged so far (Linux TCP_INFO ``tcpi_bytes_acked``), or,
        where that is not available, minus what is still buffered: grows while the client reads."""
        sock = self.transport.get_extra_info("socket")
        try:
            info = sock.getsockopt(socket.IPPROTO_TCP, TCP_INFO, 128)
            if len(info) >= 128:
                return struct.unpack_from("=Q", info, TCPI_BYTES_ACKED)[0]
        except (AttributeError, OSError, struct.error):
            pass
        return -self.transport.get_write_buffer_size()

    def _send_timed_out(self, delivered: int) -> None:
        """Writes have been paused for ``send_timeout``: fine if the client read something
        meanwhile (a slow link draining a 1 MiB chunk), else it has stopped reading."""
        self._send_timer = None
        if self.transport.is_closing():
            return
        now = self._delivered()
        if now - delivered >= MIN_PROGRESS:
            self._send_timer = self.loop.call_later(self.limits.send_timeout, self._send_timed_out, now)
            return
        self.logger.info("client %s did not read its response for %.0f s: closing",
                         self.client and self.client[0], self.limits.send_timeout)
        self.transport.abort()

    def _refuse(self, response: bytes) -> None:
        """Answer, half-close, drain briefly, close."""
        self._refused = True
        self._unset_keepalive_if_required()
        transport = self.transport
        transport.write(response)
        if transport.can_write_eof():
            transport.write_eof()
            self.loop.call_later(LINGER_SECONDS, transport.close)
        else:
            transport.close()


def protocol_class(limits: HttpLimits) -> type[LimitedHttpToolsProtocol]:
    """A protocol class for ``uvicorn.Config(http=...)`` that enforces ``limits``."""
    return type("LimitedHttpToolsProtocol", (LimitedHttpToolsProtocol,), {"limits": limits})


def _connection_name() -> bytes:
    """``Connection`` spelled as COS spells it (issue 14): uvicorn lower-cases plain ``bytes`` header
    names; the app's canonical names (api/app.py) keep their case on the wire."""
    from cosbeauty.api.app import _CANONICAL
    return _CANONICAL[b"connection"]
