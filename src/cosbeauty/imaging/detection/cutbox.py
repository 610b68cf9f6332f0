"""The last landmark try for a small candidate cut at the top or bottom of the frame: upright
ROIs the size of its box (:func:`box_tries`).

The detectors box a small face cut at the top or bottom together with its reflection in their
mirrored border, or with the hair and neck around it: boxes 1.3x the face's landmark box or more,
centred up to a quarter of the box from the face towards the edge. MediaPipe's ROI (1.5x the box)
then shows the landmark model the face at half the size it expects, and it finds none (the grey
astronaut 24 px with 25 % of her face above / below a 1080p frame: presence < 0.5 on every try);
on an upright ROI the size of the box it does (presence 1.0, mesh within 1 px of the face), at
the bottom with the ROI moved a quarter of the box into the frame.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np

from .common import _UPRIGHT_RETRY, Face, _Detection

Try = Callable[[_Detection, int], "Face | None"]

_INWARD = 0.25     # the second ROI's centre: this x the box into the frame


def box_tries(det: _Detection, side: str, roi_angle: float, roi_size: float, h: int, w: int,
              try_: Try) -> Face | None:
    """``det`` (cut at ``side``, its MediaPipe ROI turned ``roi_angle`` and ``roi_size`` px wide)
    landmarked upright on ROIs the size of its box: at the box's centre when the upright retry
    (:func:`.landmarks._face_from_upright`, which covers turned ROIs) skipped it, then a quarter
    of the box into the frame; each on a mirrored then a replicated border. ``try_(seed,
    border)``: the verified landmark try."""
    if side not in ("top", "bottom") or roi_size > _UPRIGHT_RETRY * max(h, w):
        return None
    cx, cy = (det.box[0] + det.box[2]) / 2, (det.box[1] + det.box[3]) / 2
    side_px = max(det.box[2] - det.box[0], det.box[3] - det.box[1])
    inward = side_px * _INWARD * (1 if side == "top" else -1)
    centres = ([(cx, cy)] if abs(roi_angle) < math.radians(10) else []) + [(cx, cy + inward)]
    r = side_px / 3                     # seed box 2r: its MediaPipe ROI (x1.5) is the box
    for x, y in centres:
        seed = _Detection(box=np.array([x - r, y - r, x + r, y + r]), score=det.score,
                          eyes=np.array([[x - r / 2, y], [x + r / 2, y]]), coarse=True)
        for border in (cv2.BORDER_REFLECT_101, cv2.BORDER_REPLICATE):
            face = try_(seed, border)
            if face is not None:
                return face
    return None
