"""Cold start: seconds from process launch to the first answered signed request, cosbeauty
(``cosbeauty serve`` on a fresh data dir) against moto's server, interleaved (``ab.py``).

Usage: python bench/cold_start.py [--rounds 5] [--beauty]

The client polls ``GET /`` (list buckets: COS v5 signed for cosbeauty, SigV4 for moto) every 5 ms
from the moment the process is spawned until one answers 200. ``--beauty`` also times the first
AIFaceBeauty call sent right after that (it waits for the models' warm-up instead of failing).
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _server import APPID, REGION, SECRET_ID, SECRET_KEY, free_port  # noqa: E402
from ab import compare, save  # noqa: E402
from targets import cos_sign, remove, sigv4_headers, temp_dir  # noqa: E402

SERVICE_HOST = f"cos.{REGION}.myqcloud.com"


def first_answer(port: int, headers, deadline: float = 30.0) -> float:
    """Poll until a signed GET / answers 200; seconds since ``started`` is measured by the caller."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/", headers=headers())
            r = c.getresponse()
            r.read()
            c.close()
            if r.status == 200:
                return time.perf_counter()
            raise RuntimeError(f"GET / answered {r.status}")
        except (ConnectionError, OSError):
            time.sleep(0.005)
    raise RuntimeError("no answer")


def cosbeauty_once(beauty: bool = False, src: str | None = None) -> tuple[float, dict]:
    root = temp_dir("cosbeauty-cold-")
    port = free_port()
    env = {**os.environ, "COSBEAUTY_SECRET_ID": SECRET_ID, "COSBEAUTY_SECRET_KEY": SECRET_KEY}
    if src:   # another version of the package, for before/after
        env["PYTHONPATH"] = os.path.abspath(src)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "cosbeauty", "serve", "--data-dir", os.path.join(root, "d"),
                             "--port", str(port), "--appid", APPID, "--region", REGION],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        t1 = first_answer(port, lambda: {"Host": SERVICE_HOST,
                                         "Authorization": cos_sign("GET", "/", SERVICE_HOST)})
        extra = {}
        if beauty:
            extra["first_beauty_s"] = first_beauty(port, root) - t0
        return t1 - t0, extra
    finally:
        proc.terminate()
        proc.wait(10)
        remove(root)


def first_beauty(port: int, root: str) -> float:
    """Create a bucket, bind CI, upload a photo and fetch it beautified; the time it is answered."""
    from ci_http import enable_ci, test_image
    from targets import RawClient
    bucket = f"cold-{APPID}"
    client = RawClient(port, bucket)
    client.create_bucket()
    enable_ci(os.path.join(root, "d"), bucket)
    client.put("p.jpg", test_image())
    path = "/p.jpg"
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("GET", path + "?ci-process=AIFaceBeauty",
              headers={"Host": client.host, "Authorization": cos_sign("GET", path, client.host,
                                                   params={"ci-process": "AIFaceBeauty"})})
    r = c.getresponse()
    body = r.read()
    if r.status != 200:
        raise RuntimeError(f"AIFaceBeauty answered {r.status}: {body[:200]!r}")
    return time.perf_counter()


def moto_once() -> float:
    port = free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    host = f"127.0.0.1:{port}"
    try:
        return first_answer(port, lambda: sigv4_headers("GET", "/", host, SECRET_ID, SECRET_KEY, "us-east-1")) - t0
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--beauty", action="store_true", help="also time the first AIFaceBeauty call")
    ap.add_argument("--no-moto", action="store_true")
    ap.add_argument("--versions", nargs="*", default=[], metavar="SRC",
                    help="also arms running the package from these source trees (before/after)")
    ap.add_argument("--json")
    args = ap.parse_args()
    arms = {"cosbeauty": lambda: cosbeauty_once(args.beauty)}
    for src in args.versions:
        arms[f"cosbeauty@{src}"] = lambda src=src: cosbeauty_once(args.beauty, src)
    if not args.no_moto:
        arms["moto"] = moto_once
    cmp = compare(arms, args.rounds, unit="s", higher_is_better=False,
                  title="Cold start: launch to first answered signed request",
                  note="fresh data dir each launch")
    print(cmp.report(baseline=None if args.no_moto else "moto"))
    med = statistics.median(cmp.values("cosbeauty"))
    print(f"\ntarget: a signed request answered <= 1 s after launch: median {med:.2f} s, "
          f"max {max(cmp.values('cosbeauty')):.2f} s: {'met' if med <= 1.0 else 'NOT met'} (median)")
    if args.beauty:
        firsts = [s.extra["first_beauty_s"] for s in cmp.samples if s.arm == "cosbeauty"]
        print(f"\nfirst AIFaceBeauty answered (launch -> 200): {', '.join(f'{x:.2f}' for x in firsts)} s")
    if args.json:
        save([cmp], args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
