"""Cluster mode on this machine: the embedded default vs one cluster node vs two cluster nodes, and
the measured cost of each object operation in PostgreSQL statements, round trips, transactions
and blob store requests.

Usage: python bench/cluster.py [--rounds 3] [--n 400] [--conc 8] [--big-mib 64] [--beauty 24]
                               [--only throughput costs retries] [--json bench/results/cluster.json]

Starts a private PostgreSQL (scripts/services/postgres.py, with pg_stat_statements) and a one-node
Ceph RGW (scripts/services/ceph_rgw.py, or ``COSBEAUTY_BENCH_RGW=URL,ACCESS,SECRET``), then:

* ``throughput``: three arms interleaved by the A/B harness (``ab.py``): ``embedded`` (SQLite +
  local blobs, fsync on), ``1 node`` and ``2 nodes`` (``--metadata postgresql://`` +
  ``--blobs s3://`` on RGW; the client sends its requests round-robin to the nodes, i.e. what a
  load balancer does). Figures: 4 KiB PUT and GET ops/s (``--conc`` threads), 64 MiB GET MiB/s
  (2 streams), AIFaceBeauty calls/s on a 1920x1080 JPEG (4 threads). The serialization retries of
  the PUT rounds are read from each node's ``/-/metrics``.
* ``costs``: one cluster node; per operation (4 KiB PUT/GET, 1 MiB PUT/GET, LIST of 100 keys,
  CompleteMultipartUpload of 2 parts, DELETE, overwrite): PostgreSQL statements (every ``execute``
  is one round trip, BEGIN and COMMIT included: pg_stat_statements ``calls``), transactions
  (``pg_stat_database.xact_commit``) and blob store requests (``cosbeauty_blobstore_requests_total``).
* ``retries``: concurrent PUTs of neighbouring keys (``--conc`` threads, keys handed out in order)
  from one node and from two nodes: serialization retries per PUT.

Everything runs on the same machine (client, nodes, PostgreSQL, RGW), so the figures say what
each architecture costs here, not what a cluster of machines would do; docs/cluster.md turns the
per-operation costs into a capacity model.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from typing import Any, Callable
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _server import APPID, REGION, SECRET_ID, SECRET_KEY, BenchServer  # noqa: E402
from ab import Comparison, compare, load1, save  # noqa: E402
from targets import RawClient, Rgw, Target, cpu_seconds  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PG_SCRIPT = os.path.join(ROOT, "scripts", "services", "postgres.py")
SMALL = os.urandom(4096)
MIB = 1 << 20


# ------------------------------------------------------------------------------ services

class Postgres:
    """A private PostgreSQL (loopback, pg_stat_statements preloaded), stopped on close."""

    def __init__(self) -> None:
        self.root = tempfile.mkdtemp(prefix="cosbeauty-bench-pg-", dir=os.environ.get("BENCH_TMP"))
        self.dir = os.path.join(self.root, "pg")
        out = subprocess.run([sys.executable, PG_SCRIPT, "start", self.dir], capture_output=True, text=True,
                             timeout=300)
        if out.returncode:
            self.close()
            raise RuntimeError(f"PostgreSQL did not start: {out.stderr[-800:]}")
        self.info = json.loads(out.stdout.strip().splitlines()[-1])
        self.admin_dsn = self.info["dsn"]
        with self.connect() as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")

    def connect(self):
        import psycopg
        return psycopg.connect(self.admin_dsn, autocommit=True)

    def new_database(self, stem: str) -> str:
        name = f"{stem}_{uuid.uuid4().hex[:6]}"
        with self.connect() as conn:
            conn.execute(f"CREATE DATABASE {name}")
        i = self.info
        return f"postgresql://{i['user']}@{i['host']}:{i['port']}/{name}"

    def close(self) -> None:
        subprocess.run([sys.executable, PG_SCRIPT, "stop", self.dir], capture_output=True, timeout=120)
        shutil.rmtree(self.root, ignore_errors=True)


class ClusterNodes(Target):
    """``n`` cosbeauty nodes sharing one PostgreSQL database and one RGW blob prefix."""
    scheme = "cos"

    def __init__(self, n: int, pg: Postgres, rgw: Rgw, blob_bucket: str, name: str, src: str | None = None) -> None:
        super().__init__()
        self.name = name
        self.db_url = pg.new_database("bench")
        self.key_dir = tempfile.mkdtemp(prefix="cosbeauty-bench-key-", dir=os.environ.get("BENCH_TMP"))
        key = os.path.join(self.key_dir, "master.key")
        with open(key, "wb") as f:
            f.write(os.urandom(32))
        os.environ.update({"AWS_ACCESS_KEY_ID": rgw.access, "AWS_SECRET_ACCESS_KEY": rgw.secret,
                           "COSBEAUTY_GC_INTERVAL_SECONDS": "3600"})   # no sweep statements in the counts
        args = ("--metadata", self.db_url, "--blobs", f"s3://{blob_bucket}/{name.replace(' ', '')}-{uuid.uuid4().hex[:6]}",
                "--blobs-endpoint", f"http://{rgw.addr}:{rgw.port}", "--master-key-file", key)
        self.servers: list[BenchServer] = []
        try:
            for _ in range(n):
                self.servers.append(BenchServer(*args, src=src))
            for s in self.servers:
                s.wait_warm()
        except BaseException:
            self.close()
            raise
        self.ports = [s.port for s in self.servers]
        self.port, self.pid = self.ports[0], self.servers[0].proc.pid

    def client(self, kind: str, bucket: str) -> "RoundRobin":
        return RoundRobin([RawClient(p, bucket, scheme="cos") for p in self.ports])

    def bucket_name(self, stem: str) -> str:
        return f"{stem}-{APPID}"

    def ci_env(self) -> dict[str, str]:
        return {"COSBEAUTY_METADATA": self.db_url}

    def metric(self, name: str) -> float:
        return sum(scrape(p).get(name, 0.0) for p in self.ports)

    def close(self) -> None:
        for s in self.servers:
            s.close()
        shutil.rmtree(self.key_dir, ignore_errors=True)


class Embedded(Target):
    scheme = "cos"

    def __init__(self) -> None:
        super().__init__()
        self.name = "embedded"
        self.server = BenchServer()
        self.server.wait_warm()
        self.port, self.pid, self.ports = self.server.port, self.server.proc.pid, [self.server.port]

    def client(self, kind: str, bucket: str) -> "RoundRobin":
        return RoundRobin([RawClient(self.port, bucket, scheme="cos")])

    def bucket_name(self, stem: str) -> str:
        return f"{stem}-{APPID}"

    def ci_env(self) -> dict[str, str]:
        return {}

    def metric(self, name: str) -> float:
        return 0.0

    def close(self) -> None:
        self.server.close()


class RoundRobin:
    """A load balancer in the client: request i goes to node i mod n (keep-alive per thread and node)."""

    def __init__(self, clients: list[RawClient]) -> None:
        self.clients = clients
        self._next = itertools.count()

    def pick(self) -> RawClient:
        return self.clients[next(self._next) % len(self.clients)]

    def create_bucket(self) -> None:
        self.clients[0].create_bucket()

    def put(self, key: str, body: bytes) -> None:
        self.pick().put(key, body)

    def get(self, key: str, chunk: int = 0) -> int:
        return self.pick().get(key, chunk)

    def request(self, *args: Any, **kwargs: Any) -> int:
        return self.pick().request(*args, **kwargs)


def scrape(port: int) -> dict[str, float]:
    """``/-/metrics`` of a node, every sample summed over its labels too (``name`` and ``name{...}``)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/-/metrics")
    text = c.getresponse().read().decode()
    c.close()
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)", line)
        if not m:
            continue
        value = float(m.group(3))
        if m.group(2):
            out[m.group(1) + m.group(2)] = value
        out[m.group(1)] = out.get(m.group(1), 0.0) + value
    return out


# ------------------------------------------------------------------------------ arms

def run_threads(conc: int, items: list, fn: Callable[[Any], Any]) -> float:
    """Seconds to run ``fn`` over ``items`` from ``conc`` threads (items handed out in order)."""
    it = iter(items)
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                item = next(it, None)
            if item is None:
                return
            fn(item)
    t = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(conc)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return time.perf_counter() - t


class Small:
    def __init__(self, target: Any, op: str, conc: int, n: int) -> None:
        self.target, self.op, self.conc, self.n, self.round = target, op, conc, n, 0
        self.client = target.client("raw", target.bucket_name(f"s{op.lower()}{uuid.uuid4().hex[:6]}"))
        self.client.create_bucket()
        if op == "GET":
            self.keys = [f"get/{i:06d}" for i in range(n)]
            run_threads(conc, self.keys, lambda k: self.client.put(k, SMALL))

    def __call__(self) -> tuple[float, dict]:
        retries0 = self.target.metric("cosbeauty_db_serialization_retries")
        if self.op == "PUT":
            self.round += 1
            keys = [f"put/{self.round}/{i:06d}" for i in range(self.n)]
            elapsed = run_threads(self.conc, keys, lambda k: self.client.put(k, SMALL))
        else:
            elapsed = run_threads(self.conc, self.keys, self.client.get)
        retries = self.target.metric("cosbeauty_db_serialization_retries") - retries0
        return self.n / elapsed, {"retries_per_op": retries / self.n}


class Parts:
    """UploadPart of ``n`` parts of one upload from ``conc`` threads (round-robin over the nodes)."""

    def __init__(self, target: Any, conc: int, n: int, size: int = 64 * 1024) -> None:
        self.target, self.conc, self.n, self.body = target, conc, n, os.urandom(size)
        self.client = target.client("raw", target.bucket_name(f"parts{uuid.uuid4().hex[:6]}"))
        self.client.create_bucket()

    def __call__(self) -> tuple[float, dict]:
        key, upload_id = multipart_start(self.client.clients[0], f"up/{uuid.uuid4().hex[:8]}")
        retries0 = self.target.metric("cosbeauty_db_serialization_retries")
        elapsed = run_threads(self.conc, list(range(1, self.n + 1)),
                              lambda n: upload_part(self.client.pick(), key, upload_id, n, self.body))
        retries = self.target.metric("cosbeauty_db_serialization_retries") - retries0
        _signed(self.client.clients[0], "DELETE", "/" + key, {"uploadId": upload_id}, _cos_sign())
        return self.n / elapsed, {"retries_per_op": retries / self.n}


def _cos_sign():
    from targets import cos_sign
    return cos_sign


class BigGet:
    def __init__(self, target: Any, mib: int, streams: int = 2, gets: int = 4) -> None:
        self.mib, self.streams, self.gets = mib, streams, gets
        self.client = target.client("raw", target.bucket_name(f"big{uuid.uuid4().hex[:6]}"))
        self.client.create_bucket()
        self.client.clients[0].put("big", os.urandom(mib * MIB))

    def __call__(self) -> float:
        def one(_: int) -> None:
            assert self.client.get("big", chunk=MIB) == self.mib * MIB
        return self.mib * self.gets / run_threads(self.streams, list(range(self.gets)), one)


def beauty_image() -> bytes:
    from ci_http import test_image
    return test_image()


class Beauty:
    """AIFaceBeauty (``GET /<key>?ci-process=AIFaceBeauty``, pre-signed) calls/s from ``conc`` threads."""

    def __init__(self, target: Any, image: bytes, conc: int, n: int, data_dir: str | None) -> None:
        from qcloud_cos import CosConfig, CosS3Client
        self.conc, self.n = conc, n
        bucket = target.bucket_name(f"ci{uuid.uuid4().hex[:6]}")
        rr = target.client("raw", bucket)
        rr.create_bucket()
        rr.clients[0].put("face.jpg", image)
        env = {**os.environ, **target.ci_env()}
        for step in ("bind", "enable-ai"):
            cmd = [sys.executable, "-m", "cosbeauty", "ci", step, bucket]
            if data_dir:
                cmd += ["--data-dir", data_dir]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
        self.targets = []
        for port in target.ports:
            client = CosS3Client(CosConfig(Region=REGION, SecretId=SECRET_ID, SecretKey=SECRET_KEY,
                                           Endpoint=f"localhost:{port}", Scheme="http"))
            url = urlsplit(client.get_presigned_url(Bucket=bucket, Key="face.jpg", Method="GET", Expired=3600,
                                                    Params={"ci-process": "AIFaceBeauty"}))
            self.targets.append((port, url.netloc, f"{url.path}?{url.query}"))
        self.rr = itertools.count()
        self.local = threading.local()

    def one(self, _: int) -> None:
        port, host, path = self.targets[next(self.rr) % len(self.targets)]
        conns = getattr(self.local, "conns", None)
        if conns is None:
            conns = self.local.conns = {}
        c = conns.get(port) or conns.setdefault(port, http.client.HTTPConnection("127.0.0.1", port, timeout=120))
        c.request("GET", path, headers={"Host": host})
        r = c.getresponse()
        body = r.read()
        if r.status != 200 or body[:2] != b"\xff\xd8":
            raise RuntimeError(f"AIFaceBeauty: HTTP {r.status}: {body[:200]!r}")

    def __call__(self) -> float:
        return self.n / run_threads(self.conc, list(range(self.n)), self.one)


# ------------------------------------------------------------------------------ costs

def _pids() -> list[tuple[int, int, str]]:
    """(pid, parent pid, command line) of every process."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            out.append((int(d), ppid, cmd))
    return out


def cpu_of(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except OSError:
            pass
    return total


class Counter:
    """Snapshots of one node's PostgreSQL statements / transactions, blob store requests, and the
    CPU seconds of the node, of this PostgreSQL (postmaster and backends) and of the Ceph daemons."""

    def __init__(self, pg: Postgres, nodes: ClusterNodes, rgw: Rgw) -> None:
        self.pg, self.nodes = pg, nodes
        self.dbname = nodes.db_url.rsplit("/", 1)[1]
        with open(os.path.join(pg.dir, "data", "postmaster.pid")) as f:
            self.postmaster = int(f.readline())
        self.ceph_dir = rgw.dir

    def cpu(self) -> dict[str, float]:
        procs = _pids()
        pg = [self.postmaster] + [p for p, pp, _ in procs if pp == self.postmaster]
        ceph = [p for p, _, cmd in procs if self.ceph_dir and self.ceph_dir in cmd and
                any(d in cmd.split(" ", 1)[0] for d in ("radosgw", "ceph-osd", "ceph-mon", "ceph-mgr"))]
        return {"node": cpu_seconds(self.nodes.pid), "postgres": cpu_of(pg), "ceph": cpu_of(ceph)}

    def snap(self) -> dict[str, Any]:
        with self.pg.connect() as conn:
            oid = conn.execute("SELECT oid FROM pg_database WHERE datname=%s", (self.dbname,)).fetchone()[0]
            stmts = dict(conn.execute("SELECT query, sum(calls)::bigint FROM pg_stat_statements WHERE dbid=%s "
                                      "GROUP BY query", (oid,)).fetchall())
        m = scrape(self.nodes.port)
        blob = {k: v for k, v in m.items() if k.startswith("cosbeauty_blobstore_requests_total{")}
        return {"stmts": stmts, "blob": blob, "cpu": self.cpu(), **{k: m.get(f"cosbeauty_db_{k}", 0.0) for k in
                                                                    ("round_trips", "transactions", "write_transactions")}}

    @staticmethod
    def diff(a: dict, b: dict, n: int) -> dict[str, Any]:
        # pg_stat_statements: which statements (utility ones -- BEGIN, COMMIT -- are left out: psycopg
        # prepares a statement after 5 runs and prepared utility statements are not counted)
        stmts = {q: (b["stmts"].get(q, 0) - a["stmts"].get(q, 0)) / n for q in b["stmts"]
                 if not q.startswith(("BEGIN", "COMMIT", "ROLLBACK"))}
        stmts = {q: c for q, c in stmts.items() if c > 0}
        blob = {re.search(r'operation="([^"]+)"', k).group(1) + ("" if 'outcome="ok"' in k else " (error)"):
                (v - a["blob"].get(k, 0.0)) / n for k, v in b["blob"].items() if v - a["blob"].get(k, 0.0) > 0}
        return {**{k: (b[k] - a[k]) / n for k in ("round_trips", "transactions", "write_transactions")},
                "cpu_ms": {k: (b["cpu"][k] - a["cpu"][k]) / n * 1000 for k in a["cpu"]},
                "blob_requests": blob, "statements": stmts}


def measure_costs(pg: Postgres, nodes: ClusterNodes, rgw: Rgw, n: int = 200) -> dict[str, dict]:
    """Per-operation costs on one node (sequential requests, so nothing conflicts)."""
    counter = Counter(pg, nodes, rgw)
    rr = nodes.client("raw", nodes.bucket_name(f"cost{uuid.uuid4().hex[:6]}"))
    rr.create_bucket()
    c = rr.clients[0]
    out: dict[str, dict] = {}
    one_mib = os.urandom(MIB)

    def phase(name: str, fn: Callable[[int], Any], count: int = n) -> None:
        a = counter.snap()
        for i in range(count):
            fn(i)
        out[name] = counter.diff(a, counter.snap(), count)

    phase("PUT 4 KiB (new key)", lambda i: c.put(f"small/{i:04d}", SMALL))
    phase("PUT 4 KiB (overwrite)", lambda i: c.put(f"small/{i:04d}", SMALL))
    phase("GET 4 KiB", lambda i: c.get(f"small/{i:04d}"))
    phase("HEAD 4 KiB", lambda i: c.request("HEAD", f"small/{i:04d}"))
    phase("PUT 1 MiB (new key)", lambda i: c.put(f"mid/{i:04d}", one_mib), 40)
    phase("GET 1 MiB", lambda i: c.get(f"mid/{i:04d}"), 40)
    for i in range(60):
        c.put(f"list/{i:04d}", b"x")
    phase("LIST (100 keys)", lambda i: list_objects(c, "", 100))
    phase("PUT 1 MiB (overwrite)", lambda i: c.put(f"mid/{i:04d}", one_mib), 40)
    phase("DELETE", lambda i: c.request("DELETE", f"small/{i:04d}"))
    uploads = []

    def initiate(i: int) -> None:
        uploads.append(multipart_start(c, f"mp/{i:04d}"))
    phase("InitiateMultipartUpload", initiate, 20)
    parts: list[list[str]] = [[] for _ in uploads]

    def part(i: int) -> None:
        parts[i // 2].append(upload_part(c, *uploads[i // 2], i % 2 + 1, os.urandom(5 * MIB + 1)))
    phase("UploadPart 5 MiB", part, 2 * len(uploads))
    phase("CompleteMultipartUpload (2 parts)", lambda i: multipart_complete(c, *uploads[i], parts[i]), len(uploads))
    beauty = Beauty(nodes, beauty_image(), 1, 10, None)
    beauty.one(0)                                           # warm the connection and the worker
    phase("AIFaceBeauty 1920x1080 (GET ?ci-process)", beauty.one, 10)
    return out


def list_objects(c: RawClient, prefix: str, max_keys: int) -> None:
    from targets import cos_sign
    params = {"max-keys": str(max_keys), "prefix": prefix}
    _signed(c, "GET", "/", params, cos_sign)


def _signed(c: RawClient, method: str, path: str, params: dict[str, str], sign, body: bytes | None = None) -> bytes:
    from urllib.parse import urlencode
    auth = sign(method, path, c.host, c.access, c.secret, params)
    conn = c._conn()
    conn.request(method, f"{path}?{urlencode(params)}" if params else path, body=body,
                 headers={"Host": c.host, "Authorization": auth})
    r = conn.getresponse()
    data = r.read()
    if r.status >= 300:
        raise RuntimeError(f"{method} {path}: HTTP {r.status}: {data[:300]!r}")
    return data if method != "HEAD" else r.getheader("ETag", "").encode()


def multipart_start(c: RawClient, key: str) -> tuple[str, str]:
    from targets import cos_sign
    data = _signed(c, "POST", "/" + key, {"uploads": ""}, cos_sign)
    return key, re.search(rb"<UploadId>([^<]+)</UploadId>", data).group(1).decode()


def upload_part(c: RawClient, key: str, upload_id: str, number: int, body: bytes) -> str:
    from urllib.parse import urlencode

    from targets import cos_sign
    auth_params = {"partNumber": str(number), "uploadId": upload_id}
    path = "/" + key
    conn = c._conn()
    conn.request("PUT", f"{path}?{urlencode(auth_params)}", body=body,
                 headers={"Host": c.host, "Authorization": cos_sign("PUT", path, c.host, c.access, c.secret,
                                                                    auth_params)})
    r = conn.getresponse()
    r.read()
    if r.status != 200:
        raise RuntimeError(f"UploadPart: HTTP {r.status}")
    return r.getheader("ETag")


def multipart_complete(c: RawClient, key: str, upload_id: str, etags: list[str]) -> None:
    from targets import cos_sign
    body = "<CompleteMultipartUpload>" + "".join(
        f"<Part><PartNumber>{i}</PartNumber><ETag>{e}</ETag></Part>" for i, e in enumerate(etags, 1)) + \
        "</CompleteMultipartUpload>"
    _signed(c, "POST", "/" + key, {"uploadId": upload_id}, cos_sign, body.encode())


def costs_report(costs: dict[str, dict]) -> str:
    lines = ["## Per-operation costs (one cluster node on PostgreSQL + RGW, sequential requests)", "",
             "| operation | PostgreSQL round trips (statements) | transactions (of which write) | blob store requests "
             "| CPU ms: node | PostgreSQL | Ceph (RGW+OSD+mon+mgr) |",
             "|---|---:|---:|---|---:|---:|---:|"]
    for name, c in costs.items():
        blob = ", ".join(f"{v:.2f} {k}" for k, v in sorted(c["blob_requests"].items())) or "none"
        cpu = c["cpu_ms"]
        lines.append(f"| {name} | {c['round_trips']:.2f} | {c['transactions']:.2f} ({c['write_transactions']:.2f}) "
                     f"| {blob} | {cpu['node']:.2f} | {cpu['postgres']:.2f} | {cpu['ceph']:.2f} |")
    lines += ["", "Statements per operation (pg_stat_statements calls / operations):"]
    for name, c in costs.items():
        lines.append(f"* {name}:")
        for q, v in sorted(c["statements"].items(), key=lambda kv: -kv[1]):
            lines.append(f"    {v:5.2f}  {' '.join(q.split())[:150]}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------ main

def start_rgw() -> tuple[Rgw, str]:
    rgw = Rgw()
    import boto3
    s3 = boto3.client("s3", endpoint_url=f"http://{rgw.addr}:{rgw.port}", region_name="us-east-1",
                      aws_access_key_id=rgw.access, aws_secret_access_key=rgw.secret)
    bucket = f"benchblobs-{uuid.uuid4().hex[:6]}"
    s3.create_bucket(Bucket=bucket)
    return rgw, bucket


def retries_run(pg: Postgres, rgw: Rgw, bucket: str, conc: int, n: int, rounds: int,
                baseline_src: str | None) -> list[Comparison]:
    """Concurrent PUTs of neighbouring keys; with ``baseline_src`` (another version's src/ tree, e.g.
    ``git archive`` of the commit before the key locks) both versions interleaved."""
    out = []
    for count in (1, 2):
        with contextlib.ExitStack() as stack:
            arms = {}
            versions = {"this tree": None, **({"baseline": baseline_src} if baseline_src else {})}
            for label, src in versions.items():
                nodes = ClusterNodes(count, pg, rgw, bucket, f"retries{count}{label[:4]}", src=src)
                stack.callback(nodes.close)
                arms[label] = Small(nodes, "PUT", conc, n)
                arms[label + " "] = Parts(nodes, 10, 60)
            puts = {k: v for k, v in arms.items() if not k.endswith(" ")}
            parts = {k.strip(): v for k, v in arms.items() if k.endswith(" ")}
            plural = "s" if count > 1 else ""
            out.append(compare(puts, rounds, unit="ops/s", title=f"4 KiB PUT of neighbouring keys, {conc} threads, "
                               f"{count} node{plural}", note=f"{n} PUTs per figure, keys handed out in order"))
            out.append(compare(parts, rounds, unit="parts/s", title=f"UploadPart 64 KiB, 60 parts of one upload, "
                               f"10 threads, {count} node{plural}", note="parts sent round-robin to the nodes"))
    return out


def retries_report(c: Comparison) -> str:
    lines = [c.report(baseline="baseline" if "baseline" in c.arms else None), ""]
    for arm in c.arms:
        r = [s.extra["retries_per_op"] for s in c.samples if s.arm == arm]
        lines.append(f"  {arm}: serialization retries per operation {', '.join(f'{x:.3f}' for x in r)}")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cost-n", type=int, default=200, help="costs: small operations per figure")
    ap.add_argument("--n", type=int, default=400, help="4 KiB operations per figure")
    ap.add_argument("--conc", type=int, default=8)
    ap.add_argument("--big-mib", type=int, default=64)
    ap.add_argument("--beauty", type=int, default=24, help="AIFaceBeauty calls per figure (0: skip)")
    ap.add_argument("--only", nargs="+", default=["throughput", "costs", "retries"],
                    choices=("throughput", "costs", "retries"))
    ap.add_argument("--baseline-src", help="retries: also run this source tree's src/ (another version) "
                                           "interleaved, e.g. a git archive of an older commit")
    ap.add_argument("--json", help="save the comparisons and costs here")
    args = ap.parse_args()
    results: list[Comparison] = []
    reports: list[str] = []
    costs: dict[str, dict] = {}
    with contextlib.ExitStack() as stack:
        pg = Postgres()
        stack.callback(pg.close)
        rgw, blob_bucket = start_rgw()
        stack.callback(rgw.close)
        if "costs" in args.only:
            with contextlib.closing(ClusterNodes(1, pg, rgw, blob_bucket, "costs")) as nodes:
                costs = measure_costs(pg, nodes, rgw, args.cost_n)
            reports.append(costs_report(costs) + f"\n\n(load average {load1():.1f})")
            print(reports[-1], flush=True)
        if "retries" in args.only:
            for c in retries_run(pg, rgw, blob_bucket, args.conc, args.n, args.rounds, args.baseline_src):
                results.append(c)
                reports.append(retries_report(c))
                print(reports[-1], flush=True)
        if "throughput" in args.only:
            targets: dict[str, Any] = {}
            for name, make in (("embedded", Embedded),
                               ("1 node", lambda: ClusterNodes(1, pg, rgw, blob_bucket, "one")),
                               ("2 nodes", lambda: ClusterNodes(2, pg, rgw, blob_bucket, "two"))):
                targets[name] = make()
                stack.callback(targets[name].close)
            note = "client, nodes, PostgreSQL and RGW on the same 2 cores; round-robin over the nodes"
            for op in ("PUT", "GET"):
                arms = {name: Small(t, op, args.conc, args.n) for name, t in targets.items()}
                results.append(compare(arms, args.rounds, unit="ops/s", note=note,
                                       title=f"4 KiB {op}, {args.conc} threads"))
            if args.big_mib:
                arms = {name: BigGet(t, args.big_mib) for name, t in targets.items()}
                results.append(compare(arms, args.rounds, unit="MiB/s", note=note,
                                       title=f"{args.big_mib} MiB GET, 2 streams"))
            if args.beauty:
                image = beauty_image()
                arms = {name: Beauty(t, image, 4, args.beauty,
                                     os.path.join(t.server.root, "data") if name == "embedded" else None)
                        for name, t in targets.items()}
                for arm in arms.values():
                    run_threads(2, [0, 1, 2, 3], arm.one)      # warm connections and detectors
                results.append(compare(arms, args.rounds, unit="calls/s", note=note,
                                       title="AIFaceBeauty 1920x1080 one face, 4 threads"))
    for c in results:
        if "embedded" not in c.arms:
            continue            # printed above
        print(c.report(baseline="embedded"), end="\n")
        retries = [s.extra.get("retries_per_op") for s in c.samples if s.extra.get("retries_per_op") is not None]
        if c.title.startswith("4 KiB PUT") and retries:
            for arm in c.arms:
                r = [s.extra["retries_per_op"] for s in c.samples if s.arm == arm]
                print(f"  {arm}: serialization retries per PUT {', '.join(f'{x:.3f}' for x in r)}")
        print()
    if args.json:
        save(results, args.json)
        with open(os.path.splitext(args.json)[0] + ".costs.json", "w") as f:
            json.dump({"costs": costs, "reports": reports}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
