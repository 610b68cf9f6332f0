"""Round 21: thread CPU of the beside look's cue (``detection.beside.cells``) before/after.

The inputs are captured from the bytes path (``pipeline.beautify``) on the bench portraits
(``one_face``, 1920x1080 and 4000x3000); the old code is round 20's ``cells`` kept in
``tests/imaging/test_speed21_beside.py`` (the oracle). Both run interleaved in one process,
R rounds; the medians and their ratio are printed, and whether the cells agree.

    PYTHONPATH=src python bench/speed21_beside.py [--rounds 40]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time

from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from cosbeauty.imaging.detection import beside  # noqa: E402
from cosbeauty.imaging.pipeline import beautify  # noqa: E402
from tests.imaging.scenes import one_face  # noqa: E402
from tests.imaging.test_speed21_beside import old_cells  # noqa: E402


def captured(w: int, h: int) -> tuple:
    """The arguments of the bytes path's ``beside.cells`` call on the ``w`` x ``h`` bench portrait."""
    calls: list[tuple] = []
    cells = beside.cells
    beside.cells = lambda *a: calls.append(a) or cells(*a)      # type: ignore[assignment]
    try:
        out = io.BytesIO()
        Image.fromarray(one_face(w, h)).save(out, "JPEG", quality=90)
        beautify(out.getvalue(), 0.5)
    finally:
        beside.cells = cells                                    # type: ignore[assignment]
    return calls[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=40)
    rounds = ap.parse_args().rounds
    for w, h in ((1920, 1080), (4000, 3000)):
        args = captured(w, h)
        arms = {"old": old_cells, "new": beside.cells}
        same = arms["old"](*args) == arms["new"](*args)
        cpu: dict[str, list[float]] = {name: [] for name in arms}
        for i in range(rounds):
            for name in (("old", "new") if i % 2 else ("new", "old")):
                t = time.thread_time()
                arms[name](*args)
                cpu[name].append((time.thread_time() - t) * 1e3)
        old, new = statistics.median(cpu["old"]), statistics.median(cpu["new"])
        print(f"{w}x{h}: cells thread CPU old {old:.2f} ms, new {new:.2f} ms ({new / old:.2f}x), same cells {same}, "
              f"load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
