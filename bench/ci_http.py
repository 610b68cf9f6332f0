"""AIFaceBeauty over HTTP (method 1, ``GET /<key>?ci-process=AIFaceBeauty``) versus the engine
called in-process, on a 1920x1080 JPEG (the astronaut upscaled into a grey canvas), interleaved
with the A/B harness (``ab.py``).

Usage: python bench/ci_http.py [--rounds 5] [--requests 24] [--conc 1 4]

For each concurrency c, every round runs --requests calls through each arm from c threads:
``engine`` is ``pipeline.beautify`` in this process, ``http`` is a real server (a free loopback
port, default workers/queue) answering pre-signed keep-alive GETs. The figure is requests/s;
the overhead of a round is engine_rps / http_rps - 1, and the median over the rounds is what
the README states (target <= 10 % at c=1 and c=4).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import http.client
import os
import statistics
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _server import APPID, REGION, SECRET_ID, SECRET_KEY, BenchServer  # noqa: E402
from ab import compare, save  # noqa: E402
from targets import cpu_seconds  # noqa: E402

BUCKET = f"bench-{APPID}"
KEY = "hd/astronaut.jpg"


def test_image() -> bytes:
    from skimage import data as skdata
    canvas = np.full((1080, 1920, 3), 120, np.uint8)
    face = cv2.resize(skdata.astronaut(), (1080, 1080), interpolation=cv2.INTER_CUBIC)
    canvas[:, 420:1500] = face
    return cv2.imencode(".jpg", cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def drive(pool: concurrent.futures.ThreadPoolExecutor, conc: int, n: int, one) -> tuple[float, list[float]]:
    """Run ``one()`` n times from ``conc`` threads of ``pool``; (requests/s, latencies in ms)."""
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(n))

    def worker() -> None:
        state: dict = {}
        while True:
            with lock:
                if next(counter, None) is None:
                    return
            t = time.perf_counter()
            one(state)
            with lock:
                latencies.append((time.perf_counter() - t) * 1000)
    start = time.perf_counter()
    for f in [pool.submit(worker) for _ in range(conc)]:
        f.result()
    return n / (time.perf_counter() - start), latencies


def enable_ci(data_dir: str, bucket: str) -> None:
    for step in ("bind", "enable-ai"):
        subprocess.run([sys.executable, "-m", "cosbeauty", "ci", step, bucket, "--data-dir", data_dir],
                       check=True, stdout=subprocess.DEVNULL)


def setup_server(server: BenchServer, image: bytes) -> tuple[str, str]:
    from qcloud_cos import CosConfig, CosS3Client
    client = CosS3Client(CosConfig(Region=REGION, SecretId=SECRET_ID, SecretKey=SECRET_KEY,
                                   Endpoint=f"localhost:{server.port}", Scheme="http"))
    ip_client = CosS3Client(CosConfig(Region=REGION, SecretId=SECRET_ID, SecretKey=SECRET_KEY,
                                      IP="127.0.0.1", Port=server.port, Scheme="http"))
    ip_client.create_bucket(Bucket=BUCKET)
    ip_client.put_object(Bucket=BUCKET, Key=KEY, Body=image)
    enable_ci(os.path.join(server.root, "data"), BUCKET)
    url = urlsplit(client.get_presigned_url(Bucket=BUCKET, Key=KEY, Method="GET", Expired=3600,
                                            Params={"ci-process": "AIFaceBeauty"}))
    return url.netloc, f"{url.path}?{url.query}"


def http_one(port: int, host: str, target: str):
    def one(state: dict) -> None:
        conn = state.get("conn") or state.setdefault("conn", http.client.HTTPConnection("127.0.0.1", port, timeout=120))
        conn.request("GET", target, headers={"Host": host})
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200 or body[:2] != b"\xff\xd8":
            raise RuntimeError(f"HTTP {resp.status}: {body[:300]!r}")
    return one


def engine_one(image: bytes):
    from cosbeauty.imaging.codec import Limits
    from cosbeauty.imaging.pipeline import beautify

    def one(state: dict) -> None:
        beautify(image, 0.5, limits=Limits())
    return one


def arm(pool, conc: int, n: int, one, pid: int | None = None):
    """One figure: requests/s; extras: latency percentiles and the CPU ms per request spent by
    the process doing the work (this one for the engine, the server's for HTTP): CPU time hardly
    moves with other people's load, so its ratio is a steadier view of the overhead."""
    def run() -> tuple[float, dict]:
        cpu0 = cpu_seconds(pid)
        rps, lat = drive(pool, conc, n, one)
        cpu_ms = (cpu_seconds(pid) - cpu0) / n * 1000
        return rps, {"p50_ms": statistics.median(lat), "p99_ms": percentile(lat, 0.99), "cpu_ms": cpu_ms}
    return run


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--requests", type=int, default=24, help="requests per arm per round")
    ap.add_argument("--conc", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--server-args", nargs="*", default=[], help="extra serve flags, e.g. --no-fsync")
    ap.add_argument("--also-no-fsync", action="store_true",
                    help="a third arm: a second server with --no-fsync (what the durable metering row costs)")
    ap.add_argument("--json")
    args = ap.parse_args()
    image = test_image()
    engine = engine_one(image)
    threads = max(args.conc)
    pool = concurrent.futures.ThreadPoolExecutor(threads)
    barrier = threading.Barrier(threads)
    for f in [pool.submit(lambda: (engine({}), barrier.wait())) for _ in range(threads)]:
        f.result()   # every thread has built its detector, like the server's warm-up
    results = []
    with contextlib.ExitStack() as stack:
        servers = {"http": stack.enter_context(BenchServer(*args.server_args))}
        if args.also_no_fsync:
            servers["http --no-fsync"] = stack.enter_context(BenchServer(*args.server_args, "--no-fsync"))
        fetchers = {}
        for name, server in servers.items():
            host, target = setup_server(server, image)
            fetchers[name] = (http_one(server.port, host, target), server.proc.pid)
            drive(pool, 2, 4, fetchers[name][0])   # warm connections and the server's detectors
        for conc in args.conc:
            n = max(args.requests, 2 * conc)
            arms = {"engine": arm(pool, conc, n, engine)}
            arms.update({name: arm(pool, conc, n, fetch, pid) for name, (fetch, pid) in fetchers.items()})
            results.append(compare(arms, args.rounds, unit="req/s",
                                   title=f"AIFaceBeauty 1920x1080, concurrency {conc}: HTTP vs in-process",
                                   note=f"{n} requests per figure, {len(image)} byte JPEG, server default "
                                        f"workers"))
    pool.shutdown()
    for c in results:
        print(c.report(baseline="engine"))
        for other in c.arms[2:]:
            o = c.overheads(other, "engine")
            print(f"\n{other} overhead per round: {', '.join(f'{100 * x:+.1f}%' for x in o)}; "
                  f"median {100 * statistics.median(o):+.1f}%")
        over = c.overheads("http", "engine")
        med = statistics.median(over)
        print(f"\nHTTP overhead per round: {', '.join(f'{100 * o:+.1f}%' for o in over)}; "
              f"median {100 * med:+.1f}% (target <= 10 %: {'met' if med <= 0.10 else 'NOT met'})")
        cpu = {a: statistics.median(s.extra["cpu_ms"] for s in c.samples if s.arm == a) for a in c.arms}
        print(f"CPU per request (median): engine {cpu['engine']:.1f} ms in-process, server {cpu['http']:.1f} ms "
              f"over HTTP ({100 * (cpu['http'] / cpu['engine'] - 1):+.1f}%)\n")
    if args.json:
        save(results, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
