"""Round 19 speed: beautify on the bytes path, two source trees interleaved (``bench/faces.py``'s
worker arms and table: wall / CPU ms per call, same-bytes check).

Usage: python bench/speed19_ab.py A_SRC B_SRC [--rounds 9] [--cases "upright 1 face 1080p" ...]

``A_SRC`` / ``B_SRC``: ``src`` directories (e.g. of ``git archive`` exports of two commits); the
arms alternate call by call (A B, then B A, ...). Cases: those of ``bench/faces.py``.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faces import CASES, Arm, detection_table  # noqa: E402

DEFAULT_CASES = ["upright 1 face 1080p", "upright 1 face 4000x3000", "6 faces 1080p",
                 "no-face 1080p (rocket)", "12 MP group, 10 faces"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a_src")
    ap.add_argument("b_src")
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--cases", nargs="+", default=DEFAULT_CASES, choices=list(CASES))
    args = ap.parse_args()
    arms = {"A": Arm(os.path.abspath(args.a_src)), "B": Arm(os.path.abspath(args.b_src))}
    try:
        print(f"A = {args.a_src}, B = {args.b_src}")
        print(detection_table(arms, args.cases, args.rounds, beautify=True))
    finally:
        for arm in arms.values():
            arm.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
