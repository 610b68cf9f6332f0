"""``cosbeauty beautify DIR -o OUT``: the folder mode's configurations side by side (A/B harness),
and the per-file overhead of the CLI over the beauty engine's own time.

Usage: python bench/cli_folder.py [--rounds 5] [--files 20] [--arms default jobs1 processes pillow]

The folder holds --files JPEG photos (q92): 1920x1080 one face, 1920x1080 six faces and
4000x3000 one face in a 2:1:1 mix. Arms, each a fresh ``cosbeauty beautify`` process timed from
launch to exit:

* ``default``: no flags (worker threads, one per CPU, each file on its worker thread alone: no
  OpenCV threads, no imaging helper thread);
* ``threads``: ``--jobs <CPUs>`` (the same as the default; kept for older result files);
* ``jobs1``: ``--jobs 1`` (in order);
* ``processes``: ``--processes --jobs <CPUs>`` (a spawn-started process pool);
* ``pillow``: a plain ``python -c`` Pillow open+save loop over the same files (a floor: no face
  work at all).

``engine`` is the sum of ``pipeline.beautify()`` over the same files in this process, warm,
sequential: the CLI's per-file overhead is (CLI seconds - engine seconds) / files.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import time

import cv2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from ab import compare, save  # noqa: E402
from targets import remove, temp_dir  # noqa: E402
from tests.imaging.scenes import one_face, six_faces  # noqa: E402

PILLOW_LOOP = ("import sys, pathlib; from PIL import Image\n"
               "src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]); out.mkdir(exist_ok=True)\n"
               "for p in sorted(src.iterdir()):\n"
               "    Image.open(p).save(out / p.name, quality=92)\n")


def make_folder(path: str, files: int) -> list[str]:
    kinds = [(one_face, 1920, 1080), (one_face, 1920, 1080), (six_faces, 1920, 1080), (one_face, 4000, 3000)]
    cache: dict[int, bytes] = {}
    names = []
    for i in range(files):
        k = i % len(kinds)
        if k not in cache:
            build, w, h = kinds[k]
            cache[k] = cv2.imencode(".jpg", build(w, h)[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()
        name = os.path.join(path, f"photo{i:03d}.jpg")
        with open(name, "wb") as f:
            f.write(cache[k])
        names.append(name)
    return names


def cli_arm(src: str, root: str, *flags: str):
    def run() -> float:
        out = os.path.join(root, "out")
        remove(out)
        t, cpu = time.perf_counter(), _children_cpu()
        done = subprocess.run([sys.executable, "-m", "cosbeauty", "beautify", src, "-o", out, *flags],
                              check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        seconds = time.perf_counter() - t
        chosen = re.search(r"\((\d+ worker[^)]*)\)\s*$", done.stderr)     # the summary names its workers
        return seconds, {"workers": chosen.group(1) if chosen else "?", "cpu": _children_cpu() - cpu}
    return run


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def pillow_arm(src: str, root: str):
    def run() -> float:
        out = os.path.join(root, "out")
        remove(out)
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", PILLOW_LOOP, src, out], check=True)
        return time.perf_counter() - t
    return run


def engine_arm(names: list[str]):
    from cosbeauty.imaging.codec import Limits
    from cosbeauty.imaging.pipeline import beautify
    blobs = [open(n, "rb").read() for n in names]

    def run() -> float:
        t = time.perf_counter()
        for data in blobs:
            beautify(data, 0.5, limits=Limits())
        return time.perf_counter() - t
    return run


CPUS = str(len(os.sched_getaffinity(0)))
ARMS = {"default": (), "threads": ("--jobs", CPUS), "jobs1": ("--jobs", "1"),
        "processes": ("--processes", "--jobs", CPUS)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--files", type=int, default=20)
    ap.add_argument("--arms", nargs="+", default=["default", "jobs1", "processes", "pillow"],
                    choices=[*ARMS, "pillow"])
    ap.add_argument("--json")
    args = ap.parse_args()
    root = temp_dir("cosbeauty-clibench-")
    try:
        src = os.path.join(root, "in")
        os.makedirs(src)
        names = make_folder(src, args.files)
        arms = {name: (pillow_arm(src, root) if name == "pillow" else cli_arm(src, root, *ARMS[name]))
                for name in args.arms}
        arms["engine"] = engine_arm(names)
        cmp = compare(arms, args.rounds, unit="s", higher_is_better=False,
                      title=f"cosbeauty beautify on a folder of {args.files} photos",
                      note=f"{os.cpu_count()} CPUs; wall seconds from launch to exit; engine = in-process, "
                           f"warm, sequential")
    finally:
        remove(root)
    print(cmp.report(baseline="jobs1" if "jobs1" in args.arms else None))
    engine = statistics.median(cmp.values("engine"))
    print(f"\nengine's own time: {engine:.2f} s for {args.files} files ({1000 * engine / args.files:.0f} ms/file)")
    for name in args.arms:
        if name == "pillow":
            continue
        per_round = [(c - e) / args.files * 1000 for c, e in zip(cmp.values(name), cmp.values("engine"))]
        print(f"{name}: CLI overhead over the engine {statistics.median(per_round):+.0f} ms/file "
              f"(min {min(per_round):+.0f}, max {max(per_round):+.0f}; includes start-up, "
              f"{'sequential' if name == 'jobs1' else 'parallel'} run)")
    for name in args.arms:
        cpu = [s.extra["cpu"] for s in cmp.samples if s.arm == name and "cpu" in s.extra]
        if cpu:
            print(f"{name}: CPU seconds (user + system) median {statistics.median(cpu):.2f} "
                  f"(min {min(cpu):.2f}, max {max(cpu):.2f})")
    if "default" in args.arms:
        print("default chose, per round: " + ", ".join(s.extra.get("workers", "?") for s in cmp.samples
                                                      if s.arm == "default"))
    if args.json:
        save([cmp], args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
