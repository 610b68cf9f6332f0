"""Fingerprints of ``detect_faces`` on the benches' images, to show a change finds the very same faces.

    PYTHONPATH=<tree>/src python bench/detdump.py OUT.jsonl [--sets faces real drawn held crops] [--every N] [--part I/N]
    python bench/detdump.py --diff A.jsonl B.jsonl

One JSON line per image: its tag, the faces (box, score, presence rounded to 1e-6, and a SHA-1 prefix of
the landmark array's bytes) and the CPU ms (``time.process_time``, all threads). ``--diff`` prints the
images whose faces differ (and the CPU totals of both dumps over the images both hold).

Sets: ``faces`` (bench/faces.py's cases), ``real`` (bench/faces_real.py's angles and edges, colour and
grey, 40/96/300 px, decoded from JPEG q85 as its ``--path array``), ``drawn`` / ``held``
(bench/nofaces_drawn.py's edited set and its HELD=60 SEED=4242 held-out set, decoded), ``crops``
(bench/nofaces_crops.py's images, colour and grey). ``--every N`` keeps every N-th image of each set.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import io
import json
import os
import sys
import time
from collections.abc import Iterator
from unittest import mock

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def _bench(name: str):
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", os.path.join(ROOT, "bench", f"{name}.py"))
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(mod)
    return mod


def _decoded(data: bytes) -> np.ndarray:
    from PIL import Image

    return np.ascontiguousarray(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))


def images(sets: list[str]) -> Iterator[tuple[str, np.ndarray]]:
    """(tag, RGB uint8) of every image of ``sets``, in a fixed order."""
    import cv2
    from PIL import Image

    if "faces" in sets:
        bf = _bench("faces")
        for name, make in bf.CASES.items():
            yield f"faces/{name}", make()
    if "real" in sets:
        fr = _bench("faces_real")
        from tests.imaging import corpus

        heads = corpus.heads()
        photos = {name: fr.background(name) for name in fr.BACKGROUNDS}
        for check in ("angles", "edges"):
            for mode in ("colour", "grey"):
                for label, size, person, deg, bg, cx, cy, _big in fr.cases(check, [40, 96, 300], 15):
                    canvas = photos[bg].copy()
                    fr.paste(canvas, heads[person], size, cx, cy, deg)
                    if mode == "grey":
                        canvas = np.repeat(cv2.cvtColor(canvas, cv2.COLOR_RGB2GRAY)[..., None], 3, 2)
                    out = io.BytesIO()
                    Image.fromarray(canvas).save(out, "JPEG", quality=85)
                    yield f"real/{check}/{mode}/{size}/{person}/{label}/{bg}", _decoded(out.getvalue())
    for name, held in (("drawn", False), ("held", True)):
        if name not in sets:
            continue
        with mock.patch.dict(os.environ):          # HELD/SEED restored afterwards
            if held:
                os.environ.update(HELD="60", SEED="4242")
            else:
                os.environ.pop("HELD", None)
            nd = _bench("nofaces_drawn")
            for tag, data in nd.cases():
                yield f"{name}/{tag}", _decoded(data)
    if "crops" in sets:
        nc = _bench("nofaces_crops")
        for label, img in nc.images():
            yield f"crops/colour/{label}", np.ascontiguousarray(img)
            yield f"crops/grey/{label}", np.ascontiguousarray(nc.grey(img))


def fingerprint(faces: list) -> list:
    return [[list(map(int, f.box)), round(float(f.score), 6), round(float(f.presence), 6),
             hashlib.sha1(np.ascontiguousarray(f.landmarks).tobytes()).hexdigest()[:12]] for f in faces]


def dump(out: str, sets: list[str], every: int, part: tuple[int, int]) -> None:
    from cosbeauty.imaging import faces as faces_mod

    print("detect_faces from", faces_mod.__file__, flush=True)
    n = 0
    with open(out, "w") as f:
        for i, (tag, img) in enumerate(images(sets)):
            if i % every or (i // every) % part[1] != part[0]:
                continue
            t = time.process_time()
            found = faces_mod.detect_faces(img)
            cpu = (time.process_time() - t) * 1000
            f.write(json.dumps({"tag": tag, "faces": fingerprint(found), "cpu": round(cpu, 1)}) + "\n")
            f.flush()
            n += 1
    print(f"{n} images -> {out}", flush=True)


def diff(a: str, b: str) -> int:
    def load(p: str) -> dict[str, dict]:
        with open(p) as f:
            return {r["tag"]: r for r in map(json.loads, f)}

    ra, rb = load(a), load(b)
    both = [t for t in ra if t in rb]
    bad = [t for t in both if ra[t]["faces"] != rb[t]["faces"]]
    for t in bad:
        print("DIFF", t, "\n   a:", ra[t]["faces"], "\n   b:", rb[t]["faces"])
    by_set: dict[str, list[float]] = {}
    for t in both:
        s = by_set.setdefault(t.split("/")[0], [0.0, 0.0, 0])
        s[0] += ra[t]["cpu"]
        s[1] += rb[t]["cpu"]
        s[2] += 1
    for s, (ca, cb, k) in by_set.items():
        print(f"{s}: {k} images, CPU a {ca / 1000:.1f} s, b {cb / 1000:.1f} s ({cb / max(ca, 1e-9):.2f}x)")
    print(f"{len(both)} images in both, {len(bad)} differ; only in a: {len(ra) - len(both)}, only in b: {len(rb) - len(both)}")
    return 1 if bad else 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", nargs="?")
    ap.add_argument("--sets", nargs="+", default=["faces", "real", "drawn", "held", "crops"])
    ap.add_argument("--every", type=int, default=1)
    ap.add_argument("--part", default="0/1")
    ap.add_argument("--diff", nargs=2)
    args = ap.parse_args()
    if args.diff:
        return diff(*args.diff)
    i, n = map(int, args.part.split("/"))
    dump(args.out, args.sets, args.every, (i, n))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
