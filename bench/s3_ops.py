"""Object-server throughput, cosbeauty against moto (and Ceph RGW / a cluster node when available),
measured side by side with the A/B harness (``ab.py``).

Usage: python bench/s3_ops.py [--rounds 5] [--n 300] [--n-boto3 N] [--conc 8] [--client raw boto3]
                              [--targets cosbeauty moto] [--big-mib 0] [--huge-mib 0]
                              [--no-fsync] [--json bench/results/s3_ops.json]

For every client and operation (4 KiB PUT and GET, sequential and --conc-way), the targets run
alternately for --rounds rounds (each round: --n operations on each target, fresh keys), and the
per-round ratios cosbeauty / baseline are printed (min / median / max) with the load average of
every figure. Within a round the targets alternate every --chunk operations per thread (default
20; ``--chunk 0``: whole rounds A B, B A ...), so a burst of disk or CPU noise hits both.
cosbeauty runs durable (fsync on, its default) unless --no-fsync; moto keeps objects in memory.
Every figure carries the disk's ``fdatasync`` latency measured right after it (``fsync_ms``: a
durable PUT waits for one, moto for none). ``--big-mib`` adds a big-object PUT/GET MiB/s
comparison; ``--huge-mib`` streams one object that big through cosbeauty and reports its peak RSS.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import http.client
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ab import Comparison, compare, compare_chunked, save  # noqa: E402
from targets import Cosbeauty, Target, cos_sign, open_targets, rss_mib  # noqa: E402

BODY = os.urandom(4096)


def timed(fn, items, conc: int, pool: concurrent.futures.ThreadPoolExecutor | None) -> tuple[float, list[float]]:
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
        list(pool.map(one, items))
    return time.perf_counter() - t0, lat


def fsync_probe(directory: str | None = None, n: int = 20) -> float:
    """Median milliseconds of one ``fdatasync`` of a 16 KiB overwrite on the disk the servers use
    (a durable PUT waits for one): the figure that moves most between a quiet and a busy disk."""
    import tempfile
    fd, path = tempfile.mkstemp(prefix="fsync-probe-", dir=directory or os.environ.get("BENCH_TMP"))
    try:
        block = os.urandom(16384)
        times = []
        for _ in range(n):
            os.pwrite(fd, block, 0)
            t = time.perf_counter()
            os.fdatasync(fd)
            times.append(time.perf_counter() - t)
        return statistics.median(times) * 1000
    finally:
        os.close(fd)
        os.unlink(path)


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))] * 1000


class SmallOps:
    """One arm: ``n`` 4 KiB PUTs or GETs on one target with one client kind."""

    def __init__(self, target: Target, kind: str, op: str, conc: int, n: int, chunk: int = 0) -> None:
        self.client = target.client(kind, target.bucket_name(f"ab-{kind}-{op.lower()}{conc}"))
        self.client.create_bucket()
        self.op, self.conc, self.n, self.round = op, conc, n, 0
        self.step = max(1, chunk * conc) if chunk else n     # operations per part (compare_chunked)
        self.lat: list[float] = []
        self.pool = concurrent.futures.ThreadPoolExecutor(conc) if conc > 1 else None
        if op == "GET":    # a fixed set of objects to read
            self.keys = [f"get/{i:06d}" for i in range(n)]
            timed(lambda k: self.client.put(k, BODY), self.keys, conc, self.pool)

    def __call__(self) -> tuple[float, dict]:
        if self.op == "PUT":
            self.round += 1
            keys = [f"put/{self.round}/{i:06d}" for i in range(self.n)]
            elapsed, lat = timed(lambda k: self.client.put(k, BODY), keys, self.conc, self.pool)
        else:
            elapsed, lat = timed(self.client.get, self.keys, self.conc, self.pool)
        return self.n / elapsed, {"p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99), "fsync_ms": fsync_probe()}

    # -- ab.ChunkedArm: the round in parts of ``step`` operations ---------------------------------
    def parts(self) -> int:
        return -(-self.n // self.step)

    def part(self, round: int, index: int) -> tuple[float, float]:
        lo, hi = index * self.step, min(self.n, (index + 1) * self.step)
        if self.op == "PUT":
            tag = "w" if round < 0 else round
            keys = [f"put/c{tag}/{i:06d}" for i in range(lo, hi)]
            elapsed, lat = timed(lambda k: self.client.put(k, BODY), keys, self.conc, self.pool)
        else:
            elapsed, lat = timed(self.client.get, self.keys[lo:hi], self.conc, self.pool)
        self.lat += lat
        return hi - lo, elapsed

    def round_extra(self) -> dict:
        lat, self.lat = self.lat, []
        return {"p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99), "fsync_ms": fsync_probe()} if lat else {}

    def close(self) -> None:
        if self.pool:
            self.pool.shutdown()


class BigOps:
    def __init__(self, target: Target, kind: str, op: str, mib: int) -> None:
        self.client = target.client(kind, target.bucket_name(f"ab-{kind}-big{op.lower()}"))
        self.client.create_bucket()
        self.op, self.mib, self.body = op, mib, os.urandom(mib << 20)
        if op == "GET":
            self.client.put("big", self.body)

    def __call__(self) -> float:
        t = time.perf_counter()
        if self.op == "PUT":
            self.client.put("big", self.body)
        else:
            assert self.client.get("big", chunk=1 << 20) == len(self.body)
        return self.mib / (time.perf_counter() - t)

    def close(self) -> None:
        pass


def run_huge(target: Cosbeauty, mib: int) -> str:
    """Stream a ``mib`` MiB object up and down cosbeauty; MiB/s and the server's peak RSS."""
    client = target.client("raw", target.bucket_name("huge"))
    client.create_bucket()
    before = rss_mib(target.pid, "VmHWM")
    chunk = os.urandom(1 << 20)
    path = "/huge.bin"
    c = http.client.HTTPConnection("127.0.0.1", target.port)
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
    return (f"cosbeauty, raw client, {mib} MiB streamed: PUT {mib / put_s:,.0f} MiB/s, GET {mib / get_s:,.0f} MiB/s, "
            f"server peak RSS {rss_mib(target.pid, 'VmHWM'):.0f} MiB (before: {before:.0f})")


TARGETS = {("PUT", "raw", "1"): 3.0, ("PUT", "raw", "8"): 5.0}   # cosbeauty / moto, in every round


def targets_verdict(results: list[Comparison]) -> str:
    """The issue's object-server targets against the per-round ratios."""
    lines = ["targets (cosbeauty / moto in every round):"]
    for c in results:
        parts = c.title.replace(",", "").split()       # "4 KiB PUT raw client concurrency 1"
        key = (parts[2], parts[3], parts[-1]) if len(parts) >= 7 else None
        if key in TARGETS:
            r = c.ratios("cosbeauty", "moto")
            ok = min(r) >= TARGETS[key]
            lines.append(f"  {c.title}: >= {TARGETS[key]:.0f}x -> min {min(r):.2f}x, median "
                         f"{statistics.median(r):.2f}x: {'met' if ok else 'NOT met'}")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--n", type=int, default=300, help="operations per arm per round (raw client)")
    ap.add_argument("--n-boto3", type=int, default=None, help="operations per arm per round with boto3 "
                    "(default: --n; boto3 costs several times the raw client per call)")
    ap.add_argument("--conc", type=int, default=8)
    ap.add_argument("--chunk", type=int, default=20, help="small ops: the targets alternate every CHUNK "
                    "operations per thread within each round (0: whole rounds)")
    ap.add_argument("--client", nargs="+", default=["raw", "boto3"], choices=("raw", "boto3"))
    ap.add_argument("--targets", nargs="+", default=["cosbeauty", "moto"],
                    help="first is compared against each of the others (unavailable ones are skipped); "
                         "also: rgw (Ceph RGW one-node), cluster")
    ap.add_argument("--ops", nargs="+", default=["PUT", "GET"], choices=("PUT", "GET"))
    ap.add_argument("--big-mib", type=int, default=0)
    ap.add_argument("--huge-mib", type=int, default=0)
    ap.add_argument("--no-fsync", action="store_true", help="run cosbeauty with --no-fsync")
    ap.add_argument("--json", help="save the comparisons here (for bench/perf_table.py)")
    args = ap.parse_args()
    targets = open_targets(args.targets, ("--no-fsync",) if args.no_fsync else ())
    results: list[Comparison] = []
    extra_lines: list[str] = []
    try:
        names = [t.name for t in targets]
        fsync = "off" if args.no_fsync else "on"
        for kind in args.client:
            for op in args.ops:
                for conc in (1, args.conc):
                    n = args.n_boto3 if kind == "boto3" and args.n_boto3 else args.n
                    arms = {t.name: SmallOps(t, kind, op, conc, n, args.chunk) for t in targets}
                    title = f"4 KiB {op}, {kind} client, concurrency {conc}"
                    note = f"{n} ops per figure, cosbeauty fsync {fsync}"
                    if args.chunk:
                        results.append(compare_chunked(arms, args.rounds, chunk=args.chunk * conc, unit="ops/s",
                                                       title=title, note=note))
                    else:
                        results.append(compare(arms, args.rounds, unit="ops/s", title=title, note=note))
                    for arm in arms.values():
                        arm.close()
                if args.big_mib:
                    arms = {t.name: BigOps(t, kind, op, args.big_mib) for t in targets}
                    results.append(compare(arms, args.rounds, unit="MiB/s",
                                           title=f"{args.big_mib} MiB {op}, {kind} client"))
        if args.huge_mib and targets and isinstance(targets[0], Cosbeauty):
            extra_lines.append(run_huge(targets[0], args.huge_mib))
    finally:
        for t in targets:
            t.close()
    for c in results:
        print(c.report(baseline=names[1] if len(names) > 1 else None), end="\n\n")
        for other in names[2:]:
            r = c.ratios(names[0], other)
            print(f"{names[0]} / {other}: {min(r):.2f}x / {statistics.median(r):.2f}x / {max(r):.2f}x\n")
    if names[:2] == ["cosbeauty", "moto"]:
        print(targets_verdict(results))
    for line in extra_lines:
        print(line)
    if args.json:
        save(results, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
