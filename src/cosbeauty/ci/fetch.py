"""``detect-url``: fetch an image from an http(s) URL without becoming an SSRF proxy.

* Every hop (the URL and each redirect) is resolved here; the addresses are checked and the
  connection is made to a checked address (pinned), so DNS rebinding cannot swap in another.
  The peer address of the connected socket is checked once more.
* Refused unless allowed by name or network: loopback, private, link-local, CGNAT (100.64/10),
  multicast, unspecified (0.0.0.0, ::), reserved, documentation ranges -- anything that is not
  globally routable. IPv6 forms that embed IPv4 (mapped, compatible, 6to4, Teredo, NAT64) are
  judged by the IPv4 address inside.
* Size, redirects and total time are capped: every socket operation waits at most until the
  fetch's deadline (a server that drips one byte a second cannot stretch it), and an
  :class:`Abort` lets the caller cut a fetch short from another thread (TLS handshake, give-up).
  Plain ``http.client`` over a pinned socket; no proxies, no cookies, no environment settings.
"""

from __future__ import annotations

import http.client
import io
import ipaddress
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import unquote, urljoin, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_V4_COMPAT = ipaddress.ip_network("::/96")
_HTTP_URL = re.compile(r"^https?://", re.IGNORECASE)
_REDIRECTS = (301, 302, 303, 307, 308)
MAX_DECODE_ROUNDS = 5
USER_AGENT = "cosbeauty-detect-url/1.0"


class FetchError(Exception):
    """``code`` is the COS-style error code answered to the client."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Refused(FetchError):
    def __init__(self, message: str) -> None:
        super().__init__("DetectUrlForbidden", message)


class Failed(FetchError):
    def __init__(self, message: str) -> None:
        super().__init__("DetectUrlFetchFailed", message)


@dataclass(frozen=True)
class FetchPolicy:
    allow_hosts: frozenset[str] = frozenset()
    allow_networks: tuple[IPNetwork, ...] = ()
    max_bytes: int = 32 * 1024 * 1024
    timeout: float = 10.0
    max_redirects: int = 3

    @classmethod
    def from_allow_list(cls, entries: list[str], **limits) -> "FetchPolicy":
        """Entries are host names (exact, case-insensitive) or IP addresses / CIDR ranges."""
        hosts, networks = set(), []
        for entry in entries:
            entry = entry.strip()
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                hosts.add(entry.lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks), **limits)


@dataclass
class _Hop:
    scheme: str
    host: str
    port: int
    target: str          # path + query for the request line
    url: str = field(repr=False, default="")


def decode_detect_url(raw: str) -> str:
    """The detect-url parameter, URL-decoded as many times as it was encoded (Tencent's examples
    encode it three times). It must be an absolute http(s) URL."""
    url = raw.strip()
    for _ in range(MAX_DECODE_ROUNDS):
        if _HTTP_URL.match(url):
            return url
        decoded = unquote(url)
        if decoded == url:
            break
        url = decoded.strip()
    if _HTTP_URL.match(url):
        return url
    raise FetchError("InvalidArgument", "detect-url must be an absolute http:// or https:// URL.")


def embedded_ipv4(ip: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, Teredo, NAT64, compatible), else ip."""
    if ip.version == 4:
        return ip
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64 or (ip in _V4_COMPAT and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def is_public(ip: IPAddress) -> bool:
    inner = embedded_ipv4(ip)
    return all(a.is_global and not a.is_multicast and not a.is_unspecified for a in {ip, inner})


def address_allowed(ip: IPAddress, host: str, policy: FetchPolicy) -> bool:
    if host.lower().rstrip(".") in policy.allow_hosts:
        return True
    inner = embedded_ipv4(ip)
    if any(a in net for net in policy.allow_networks for a in {ip, inner} if a.version == net.version):
        return True
    return is_public(ip)


def _parse(url: str) -> _Hop:
    try:
        parts = urlsplit(url)
    except ValueError as exc:      # "http://[", ...
        raise FetchError("InvalidArgument", f"detect-url is not a valid URL: {exc}.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise Refused(f"detect-url scheme {parts.scheme!r} is not allowed; use http or https.")
    if parts.username or parts.password:
        raise Refused("detect-url must not carry credentials.")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise FetchError("InvalidArgument", "detect-url has an invalid port.") from None
    host = parts.hostname or ""
    if not host:
        raise FetchError("InvalidArgument", "detect-url has no host.")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Hop(scheme, host, port, target, url)


def _resolve(hop: _Hop, policy: FetchPolicy) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(hop.host, hop.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, ValueError) as exc:     # ValueError: NUL in the name; UnicodeError is one
        raise Failed(f"cannot resolve {hop.host!r}: {exc}") from None
    addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos))
    allowed = [ip for ip in addresses if address_allowed(ip, hop.host, policy)]
    if not allowed:
        raise Refused(f"detect-url host {hop.host!r} resolves to a non-public address "
                      f"({', '.join(map(str, addresses))}); refused.")
    return allowed


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise Failed("detect-url fetch timed out.")
    return left


class Abort:
    """Cut a running fetch short from another thread: shuts its socket down, so a blocked
    connect, TLS handshake or read returns at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self.fired = False

    def fire(self) -> None:
        with self._lock:
            self.fired = True
            if self._sock is not None:
                try:
                    self._sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def watch(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._sock = sock
            if self.fired:
                raise Failed("detect-url fetch timed out.")


class _DeadlineReader(io.RawIOBase):
    """The response stream: each receive waits at most until the deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        self._sock.settimeout(_remaining(self._deadline))
        try:
            return self._sock.recv_into(buffer)
        except TimeoutError:
            raise Failed("detect-url fetch timed out.") from None


class _DeadlineSocket:
    """What ``http.client`` needs of a socket, with every operation bounded by the deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline

    def sendall(self, data: bytes) -> None:
        self._sock.settimeout(_remaining(self._deadline))
        try:
            self._sock.sendall(data)
        except TimeoutError:
            raise Failed("detect-url fetch timed out.") from None

    def makefile(self, mode: str = "rb", *args, **kwargs) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineReader(self._sock, self._deadline))

    def close(self) -> None:
        """http.client closes the connection while the response may still read from it; the
        real socket is closed by whoever made it (``_get``), after the response is read."""


def _connect(hop: _Hop, ip: IPAddress, policy: FetchPolicy, deadline: float, abort: Abort) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ip.version == 6 else socket.AF_INET, socket.SOCK_STREAM)
    try:
        abort.watch(sock)
        sock.settimeout(_remaining(deadline))
        sock.connect((str(ip), hop.port))
        peer = ipaddress.ip_address(sock.getpeername()[0].split("%", 1)[0])
        if peer != ip or not address_allowed(peer, hop.host, policy):
            raise Refused(f"connected to {peer}, which is not allowed.")
        if hop.scheme == "https":
            sock.settimeout(_remaining(deadline))    # the handshake as a whole is cut by Abort
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=hop.host)
            abort.watch(sock)
    except BaseException:
        sock.close()
        raise
    return sock


def _read_body(resp: http.client.HTTPResponse, policy: FetchPolicy, deadline: float) -> bytes:
    """Each read is bounded by the socket timeout; the whole body by the deadline."""
    declared = resp.getheader("content-length")
    if declared and declared.isdigit() and int(declared) > policy.max_bytes:
        raise Failed(f"detect-url body is {declared} bytes; the limit is {policy.max_bytes}.")
    chunks, size = [], 0
    while True:
        _remaining(deadline)
        chunk = resp.read(64 * 1024)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > policy.max_bytes:
            raise Failed(f"detect-url body exceeds {policy.max_bytes} bytes.")
        chunks.append(chunk)


def _get(hop: _Hop, policy: FetchPolicy, deadline: float, abort: Abort) -> tuple[int, str | None, bytes]:
    """One GET: (status, redirect location, body). Tries each allowed address in turn."""
    last: Exception | None = None
    for ip in _resolve(hop, policy):
        try:
            sock = _connect(hop, ip, policy, deadline, abort)
        except OSError as exc:
            if abort.fired or time.monotonic() >= deadline:
                raise Failed("detect-url fetch timed out.") from None
            last = exc
            continue
        conn = http.client.HTTPConnection(hop.host, hop.port, timeout=_remaining(deadline))
        conn.sock = _DeadlineSocket(sock, deadline)  # type: ignore[assignment]
        try:
            conn.request("GET", hop.target, headers={"User-Agent": USER_AGENT, "Accept": "image/*"})
            resp = conn.getresponse()
            if resp.status in _REDIRECTS:
                return resp.status, resp.getheader("location"), b""
            if resp.status != 200:
                raise Failed(f"detect-url answered HTTP {resp.status}.")
            return resp.status, None, _read_body(resp, policy, deadline)
        except (OSError, http.client.HTTPException, ValueError) as exc:   # ValueError: non-ASCII target
            if abort.fired or time.monotonic() >= deadline:
                raise Failed("detect-url fetch timed out.") from None
            raise Failed(f"detect-url fetch failed: {exc}") from None
        finally:
            conn.close()
            sock.close()
    raise Failed(f"cannot connect to {hop.host!r}: {last}")


def fetch(url: str, policy: FetchPolicy, deadline: float | None = None, abort: Abort | None = None) -> bytes:
    """GET ``url`` (already decoded) under ``policy``, done by ``deadline`` (``time.monotonic()``;
    default: ``policy.timeout`` from now). Blocking: call it off the event loop (see ci.fetcher)."""
    deadline = time.monotonic() + policy.timeout if deadline is None else deadline
    abort = abort or Abort()
    for _ in range(policy.max_redirects + 1):
        _remaining(deadline)
        hop = _parse(url)
        status, location, body = _get(hop, policy, deadline, abort)
        if status not in _REDIRECTS:
            return body
        if not location:
            raise Failed(f"detect-url answered HTTP {status} without a Location.")
        try:
            url = urljoin(url, location)
        except ValueError:
            raise Failed(f"detect-url redirected to an invalid URL {location[:200]!r}.") from None
    raise Failed(f"detect-url redirected more than {policy.max_redirects} times.")
