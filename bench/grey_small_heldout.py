"""Held-out recall for small grey turned faces (round 20): bench/faces_real.py's two head photos, grey, 40 px
(``--size``), turned 7.5 + 15 k degrees (between faces_real's angles), on scikit-image photos faces_real
does not use (moon, text, gravel, coins, clock, hubble_deep_field), at other places; ``detect_faces`` on
the decoded grey JPEG q85. Prints found / total, the misses and the false faces.

Usage: python bench/grey_small_heldout.py [--size 40]
"""

from __future__ import annotations

import argparse
import math
import os
import sys


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tests.imaging import corpus  # noqa: E402

from cosbeauty.imaging import detect_faces  # noqa: E402

BACKDROPS = ("moon", "text", "gravel", "coins", "clock", "hubble_deep_field")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=40)
    args = ap.parse_args()
    heads = corpus.heads()
    found = total = false = 0
    misses = []
    photos = {name: corpus.cover(name, 1920, 1080) for name in BACKDROPS}
    for person in ("astronaut", "hopper"):
        for i in range(24):
            deg = 7.5 + 15 * i
            bg = BACKDROPS[(i + (person == "hopper") * 3) % len(BACKDROPS)]
            cx, cy = 250 + (i * 173) % 1400, 200 + (i * 97) % 680
            img = photos[bg].copy()
            corpus.paste_round(img, heads[person], args.size, cx, cy, deg)
            faces = detect_faces(corpus.grey_jpeg(img))
            hit = [math.hypot(f.center[0] - cx, f.center[1] - cy) <= 0.5 * args.size + 0.15 * f.cheek_width for f in faces]
            total += 1
            found += any(hit)
            false += sum(not h for h in hit)
            if not any(hit):
                misses.append(f"{person[:4]} {deg} {bg}")
            print(person[:4], deg, bg, "found" if any(hit) else "MISSED", len(faces), flush=True)
    print(f"grey {args.size} px held-out: {found}/{total}; false faces {false}")
    print(f"  missed: {'; '.join(misses) if misses else 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
