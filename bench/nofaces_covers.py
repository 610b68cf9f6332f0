"""No-face photos at common camera sizes (round 20): every scikit-image sample photo without a person,
scaled (cubic) to cover 1920x1080, 1280x960 and 4000x3000 and centre-cropped, JPEG q85, in colour and
in grey, through ``detect_faces``. ``nofaces_crops`` runs the same photos at their own size (512 px and
so); scaled up they meet other passes (the grey strips from ~1.14 MP, the window pass's scales): round 20
found scikit-image's gravel at 1920x1080 and its moon at 1280x960 and 4000x3000 edited that way.

Usage: python bench/nofaces_covers.py [name ...]

Prints every face found (there should be none) and the count with the CPU spent.
"""
from __future__ import annotations

import io
import os
import sys
import time

import numpy as np
from PIL import Image

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, ROOT)

from cosbeauty.imaging import detect_faces  # noqa: E402
from tests.imaging import corpus  # noqa: E402

NAMES = ("gravel", "brick", "coffee", "chelsea", "rocket", "page", "grass", "moon", "text", "coins", "clock",
         "horse", "hubble_deep_field", "immunohistochemistry", "logo", "motorcycle", "retina",
         "shepp_logan_phantom", "colorwheel", "cat", "cell", "microaneurysms", "checkerboard", "binary_blobs")
SIZES = ((1920, 1080), (1280, 960), (4000, 3000))


def _decoded(img: np.ndarray) -> np.ndarray:
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(img)).save(out, "JPEG", quality=85)
    return np.asarray(Image.open(io.BytesIO(out.getvalue())).convert("RGB"))


def main(names: list[str]) -> int:
    found, images, cpu = 0, 0, 0.0
    for name in names:
        for w, h in SIZES:
            img = corpus.cover(name, w, h)
            for mode in ("colour", "grey"):
                t = time.process_time()
                faces = detect_faces(_decoded(corpus.grey_jpeg(img) if mode == "grey" else img))
                cpu += time.process_time() - t
                images += 1
                for f in faces:
                    found += 1
                    print(f"{name} {w}x{h} {mode}: face {f.box} det {f.checks.get('det_score', 0):.2f} "
                          f"inside {f.checks.get('inside', 1):.2f}", flush=True)
    print(f"{images} images, {found} faces found (should be 0), CPU {cpu:.0f} s")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or list(NAMES)))
