"""Round 20 (path): beautify on the bytes path, two source trees interleaved call by call, with the
fastest calls shown beside the medians (on a shared, loaded machine the minimum and the 10th
percentile move less with other people's load than the median does).

Usage: python bench/speed20_path_ab.py A_SRC B_SRC [--rounds 15] [--cases NAME ...]

``A_SRC`` / ``B_SRC``: ``src`` directories (e.g. of ``git archive`` exports of two commits). One
worker process per arm (this script with ``--worker``); per round and case each arm runs once, A
first in even rounds, B first in odd ones. Cases: bench/faces.py's, plus close-ups (Grace Hopper's
head 0.95 x the short side of a grey canvas, as bench/beauty.py --closeup). Prints per case: wall
median / p10 / min and CPU median (``process_time``, all threads) per arm, the median of the
per-round B/A ratios (wall, CPU), and whether every call of both arms gave the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import faces as bench_faces  # noqa: E402  (bench/faces.py: the worker arm)

DEFAULT_CASES = ["upright 1 face 1080p", "upright 1 face 4000x3000", "6 faces 1080p",
                 "no-face 1080p (rocket)", "12 MP group, 10 faces"]


def _cases() -> dict:
    import numpy as np

    sys.path.insert(0, HERE)
    sys.path.insert(0, ROOT)
    from faces import CASES  # bench/faces.py

    from tests.imaging import corpus

    def closeup(w: int, h: int, frac: float = 0.95) -> np.ndarray:
        canvas = np.full((h, w, 3), 128, np.uint8)
        corpus.place(canvas, corpus.heads()["hopper"], int(frac * min(w, h)), w // 2, h // 2)
        return canvas

    return dict(CASES, **{"close-up 1080x1080": lambda: closeup(1080, 1080),
                          "close-up 4000x3000": lambda: closeup(4000, 3000)})


def worker() -> None:
    """JSON lines in (``{"case": name}``), (wall ms, CPU ms, faces, sha) out; first call of a case
    warms up untimed. fd 1 goes to stderr so nothing a library prints corrupts the protocol."""
    import cv2

    proto = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    from cosbeauty.imaging import pipeline

    cases = _cases()
    encoded: dict[str, bytes] = {}
    for line in sys.stdin:
        req = json.loads(line)
        if req.get("hello"):
            out: dict = {"module": pipeline.__file__}
        else:
            name = req["case"]
            if name not in encoded:
                image = cases[name]()
                encoded[name] = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                                             [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()
                pipeline.beautify(encoded[name], 0.5)
            t, c = time.perf_counter(), time.process_time()
            result = pipeline.beautify(encoded[name], 0.5)
            out = {"wall": (time.perf_counter() - t) * 1000, "cpu": (time.process_time() - c) * 1000,
                   "faces": len(result.faces), "sha": hashlib.sha256(result.data).hexdigest()[:12]}
        proto.write(json.dumps(out) + "\n")
        proto.flush()


class Arm(bench_faces.Arm):
    """bench/faces.py's worker arm, running this script's worker (the bytes path)."""

    def __init__(self, src: str) -> None:
        super().__init__(src, script=__file__, module="pipeline.py")


def table(arms: dict[str, Arm], names: list[str], rounds: int) -> str:
    cells: dict[tuple[str, str], list[dict]] = {}
    loads = []
    order = list(arms)
    for r in range(rounds):
        for name in names:
            for arm in (order if r % 2 == 0 else order[::-1]):
                cells.setdefault((name, arm), []).append(arms[arm].ask({"case": name}))
            loads.append(os.getloadavg()[0])
    a, b = order
    lines = [f"beautify(JPEG q92, 0.5), bytes path; {rounds} interleaved rounds; load average (1 min) "
             f"{min(loads):.1f}-{max(loads):.1f}, {os.cpu_count()} CPUs", "",
             f"| case | {a} wall med / p10 / min, CPU ms | {b} wall med / p10 / min, CPU ms | "
             f"{b}/{a} wall (median of rounds) | {b}/{a} CPU | same bytes |", "| --- | --- | --- | --- | --- | --- |"]

    def stats(runs: list[dict]) -> str:
        walls = sorted(x["wall"] for x in runs)
        return (f"{statistics.median(walls):.1f} / {walls[len(walls) // 10]:.1f} / {walls[0]:.1f}, "
                f"{statistics.median(x['cpu'] for x in runs):.1f}")

    for name in names:
        ra, rb = cells[(name, a)], cells[(name, b)]
        wall = statistics.median(y["wall"] / x["wall"] for x, y in zip(ra, rb))
        cpu = statistics.median(y["cpu"] / x["cpu"] for x, y in zip(ra, rb))
        same = len({x["sha"] for x in ra + rb}) == 1
        lines.append(f"| {name} ({ra[-1]['faces']} faces) | {stats(ra)} | {stats(rb)} | {wall:.3f} | {cpu:.3f} | {same} |")
    return "\n".join(lines)


def main() -> int:
    if "--worker" in sys.argv:
        worker()
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a_src")
    ap.add_argument("b_src")
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--cases", nargs="+", default=DEFAULT_CASES)
    args = ap.parse_args()
    arms = {"A": Arm(os.path.abspath(args.a_src)), "B": Arm(os.path.abspath(args.b_src))}
    try:
        for arm in arms.values():            # graphs built, every case warmed up
            for name in args.cases:
                arm.ask({"case": name})
        print(f"A = {args.a_src}, B = {args.b_src}")
        print(table(arms, args.cases, args.rounds))
    finally:
        for arm in arms.values():
            arm.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
