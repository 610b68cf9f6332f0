"""The data behind verify.py's rules for candidates cut by the frame (slow; prints the
distributions, docs/faces.md quotes them).

* negatives: the no-face corpus whole, and cropped so that each of its (unverified) detector
  candidates, up to 3 per image, sits 25 % / 50 % outside each side;
* positives: both people as colour and as grey heads, 60 and 150 px on a 1280x720 canvas and
  48 px on 1920x1080, 25/40/50 % outside each side.

Every candidate is taken with ``verify=False`` (all measures, stability included); a positive
candidate is one centred on the placed face. Asserted: no negative candidate passes
:func:`verify.is_face`; printed: presence, stability, eye darkness and chroma spread of the
cut (< 90 % of the mesh inside) candidates of each side. The positives are only printed, so the
suite skips them (COSBEAUTY_FULL_CALIBRATION=1 runs them: corpus.FULL_CALIBRATION).
"""

from __future__ import annotations

import numpy as np
import pytest

from cosbeauty.imaging import detect_faces, verify
from tests.imaging import corpus
from tests.imaging.test_faces_edge import grey

SIDES = ("left", "right", "top", "bottom")


def negative_crops():
    for name, img in corpus.no_face_images():
        yield name, img
        for f in detect_faces(img, verify=False)[:3]:
            x, y, w, h = f.box
            cx, cy, s = int(x + w / 2), int(y + h / 2), max(w, h)
            for side in SIDES:
                for out in (0.25, 0.5):
                    d = int(s * (0.5 - out))
                    crop = {"left": img[:, max(0, cx - d):], "right": img[:, :cx + d],
                            "top": img[max(0, cy - d):], "bottom": img[:cy + d]}[side]
                    if min(crop.shape[:2]) >= 64:
                        yield f"{name} {cx},{cy} {side} {out}", np.ascontiguousarray(crop)


def positive_canvases():
    for name, head in corpus.heads().items():
        for colour in ("colour", "grey"):
            h = head if colour == "colour" else grey(head)
            for size, (cw, ch) in ((60, (1280, 720)), (150, (1280, 720)), (48, (1920, 1080))):
                for side in SIDES:
                    for out in (0.25, 0.4, 0.5):
                        canvas = np.full((ch, cw, 3), 140, np.uint8)
                        inset = int(size * (0.5 - out))
                        cx, cy = {"left": (inset, ch // 2), "right": (cw - inset, ch // 2),
                                  "top": (cw // 2, inset), "bottom": (cw // 2, ch - inset)}[side]
                        corpus.place(canvas, h, size, cx, cy)
                        yield f"{name} {colour} {size} {side} {out}", canvas, (cx, cy, size)


def _quantiles(values: list[float]) -> str:
    if not values:
        return "-"
    q = np.percentile(values, [0, 5, 50, 95, 100])
    return f"n={len(values)} min {q[0]:.3f} p5 {q[1]:.3f} median {q[2]:.3f} p95 {q[3]:.3f} max {q[4]:.3f}"


@pytest.mark.slow
def test_cut_candidates_calibration():
    neg, pos, accepted = [], [], []
    for label, img in negative_crops():
        for f in detect_faces(img, verify=False):
            neg.append(f.checks)
            if verify.is_face(f.checks):
                accepted.append((label, f.box))
    for _label, canvas, (cx, cy, size) in positive_canvases() if corpus.FULL_CALIBRATION else ():  # printed only
        for f in detect_faces(canvas, verify=False):
            if abs(f.center[0] - cx) < 0.6 * size and abs(f.center[1] - cy) < 0.9 * size:
                pos.append(f.checks)
    for what, rows in (("faces", pos), ("no-face", neg)):
        cut = [c for c in rows if c["inside"] < verify.CUT_INSIDE]
        grey_eye = [c["eye_dark"] for c in cut if c["grey"] and c.get("eyes_inside", 0) >= 0.5]
        print(f"{what}: {len(rows)} candidates, {len(cut)} cut")
        for key in ("presence", "stability", "det_score"):
            print(f"  {key:10} {_quantiles([c[key] for c in cut])}")
        print(f"  eye_dark (grey, an iris in the frame) {_quantiles(grey_eye)}")
        print(f"  chroma_spread (colour) {_quantiles([c['chroma_spread'] for c in rows if not c['grey']])}")
        print(f"  skin_texture {_quantiles([c['skin_texture'] for c in rows])}")
    print("no-face candidates accepted:", accepted)
    assert accepted == []
