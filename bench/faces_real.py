"""Recall on real photo backgrounds (round 14's independent check, kept as a standing bench).

Usage: python bench/faces_real.py [--check angles|edges|beside|both] [--modes colour grey] [--sizes 40 96 300]
       [--path bytes|array] [--stride 15]

Both head photos of the suite (``tests/imaging/corpus.heads()``) are pasted with a soft round mask
on scikit-image photos scaled to cover 1920x1080 (coffee, chelsea, rocket, brick, page, grass: page,
grass and brick are greyscale photos, so a colour face there sits on a grey backdrop), saved as JPEG
q85 and run through the server's bytes path (``pipeline.beautify``) or ``detect_faces`` on the
decoded pixels (``--path array``).

* ``angles``: each face turned every ``--stride`` degrees (0-345), one face per image, at each size;
* ``edges``: faces 25/40/50 % of their size outside each side and corner (corners: on both axes);
* ``beside``: a small face (``--sizes``, default 24/32/48/64/80 px) upright and turned +-20 degrees
  beside one big face of the other person (260/400 px, right of centre): the portrait fast path's
  look (``detection/beside.py``). Only the small face is counted; the big one is no false face.

Prints found / total per mode, size and (edges) side, the misses, and the CPU time per image
(``time.process_time``, all threads). A face counts as found when a returned box's centre lies
within 0.5 x size (+0.15 x the box's width) of the pasted face's centre; any other box is a false
face. Figures of round 14 are in docs/faces.md ("An independent check on unseen inputs").
"""

from __future__ import annotations

import argparse
import io
import math
import os
import sys
import time

import cv2
import numpy as np
import skimage.data
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tests.imaging import corpus  # noqa: E402

from cosbeauty.imaging import detect_faces  # noqa: E402
from cosbeauty.imaging.pipeline import beautify  # noqa: E402

BACKGROUNDS = ("coffee", "chelsea", "rocket", "brick", "page", "grass")
W, H = 1920, 1080


def background(name: str) -> np.ndarray:
    photo = corpus._rgb(getattr(skimage.data, name)())
    k = max(W / photo.shape[1], H / photo.shape[0])
    big = cv2.resize(photo, (math.ceil(photo.shape[1] * k), math.ceil(photo.shape[0] * k)), interpolation=cv2.INTER_CUBIC)
    y0, x0 = (big.shape[0] - H) // 2, (big.shape[1] - W) // 2
    return np.ascontiguousarray(big[y0:y0 + H, x0:x0 + W])


def paste(canvas: np.ndarray, head: np.ndarray, face_px: int, cx: int, cy: int, degrees: float = 0.0) -> None:
    """``head`` turned ``degrees`` counter-clockwise, its face ``face_px`` wide, centred at (cx, cy),
    with a soft round mask (no square seam); the part outside the canvas is dropped
    (:func:`tests.imaging.corpus.paste_round`, the same paste the tests use)."""
    corpus.paste_round(canvas, head, face_px, cx, cy, degrees)


def boxes(rgb: np.ndarray, path: str) -> list[tuple[float, float, float]]:
    """(centre x, centre y, width) of each face found, through the bytes path or detect_faces."""
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=85)
    if path == "bytes":
        return [(b.x + b.width / 2, b.y + b.height / 2, b.width) for b in beautify(out.getvalue(), 0.5).faces]
    decoded = np.asarray(Image.open(io.BytesIO(out.getvalue())).convert("RGB"))
    return [(f.box[0] + f.box[2] / 2, f.box[1] + f.box[3] / 2, f.box[2]) for f in detect_faces(decoded)]


def cases(check: str, sizes: list[int], stride: int):
    """(label, size, person, degrees, background, cx, cy, big) of each image; ``big``: (size, person,
    cx, cy) of a big face pasted too (``beside``), else None."""
    k = 0
    for size in sizes:
        for person in ("astronaut", "hopper"):
            if check == "angles":
                for i, deg in enumerate(range(0, 360, stride)):
                    yield (f"{deg}", size, person, deg, BACKGROUNDS[i % len(BACKGROUNDS)],
                           400 + (i * 137) % 1100, 300 + (i * 71) % 480, None)
            elif check == "beside":
                other = "hopper" if person == "astronaut" else "astronaut"
                for big in (260, 400):
                    for deg in (0, 20, -20):
                        k += 1
                        yield (f"beside {big} {deg}", size, person, deg, BACKGROUNDS[(k + k // 6) % len(BACKGROUNDS)],
                               300 + (k * 53) % 300, 620 + (k * 37) % 220, (big, other, 1300, 480))
            else:
                for frac in (0.25, 0.4, 0.5):
                    for side in ("left", "right", "top", "bottom", "tl", "tr", "bl", "br"):
                        k += 1
                        off = size * (0.5 - frac)
                        cx = {"left": off, "right": W - off}.get(side, 400 + (k * 97) % 1100)
                        cy = {"top": off, "bottom": H - off}.get(side, 200 + (k * 53) % 600)
                        if len(side) == 2:
                            cy = off if side[0] == "t" else H - off
                            cx = off if side[1] == "l" else W - off
                        yield (f"{side} {frac}", size, person, 0, BACKGROUNDS[k % len(BACKGROUNDS)], round(cx), round(cy),
                               None)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", choices=("angles", "edges", "beside", "both"), default="both")
    ap.add_argument("--modes", nargs="+", default=["colour", "grey"], choices=("colour", "grey"))
    ap.add_argument("--sizes", nargs="+", type=int, help="face sizes (default 40 96 300; beside: 24 32 48 64 80)")
    ap.add_argument("--path", choices=("bytes", "array"), default="bytes")
    ap.add_argument("--stride", type=int, default=15)
    args = ap.parse_args()
    heads = corpus.heads()
    photos = {name: background(name) for name in BACKGROUNDS}
    for check in (("angles", "edges") if args.check == "both" else (args.check,)):
        for mode in args.modes:
            found: dict[int, list[int]] = {}
            misses, false_faces, cpu = [], 0, []
            sizes = args.sizes or ([24, 32, 48, 64, 80] if check == "beside" else [40, 96, 300])
            for label, size, person, deg, bg, cx, cy, big in cases(check, sizes, args.stride):
                canvas = photos[bg].copy()
                if big is not None:
                    paste(canvas, heads[big[1]], big[0], big[2], big[3])
                paste(canvas, heads[person], size, cx, cy, deg)
                if mode == "grey":
                    canvas = np.repeat(cv2.cvtColor(canvas, cv2.COLOR_RGB2GRAY)[..., None], 3, 2)
                t = time.process_time()
                got = boxes(canvas, args.path)
                cpu.append((time.process_time() - t) * 1000)
                hit = [math.hypot(x - cx, y - cy) <= 0.5 * size + 0.15 * bw for x, y, bw in got]
                tally = found.setdefault(size, [0, 0])
                tally[0] += any(hit)
                tally[1] += 1
                on_big = [big is not None and math.hypot(x - big[2], y - big[3]) <= 0.5 * big[0] + 0.15 * bw
                          for x, y, bw in got]
                false_faces += sum(not h and not b for h, b in zip(hit, on_big))
                if not any(hit):
                    misses.append(f"{size} {person[:4]} {label} {bg}")
            total = sum(v[0] for v in found.values()), sum(v[1] for v in found.values())
            by_size = ", ".join(f"{s} px {v[0]}/{v[1]}" for s, v in found.items())
            print(f"{check}, {mode} ({args.path} path): {total[0]}/{total[1]} ({by_size}); false faces {false_faces}; "
                  f"CPU median {np.median(cpu):.0f} ms")
            print(f"  missed: {'; '.join(misses) if misses else 'none'}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
