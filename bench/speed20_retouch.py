"""Round 20's retouch speed: the bytes path before/after, interleaved, with the decode+encode floor.

    .venv/bin/python bench/speed20_retouch.py [--ref REF] [--after REF] [--rounds R] [--cases a,b]

Each arm is a worker process of ``bench/faces.py`` (``--worker``) importing ``cosbeauty`` from a
clean export of its ref (``--after ''``: the working tree's ``src``); the parent sends the cases
alternately (A B, B A, ...), one ``pipeline.beautify(JPEG q92, 0.5)`` call at a time, and between
the arms times the floor once per round (``cv2.imdecode`` + ``cv2.imencode`` q92 of the same
JPEG, median of 3). Cells: median wall / CPU ms (``time.process_time`` in the worker: all its
threads), the after/before ratios, whether every call of both arms gave the same output bytes,
and for each arm its wall over the floor (median of the per-round ratios).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import faces as bench_faces  # noqa: E402  (bench/faces.py: Arm, ref_tree, CASES)

DEFAULT_CASES = ["upright 1 face 1080p", "upright 1 face 4000x3000", "6 faces 1080p", "12 MP group, 10 faces"]


def floor_ms(data: bytes) -> float:
    """Median of 3: OpenCV decode + encode (q92) of ``data``."""
    out = []
    for _ in range(3):
        t = time.perf_counter()
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 92])
        out.append((time.perf_counter() - t) * 1000)
    return statistics.median(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default="HEAD~1", help="git ref of the 'before' tree")
    parser.add_argument("--after", default="HEAD", help="git ref of the 'after' tree ('' = the working tree)")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--cases", default="", help="comma-separated parts of case names (default: "
                        + ", ".join(DEFAULT_CASES) + ")")
    args = parser.parse_args()
    names = [n for n in bench_faces.CASES if (any(c.strip() and c.strip() in n for c in args.cases.split(","))
                                              if args.cases else n in DEFAULT_CASES)]
    scratch = tempfile.mkdtemp(prefix="cosbeauty-speed20-")
    arms: dict[str, bench_faces.Arm] = {}
    try:
        for label, ref in (("before", args.ref), ("after", args.after)):
            if ref:
                os.makedirs(os.path.join(scratch, label))
                arms[f"{label} ({ref})"] = bench_faces.Arm(bench_faces.ref_tree(ref, os.path.join(scratch, label)))
            else:
                arms[f"{label} (working tree)"] = bench_faces.Arm(os.path.join(bench_faces.ROOT, "src"))
        order = list(arms)
        for name in names:
            image = bench_faces.CASES[name]()
            data = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()
            cells: dict[str, list[dict]] = {arm: [] for arm in order}
            floors, loads = [], []
            for arm in order:                       # warm-up (graphs, first-call costs): not timed
                arms[arm].ask({"case": name, "beautify": True})
            for r in range(args.rounds):
                for arm in (order if r % 2 == 0 else order[::-1]):
                    cells[arm].append(arms[arm].ask({"case": name, "beautify": True}))
                floors.append(floor_ms(data))
                loads.append(os.getloadavg()[0])
            a, b = (cells[arm] for arm in order)
            same = len({x["sha"] for arm in order for x in cells[arm]}) == 1
            print(f"== {name}: {args.rounds} rounds, load {min(loads):.1f}-{max(loads):.1f}, "
                  f"floor {statistics.median(floors):.1f} ms, same bytes in every call: {same}")
            for arm in order:
                s = cells[arm]
                ratio = statistics.median(x["wall"] / fl for x, fl in zip(s, floors))
                print(f"  {arm:28s} wall {statistics.median(x['wall'] for x in s):7.1f} "
                      f"(q1 {statistics.quantiles([x['wall'] for x in s], n=4)[0]:7.1f})  "
                      f"CPU {statistics.median(x['cpu'] for x in s):7.1f}  wall/floor {ratio:.2f}x  faces {s[-1]['faces']}")
            print(f"  after/before: wall {statistics.median(y['wall'] / x['wall'] for x, y in zip(a, b)):.3f}x, "
                  f"CPU {statistics.median(y['cpu'] / x['cpu'] for x, y in zip(a, b)):.3f}x; "
                  f"median difference {statistics.median(x['wall'] for x in b) - statistics.median(x['wall'] for x in a):+.1f} ms wall",
                  flush=True)
    finally:
        for arm in arms.values():
            arm.close()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
