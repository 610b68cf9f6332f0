#!/usr/bin/env python3
"""A private one-node Ceph cluster with a RADOS Gateway (S3) on loopback, for tests and benches.

    python3 scripts/services/ceph_rgw.py start DIR [--rgw-port N]   # prints a JSON line, exits 0 when S3 answers
    python3 scripts/services/ceph_rgw.py stop DIR                   # stops every daemon; DIR is left for you
    python3 scripts/services/ceph_rgw.py kill DIR                   # SIGKILL every daemon (crash tests); start restarts

Everything lives in DIR (config, keyrings, mon store, a sparse 10 GiB BlueStore file, logs, admin
sockets); nothing touches /etc/ceph or /var/lib/ceph. Daemons: mon.a, mgr.x, osd.0, client.rgw.x.
Every port is on 127.0.0.1 and below the ephemeral range (a client socket in TIME_WAIT there can
block the mon's bind). Needs the Debian packages ceph-mon ceph-mgr ceph-osd radosgw ceph-common
(scripts/services/install.sh). Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid

ACCESS_KEY = "COSBEAUTYCEPHTESTKEY0"
SECRET_KEY = "cosbeauty-ceph-test-secret-key-000000000"
DAEMONS = ("client.rgw.x", "osd.0", "mgr.x", "mon.a")   # stop order
RGW_POOLS = (".rgw.root", "default.rgw.control", "default.rgw.meta", "default.rgw.log",
             "default.rgw.buckets.index", "default.rgw.buckets.data", "default.rgw.buckets.non-ec")


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_range(count: int) -> int:
    """A base port such that base..base+count-1 are free (all below 32768)."""
    for _ in range(200):
        base = random.randrange(20000, 32000 - count)
        if all(_port_free(p) for p in range(base, base + count)):
            return base
    raise RuntimeError("no free port range below 32768")


def _conf(d: str, fsid: str, mon_port: int, lo: int, hi: int, rgw_port: int) -> str:
    return f"""[global]
fsid = {fsid}
mon_host = [v2:127.0.0.1:{mon_port}]
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_msgr1 = false
ms_bind_port_min = {lo}
ms_bind_port_max = {hi}
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
keyring = {d}/keyring
run_dir = {d}/run
admin_socket = {d}/run/$name.asok
pid_file = {d}/run/$name.pid
log_file = {d}/log/$name.log
crash_dir = {d}/crash
exec_dir = {d}/run
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
osd_crush_chooseleaf_type = 0
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_max_pg_per_osd = 1000
mon_data_avail_warn = 1
mon_data_avail_crit = 0
paxos_propose_interval = 0.1
mon_osd_min_up_ratio = 0
mon_osd_min_in_ratio = 0
debug_ms = 0

[mon.a]
mon_data = {d}/mon

[mgr.x]
mgr_data = {d}/mgr
mgr_initial_modules =

[osd.0]
osd_data = {d}/osd0
keyring = {d}/osd0/keyring
osd_objectstore = bluestore
bluestore_block_create = true
bluestore_block_size = 10737418240
bluestore_fsck_on_mount = false
osd_memory_target = 939524096
osd_op_num_shards = 1
osd_op_num_threads_per_shard = 2

[client.rgw.x]
keyring = {d}/rgw/keyring
rgw_data = {d}/rgw
rgw_frontends = beast endpoint=127.0.0.1:{rgw_port} tcp_nodelay=1
rgw_thread_pool_size = 64
rgw_enable_usage_log = false
rgw_enable_ops_log = false
"""


class Cluster:
    def __init__(self, d: str) -> None:
        self.d = os.path.abspath(d)
        self.conf = os.path.join(self.d, "ceph.conf")

    def _run(self, *args: str, input: str | None = None, timeout: float = 60) -> str:
        env = {**os.environ, "CEPH_CONF": self.conf}
        proc = subprocess.run(list(args), input=input, capture_output=True, text=True, timeout=timeout, env=env)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc.stdout

    def ceph(self, *args: str, timeout: float = 60) -> str:
        return self._run("ceph", "-c", self.conf, "--connect-timeout", "30", *args, timeout=timeout)

    @property
    def info_path(self) -> str:
        return os.path.join(self.d, "rgw.json")

    def info(self) -> dict:
        with open(self.info_path) as f:
            return json.load(f)

    # -- start -----------------------------------------------------------------------------
    def start(self, rgw_port: int | None = None, timeout: float = 120) -> dict:
        t0 = time.monotonic()
        if os.path.exists(self.info_path):       # restart with data kept
            info = self.info()
            self._launch_all()
            self._wait_s3(info["endpoint"], t0 + timeout)
            info["start_seconds"] = round(time.monotonic() - t0, 2)
            return info
        for sub in ("mon", "mgr", "osd0", "rgw", "run", "log", "crash"):
            os.makedirs(os.path.join(self.d, sub), exist_ok=True)
        base = _free_range(12)
        mon_port, lo, hi = base, base + 1, base + 10
        if rgw_port is None:
            rgw_port = base + 11
        fsid = str(uuid.uuid4())
        with open(self.conf, "w") as f:
            f.write(_conf(self.d, fsid, mon_port, lo, hi, rgw_port))
        kr = os.path.join(self.d, "keyring")
        self._run("ceph-authtool", "--create-keyring", kr, "--gen-key", "-n", "mon.", "--cap", "mon", "allow *")
        self._run("ceph-authtool", kr, "--gen-key", "-n", "client.admin", "--cap", "mon", "allow *",
                  "--cap", "osd", "allow *", "--cap", "mds", "allow *", "--cap", "mgr", "allow *")
        osd_key = self._run("ceph-authtool", "--gen-print-key").strip()
        mgr_key = self._run("ceph-authtool", "--gen-print-key").strip()
        rgw_key = self._run("ceph-authtool", "--gen-print-key").strip()
        # the mon's keyring (mkfs) also carries the daemons' keys, so no auth round trips are needed
        self._run("ceph-authtool", kr, "--add-key", mgr_key, "-n", "mgr.x", "--cap", "mon", "allow profile mgr",
                  "--cap", "osd", "allow *", "--cap", "mds", "allow *")
        self._run("ceph-authtool", kr, "--add-key", rgw_key, "-n", "client.rgw.x", "--cap", "mon", "allow rw",
                  "--cap", "osd", "allow rwx", "--cap", "mgr", "allow rw")
        for path, name, key in ((f"{self.d}/osd0/keyring", "osd.0", osd_key),
                                (f"{self.d}/mgr/keyring", "mgr.x", mgr_key),
                                (f"{self.d}/rgw/keyring", "client.rgw.x", rgw_key)):
            with open(path, "w") as f:
                f.write(f"[{name}]\n\tkey = {key}\n")
        monmap = os.path.join(self.d, "monmap")
        self._run("monmaptool", "--create", "--clobber", "--fsid", fsid, "--addv", "a",
                  f"[v2:127.0.0.1:{mon_port}]", monmap)
        self._run("ceph-mon", "-c", self.conf, "--mkfs", "-i", "a", "--monmap", monmap, "--keyring", kr)
        self._run("ceph-mon", "-c", self.conf, "-i", "a")
        self._run("ceph-mgr", "-c", self.conf, "-i", "x")
        osd_uuid = str(uuid.uuid4())
        secrets = os.path.join(self.d, "osd0", "new.json")
        with open(secrets, "w") as f:
            json.dump({"cephx_secret": osd_key}, f)
        self.ceph("osd", "new", osd_uuid, "0", "-i", secrets)
        os.unlink(secrets)
        self._run("ceph-osd", "-c", self.conf, "-i", "0", "--mkfs", "--osd-uuid", osd_uuid, timeout=120)
        self._run("ceph-osd", "-c", self.conf, "-i", "0")
        # pools up front (one ceph process for all of them): otherwise RGW creates them one by one
        cmds = []
        for pool in RGW_POOLS:
            cmds += [f"osd pool create {pool} 8 8", f"osd pool application enable {pool} rgw"]
        self._run("ceph", "-c", self.conf, input="\n".join(cmds) + "\n", timeout=120)
        self._run("radosgw", "-c", self.conf, "-n", "client.rgw.x")
        self._run("radosgw-admin", "-c", self.conf, "user", "create", "--uid=cosbeauty", "--display-name=cosbeauty",
                  f"--access-key={ACCESS_KEY}", f"--secret-key={SECRET_KEY}", timeout=120)
        info = {"endpoint": f"http://127.0.0.1:{rgw_port}", "access_key": ACCESS_KEY, "secret_key": SECRET_KEY,
                "region": "us-east-1", "dir": self.d, "conf": self.conf}
        self._wait_s3(info["endpoint"], t0 + timeout)
        with open(self.info_path, "w") as f:
            json.dump(info, f)
        return {**info, "start_seconds": round(time.monotonic() - t0, 2)}

    def _launch_all(self) -> None:
        self._run("ceph-mon", "-c", self.conf, "-i", "a")
        self._run("ceph-mgr", "-c", self.conf, "-i", "x")
        self._run("ceph-osd", "-c", self.conf, "-i", "0")
        self._run("radosgw", "-c", self.conf, "-n", "client.rgw.x")

    def _wait_osd(self, deadline: float) -> None:
        """After a restart (kill -9 above all) the mon may report a dead OSD as up for a while: ask
        the OSD itself (its admin socket) until it says it is active."""
        asok = os.path.join(self.d, "run", "osd.0.asok")
        state = "no admin socket"
        while time.monotonic() < deadline:
            if os.path.exists(asok):
                proc = subprocess.run(["ceph", "--admin-daemon", asok, "status"], capture_output=True, text=True,
                                      timeout=10)
                if proc.returncode == 0:
                    state = json.loads(proc.stdout).get("state", "?")
                    if state == "active":
                        return
            time.sleep(0.2)
        raise RuntimeError(f"osd.0 not active ({state}); logs in {self.d}/log")

    def _wait_s3(self, endpoint: str, deadline: float) -> None:
        self._wait_osd(deadline)
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(endpoint + "/", timeout=5) as resp:
                    if resp.status == 200:
                        return
            except Exception as exc:   # noqa: BLE001 -- not up yet
                last = exc
            time.sleep(0.2)
        raise RuntimeError(f"RGW at {endpoint} not ready: {last}; logs in {self.d}/log")

    # -- stop ------------------------------------------------------------------------------
    def pids(self) -> dict[str, int]:
        out = {}
        for name in DAEMONS:
            path = os.path.join(self.d, "run", f"{name}.pid")
            try:
                with open(path) as f:
                    out[name] = int(f.read().strip())
            except (FileNotFoundError, ValueError):
                pass
        return out

    def stop(self, timeout: float = 20, sig: int = signal.SIGTERM) -> None:
        for pid in self.pids().values():
            if not _is_ceph(pid):
                continue
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                continue
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and _alive(pid):
                time.sleep(0.05)
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:   # a zombie of ours counts as gone
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _is_ceph(pid: int) -> bool:
    """Only ever signal our own daemons (a stale pid file may name a recycled pid)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read().split(b"\0")
    except FileNotFoundError:
        return False
    return bool(cmd) and os.path.basename(cmd[0].decode(errors="replace")) in ("ceph-mon", "ceph-mgr", "ceph-osd",
                                                                             "radosgw")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("action", choices=("start", "stop", "kill"), help="kill: SIGKILL every daemon (crash tests)")
    p.add_argument("dir")
    p.add_argument("--rgw-port", type=int)
    args = p.parse_args(argv)
    cluster = Cluster(args.dir)
    if args.action == "start":
        try:
            info = cluster.start(args.rgw_port)
        except BaseException:
            cluster.stop()
            raise
        print(json.dumps(info), flush=True)
    elif args.action == "kill":
        cluster.stop(sig=signal.SIGKILL)
    else:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
