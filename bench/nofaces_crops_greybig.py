"""``bench/nofaces_crops.py`` on the images the grey small-face looks run on only (grey, >= ~1.14 MP:
``detection.greyscan.scale_for``): :mod:`cosbeauty.imaging.detection.greysmall` changes nothing on the
others (colour images and smaller grey ones never call it).

Usage: python bench/nofaces_crops_greybig.py

Prints every accepted face (there should be none) and the count with the CPU spent.
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

from nofaces_crops import images  # noqa: E402

from cosbeauty.imaging import detect_faces  # noqa: E402
from cosbeauty.imaging.detection import greyscan  # noqa: E402
from tests.imaging.test_faces_edge import grey  # noqa: E402


def main() -> None:
    t0 = time.process_time()
    n = accepted = skipped = 0
    for label, img in images():
        if not greyscan.scale_for(*img.shape[:2]):
            skipped += 1
            continue
        im = np.ascontiguousarray(grey(img))
        faces = detect_faces(im)
        n += 1
        accepted += len(faces)
        for f in faces:
            print("ACCEPTED", label, "grey", im.shape[1], im.shape[0], f.box, round(f.score, 3), flush=True)
    print(f"grey images >= the scan's size {n} (smaller: {skipped} skipped) accepted {accepted} "
          f"cpu {time.process_time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
