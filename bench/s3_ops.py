"""Object-server throughput and latency on loopback.

Usage: python bench/s3_ops.py [--n 1000] [--conc 8] [--big-mib 64] [--client raw|boto3|both] [--no-fsync]

* 4 KiB PUT and GET ops/s, sequential and with --conc concurrent clients, p50/p99 latency;
* one --big-mib object PUT and GET (MiB/s, best and median of 3 GETs, read in 1 MiB chunks).

Clients: ``raw`` is a minimal keep-alive http.client that signs every request with COS v5 (the
server's cost, with little client overhead); ``boto3`` is boto3 path-style SigV4 (what the moto
figures in ../shared/research/anchors.md were measured with). Client and server share the 2 cores.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import hmac
import http.client
import os
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _server import APPID, REGION, SECRET_ID, SECRET_KEY, BenchServer  # noqa: E402


def cos_sign(method: str, path: str, host: str) -> str:
    now = int(time.time())
    window = f"{now - 60};{now + 3600}"
    http_string = f"{method.lower()}\n{path}\n\nhost={host}\n"
    to_sign = f"sha1\n{window}\n{hashlib.sha1(http_string.encode()).hexdigest()}\n"
    key = hmac.new(SECRET_KEY.encode(), window.encode(), hashlib.sha1).hexdigest()
    sig = hmac.new(key.encode(), to_sign.encode(), hashlib.sha1).hexdigest()
    return (f"q-sign-algorithm=sha1&q-ak={SECRET_ID}&q-sign-time={window}&q-key-time={window}"
            f"&q-header-list=host&q-url-param-list=&q-signature={sig}")


class RawClient:
    """One keep-alive connection per thread."""

    def __init__(self, port: int, bucket: str) -> None:
        self.port, self.bucket = port, bucket
        self.host = f"{bucket}.cos.{REGION}.myqcloud.com"
        self.local = threading.local()

    def _conn(self) -> http.client.HTTPConnection:
        c = getattr(self.local, "c", None)
        if c is None:
            c = self.local.c = http.client.HTTPConnection("127.0.0.1", self.port)
        return c

    def request(self, method: str, key: str, body: bytes | None = None, read_chunk: int = 0) -> int:
        path = "/" + key
        c = self._conn()
        c.request(method, path, body=body, headers={"Host": self.host, "Authorization": cos_sign(method, path, self.host)})
        r = c.getresponse()
        n = 0
        if read_chunk:
            while data := r.read(read_chunk):
                n += len(data)
        else:
            n = len(r.read())
        if r.status >= 300:
            raise RuntimeError(f"{method} {key}: {r.status}")
        return n

    def put(self, key: str, body: bytes) -> None:
        self.request("PUT", key, body)

    def get(self, key: str, chunk: int = 0) -> int:
        return self.request("GET", key, read_chunk=chunk)

    def create_bucket(self) -> None:
        self.request("PUT", "")


class MotoClient(RawClient):
    """The same keep-alive client, unsigned and path-style, against moto's server (a
    public-read-write bucket: moto does not check COS signatures). For a same-machine baseline."""

    def __init__(self, port: int, bucket: str) -> None:
        super().__init__(port, bucket)

    def request(self, method: str, key: str, body: bytes | None = None, read_chunk: int = 0) -> int:
        c = self._conn()
        c.request(method, f"/{self.bucket}/{key}", body=body,
                  headers={"x-amz-acl": "public-read-write"} if not key else {})
        r = c.getresponse()
        n = 0
        while data := r.read(read_chunk or (1 << 20)):
            n += len(data)
        if r.status >= 300:
            raise RuntimeError(f"moto {method} {key}: {r.status}")
        return n


def start_moto(python: str, port: int):
    import subprocess
    proc = subprocess.Popen([python, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=0.2).request("GET", "/")
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("moto server did not start")


class Boto3Client:
    def __init__(self, port: int, bucket: str) -> None:
        import boto3
        from botocore.config import Config
        self.bucket = bucket
        self.s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name=REGION,
                               aws_access_key_id=SECRET_ID, aws_secret_access_key=SECRET_KEY,
                               config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                                             max_pool_connections=64))

    def put(self, key: str, body: bytes) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)

    def get(self, key: str, chunk: int = 0) -> int:
        body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"]
        n = 0
        while data := body.read(chunk or (1 << 20)):
            n += len(data)
        return n

    def create_bucket(self) -> None:
        self.s3.create_bucket(Bucket=self.bucket)


def timed(fn, items, conc: int) -> tuple[float, list[float]]:
    lat: list[float] = []

    def one(item):
        t = time.perf_counter()
        fn(item)
        lat.append(time.perf_counter() - t)

    t0 = time.perf_counter()
    if conc == 1:
        for it in items:
            one(it)
    else:
        with concurrent.futures.ThreadPoolExecutor(conc) as pool:
            list(pool.map(one, items))
    return time.perf_counter() - t0, lat


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))] * 1000


def run_small(client, n: int, conc: int, label: str, rows: list) -> None:
    body = os.urandom(4096)
    keys = [f"small/{label.split()[0]}/{conc}/{i:06d}" for i in range(n)]
    client.put("warm", body)
    client.get("warm")
    for op, fn in (("PUT", lambda k: client.put(k, body)), ("GET", lambda k: client.get(k))):
        elapsed, lat = timed(fn, keys, conc)
        rows.append((label, f"4 KiB {op}", conc, f"{n / elapsed:,.0f} ops/s",
                     f"{pct(lat, 50):.2f} / {pct(lat, 99):.2f} ms"))


def run_big(client, mib: int, label: str, rows: list) -> None:
    body = os.urandom(mib << 20)
    t = time.perf_counter()
    client.put("big", body)
    put_s = time.perf_counter() - t
    gets = []
    for _ in range(3):
        t = time.perf_counter()
        assert client.get("big", chunk=1 << 20) == len(body)
        gets.append(time.perf_counter() - t)
    rows.append((label, f"{mib} MiB PUT", 1, f"{mib / put_s:,.0f} MiB/s", ""))
    rows.append((label, f"{mib} MiB GET", 1, f"best {mib / min(gets):,.0f} / median {mib / statistics.median(gets):,.0f} MiB/s", ""))


def vm_hwm_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run_huge(srv: BenchServer, mib: int, rows: list) -> None:
    """Stream a --huge-mib object up and down; report MiB/s and the server's peak RSS."""
    client = RawClient(srv.port, f"huge-{APPID}")
    client.create_bucket()
    before = vm_hwm_mib(srv.proc.pid)
    chunk = os.urandom(1 << 20)
    path = "/huge.bin"
    c = http.client.HTTPConnection("127.0.0.1", srv.port)
    t = time.perf_counter()
    c.request("PUT", path, body=(chunk for _ in range(mib)),
              headers={"Host": client.host, "Authorization": cos_sign("PUT", path, client.host),
                       "Content-Length": str(mib << 20)})
    r = c.getresponse()
    r.read()
    assert r.status == 200, r.status
    put_s = time.perf_counter() - t
    t = time.perf_counter()
    assert client.get("huge.bin", chunk=1 << 20) == mib << 20
    get_s = time.perf_counter() - t
    rows.append(("raw", f"{mib} MiB streamed PUT / GET", 1,
                 f"{mib / put_s:,.0f} / {mib / get_s:,.0f} MiB/s",
                 f"server peak RSS {vm_hwm_mib(srv.proc.pid):.0f} MiB (before: {before:.0f})"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--conc", type=int, default=8)
    ap.add_argument("--big-mib", type=int, default=64)
    ap.add_argument("--client", choices=("raw", "boto3", "both"), default="both")
    ap.add_argument("--no-fsync", action="store_true", help="run the server with --no-fsync")
    ap.add_argument("--huge-mib", type=int, default=0, help="also stream an object this big (e.g. 1024)")
    ap.add_argument("--moto-python", metavar="PYTHON",
                    help="also measure moto's server (run by this interpreter, which must have moto[server]) "
                         "with the same raw client, as a same-machine baseline")
    args = ap.parse_args()
    rows: list = []
    clients = {"raw": RawClient, "boto3": Boto3Client}
    names = ["raw", "boto3"] if args.client == "both" else [args.client]
    with BenchServer(*(["--no-fsync"] if args.no_fsync else [])) as srv:
        for i, name in enumerate(names):
            client = clients[name](srv.port, f"bench{i}-{APPID}")
            client.create_bucket()
            for conc in (1, args.conc):
                run_small(client, args.n, conc, name, rows)
            if args.big_mib:
                run_big(client, args.big_mib, name, rows)
        if args.huge_mib:
            run_huge(srv, args.huge_mib, rows)
    if args.moto_python:
        from _server import free_port
        port = free_port()
        moto = start_moto(args.moto_python, port)
        try:
            client = MotoClient(port, "motobench")
            client.create_bucket()
            for conc in (1, args.conc):
                run_small(client, args.n, conc, "moto (raw, unsigned)", rows)
        finally:
            moto.terminate()
    print(f"fsync={'off' if args.no_fsync else 'on'}, n={args.n}, cores={os.cpu_count()}")
    print("| client | operation | concurrency | throughput | p50 / p99 |")
    print("|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(str(x) for x in r) + " |")


if __name__ == "__main__":
    main()
