"""The harder no-face set ("neg2" in docs/faces.md): the no-face corpus whole, and cut so that each of
its detector candidates (up to 3 per image, taken unverified) sits 25 % / 50 % outside each side of
the frame (``tests/imaging/test_faces_edge_calibration.negative_crops``: 688 images), each in colour
and in grey: 1376 images, run through ``detect_faces`` (verified, the default settings).

Usage: python bench/nofaces_crops.py [part nparts]

Prints every accepted face (there should be none) and the count with the CPU spent. Earlier rounds ran
the same set from /tmp scratch scripts (/tmp/s13/edges/neg2.py, /tmp/s14/cutmesh/neg2.py).
"""
from __future__ import annotations

import os
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, ROOT)

from cosbeauty.imaging import detect_faces  # noqa: E402
from tests.imaging.test_faces_edge import grey  # noqa: E402
from tests.imaging.test_faces_edge_calibration import negative_crops  # noqa: E402


def main() -> None:
    part, nparts = (int(sys.argv[1]), int(sys.argv[2])) if len(sys.argv) > 2 else (0, 1)
    t0 = time.process_time()
    n = accepted = 0
    for i, (label, img) in enumerate(negative_crops()):
        if i % nparts != part:
            continue
        for mode, im in (("colour", img), ("grey", grey(img))):
            faces = detect_faces(im)
            n += 1
            accepted += len(faces)
            for f in faces:
                print("ACCEPTED", label, mode, im.shape[1], im.shape[0], f.box, round(f.score, 3), flush=True)
    print(f"images {n} accepted {accepted} cpu {time.process_time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
