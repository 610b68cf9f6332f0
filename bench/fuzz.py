"""Long fuzz run (issue #13 item 10): every untrusted-input parser, then whole signed requests
against a real server, with many more examples than the suite uses. Prints, per target, how many
inputs ran, how long it took and what it found (the shrunk failing input and the error), and for
the HTTP run a histogram of answers so you can see how deep the requests got.

    .venv/bin/python bench/fuzz.py                       # 3000 examples per parser, 2000 requests
    .venv/bin/python bench/fuzz.py --examples 20000 --http 10000 --targets auth-header,aws-chunked
    .venv/bin/python bench/fuzz.py --http 0              # parsers only

Exit status 1 if anything was found.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import warnings  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402

from tests.security.fuzz_targets import TARGETS, Target, check  # noqa: E402

CHECKS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]


def _first_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:400]


def fuzz_target(target: Target, examples: int) -> tuple[int, float, str | None]:
    count = 0
    last: list = [None]

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=CHECKS,
              print_blob=True)
    @given(target.strategy)
    def run(example):
        nonlocal count
        count += 1
        last[0] = example
        check(target, example)

    started = time.perf_counter()
    try:
        run()
        found = None
    except BaseException as exc:  # noqa: BLE001 -- a finding, reported below
        if isinstance(exc, KeyboardInterrupt):
            raise
        found = f"{_first_line(exc)}\n    input: {last[0]!r}"[:2000]
        if os.environ.get("FUZZ_TRACEBACK"):
            traceback.print_exc()
    return count, time.perf_counter() - started, found


def fuzz_http(requests: int) -> tuple[int, float, collections.Counter, str | None]:
    from tests.conftest import running_server
    from tests.security.http_fuzz import check_request, requests_strategy, seed

    bucket, statuses = "fz-1250000000", collections.Counter()
    with running_server("cosbeauty-fuzz-", ["--no-fsync"]) as srv:
        seed(srv.port, bucket)

        @settings(max_examples=requests, deadline=None, database=None, suppress_health_check=CHECKS)
        @given(requests_strategy)
        def run(example):
            out = check_request(srv.port, bucket, example)
            statuses[out.status] += 1

        started = time.perf_counter()
        try:
            run()
            found = None
        except BaseException as exc:  # noqa: BLE001
            if isinstance(exc, KeyboardInterrupt):
                raise
            found = _first_line(exc)
        if "Traceback" in srv.log():
            tb = srv.log()[srv.log().index("Traceback"):][:1500]
            found = (found or "") + f"\n    server logged a traceback:\n{tb}"
        return sum(statuses.values()), time.perf_counter() - started, statuses, found


def main() -> int:
    warnings.simplefilter("ignore")          # Pillow warns on every corrupt header it is fed
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--examples", type=int, default=3000, help="inputs per parser target")
    ap.add_argument("--http", type=int, default=2000, help="signed requests against a real server (0: skip)")
    ap.add_argument("--targets", default="", help="comma-separated target names (default: all)")
    args = ap.parse_args()
    wanted = {t for t in args.targets.split(",") if t}
    findings = 0
    for target in TARGETS:
        if wanted and target.name not in wanted:
            continue
        count, seconds, found = fuzz_target(target, args.examples)
        print(f"{target.name:16s} {count:7d} inputs {seconds:7.1f} s  {'FOUND ' + found if found else 'ok'}",
              flush=True)
        findings += bool(found)
    if args.http and (not wanted or "http" in wanted):
        count, seconds, statuses, found = fuzz_http(args.http)
        hist = ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items()))
        print(f"{'http':16s} {count:7d} requests {seconds:5.1f} s  {'FOUND ' + found if found else 'ok'}\n"
              f"{'':16s} answers {hist}", flush=True)
        findings += bool(found)
    print(f"\n{findings} target(s) with findings" if findings else "\nnothing found")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
