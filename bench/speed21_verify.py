"""Thread CPU of :func:`cosbeauty.imaging.verify.face_checks` before and after round 21's shared squares.

    PYTHONPATH=src python bench/speed21_verify.py [--rounds 31] [--cases 1080p,coffee]

Every face_checks call made while ``pipeline.beautify(jpeg, 0.5)`` runs on bench/faces.py's cases (JPEG
q92) is recorded with its arguments; then each candidate is measured by the old code (the verbatim copy in
tests/imaging/speed21_verify_oracle.py) and the new one, interleaved (the order alternating each round),
``time.thread_time`` around the call; medians per candidate and the B/A ratio. The checks must agree.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=31)
    ap.add_argument("--cases", default="", help="comma-separated substrings of bench/faces.py's case names")
    args = ap.parse_args()
    names = [n for n in CASES if not args.cases or any(s in n for s in args.cases.split(","))]
    calls = collect(names)
    arms = {"A": oracle.face_checks, "B": verify.face_checks}
    for _, a in calls:
        assert arms["A"](*a) == arms["B"](*a)
    times: dict[int, dict[str, list[int]]] = {i: {"A": [], "B": []} for i in range(len(calls))}
    for r in range(args.rounds):
        for i, (_, a) in enumerate(calls):
            for arm in ("AB" if r % 2 else "BA"):
                t = time.thread_time_ns()
                arms[arm](*a)
                times[i][arm].append(time.thread_time_ns() - t)
    print(f"load {os.getloadavg()[0]:.1f}; {args.rounds} interleaved rounds; thread CPU of face_checks, median ms")
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
