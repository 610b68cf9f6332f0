"""What the connection limits cost: the same app under uvicorn's stock httptools protocol (A) and
under cosbeauty's LimitedHttpToolsProtocol (B), alternating rounds on one machine.

    .venv/bin/python bench/http_limits_ab.py [--rounds 5] [--n 400]

Per round and arm: ``n`` sequential keep-alive 4 KiB GETs, ``n`` 4 KiB PUTs and 8 PUTs of 4 MiB
(raw http.client, COS v5 signed). Prints requests/s (MiB/s for the big PUTs) and the server's CPU
time per request (per MiB), per arm, with the per-round B/A ratios (min / median / max). On a
shared machine trust the CPU figures more than the rates.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _server import APPID, SECRET_ID, SECRET_KEY, free_port  # noqa: E402
from targets import cos_sign  # noqa: E402

LAUNCH = """
import sys, uvicorn
from cosbeauty.config import ServerConfig
from cosbeauty.server import build_app
from cosbeauty import http_server
config = ServerConfig(data_dir=sys.argv[1], port=int(sys.argv[2]), fsync=False)
app = build_app(config)
if sys.argv[3] == "stock":
    uvicorn.run(app, host="127.0.0.1", port=config.port, log_level="warning", access_log=False,
                server_header=False, date_header=False, http="httptools", timeout_keep_alive=30)
else:
    http_server.run(app, config)
"""


def start(kind: str, root: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "COSBEAUTY_SECRET_ID": SECRET_ID, "COSBEAUTY_SECRET_KEY": SECRET_KEY}
    proc = subprocess.Popen([sys.executable, "-c", LAUNCH, os.path.join(root, kind), str(port), kind], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/")
            return proc, port
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{kind} server did not start")


class Client:
    def __init__(self, port: int) -> None:
        self.host = f"ab-{APPID}.cos.ap-guangzhou.myqcloud.com"
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method: str, path: str, body: bytes = b"") -> bytes:
        self.conn.request(method, path, body=body, headers={"Host": self.host,
                                                            "Authorization": cos_sign(method, path, self.host)})
        resp = self.conn.getresponse()
        data = resp.read()
        if resp.status >= 300 and not (method == "PUT" and path == "/" and resp.status == 409):
            raise RuntimeError(f"{method} {path}: {resp.status} {data[:200]!r}")
        return data


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the server process (robust to a loaded machine, unlike wall time)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_round(pid: int, port: int, n: int, big: bytes) -> dict[str, float]:
    c = Client(port)
    c.call("PUT", "/")
    small = os.urandom(4096)
    c.call("PUT", "/small", small)
    out = {}
    t, cpu = time.perf_counter(), cpu_seconds(pid)
    for _ in range(n):
        c.call("GET", "/small")
    out["GET 4KiB req/s"] = n / (time.perf_counter() - t)
    out["GET 4KiB CPU us/req"] = (cpu_seconds(pid) - cpu) / n * 1e6
    t, cpu = time.perf_counter(), cpu_seconds(pid)
    for i in range(n):
        c.call("PUT", f"/p{i}", small)
    out["PUT 4KiB req/s"] = n / (time.perf_counter() - t)
    out["PUT 4KiB CPU us/req"] = (cpu_seconds(pid) - cpu) / n * 1e6
    t, cpu = time.perf_counter(), cpu_seconds(pid)
    for i in range(8):
        c.call("PUT", f"/big{i}", big)
    out["PUT 4MiB MiB/s"] = 8 * len(big) / 2**20 / (time.perf_counter() - t)
    out["PUT 4MiB CPU ms/MiB"] = (cpu_seconds(pid) - cpu) / (8 * len(big) / 2**20) * 1e3
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--n", type=int, default=400)
    args = ap.parse_args()
    root = tempfile.mkdtemp(prefix="cosbeauty-limits-ab-")
    servers = {kind: start(kind, root) for kind in ("stock", "limited")}
    big = os.urandom(4 * 2**20)
    results: dict[str, dict[str, list[float]]] = {"stock": {}, "limited": {}}
    try:
        for r in range(args.rounds):
            for kind in (("stock", "limited") if r % 2 == 0 else ("limited", "stock")):
                proc, port = servers[kind]
                for name, value in one_round(proc.pid, port, args.n, big).items():
                    results[kind].setdefault(name, []).append(value)
        print(f"load average {os.getloadavg()[0]:.2f}; {args.rounds} rounds, n={args.n}")
        for name in results["stock"]:
            a, b = results["stock"][name], results["limited"][name]
            ratios = [y / x for x, y in zip(a, b)]
            print(f"{name:20s} stock {statistics.median(a):8.1f}  limited {statistics.median(b):8.1f}  "
                  f"limited/stock min {min(ratios):.3f} median {statistics.median(ratios):.3f} max {max(ratios):.3f}")
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
