#!/usr/bin/env python3
"""A private PostgreSQL server on loopback, for tests and benches.

    python3 scripts/services/postgres.py start DIR [--port N]   # prints a JSON line (dsn, port, ...), exits 0 when ready
    python3 scripts/services/postgres.py stop DIR

Uses Debian's server binaries (/usr/lib/postgresql/<major>/bin; scripts/services/install.sh installs
them). The server refuses to run as root, so as root it runs as the ``postgres`` system user (created
by the package) and DIR is handed to that user. Listens on 127.0.0.1 only, trust authentication for
the one database user ``cosbeauty`` (loopback, throw-away cluster). Standard library only.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import pwd
import socket
import subprocess
import sys
import time

USER = "cosbeauty"
DATABASE = "cosbeauty"


def bindir() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found (run scripts/services/install.sh postgres)")
    return os.path.dirname(found[-1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    def __init__(self, d: str) -> None:
        self.d = os.path.abspath(d)
        self.data = os.path.join(self.d, "data")
        self.info_path = os.path.join(self.d, "postgres.json")

    def _as_owner(self, *args: str, timeout: float = 60) -> str:
        cmd = list(args)
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd="/")
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc.stdout

    def start(self, port: int | None = None, fsync: bool = True, timeout: float = 60) -> dict:
        t0 = time.monotonic()
        b = bindir()
        if os.path.exists(self.info_path):
            with open(self.info_path) as f:
                info = json.load(f)
        else:
            os.makedirs(self.d, exist_ok=True)
            if os.geteuid() == 0:
                pw = pwd.getpwnam("postgres")
                os.chown(self.d, pw.pw_uid, pw.pw_gid)
                parent = os.path.dirname(self.d)     # runuser must be able to reach DIR
                os.chmod(parent, os.stat(parent).st_mode | 0o011)
            self._as_owner(f"{b}/initdb", "-D", self.data, "-U", USER, "--auth=trust", "-E", "UTF8",
                           "--locale=C.UTF-8", "--no-instructions")
            port = port or _free_port()
            info = {"port": port, "host": "127.0.0.1", "user": USER, "database": DATABASE, "dir": self.d,
                    "dsn": f"postgresql://{USER}@127.0.0.1:{port}/{DATABASE}"}
        opts = (f"-c listen_addresses=127.0.0.1 -c port={info['port']} -c unix_socket_directories={self.d} "
                f"-c fsync={'on' if fsync else 'off'} -c max_connections=200 -c shared_buffers=64MB "
                "-c shared_preload_libraries=pg_stat_statements")   # per-statement counts (bench/cluster.py)
        self._as_owner(f"{b}/pg_ctl", "-D", self.data, "-l", os.path.join(self.d, "server.log"), "-o", opts,
                       "-w", "-t", str(int(timeout)), "start", timeout=timeout + 5)
        if not os.path.exists(self.info_path):
            self._as_owner(f"{b}/createdb", "-h", "127.0.0.1", "-p", str(info["port"]), "-U", USER, DATABASE)
            with open(self.info_path, "w") as f:
                json.dump(info, f)
        return {**info, "start_seconds": round(time.monotonic() - t0, 2)}

    def stop(self, mode: str = "fast") -> None:
        if not os.path.exists(os.path.join(self.data, "postmaster.pid")):
            return
        self._as_owner(f"{bindir()}/pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("action", choices=("start", "stop"))
    p.add_argument("dir")
    p.add_argument("--port", type=int)
    p.add_argument("--no-fsync", dest="fsync", action="store_false")
    args = p.parse_args(argv)
    pg = Postgres(args.dir)
    if args.action == "start":
        try:
            info = pg.start(args.port, args.fsync)
        except BaseException:
            pg.stop("immediate")
            raise
        print(json.dumps(info), flush=True)
    else:
        pg.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
