"""Per-stage timings of the AIFaceBeauty pipeline (bytes in, bytes out) on this machine.

    /work/venv/bin/python bench/beauty.py [--runs N] [--repeat R] [--strength S]

Inputs are built in memory from ``skimage.data.astronaut()``: one face scaled to fill the
frame height (512x512, 1920x1080, 4000x3000) and a 6-face 3x2 grid of it, encoded as JPEG q92.
Prints a markdown table of median (min) milliseconds per stage, the process CPU time per image
(all threads; on a loaded machine the wall-clock figures inflate, this much less), then the
retouch's own split
(median ms per step: skin mask, person segmentation, spots, smoothing, lines, eye bags, tone,
eyes+teeth). ``--repeat R`` runs the whole
sweep R times and pools the samples (the machine is shared: a burst of load then hits one
sweep's samples, not one input's), and the load average is printed before and after.
``--closeup`` adds faces that fill the frame (round 15's check 9b: Grace Hopper's head on a grey
canvas, the face 0.6 and 0.95 x the short side of 1080x1080 and 4000x3000): the retouch's cost
there grew with the face's area until spots were healed at a capped scale (``retouch/heal.py``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import cv2
import numpy as np

from cosbeauty.imaging.pipeline import STAGES, beautify

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tests.imaging import corpus  # noqa: E402
from tests.imaging.scenes import one_face, six_faces  # noqa: E402  (shared with the tests)

SIZES = ((512, 512), (1920, 1080), (4000, 3000))
# the retouch's own split of "mask" and "filter" (per-face sums; with faces in parallel they can
# add up to more than the wall-clock stages)
SPLIT = ("retouch.mask", "retouch.segment", "retouch.spots", "retouch.smooth", "retouch.lines",
         "retouch.eyebags", "retouch.tone", "retouch.eyes")


def closeup(w: int, h: int, frac: float) -> np.ndarray:
    """Grace Hopper's head centred on a mid-grey w x h canvas, the face ``frac`` x the short side."""
    canvas = np.full((h, w, 3), 128, np.uint8)
    corpus.place(canvas, corpus.heads()["hopper"], int(frac * min(w, h)), w // 2, h // 2)
    return canvas


def jpeg(rgb: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()


def measure(data: bytes, runs: int, strength: float,
            samples: dict[str, list[float]] | None = None) -> tuple[dict[str, list[float]], int]:
    beautify(data, strength)                                   # warm-up (graph init)
    samples = samples if samples is not None else {k: [] for k in (*STAGES, *SPLIT, "total", "cpu")}
    faces = 0
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        result = beautify(data, strength)
        samples["total"].append((time.perf_counter() - t) * 1000)
        samples["cpu"].append((time.process_time() - c) * 1000)
        for stage in (*STAGES, *SPLIT):
            samples[stage].append(result.timings.get(stage, 0.0))
        faces = len(result.faces)
    return samples, faces


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=1, help="sweeps, samples pooled")
    parser.add_argument("--strength", type=float, default=0.5)
    parser.add_argument("--only", default="", help="comma-separated inputs to run, e.g. '1920x1080 1 face'")
    parser.add_argument("--closeup", action="store_true", help="add faces filling the frame (0.6, 0.95 x the short side)")
    args = parser.parse_args()
    load_before = os.getloadavg()
    inputs = [(w, h, label, jpeg(build(w, h))) for w, h in SIZES
              for label, build in (("1 face", one_face), ("6 faces", six_faces))
              if not args.only or f"{w}x{h} {label}" in args.only.split(",")]
    if args.closeup:
        inputs += [(w, h, f"close-up {frac}", jpeg(closeup(w, h, frac)))
                   for w, h in ((1080, 1080), (4000, 3000)) for frac in (0.6, 0.95)]
    pooled: list[dict[str, list[float]]] = [{k: [] for k in (*STAGES, *SPLIT, "total", "cpu")} for _ in inputs]
    found = [0] * len(inputs)
    for _ in range(max(1, args.repeat)):
        for i, (w, h, _label, data) in enumerate(inputs):
            runs = max(3, args.runs // 2) if w * h > 4e6 else args.runs
            _, found[i] = measure(data, runs, args.strength, pooled[i])
    columns = [(f"{w}x{h} {label} ({found[i]} found)", pooled[i])
               for i, (w, h, label, _) in enumerate(inputs)]
    load_after = os.getloadavg()
    print(f"strength {args.strength}, JPEG q92 in/out, median (min) ms of "
          f"{len(columns[0][1]['total'])} runs ({len(columns[-1][1]['total'])} for 4000x3000); "
          f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after "
          f"(1/5/15 min after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f})\n")
    print("| stage | " + " | ".join(name for name, _ in columns) + " |")
    print("| --- |" + " --- |" * len(columns))
    for stage in (*STAGES, "total"):
        cells = [f"{statistics.median(s[stage]):.1f} ({min(s[stage]):.1f})" for _, s in columns]
        row = f"| {stage} | " + " | ".join(cells) + " |"
        print(row.replace(f"| {stage} |", "| **total** |") if stage == "total" else row)
    cells = [f"{statistics.median(s['cpu']):.1f} ({min(s['cpu']):.1f})" for _, s in columns]
    print("| CPU time, all threads | " + " | ".join(cells) + " |")
    for stage in SPLIT:
        cells = [f"{statistics.median(s[stage]):.1f}" for _, s in columns]
        print(f"| &nbsp; {stage} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
