"""Masked faces (round 16-18's ``gen_masks``): both heads pasted at 1920x1080, a mask drawn over
their own landmarks (cheek to cheek, from the nose bridge to the chin, as in
tests/imaging/test_faces_occluded*.py), JPEG q90 through the bytes path (``beautify(data, 0.5)``).

Usage: python bench/occluded_masks.py [OUT.jsonl] [--colours black navy ...] [--sizes 48 96 ...]
       [--people astronaut hopper] [--backdrops motorcycle retina] [--hair]

6 colours x 48/96/160/256 px x 2 people x 2 backdrops = 96 cases, the face centred at (760, 500).
``--hair``: instead of a mask, a dark lock from the forehead over one eye and the bridge
(tests/imaging/test_faces_known_gaps.py's case; round 15's ``check_b_occl`` hair band), 64/128/256 px,
the face at (700, 520) on the motorcycle unless ``--backdrops``/``--sizes`` say otherwise.
Prints each case (found / missed, extra boxes) and the totals by colour, size, person and backdrop.
Figures: docs/faces.md, "Occluded faces" and "Masked faces proposed by their upper face".
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections import defaultdict

import cv2
import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)

from cosbeauty.imaging import beautify, detect_faces  # noqa: E402
from tests.imaging import corpus  # noqa: E402

MASKS = {"blue": (178, 205, 228), "white": (236, 236, 232), "grey": (150, 152, 156), "pink": (236, 184, 190),
         "black": (28, 28, 32), "navy": (40, 50, 90)}
LOCK = (45, 30, 22)


def masked(person: str, px: int, colour: str, backdrop: str, cx: int = 760, cy: int = 500) -> bytes | None:
    """JPEG q90 bytes of a 1920x1080 photo with a masked face (None: the face is not found unmasked)."""
    canvas = corpus.cover(backdrop, 1920, 1080)
    corpus.paste_round(canvas, corpus.heads()[person], px, cx, cy)
    near = [f for f in detect_faces(canvas) if math.hypot(f.center[0] - cx, f.center[1] - cy) < 0.5 * px]
    if not near:
        return None
    lm = near[0].landmarks
    poly = np.array([lm[i] for i in (234, 6, 454, 365, 152, 136)], np.float64)
    poly[1] = (lm[6] + lm[168]) / 2
    cv2.fillPoly(canvas, [poly.astype(np.int32)], MASKS[colour], cv2.LINE_AA)
    return corpus.jpeg_pil(canvas, 90)


def hair(person: str, px: int, backdrop: str = "motorcycle", cx: int = 700, cy: int = 520) -> bytes | None:
    """JPEG q90 bytes of a 1920x1080 photo with a lock of hair over one eye (test_faces_known_gaps' case)."""
    canvas = corpus.cover(backdrop, 1920, 1080)
    corpus.paste_round(canvas, corpus.heads()[person], px, cx, cy)
    near = [f for f in detect_faces(corpus.decoded(corpus.jpeg_pil(canvas, 90)))
            if math.hypot(f.center[0] - cx, f.center[1] - cy) < 0.5 * px]
    if not near:
        return None
    lm = near[0].landmarks
    up = lm[10] - lm[152]
    lock = np.array([lm[10] + up * 0.15, lm[454] + up * 0.35, (lm[33] + lm[133]) / 2 - up * 0.12,
                     lm[234] - up * 0.05], np.int32)
    cv2.fillPoly(canvas, [lock], LOCK, cv2.LINE_AA)
    return corpus.jpeg_pil(canvas, 90)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", nargs="?", default="")
    ap.add_argument("--colours", nargs="+", default=list(MASKS))
    ap.add_argument("--sizes", nargs="+", type=int, default=None)
    ap.add_argument("--people", nargs="+", default=["astronaut", "hopper"])
    ap.add_argument("--backdrops", nargs="+", default=None)
    ap.add_argument("--hair", action="store_true")
    a = ap.parse_args()
    sizes = a.sizes or ([64, 128, 256] if a.hair else [48, 96, 160, 256])
    backdrops = a.backdrops or (["motorcycle"] if a.hair else ["motorcycle", "retina"])
    colours = ["lock"] if a.hair else a.colours
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    extra = 0
    out = open(a.out, "w") if a.out else None
    t0 = time.process_time()
    for backdrop in backdrops:
        for person in a.people:
            for colour in colours:
                for px in sizes:
                    centre = (700, 520) if a.hair else (760, 500)
                    data = hair(person, px, backdrop) if a.hair else masked(person, px, colour, backdrop)
                    if data is None:
                        print("SKIP", backdrop, person, colour, px, "(not found unmasked)", flush=True)
                        continue
                    r = beautify(data, 0.5)
                    boxes = [(f.x, f.y, f.width, f.height) for f in r.faces]
                    hit = [b for b in boxes if math.hypot(b[0] + b[2] / 2 - centre[0], b[1] + b[3] / 2 - centre[1]) < 0.5 * px]
                    others = len(boxes) - len(hit)
                    extra += others
                    for key in ("all", colour, f"{px} px", person, backdrop):
                        totals[key][0] += bool(hit)
                        totals[key][1] += 1
                    rec = {"backdrop": backdrop, "person": person, "colour": colour, "px": px, "found": bool(hit),
                           "extra": boxes if others else []}
                    print("FOUND " if hit else "missed", json.dumps(rec), flush=True)
                    if out:
                        out.write(json.dumps(rec) + "\n")
    for key, (n, m) in totals.items():
        print(f"{key}: {n}/{m}")
    print(f"extra (non-face) boxes: {extra}; cpu {time.process_time() - t0:.0f} s")


if __name__ == "__main__":
    main()
