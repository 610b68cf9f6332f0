"""Issue #12's speed item as worded: "no regression on bench/beauty.py (1080p one face <= 45 ms with
today's filter, 4000x3000 <= 200 ms)", measured side by side.

    .venv/bin/python bench/beauty_at_filing.py [--rounds 20] [--runs 3] [--sizes 1920x1080 4000x3000] [--no-tree]

"Today's filter" is the retouch of the day the issue was filed: the first retouch (skin smoothing,
tone; ``beauty.py`` alone). Issues 12-15 were filed on main at 88daebf (the next session's first
commit is 15fa8a1); 25ed645, the parent of issue #12's first commit (ca8755c), has the same
``imaging/beauty.py``, ``pipeline.py`` and ``faces.py``. Issue #9's retouch (spots healed, lines,
folds, eye bags, neck tone with a person segmentation, eyes, teeth: ``retouch/``, fd2547c) came
after it. Arms, interleaved per round (A B C D, then
reversed), each figure the median of ``--runs`` calls of ``pipeline.beautify(JPEG q92, 0.5)``:

* ``now``: this tree as it is (today's decode, detection, verification, lossless splice and retouch);
* ``now, filter at filing``: the same call with the filter swapped for 25ed645's ``apply_faces`` /
  ``roi_for`` (its ``beauty.py``, read with ``git show`` and imported against this tree's
  ``faces``): what issue #12's own changes cost with the filter the issue named;
* ``tree at filing``: the whole 25ed645 tree in a worker process (``bench/faces.py``'s Arm): the
  code as it was, for the "no regression" comparison on today's machine (``--no-tree``: skipped);
* ``floor``: OpenCV decode + encode (q92) of the same JPEG, the machine's speed of the moment.

The scene is ``bench/beauty.py``'s (``tests/imaging/scenes.py``: the astronaut on a 1920x1080
canvas; 4000x3000 likewise). Printed: per arm the median ms and its ratio to the floor of the same
round; the target check on ``now, filter at filing`` and ``now``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import types
from collections.abc import Callable

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import faces as bench_faces  # noqa: E402  (Arm, ref_tree, CASES, ROOT)
from beauty import jpeg  # noqa: E402
from beauty_floor import timed_median as median_ms  # noqa: E402
from speed20_retouch import floor_ms  # noqa: E402

FILED_AT = "25ed645"          # main when issue #12 was filed (parent of its first commit, ca8755c)
TARGETS = {(1920, 1080): 45.0, (4000, 3000): 200.0}
CASE = {(1920, 1080): "upright 1 face 1080p", (4000, 3000): "upright 1 face 4000x3000"}


def filter_at(ref: str) -> types.ModuleType:
    """``beauty.py`` of ``ref`` as a module whose ``.faces`` import is this tree's ``faces``."""
    source = subprocess.run(["git", "show", f"{ref}:src/cosbeauty/imaging/beauty.py"], cwd=bench_faces.ROOT,
                            check=True, capture_output=True, text=True).stdout
    source = source.replace("from .faces import", "from cosbeauty.imaging.faces import")
    module = types.ModuleType(f"beauty_at_{ref}")
    module.__file__ = f"<{ref}:src/cosbeauty/imaging/beauty.py>"
    sys.modules[module.__name__] = module
    exec(compile(source, module.__file__, "exec"), module.__dict__)   # noqa: S102 - our own history
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", nargs="+", default=["1920x1080", "4000x3000"])
    parser.add_argument("--ref", default=FILED_AT, help="the commit whose filter (and tree) is 'at filing'")
    parser.add_argument("--no-tree", action="store_true", help="skip the whole-tree arm")
    args = parser.parse_args()
    from cosbeauty.imaging import beauty as today
    from cosbeauty.imaging.pipeline import beautify

    old = filter_at(args.ref)
    swaps = {"now": (today.apply_faces, today.roi_for), "now, filter at filing": (old.apply_faces, old.roi_for)}
    scratch = tempfile.mkdtemp(prefix="cosbeauty-at-filing-")
    tree = None
    try:
        if not args.no_tree:
            tree = bench_faces.Arm(bench_faces.ref_tree(args.ref, scratch))
        for size in args.sizes:
            w, h = map(int, size.split("x"))
            image = bench_faces.CASES[CASE[(w, h)]]()
            data = jpeg(image)
            runs = args.runs

            def ours(name: str, data: bytes = data, runs: int = runs) -> float:
                today.apply_faces, today.roi_for = swaps[name]
                try:
                    return median_ms(lambda: beautify(data, 0.5), runs)
                finally:
                    today.apply_faces, today.roi_for = swaps["now"]

            def theirs(name: str = CASE[(w, h)], runs: int = runs) -> float:
                assert tree is not None
                return statistics.median(tree.ask({"case": name, "beautify": True})["wall"] for _ in range(runs))

            arms: dict[str, Callable[[], float]] = {name: (lambda n=name: ours(n)) for name in swaps}
            if tree is not None:
                arms[f"tree at filing ({args.ref})"] = theirs
            arms["floor"] = lambda data=data: floor_ms(data)
            for fn in arms.values():          # warm-up: graphs, first calls
                fn()
            cells: dict[str, list[float]] = {name: [] for name in arms}
            loads = []
            order = list(arms)
            for r in range(args.rounds):
                for name in (order if r % 2 == 0 else order[::-1]):
                    cells[name].append(arms[name]())
                loads.append(os.getloadavg()[0])
            floors = cells["floor"]
            print(f"== {w}x{h}, one face: {args.rounds} rounds x {runs} calls, load {min(loads):.1f}-{max(loads):.1f}, "
                  f"floor {statistics.median(floors):.1f} ms")
            for name in order:
                vals = cells[name]
                ratio = statistics.median(v / f for v, f in zip(vals, floors))
                print(f"  {name:34s} {statistics.median(vals):7.1f} ms  (q1 {statistics.quantiles(vals, n=4)[0]:7.1f}, "
                      f"q3 {statistics.quantiles(vals, n=4)[2]:7.1f})  x floor {ratio:5.2f}")
            target = TARGETS.get((w, h))
            if target:
                for name in swaps:
                    med = statistics.median(cells[name])
                    print(f"  target <= {target:.0f} ms, {name}: {med:.1f} ms, {'met' if med <= target else 'NOT met'}")
            if tree is not None:
                key = f"tree at filing ({args.ref})"
                for name in swaps:
                    r = statistics.median(a / b for a, b in zip(cells[name], cells[key]))
                    print(f"  {name} / tree at filing: {r:.3f}x (median of per-round ratios)")
            print(flush=True)
    finally:
        if tree is not None:
            tree.close()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
