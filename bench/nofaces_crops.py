"""The harder no-face set ("neg2" in docs/faces.md): the no-face corpus whole, cut 10/20/40/80 px at each
side, and cut so that each of its detector candidates (up to 3 per image, taken unverified) sits 25 % /
50 % outside each side of the frame (``tests/imaging/test_faces_edge_calibration.negative_crops``), each
in colour and in grey, run through ``detect_faces`` (verified, the default settings). Rounds 13-17 ran
1376 images from /tmp scripts; the candidate crops depend on the detector's unverified candidates, so
their number moves with the code (220 images of them on round 18's code).

Usage: python bench/nofaces_crops.py [part nparts]

Prints every accepted face (there should be none) and the count with the CPU spent.
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, ROOT)

from cosbeauty.imaging import detect_faces  # noqa: E402
from tests.imaging import corpus  # noqa: E402
from tests.imaging.test_faces_edge import grey  # noqa: E402
from tests.imaging.test_faces_edge_calibration import negative_crops  # noqa: E402

CUTS = (10, 20, 40, 80)       # px cut off one side of a whole no-face image


def images():
    """(label, RGB uint8): the candidate crops (and whole images), then every side cut."""
    yield from negative_crops()
    for name, img in corpus.no_face_images():
        h, w = img.shape[:2]
        for px in CUTS:
            for side, crop in (("left", img[:, px:]), ("right", img[:, :w - px]), ("top", img[px:]),
                               ("bottom", img[:h - px])):
                if min(crop.shape[:2]) >= 64:
                    yield f"{name} cut {px} {side}", crop


def main() -> None:
    part, nparts = (int(sys.argv[1]), int(sys.argv[2])) if len(sys.argv) > 2 else (0, 1)
    t0 = time.process_time()
    n = accepted = 0
    for i, (label, img) in enumerate(images()):
        if i % nparts != part:
            continue
        for mode, im in (("colour", img), ("grey", grey(img))):
            faces = detect_faces(np.ascontiguousarray(im))
            n += 1
            accepted += len(faces)
            for f in faces:
                print("ACCEPTED", label, mode, im.shape[1], im.shape[0], f.box, round(f.score, 3), flush=True)
    print(f"images {n} accepted {accepted} cpu {time.process_time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
