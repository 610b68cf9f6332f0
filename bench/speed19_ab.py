"""Round 19 speed: beautify on the bytes path, two source trees interleaved call by call
(``bench/faces.py``'s worker arms and cases): wall / CPU ms per call, the per-round B/A wall and
CPU ratios, and whether both arms gave the same bytes in every round.

Usage: python bench/speed19_ab.py A_SRC B_SRC [--rounds 9] [--cases "upright 1 face 1080p" ...]

``A_SRC`` / ``B_SRC``: ``src`` directories (e.g. of ``git archive`` exports of two commits); per
round and case the arms run once each, A first in even rounds, B first in odd ones (a drift in
other people's load lands on both). Each worker's first call of a case warms up, untimed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faces import CASES, Arm  # noqa: E402

DEFAULT_CASES = ["upright 1 face 1080p", "upright 1 face 4000x3000", "6 faces 1080p",
                 "no-face 1080p (rocket)", "12 MP group, 10 faces"]


def table(arms: dict[str, Arm], names: list[str], rounds: int) -> str:
    cells: dict[tuple[str, str], list[dict]] = {}
    loads = []
    order = list(arms)
    for r in range(rounds):
        for name in names:
            for arm in (order if r % 2 == 0 else order[::-1]):
                cells.setdefault((name, arm), []).append(arms[arm].ask({"case": name, "beautify": True}))
            loads.append(os.getloadavg()[0])
    a, b = order
    lines = [f"beautify(JPEG q92, 0.5), bytes path; {rounds} interleaved rounds; load average (1 min) "
             f"{min(loads):.1f}-{max(loads):.1f}, {os.cpu_count()} CPUs", "",
             f"| case | {a} wall / CPU ms | {b} wall / CPU ms | {b}/{a} wall (median of rounds) | "
             f"{b}/{a} CPU | same bytes |", "| --- | --- | --- | --- | --- | --- |"]
    for name in names:
        ra, rb = cells[(name, a)], cells[(name, b)]
        med = {k: [statistics.median(x[k] for x in cells[(name, arm)]) for arm in order] for k in ("wall", "cpu")}
        wall = statistics.median(y["wall"] / x["wall"] for x, y in zip(ra, rb))
        cpu = statistics.median(y["cpu"] / x["cpu"] for x, y in zip(ra, rb))
        same = len({x["sha"] for x in ra + rb}) == 1
        lines.append(f"| {name} ({ra[-1]['faces']} faces) | {med['wall'][0]:.0f} / {med['cpu'][0]:.0f} | "
                     f"{med['wall'][1]:.0f} / {med['cpu'][1]:.0f} | {wall:.2f} | {cpu:.2f} | {same} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a_src")
    ap.add_argument("b_src")
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--cases", nargs="+", default=DEFAULT_CASES, choices=list(CASES))
    args = ap.parse_args()
    arms = {"A": Arm(os.path.abspath(args.a_src)), "B": Arm(os.path.abspath(args.b_src))}
    try:
        for arm in arms.values():            # graphs of every thread built, every case warmed up
            for name in args.cases:
                arm.ask({"case": name, "beautify": True})
        print(f"A = {args.a_src}, B = {args.b_src}")
        print(table(arms, args.cases, args.rounds))
    finally:
        for arm in arms.values():
            arm.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
