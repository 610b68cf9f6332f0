"""Start a throwaway cosbeauty server for a benchmark (free loopback port, temp data dir)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

SECRET_ID = "AKIDbenchbenchbenchbenchbench000001"
SECRET_KEY = "bench-secret-key"
APPID = "1250000000"
REGION = "ap-guangzhou"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BenchServer:
    def __init__(self, *args: str, src: str | None = None) -> None:
        """``src``: run the cosbeauty package from this source tree (e.g. a ``git archive`` of an
        older commit's src/) instead of the installed one: A/B of two versions."""
        self.root = tempfile.mkdtemp(prefix="cosbeauty-bench-", dir=os.environ.get("BENCH_TMP"))
        self.port = free_port()
        env = {**os.environ, "COSBEAUTY_SECRET_ID": SECRET_ID, "COSBEAUTY_SECRET_KEY": SECRET_KEY}
        if src:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.path.abspath(src), env.get("PYTHONPATH")]))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cosbeauty", "serve", "--data-dir", os.path.join(self.root, "data"),
             "--port", str(self.port), "--appid", APPID, "--region", REGION, *args],
            env=env, stdout=self._log(), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.1).close()
                return
            except OSError:
                time.sleep(0.01)
        raise RuntimeError(f"server did not start:\n{self.log()[-2000:]}")

    def _log(self):
        self.log_path = os.path.join(self.root, "server.log")
        return open(self.log_path, "wb")

    def log(self) -> str:
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_warm(self, timeout: float = 120) -> float:
        """Wait for the CI workers' warm-up log line; seconds waited."""
        t = time.monotonic()
        while "warm in" not in self.log():
            if time.monotonic() - t > timeout:
                raise RuntimeError("the CI workers did not warm up")
            time.sleep(0.05)
        return time.monotonic() - t

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "BenchServer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
