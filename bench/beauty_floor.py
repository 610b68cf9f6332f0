"""Beauty engine speed against the OpenCV decode+encode floor, interleaved (``ab.py``).

Usage: python bench/beauty_floor.py [--rounds 5] [--runs 7] [--sizes 1920x1080 4000x3000] [--faces 1 6]

For each input (the astronaut scene of ``bench/beauty.py``, JPEG q92), two arms alternate per
round: ``beauty`` is ``pipeline.beautify(data, 0.5)`` (bytes in, JPEG bytes out, what a request
pays), ``floor`` is ``cv2.imdecode`` + ``cv2.imencode`` at the same quality (what any re-encoding
service pays). Each figure is the median ms of --runs calls; the ratio beauty/floor per round is
printed, and the 1080p one-face median against the 45 ms target.

A third arm, ``filter at filing`` (``--no-at-filing``: left out), is the same call with the retouch of
the day issue #12 was filed swapped in (``bench/beauty_at_filing.py``: 25ed645's ``beauty.py``; the
issue words its target "1080p one face <= 45 ms with today's filter"; issue #9's retouch came after).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ab import compare, save  # noqa: E402
from beauty import jpeg  # noqa: E402  (the beauty engineer's scene encoding)
from beauty import one_face, six_faces  # noqa: E402

TARGET_1080_MS = 45.0


def timed_median(fn, runs: int) -> float:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return statistics.median(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--sizes", nargs="+", default=["1920x1080", "4000x3000"])
    ap.add_argument("--faces", type=int, nargs="+", default=[1], choices=(1, 6))
    ap.add_argument("--strength", type=float, default=0.5)
    ap.add_argument("--json")
    ap.add_argument("--no-at-filing", action="store_true", help="leave out the 'filter at filing' arm")
    args = ap.parse_args()
    from cosbeauty.imaging import beauty as today
    from cosbeauty.imaging.pipeline import beautify

    swap = None
    if not args.no_at_filing:
        from beauty_at_filing import FILED_AT, filter_at

        old = filter_at(FILED_AT)
        swap = (old.apply_faces, old.roi_for)

    results = []
    for size in args.sizes:
        w, h = map(int, size.split("x"))
        for faces in args.faces:
            data = jpeg((one_face if faces == 1 else six_faces)(w, h))
            runs = max(3, args.runs // 2) if w * h > 4e6 else args.runs

            def floor(data: bytes = data) -> None:
                img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
                cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 92])

            def engine(data: bytes = data) -> None:
                beautify(data, args.strength)

            def at_filing(data: bytes = data) -> None:
                assert swap is not None
                saved = today.apply_faces, today.roi_for
                today.apply_faces, today.roi_for = swap
                try:
                    beautify(data, args.strength)
                finally:
                    today.apply_faces, today.roi_for = saved

            arms = {"beauty": lambda e=engine, n=runs: timed_median(e, n),
                    "floor": lambda f=floor, n=runs: timed_median(f, n)}
            if swap is not None:
                arms["filter at filing"] = lambda a=at_filing, n=runs: timed_median(a, n)
            results.append(compare(
                arms,
                args.rounds, unit="ms", higher_is_better=False,
                title=f"Beauty {w}x{h}, {faces} face{'s' if faces > 1 else ''} vs OpenCV decode+encode",
                note=f"median of {runs} calls per figure, strength {args.strength}, JPEG q92 in/out"))
    for c in results:
        print(c.report())
        r = [1 / x for x in c.ratios("beauty", "floor")]   # beauty ms / floor ms
        print(f"\nbeauty / floor per round: {min(r):.2f}x / {statistics.median(r):.2f}x / {max(r):.2f}x "
              f"(min / median / max)")
        if c.title.startswith("Beauty 1920x1080, 1 face"):
            med = statistics.median(c.values("beauty"))
            print(f"1080p one face: median {med:.1f} ms, target <= {TARGET_1080_MS:.0f} ms: "
                  f"{'met' if med <= TARGET_1080_MS else 'NOT met'}")
            if "filter at filing" in c.arms:
                med = statistics.median(c.values("filter at filing"))
                print(f"1080p one face, the filter of the day issue #12 was filed: median {med:.1f} ms, target <= "
                      f"{TARGET_1080_MS:.0f} ms: {'met' if med <= TARGET_1080_MS else 'NOT met'}")
        print()
    if args.json:
        save(results, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
