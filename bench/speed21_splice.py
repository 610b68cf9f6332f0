"""The lossless splice's tail, before/after: ``Splicer.finish`` -> output bytes, interleaved.

Inputs are captured from one ``pipeline.beautify(jpeg, 0.5)`` per case (the ``before`` crops,
``after`` and regions the pipeline hands ``Splicer.finish``): 1080p one face, 12 MP one face,
the 12 MP 10-face group of bench/faces.py. Per round and arm: ``Splicer.open`` + ``start`` (the
coefficient read on a splice thread, as the pipeline starts it during detection), a pause that
stands for the retouch, then ``finish`` timed (wall: the tail) and the process CPU from ``open``
to the bytes. The "before" arm is ``jpeg_lossless.py`` of ``--ref`` loaded beside the current one.

    PYTHONPATH=src python bench/speed21_splice.py --ref 77f80c6 --rounds 30 [--repo /work/main]

``--pipeline``: instead, whole ``pipeline.beautify`` calls with ``pipeline.jpeg_lossless`` swapped
between the two modules per call, timing ``Splicer.finish`` inside them (the tail where the
retouch's helper threads still compete for the GIL) and the call.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent))

PAUSE = {"1080p one face": 0.03, "12 MP one face": 0.12, "12 MP group, 10 faces": 0.3}


def cases() -> dict[str, dict]:
    from beauty import jpeg, one_face
    from faces import group_12mp

    from cosbeauty.imaging import jpeg_lossless, pipeline

    images = {"1080p one face": lambda: one_face(1920, 1080), "12 MP one face": lambda: one_face(4000, 3000),
              "12 MP group, 10 faces": group_12mp}
    out = {}
    real = jpeg_lossless.Splicer.finish
    for name, make in images.items():
        data = jpeg(make()) if name != "12 MP group, 10 faces" else \
            cv2.imencode(".jpg", cv2.cvtColor(make(), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()
        got: list = []

        def finish(self, before, after, regions=None, got=got):
            got.append(([b.copy() for b in before] if isinstance(before, list) else before.copy(), after.copy(), regions))
            return real(self, before, after, regions)

        jpeg_lossless.Splicer.finish = finish
        try:
            pipeline.beautify(data, 0.5)
        finally:
            jpeg_lossless.Splicer.finish = real
        out[name] = {"data": data, "before": got[0][0], "after": got[0][1], "regions": got[0][2]}
    return out


def module_at(ref: str, tmp: str, repo: str):
    """jpeg_lossless.py of git ``ref`` as a module of the same package (its relative imports work)."""
    text = subprocess.run(["git", "-C", repo, "show", f"{ref}:src/cosbeauty/imaging/jpeg_lossless.py"],
                          check=True, capture_output=True, text=True).stdout
    path = os.path.join(tmp, "jpeg_lossless_ref.py")
    Path(path).write_text(text)
    spec = importlib.util.spec_from_file_location("cosbeauty.imaging._jpeg_lossless_ref", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default="HEAD", help="git ref of the 'before' jpeg_lossless.py")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--pipeline", action="store_true", help="time finish inside pipeline.beautify calls")
    parser.add_argument("--repo", default=str(Path(__file__).resolve().parent.parent),
                        help="the git checkout holding --ref (when run from an export)")
    args = parser.parse_args()
    from cosbeauty.imaging import jpeg_lossless

    if args.pipeline:
        with tempfile.TemporaryDirectory() as tmp:
            in_pipeline({"before": module_at(args.ref, tmp, args.repo), "after": jpeg_lossless}, args.rounds)
        return
    inputs = cases()
    with tempfile.TemporaryDirectory() as tmp:
        arms = {"before": module_at(args.ref, tmp, args.repo), "after": jpeg_lossless}
        print("| case | tail ms before | tail ms after | after/before | CPU ms before | CPU ms after | same bytes | load |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for name, case in inputs.items():
            tail: dict[str, list[float]] = {k: [] for k in arms}
            cpu: dict[str, list[float]] = {k: [] for k in arms}
            digests: dict[str, set[str]] = {k: set() for k in arms}
            loads = []
            for i in range(args.rounds + 2):
                for arm in (list(arms) if i % 2 == 0 else list(arms)[::-1]):
                    module = arms[arm]
                    c0 = time.process_time()
                    splicer = module.Splicer.open(case["data"]).start()
                    time.sleep(PAUSE[name])
                    before = [b.copy() for b in case["before"]]
                    t0 = time.perf_counter()
                    out = splicer.finish(before, case["after"], case["regions"])
                    wall = (time.perf_counter() - t0) * 1000
                    if i >= 2:                           # two warm-up rounds
                        tail[arm].append(wall)
                        cpu[arm].append((time.process_time() - c0) * 1000)
                    digests[arm].add(hashlib.sha256(out).hexdigest())
                loads.append(os.getloadavg()[0])
            b, a = statistics.median(tail["before"]), statistics.median(tail["after"])
            print(f"| {name} | {b:.2f} | {a:.2f} | {a / b:.3f} | {statistics.median(cpu['before']):.1f} | "
                  f"{statistics.median(cpu['after']):.1f} | {digests['before'] == digests['after'] and len(digests['after']) == 1} | "
                  f"{min(loads):.1f}-{max(loads):.1f} |", flush=True)


def in_pipeline(arms: dict, rounds: int) -> None:
    """``Splicer.finish`` wall inside ``pipeline.beautify`` (median, p25) and the call's wall, per arm."""
    from beauty import jpeg, one_face
    from faces import group_12mp

    from cosbeauty.imaging import pipeline

    finish_ms: list[float] = []
    for module in arms.values():
        real = module.Splicer.finish

        def timed(self, *a, real=real, **k):
            t0 = time.perf_counter()
            try:
                return real(self, *a, **k)
            finally:
                finish_ms.append((time.perf_counter() - t0) * 1000)

        module.Splicer.finish = timed
    images = {"1080p one face": lambda: one_face(1920, 1080), "12 MP one face": lambda: one_face(4000, 3000),
              "12 MP group, 10 faces": group_12mp}
    print("| case | finish ms before (p25) | finish ms after (p25) | after/before | call ms before | call ms after | same bytes | load |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, make in images.items():
        data = jpeg(make())
        tail: dict[str, list[float]] = {k: [] for k in arms}
        call: dict[str, list[float]] = {k: [] for k in arms}
        digests: dict[str, set[str]] = {k: set() for k in arms}
        loads = []
        n = rounds if name.startswith("1080p") else max(6, rounds // 2)
        for i in range(n + 2):
            for arm in (list(arms) if i % 2 == 0 else list(arms)[::-1]):
                pipeline.jpeg_lossless = arms[arm]
                finish_ms.clear()
                t0 = time.perf_counter()
                out = pipeline.beautify(data, 0.5).data
                wall = (time.perf_counter() - t0) * 1000
                if i >= 2 and finish_ms:
                    tail[arm].append(finish_ms[-1])
                    call[arm].append(wall)
                digests[arm].add(hashlib.sha256(out).hexdigest())
            loads.append(os.getloadavg()[0])
        pipeline.jpeg_lossless = arms["after"]

        def med(v: list[float]) -> str:
            return f"{statistics.median(v):.2f} ({sorted(v)[len(v) // 4]:.2f})"

        print(f"| {name} | {med(tail['before'])} | {med(tail['after'])} | "
              f"{statistics.median(tail['after']) / statistics.median(tail['before']):.3f} | "
              f"{statistics.median(call['before']):.1f} | {statistics.median(call['after']):.1f} | "
              f"{digests['before'] == digests['after'] and len(digests['after']) == 1} | {min(loads):.1f}-{max(loads):.1f} |",
              flush=True)


if __name__ == "__main__":
    main()
