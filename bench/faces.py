"""Face detection cost per case, before/after, interleaved; and the lossless JPEG path at 12 MP.

    .venv/bin/python bench/faces.py [--ref GIT_REF] [--after GIT_REF] [--beautify] [--rounds R] [--cases a,b] [--no-lossless]

``--after REF`` makes the "after" arm a clean export of REF too (the working tree holds other
people's uncommitted edits while several sessions share it); ``--beautify`` adds the bytes path
(``pipeline.beautify`` of the case as JPEG q92 at 0.5) with whether both arms' output bytes agree.

``--ref`` (default ``HEAD``) names the commit whose ``src/cosbeauty`` tree is the "before" arm:
it is extracted (``git archive``) to a temporary directory, and each arm runs in a long-lived
worker process of its own with ``PYTHONPATH`` pointing at its tree (the ref's, or the working
tree's ``src`` for "after"), so each arm uses its own ``faces.py``, ``detection/``, ``verify.py``
and ``proposer.py``. The parent sends the cases to the workers alternately (A B, B A, ...), one
call at a time, so load drift hits both arms. Each cell is the median of the rounds: wall ms /
CPU ms (``time.process_time`` in the worker: all its threads, so MediaPipe's and the helper
thread's work counts) and the faces found; the 1-minute load average is printed with every table.

Cases (all built in memory from images shipped by scikit-image/matplotlib):

* no-face 1080p: the rocket tiled to 1920x1080 (the issue's false positive; skin-like colours
  everywhere: the worst case for the skin gate) and the coffee cup scaled to 1920x1080;
* upright 1 face 1080p and 6 faces 1080p: ``tests/imaging/scenes.py`` (bench/beauty.py's);
* 12 MP group, 10 faces of 60-250 px on a noisy 4000x3000 canvas;
* rotated: the astronaut turned 135 degrees, Grace Hopper turned 200 degrees.

The lossless table: ``pipeline.beautify`` on a 4000x3000 one-face JPEG (q92) with the coefficient
splice (default) against the same call forced to decode + re-encode (``quality=92``), and the
splice alone (``jpeg_lossless.splice`` with the changed region given, as the pipeline calls it)
against a Pillow encode of the whole frame.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import cv2
import numpy as np
import skimage.data

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from tests.imaging import corpus  # noqa: E402
from tests.imaging.scenes import one_face, six_faces  # noqa: E402


def ref_tree(ref: str, into: str) -> str:
    """``src`` of commit ``ref`` extracted under ``into``; returns the path to put on PYTHONPATH."""
    archive = subprocess.run(["git", "archive", ref, "src"], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", into], input=archive, check=True)
    return os.path.join(into, "src")


class Arm:
    """One arm: a worker process (this script with ``--worker``) importing ``cosbeauty`` from
    ``src``; cases go in as JSON lines on its stdin, (wall ms, CPU ms, faces) come back."""

    def __init__(self, src: str, script: str = __file__, module: str = "faces.py") -> None:
        """``script``: the worker script (another bench can reuse this class with its own worker);
        ``module``: the file under cosbeauty/imaging/ its hello answers with."""
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([src, ROOT]))
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(script), "--worker"], env=env, cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.module = self.ask({"hello": True})["module"]
        expected = os.path.realpath(os.path.join(src, "cosbeauty", "imaging", module))
        if os.path.realpath(self.module) != expected:
            raise RuntimeError(f"worker imported {self.module}, not {expected}")

    def ask(self, request: dict) -> dict:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"worker exited ({self.proc.wait()})")
        return json.loads(line)

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(30)


def worker() -> None:
    """The worker loop: the protocol uses the original stdout; fd 1 goes to stderr (so nothing a
    library prints can corrupt it)."""
    proto = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    from cosbeauty.imaging import faces

    images: dict[str, np.ndarray] = {}
    encoded: dict[str, bytes] = {}
    for line in sys.stdin:
        req = json.loads(line)
        if req.get("hello"):
            out: dict = {"module": faces.__file__}
        else:
            name = req["case"]
            if name not in images:
                images[name] = CASES[name]()
            image = images[name]
            if req.get("beautify"):          # the bytes path: JPEG q92 in, beautify(0.5), bytes out
                out = beautify_once(name, image, encoded)
            else:
                wall, cpu, found = timed(lambda: faces.detect_faces(image, max_faces=req.get("max_faces", 10)))  # noqa: B023
                out = {"wall": wall, "cpu": cpu, "faces": len(found)}
        proto.write(json.dumps(out) + "\n")
        proto.flush()


def beautify_once(name: str, image: np.ndarray, encoded: dict[str, bytes]) -> dict:
    """One ``pipeline.beautify(jpeg, 0.5)`` of the case (encoded once, JPEG q92; the first call
    of a case warms up and is not timed): wall / CPU ms, faces, the output's SHA-256 prefix."""
    import hashlib

    from cosbeauty.imaging.pipeline import beautify

    if name not in encoded:
        encoded[name] = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()
        beautify(encoded[name], 0.5)
    wall, cpu, result = timed(lambda: beautify(encoded[name], 0.5))
    return {"wall": wall, "cpu": cpu, "faces": len(result.faces), "sha": hashlib.sha256(result.data).hexdigest()[:12]}


def group_12mp() -> np.ndarray:
    rng = np.random.default_rng(3)
    canvas = np.clip(rng.normal(170, 10, (3000, 4000, 3)), 0, 255).astype(np.uint8)
    heads = list(corpus.heads().values())
    sizes = [60, 80, 100, 140, 200, 70, 90, 120, 160, 250]
    for i, s in enumerate(sizes):
        corpus.place(canvas, heads[i % 2], s, 400 + (i % 5) * 800, 900 + (i // 5) * 1200)
    return canvas


def turned(img: np.ndarray, degrees: float) -> np.ndarray:
    return corpus.rotate(img, degrees)


CASES: dict[str, Callable[[], np.ndarray]] = {
    "no-face 1080p (rocket)": lambda: corpus._tile_to(skimage.data.rocket(), 1920, 1080),
    "no-face 1080p (coffee)": lambda: cv2.resize(skimage.data.coffee(), (1920, 1080), interpolation=cv2.INTER_CUBIC),
    "upright 1 face 1080p": lambda: one_face(1920, 1080),
    "6 faces 1080p": lambda: six_faces(1920, 1080),
    "12 MP group, 10 faces": group_12mp,
    "upright 1 face 4000x3000": lambda: one_face(4000, 3000),
    "astronaut at 135 deg": lambda: turned(corpus.astronaut(), 135),
    "Hopper at 200 deg": lambda: turned(corpus.hopper(), 200),
}


def timed(fn: Callable[[], object]) -> tuple[float, float, object]:
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return (time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000, out


def detection_table(arms: dict[str, Arm], names: list[str], rounds: int, beautify: bool = False) -> str:
    for arm in arms.values():            # graphs of every thread built before timing
        arm.ask({"case": names[0], "beautify": beautify})
    cells: dict[tuple[str, str], list[tuple[float, float, int]]] = {}
    loads = []
    order = list(arms)
    for r in range(rounds):
        for name in names:
            for arm in (order if r % 2 == 0 else order[::-1]):
                got = arms[arm].ask({"case": name, "max_faces": 20, "beautify": beautify})
                cells.setdefault((name, arm), []).append((got["wall"], got["cpu"], got["faces"], got.get("sha")))
            loads.append(os.getloadavg()[0])
    what = "beautify(JPEG q92, 0.5), bytes path" if beautify else "detect_faces"
    lines = [f"{what}, median of {rounds} interleaved rounds, wall / CPU ms (faces found); "
             f"load average (1 min) {min(loads):.2f}-{max(loads):.2f}, {os.cpu_count()} CPUs", "",
             "| case | " + " | ".join(order) + " | CPU ratio |" + (" same bytes |" if beautify else ""),
             "| --- |" + " --- |" * (len(order) + 1 + beautify)]
    for name in names:
        row = []
        for arm in order:
            s = cells[(name, arm)]
            row.append(f"{statistics.median(x[0] for x in s):.0f} / {statistics.median(x[1] for x in s):.0f} "
                       f"({s[-1][2]})")
        ratio = statistics.median(b[1] / max(a[1], 1e-6) for a, b in zip(cells[(name, order[-1])], cells[(name, order[0])]))
        same = ""
        if beautify:        # every arm gave the same output bytes in every round
            same = f" {len({x[3] for arm in order for x in cells[(name, arm)]}) == 1} |"
        lines.append(f"| {name} | " + " | ".join(row) + f" | {ratio:.2f}x |" + same)
    return "\n".join(lines)


def lossless_table(rounds: int) -> str:
    from PIL import Image

    from cosbeauty.imaging import jpeg_lossless, pipeline

    rgb = one_face(4000, 3000)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=92)
    data = buf.getvalue()
    if not jpeg_lossless.available():
        return "lossless: libturbojpeg not installed"
    pipeline.beautify(data, 0.5)
    samples: dict[str, list[tuple[float, float]]] = {}
    decoded = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    after = decoded.copy()
    after[1000:1400, 1800:2200] //= 2              # a 400x400 px change: a face-sized retouch
    arms = {
        "beautify, coefficient splice": lambda: pipeline.beautify(data, 0.5),
        "beautify, decode + re-encode (quality=92)": lambda: pipeline.beautify(data, 0.5, quality=92),
        "splice only (400x400 changed, region given as the pipeline does)":
            lambda: jpeg_lossless.splice(data, [decoded[1000:1400, 1800:2200].copy()], after, [(1800, 1000, 2200, 1400)]),
        "Pillow encode only (whole frame q92)": lambda: Image.fromarray(after).save(io.BytesIO(), "JPEG", quality=92),
    }
    loads = []
    for r in range(rounds):
        for name in (list(arms) if r % 2 == 0 else list(arms)[::-1]):
            wall, cpu, _ = timed(arms[name])
            samples.setdefault(name, []).append((wall, cpu))
        loads.append(os.getloadavg()[0])
    lines = [f"4000x3000 JPEG q92, one face, median of {rounds} interleaved rounds; load average "
             f"{min(loads):.2f}-{max(loads):.2f}", "", "| path | wall ms | CPU ms |", "| --- | --- | --- |"]
    for name, s in samples.items():
        lines.append(f"| {name} | {statistics.median(x[0] for x in s):.0f} | {statistics.median(x[1] for x in s):.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default="HEAD", help="git ref of the 'before' src/cosbeauty tree ('' = none)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    parser.add_argument("--after", default="", help="git ref of the 'after' tree (default: the working tree); "
                        "with other people's uncommitted edits in the working tree, compare two refs")
    parser.add_argument("--beautify", action="store_true", help="also the bytes path: beautify(JPEG q92, 0.5) per case, "
                        "with whether both arms gave the same bytes")
    parser.add_argument("--no-lossless", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker()
        return
    names = [n for n in CASES if not args.cases or any(c.strip() and c.strip() in n for c in args.cases.split(","))]
    scratch = tempfile.mkdtemp(prefix="cosbeauty-bench-faces-")
    arms: dict[str, Arm] = {}
    try:
        if args.ref:
            os.makedirs(os.path.join(scratch, "before"))
            arms[f"before ({args.ref})"] = Arm(ref_tree(args.ref, os.path.join(scratch, "before")))
        if args.after:
            os.makedirs(os.path.join(scratch, "after"))
            arms[f"after ({args.after})"] = Arm(ref_tree(args.after, os.path.join(scratch, "after")))
        else:
            arms["after (working tree)"] = Arm(os.path.join(ROOT, "src"))
        print(detection_table(arms, names, args.rounds))
        if args.beautify:
            print()
            print(detection_table(arms, names, args.rounds, beautify=True))
    finally:
        for arm in arms.values():
            arm.close()
        shutil.rmtree(scratch, ignore_errors=True)
    if not args.no_lossless:
        print()
        print(lossless_table(args.rounds))


if __name__ == "__main__":
    main()
