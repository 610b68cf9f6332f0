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
WIDE = True        # candidates cut at a corner too, big ones included (:func:`wide_tries`)
WIDE_MAX = 0.5     # ... up to this x the image's short side
_WIDE_SEEDS = ((1.0, 0.0), (1.0, 0.15), (0.8, 0.15))   # ... (ROI / box side, its centre this x the box
                                                        # into the frame on each axis the box is cut)


def box_tries(det: _Detection, side: str, roi_angle: float, roi_size: float, h: int, w: int,
              try_: Try) -> Face | None:
    """``det`` (cut at ``side``, its MediaPipe ROI turned ``roi_angle`` and ``roi_size`` px wide)
    landmarked upright on ROIs the size of its box: at the box's centre when the upright retry
    (:func:`.landmarks._face_from_upright`, which covers turned ROIs) skipped it, then a quarter
    of the box into the frame; each on a mirrored then a replicated border. ``try_(seed,
    border)``: the verified landmark try."""
    if side not in ("top", "bottom") or roi_size > _UPRIGHT_RETRY * max(h, w):
        return wide_tries(det, h, w, try_)
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


def wide_tries(det: _Detection, h: int, w: int, try_: Try) -> Face | None:
    """``det``'s box reaching past the frame at a corner (past two edges; up to WIDE_MAX of the
    short side) landmarked upright on ROIs the size of its box (:data:`_WIDE_SEEDS`), on a mirrored
    border.

    A face cut by the frame is boxed together with its reflection (at a corner with three), so the
    box is 1.2-1.5x the face and MediaPipe's ROI (1.5x the box) shows the landmark model the face
    at half the size it expects, centred towards the edge: Grace Hopper 96 px a quarter out at the
    bottom-right corner of a 1080p photo (face at 1896,1056) was boxed 118-147 px and every try
    gave presence < 0.5; upright on an ROI the size of the box, moved onto the frame
    (:func:`.onframe.onto_frame`), presence 1.0 and a verified mesh. Corners only: at a single edge
    the candidates the no-face 1080p photos gave (hubble_deep_field six, rocket one, scores
    0.43-0.63) cost 3 landmark tries each, and of the bench's side misses they found one, in one
    of two runs (the astronaut 300 px half above the frame)."""
    if not WIDE:
        return None
    x0, y0, x1, y1 = (float(v) for v in det.box)
    side_px = max(x1 - x0, y1 - y0)
    nx = 1 if x0 < 0 else -1 if x1 > w else 0
    ny = 1 if y0 < 0 else -1 if y1 > h else 0
    if not (nx and ny) or side_px > WIDE_MAX * min(h, w):
        return None
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    for k, inward in _WIDE_SEEDS:
        x, y, r = cx + nx * inward * side_px, cy + ny * inward * side_px, side_px * k / 3
        seed = _Detection(box=np.array([x - r, y - r, x + r, y + r]), score=det.score,
                          eyes=np.array([[x - r / 2, y], [x + r / 2, y]]), coarse=True)
        face = try_(seed, cv2.BORDER_REFLECT_101)
        if face is not None:
            return face
    return None
