"""Thread CPU of :func:`cosbeauty.imaging.verify.face_checks` before and after round 21's shared squares.

    PYTHONPATH=src python bench/speed21_verify.py [--rounds 31] [--cases 1080p,coffee] [--ref 1461445 [--repo /work/main]]

Every face_checks call made while ``pipeline.beautify(jpeg, 0.5)`` runs on bench/faces.py's cases (JPEG
q92) is recorded with its arguments; then each candidate is measured by the old code and the new one,
interleaved (the order alternating each round), ``time.thread_time`` around the call; medians per candidate
and the B/A ratio. The checks must agree. The old code: the verbatim copy in
tests/imaging/speed21_verify_oracle.py (which shares the new median/tone helpers), or with ``--ref`` the
package of that commit (``git archive``, imported as ``cosbeauty_old``: the verify modules import each other
relatively).
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import os
import shutil
import subprocess
import statistics
import sys
import tempfile
import time

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cosbeauty.imaging.verify as verify  # noqa: E402
from cosbeauty.imaging.pipeline import beautify  # noqa: E402
from faces import CASES  # noqa: E402
from tests.imaging import speed21_verify_oracle as oracle  # noqa: E402


def collect(names: list[str]) -> list[tuple[str, tuple]]:
    """(case, face_checks arguments) of every candidate the bytes path verifies."""
    calls: list[tuple[str, tuple]] = []
    real = verify.face_checks
    current = [""]

    def record(rgb, pts, scale, presence, det_score):
        calls.append((current[0], (rgb, pts.copy(), scale, presence, det_score)))
        return real(rgb, pts, scale, presence, det_score)

    verify.face_checks = record
    try:
        for current[0] in names:
            img = CASES[current[0]]()
            beautify(cv2.imencode(".jpg", img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes(), 0.5)
    finally:
        verify.face_checks = real
    return calls


def old_face_checks(ref: str, repo: str):
    """``face_checks`` of commit ``ref``'s tree (in checkout ``repo``), imported as ``cosbeauty_old``."""
    root = repo or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    into = tempfile.mkdtemp(prefix="speed21_verify_")
    atexit.register(shutil.rmtree, into, True)
    tar = subprocess.run(["git", "-C", root, "archive", ref, "src/cosbeauty"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", into], input=tar, check=True)
    os.rename(os.path.join(into, "src", "cosbeauty"), os.path.join(into, "src", "cosbeauty_old"))
    sys.path.insert(0, os.path.join(into, "src"))
    return importlib.import_module("cosbeauty_old.imaging.verify").face_checks


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=31)
    ap.add_argument("--cases", default="", help="comma-separated substrings of bench/faces.py's case names")
    ap.add_argument("--ref", default="", help="a commit whose face_checks is the old arm (default: the oracle)")
    ap.add_argument("--repo", default="", help="the checkout holding --ref (default: this script's)")
    args = ap.parse_args()
    names = [n for n in CASES if not args.cases or any(s in n for s in args.cases.split(","))]
    calls = collect(names)
    if not calls:
        sys.exit(f"no candidate verified in {names or 'no case'} (--cases matches: {list(CASES)})")
    arms = {"A": old_face_checks(args.ref, args.repo) if args.ref else oracle.face_checks, "B": verify.face_checks}
    for _, a in calls:
        assert arms["A"](*a) == arms["B"](*a)
    times: dict[int, dict[str, list[int]]] = {i: {"A": [], "B": []} for i in range(len(calls))}
    for r in range(args.rounds):
        for i, (_, a) in enumerate(calls):
            for arm in ("AB" if r % 2 else "BA"):
                t = time.thread_time_ns()
                arms[arm](*a)
                times[i][arm].append(time.thread_time_ns() - t)
    print(f"load {os.getloadavg()[0]:.1f}; {args.rounds} interleaved rounds; thread CPU of face_checks, median ms; "
          f"old: {args.ref or 'the oracle'}")
    print("| case | image | F px | old | new | new/old |\n|---|---|---|---|---|---|")
    ratios = []
    for i, (case, a) in enumerate(calls):
        old, new = (statistics.median(times[i][k]) / 1e6 for k in "AB")
        pts = a[1] * np.float32(a[2])
        f = float(np.linalg.norm(pts[234] - pts[454]))
        ratios.append(new / old)
        print(f"| {case} | {a[0].shape[1]}x{a[0].shape[0]} | {f:.0f} | {old:.3f} | {new:.3f} | {new / old:.2f} |")
    print(f"median new/old over {len(calls)} candidates: {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
