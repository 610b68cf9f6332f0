"""The last landmark try for a candidate cut by the frame: follow the mesh (:func:`follow_tries`).

The detectors box a face cut by the frame together with its reflection in their mirrored border
(or, at a corner, with three reflections), so the box is centred towards the edge, too big, and its
eye keypoints turn the ROI 10-20 degrees. On that ROI the landmark model often sees no face
(presence < 0.5, MediaPipe's gate, so :func:`.landmarks._face_try` stops there), yet the mesh it
returns already lies on the face: measured on ``bench/faces_real.py``'s edge cases (the grey
astronaut 300 px at the top-left / top-right corner, Grace Hopper 300 px half above the frame), the
ROI made from that low-presence mesh gives presence 0.89-1.00 and a mesh within 0.02-0.10 F of the
uncut face's (0.9 F off on the reflection's box). So a cut candidate that failed every other try is
landmarked once on each border whatever the presence, and the mesh seeds an ordinary verified try
(:func:`.landmarks._face_try`: presence, verification and stability all apply). Colour faces
only: grey ones have no skin or lip colour to back the mesh, and the no-face corpus's grey rocket
cropped at a bottom-cut candidate (``test_faces_edge_calibration.negative_crops``, "rocket 323,157
bottom 0.5") gave a followed mesh that passed every check (stability 0.09 F).
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from .common import Face, _Detection

Landmark = Callable[[int], "tuple[np.ndarray, float] | None"]
Try = Callable[[_Detection, int], "Face | None"]

ENABLED = True
MAX_SIDE = 0.5     # follow_wanted: candidates up to this x the image's short side
BORDERS = (cv2.BORDER_REPLICATE, cv2.BORDER_REFLECT_101)


def follow_wanted(det: _Detection, shape: tuple[int, ...]) -> bool:
    """Only big candidates (:func:`.onframe.big`: 100 px and more at 1080p) up to MAX_SIDE of the
    short side: the faces it found were 300 px ones at 1080p (small cut faces have the box and
    upright tries of :mod:`.cutbox`), and on every cut candidate it cost the no-face 1080p coffee
    photo +14 % CPU (its cup, a 1000 px candidate at 0.56: two more landmark calls and their tries)."""
    from .onframe import big

    side = max(det.box[2] - det.box[0], det.box[3] - det.box[1])
    return big(side, shape[0], shape[1]) and side <= MAX_SIDE * min(shape[0], shape[1])


def follow_tries(det: _Detection, landmark: Landmark, try_: Try) -> Face | None:
    """``landmark(border)``: the landmark model's (points, presence) on ``det``'s own ROI;
    ``try_(seed, border)``: the verified landmark try. For each border, the mesh of ``det``'s ROI
    (any presence) seeds a verified try on the same border; a grey face found so is not kept."""
    if not ENABLED:
        return None
    for border in BORDERS:
        got = landmark(border)
        if got is None:
            continue
        pts = got[0][:468]
        seed = _Detection(box=np.r_[pts.min(axis=0), pts.max(axis=0)].astype(np.float64), score=det.score,
                          eyes=np.stack([pts[33], pts[263]]).astype(np.float64), coarse=True)
        face = try_(seed, border)
        if face is not None and not face.checks.get("grey"):
            return face
    return None
