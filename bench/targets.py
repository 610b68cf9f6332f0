"""Benchmark targets (servers) and clients, for the A/B harness in ``ab.py``.

Targets: ``cosbeauty`` (the embedded server, a fresh data dir), ``moto`` (moto's server, in-memory,
from the ``bench`` extra), ``rgw`` (a Ceph RGW one-node: started with scripts/services/ceph_rgw.py
when the ceph packages are installed, or an external one named by
``COSBEAUTY_BENCH_RGW=URL,ACCESS,SECRET``) and ``cluster`` (a hook, not available yet: a cosbeauty
cluster node named by ``COSBEAUTY_BENCH_CLUSTER=http://host:port,SECRET_ID,SECRET_KEY``). Each
target offers the same clients:

* ``raw``: a minimal keep-alive ``http.client`` per thread that signs each request (COS v5 for
  cosbeauty, which is its native protocol; SigV4 with ``UNSIGNED-PAYLOAD`` for S3 servers), so the
  figures are the server's, with little client cost;
* ``boto3``: boto3 path-style SigV4, one client per thread (boto3 clients are not meant to be
  shared by threads in a benchmark: their pool and signer add contention).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import http.client
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import Protocol
from urllib.parse import quote

from _server import APPID, REGION, SECRET_ID, SECRET_KEY, BenchServer, free_port


class Unavailable(RuntimeError):
    """A target that cannot run on this machine (the message says why)."""


class Client(Protocol):
    def create_bucket(self) -> None: ...
    def put(self, key: str, body: bytes) -> None: ...
    def get(self, key: str, chunk: int = 0) -> int: ...


# ------------------------------------------------------------------------------ signing

def cos_sign(method: str, path: str, host: str, secret_id: str = SECRET_ID, secret_key: str = SECRET_KEY,
             params: dict[str, str] | None = None) -> str:
    """COS v5 header signature over the Host header and the query ``params`` (all of them must
    be signed: the server refuses unsigned ones)."""
    now = int(time.time())
    window = f"{now - 60};{now + 3600}"
    pairs = sorted((quote(k, safe="-_.~").lower(), quote(v, safe="-_.~")) for k, v in (params or {}).items())
    param_string = "&".join(f"{k}={v}" for k, v in pairs)
    param_list = ";".join(k for k, _ in pairs)
    http_string = f"{method.lower()}\n{path}\n{param_string}\nhost={host}\n"
    to_sign = f"sha1\n{window}\n{hashlib.sha1(http_string.encode()).hexdigest()}\n"
    key = hmac.new(secret_key.encode(), window.encode(), hashlib.sha1).hexdigest()
    sig = hmac.new(key.encode(), to_sign.encode(), hashlib.sha1).hexdigest()
    return (f"q-sign-algorithm=sha1&q-ak={secret_id}&q-sign-time={window}&q-key-time={window}"
            f"&q-header-list=host&q-url-param-list={param_list}&q-signature={sig}")


def sigv4_headers(method: str, path: str, host: str, access: str, secret: str,
                  region: str = REGION) -> dict[str, str]:
    """SigV4 header auth over host, x-amz-content-sha256 (UNSIGNED-PAYLOAD) and x-amz-date."""
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    signed = "host;x-amz-content-sha256;x-amz-date"
    canonical = (f"{method}\n{path}\n\nhost:{host}\nx-amz-content-sha256:UNSIGNED-PAYLOAD\n"
                 f"x-amz-date:{amz_date}\n\n{signed}\nUNSIGNED-PAYLOAD")
    scope = f"{day}/{region}/s3/aws4_request"
    to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    k = ("AWS4" + secret).encode()
    for part in (day, region, "s3", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    return {"Host": host, "x-amz-date": amz_date, "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
            "Authorization": f"AWS4-HMAC-SHA256 Credential={access}/{scope}, SignedHeaders={signed}, "
                             f"Signature={sig}"}


# ------------------------------------------------------------------------------ clients

class RawClient:
    """One keep-alive connection per thread; ``scheme`` "cos" (virtual-host, COS v5) or "s3"
    (path-style, SigV4)."""

    def __init__(self, port: int, bucket: str, *, scheme: str = "cos", host: str = "127.0.0.1",
                 access: str = SECRET_ID, secret: str = SECRET_KEY, region: str = REGION) -> None:
        self.addr, self.port, self.bucket, self.scheme, self.region = host, port, bucket, scheme, region
        self.access, self.secret = access, secret
        self.host = f"{bucket}.cos.{REGION}.myqcloud.com" if scheme == "cos" else f"{host}:{port}"
        self.local = threading.local()

    def _conn(self) -> http.client.HTTPConnection:
        c = getattr(self.local, "c", None)
        if c is None:
            c = self.local.c = http.client.HTTPConnection(self.addr, self.port, timeout=120)
        return c

    def request(self, method: str, key: str, body=None, read_chunk: int = 0,
                headers: dict[str, str] | None = None) -> int:
        if self.scheme == "cos":
            path = "/" + key
            hdrs = {"Host": self.host, "Authorization": cos_sign(method, path, self.host, self.access, self.secret)}
        else:
            path = f"/{self.bucket}/{key}" if key else f"/{self.bucket}"
            hdrs = sigv4_headers(method, path, self.host, self.access, self.secret, self.region)
        hdrs.update(headers or {})
        c = self._conn()
        c.request(method, path, body=body, headers=hdrs)
        r = c.getresponse()
        n = 0
        while data := r.read(read_chunk or (1 << 20)):
            n += len(data)
        if r.status >= 300:
            raise RuntimeError(f"{method} {key}: HTTP {r.status}")
        return n

    def create_bucket(self) -> None:
        self.request("PUT", "")

    def put(self, key: str, body: bytes) -> None:
        self.request("PUT", key, body)

    def get(self, key: str, chunk: int = 0) -> int:
        return self.request("GET", key, read_chunk=chunk)


class Boto3Client:
    """boto3 path-style SigV4, one client per thread."""

    def __init__(self, port: int, bucket: str, *, host: str = "127.0.0.1", access: str = SECRET_ID,
                 secret: str = SECRET_KEY, region: str = REGION) -> None:
        self.endpoint, self.bucket, self.access, self.secret = f"http://{host}:{port}", bucket, access, secret
        self.region = region
        self.local = threading.local()

    @property
    def s3(self):
        c = getattr(self.local, "s3", None)
        if c is None:
            import boto3
            from botocore.config import Config
            c = self.local.s3 = boto3.session.Session().client(
                "s3", endpoint_url=self.endpoint, region_name=self.region, aws_access_key_id=self.access,
                aws_secret_access_key=self.secret,
                config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
        return c

    def create_bucket(self) -> None:
        self.s3.create_bucket(Bucket=self.bucket)

    def put(self, key: str, body: bytes) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)

    def get(self, key: str, chunk: int = 0) -> int:
        body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"]
        n = 0
        while data := body.read(chunk or (1 << 20)):
            n += len(data)
        return n


# ------------------------------------------------------------------------------ targets

class Target:
    name = "target"
    scheme = "s3"
    region = REGION

    def __init__(self) -> None:
        self.port = 0
        self.addr = "127.0.0.1"
        self.access, self.secret = SECRET_ID, SECRET_KEY
        self.pid: int | None = None

    def client(self, kind: str, bucket: str) -> Client:
        if kind == "raw":
            return RawClient(self.port, bucket, scheme=self.scheme, host=self.addr,
                             access=self.access, secret=self.secret, region=self.region)
        if kind == "boto3":
            return Boto3Client(self.port, bucket, host=self.addr, access=self.access, secret=self.secret,
                               region=self.region)
        raise ValueError(f"unknown client {kind!r}")

    def bucket_name(self, stem: str) -> str:
        return stem

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Cosbeauty(Target):
    """The embedded server in a subprocess, fresh data dir (``serve_args`` e.g. ``--no-fsync``)."""
    name = "cosbeauty"
    scheme = "cos"

    def __init__(self, *serve_args: str, src: str | None = None, name: str = "cosbeauty",
                 wait_warm: bool = True) -> None:
        super().__init__()
        self.name = name
        self.server = BenchServer(*serve_args, src=src)
        self.port, self.pid = self.server.port, self.server.proc.pid
        if wait_warm:   # the models warm up in the background: not part of any figure
            self.server.wait_warm()

    def bucket_name(self, stem: str) -> str:
        return f"{stem}-{APPID}"

    def close(self) -> None:
        self.server.close()


class Moto(Target):
    """moto's server (``python -m moto.server``, in-memory, no fsync; the ``bench`` extra)."""
    name = "moto"
    region = "us-east-1"     # moto wants a LocationConstraint body for any other region

    def __init__(self, python: str = sys.executable) -> None:
        super().__init__()
        check = subprocess.run([python, "-c", "import moto.server, flask"], capture_output=True)
        if check.returncode:
            raise Unavailable(f"moto[server] is not installed for {python} (pip install -e '.[bench]')")
        self.port = free_port()
        self.proc = subprocess.Popen([python, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.pid = self.proc.pid
        if not wait_port(self.port, 30):
            self.proc.kill()
            raise RuntimeError("moto server did not start")

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class External(Target):
    """An already running S3 server named by an environment variable ``URL,ACCESS,SECRET``."""

    def __init__(self, name: str, env: str, scheme: str = "s3") -> None:
        super().__init__()
        self.name, self.scheme = name, scheme
        spec = os.environ.get(env)
        if not spec:
            raise Unavailable(f"{name}: not available on this machine (set {env}=http://host:port,ACCESS,SECRET)")
        url, self.access, self.secret = spec.split(",")
        hostport = url.split("://", 1)[-1].rstrip("/")
        self.addr, port = hostport.rsplit(":", 1)
        self.port = int(port)


class Rgw(Target):
    """A Ceph RGW one-node: ``COSBEAUTY_BENCH_RGW=URL,ACCESS,SECRET`` if set, else a private
    one started with the cluster work's ``scripts/services/ceph_rgw.py`` (needs the Debian ceph
    packages: ``bash scripts/services/install.sh ceph``), stopped on close."""
    name = "rgw"
    region = "us-east-1"

    def __init__(self) -> None:
        super().__init__()
        self.dir = ""
        if os.environ.get("COSBEAUTY_BENCH_RGW"):
            ext = External("rgw", "COSBEAUTY_BENCH_RGW")
            self.addr, self.port, self.access, self.secret = ext.addr, ext.port, ext.access, ext.secret
            return
        if not shutil.which("radosgw"):
            raise Unavailable("rgw: radosgw is not installed (bash scripts/services/install.sh ceph, "
                              "or set COSBEAUTY_BENCH_RGW=http://host:port,ACCESS,SECRET)")
        import json
        self.dir = temp_dir("cosbeauty-bench-rgw-")
        out = subprocess.run([sys.executable, SERVICES_RGW, "start", os.path.join(self.dir, "ceph")],
                             capture_output=True, text=True, timeout=600)
        if out.returncode:
            self.close()
            raise Unavailable(f"rgw: did not start: {out.stderr.strip()[-500:]}")
        info = json.loads(out.stdout.strip().splitlines()[-1])
        hostport = info["endpoint"].split("://", 1)[-1].rstrip("/")
        self.addr, port = hostport.rsplit(":", 1)
        self.port, self.access, self.secret = int(port), info["access_key"], info["secret_key"]
        self.region = info.get("region", self.region)

    def close(self) -> None:
        if self.dir:
            subprocess.run([sys.executable, SERVICES_RGW, "stop", os.path.join(self.dir, "ceph")],
                           capture_output=True, timeout=120)
            remove(self.dir)
            self.dir = ""


SERVICES_RGW = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                            "scripts", "services", "ceph_rgw.py")


def ClusterNode() -> External:
    """A cosbeauty cluster node (COS v5 signed, virtual-host addressing): not yet available."""
    return External("cluster", "COSBEAUTY_BENCH_CLUSTER", scheme="cos")


TARGETS = {"cosbeauty": Cosbeauty, "moto": Moto, "rgw": Rgw, "cluster": ClusterNode}


def open_targets(names: list[str], cosbeauty_args: tuple[str, ...] = ()) -> list[Target]:
    """Start the named targets; unavailable ones are reported on stderr and left out.
    ``cosbeauty@DIR`` is cosbeauty run from the source tree DIR (another version, for A/B)."""
    out: list[Target] = []
    for name in names:
        try:
            if name.startswith("cosbeauty@"):
                out.append(Cosbeauty(*cosbeauty_args, src=name.split("@", 1)[1], name=name))
                continue
            out.append(Cosbeauty(*cosbeauty_args) if name == "cosbeauty" else TARGETS[name]())
        except Unavailable as exc:
            print(f"skipping {exc}", file=sys.stderr)
    return out


# ------------------------------------------------------------------------------ helpers

def wait_port(port: int, timeout: float, host: str = "127.0.0.1") -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), 0.1).close()
            return True
        except OSError:
            time.sleep(0.01)
    return False


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds of a process (all its threads, live and exited)."""
    if pid is None:
        return time.process_time()
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def temp_dir(prefix: str) -> str:
    return tempfile.mkdtemp(prefix=prefix, dir=os.environ.get("BENCH_TMP"))


def remove(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)
