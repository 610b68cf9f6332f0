"""Run an ASGI app under uvicorn with the configured limits, TLS and trusted proxies."""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import ssl
from typing import Any

from cosbeauty.config import ServerConfig
from cosbeauty.http_limits import HttpLimits, protocol_class

log = logging.getLogger("cosbeauty")

FD_RESERVE = 128       # descriptors kept for the database, blobs, fetches, logs
SSL_SHUTDOWN_TIMEOUT = 3.0   # seconds a closing TLS connection waits for the peer's close_notify (asyncio: 30)
SHUTDOWN_TIMEOUT = 30.0      # seconds in-flight requests get to finish once the server stops accepting
SHUTDOWN_TIMEOUT_ENV = "COSBEAUTY_SHUTDOWN_TIMEOUT_SECONDS"


def shutdown_timeout(config: ServerConfig) -> float:
    """How long a stopping server lets in-flight requests finish before cancelling them (then it
    exits): ``serve --shutdown-timeout`` / $COSBEAUTY_SHUTDOWN_TIMEOUT_SECONDS, default 30 s.
    Without a bound, one stalled upload (a body moving 1 KiB a minute passes the body timeout)
    could hold a stopping node forever."""
    value = config.shutdown_timeout
    if value is None:
        value = float(os.environ.get(SHUTDOWN_TIMEOUT_ENV, SHUTDOWN_TIMEOUT))
    return max(0.0, float(value))


def raise_file_limit() -> int:
    """Raise the soft open-file limit to the hard limit; return the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def limits_for(config: ServerConfig, file_limit: int) -> HttpLimits:
    max_connections = config.max_connections
    fitting = max(16, file_limit - FD_RESERVE)
    if max_connections > fitting:
        log.warning("max connections lowered from %d to %d to fit the open-file limit (%d)",
                    max_connections, fitting, file_limit)
        max_connections = fitting
    return HttpLimits(max_header_bytes=config.max_header_bytes, header_timeout=config.header_timeout,
                      keep_alive_timeout=config.keep_alive_timeout, body_timeout=config.body_timeout,
                      send_timeout=config.send_timeout, max_connections=max_connections)


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    """Server context: TLS 1.2 and 1.3 only, the library's default (modern) cipher choice."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def uvicorn_config(app: Any, config: ServerConfig) -> Any:
    import uvicorn

    limits = limits_for(config, raise_file_limit())
    kwargs: dict[str, Any] = {}
    if config.tls_cert:
        ctx = tls_context(config.tls_cert, config.tls_key or config.tls_cert)
        kwargs["ssl_context_factory"] = lambda _config, _default: ctx
    return uvicorn.Config(
        app, host=config.host, port=config.port, log_level="warning", access_log=False,
        server_header=False, date_header=False, http=protocol_class(limits), loop="auto",
        timeout_keep_alive=limits.keep_alive_timeout,  # type: ignore[arg-type]
        timeout_graceful_shutdown=shutdown_timeout(config),
        # X-Forwarded-Proto/-For only from proxies named explicitly (uvicorn trusts loopback by default)
        proxy_headers=bool(config.trusted_proxies), forwarded_allow_ips=list(config.trusted_proxies) or [],
        **kwargs)


def run(app: Any, config: ServerConfig) -> None:
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            """uvicorn gives TLS handshakes asyncio's default 60 s and no way to change it; a
            handshake gets the head timeout instead (a connection counts against the connection
            cap only once its handshake is done). Closing a TLS connection waits at most 3 s for
            the peer's close_notify (asyncio: 30 s, which held up shutdown with idle clients)."""
            loop = asyncio.get_running_loop()
            create_server = loop.create_server

            async def with_handshake_timeout(*args: Any, **kwargs: Any) -> Any:
                if kwargs.get("ssl") is not None:
                    kwargs.setdefault("ssl_handshake_timeout", config.header_timeout)
                    kwargs.setdefault("ssl_shutdown_timeout", SSL_SHUTDOWN_TIMEOUT)
                return await create_server(*args, **kwargs)

            loop.create_server = with_handshake_timeout  # type: ignore[method-assign]
            try:
                await super().startup(sockets)
            finally:
                del loop.create_server

    Server(uvicorn_config(app, config)).run()
