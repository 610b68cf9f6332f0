"""Close-ups: a face that fills the frame, cut a little at its edges (:func:`closeup_candidates`).

The whole-image detector (full-range BlazeFace, 192 px input) boxes faces up to about the size of
its input; a face as wide as the image and cut a few percent at the top and bottom (a square avatar
or beauty crop: Grace Hopper's face 1.0-1.3x the width of a 1080x1080 or 1080x1350 frame, round
15's independent check) gets no box from the upright pass nor from the turned ones (their mirrored
border, 15 % of the long side, shows a pattern of face and reflections). With the image shown
smaller, in the middle of a flat grey border half its long side wide on each side, the detector
boxes it (0.66-0.87 on the 4 close-ups tried) and the landmarks and every check pass. One detector
call, made only when an image gave no face at all (:func:`.faces.detect_faces`); only candidates at
least :data:`MIN_SIDE` of the image's short side wide are kept (close-ups are what the other passes
miss; smaller faces are theirs).
"""

from __future__ import annotations

import cv2
import numpy as np

from .common import _Detection
from .whole import _detect_in, _whole_small

ENABLED = True
ZOOM_PAD = 0.5       # grey border on each side, x the long side of the whole-image passes' input
MIN_SIDE = 0.5       # kept candidates: box side >= this x the image's short side
_GREY = 128


def closeup_candidates(src: np.ndarray, h: int, w: int, sx: float = 1.0, sy: float = 1.0,
                       small: tuple[np.ndarray, float, float] | None = None) -> list[_Detection]:
    """Candidates of a face filling the frame: the full-range detector on the whole image (``src``
    = the h x w image scaled by (sx, sy), or ``small``, its whole-pass shrink) shown in the middle
    of a flat grey border; boxes in image pixels, those narrower than MIN_SIDE x min(h, w) dropped."""
    if not ENABLED:
        return []
    small_img, ssx, ssy = small if small is not None else _whole_small(src)
    pad = round(ZOOM_PAD * max(small_img.shape[:2]))
    padded = cv2.copyMakeBorder(np.ascontiguousarray(small_img[:, :, :3]), pad, pad, pad, pad,
                                cv2.BORDER_CONSTANT, value=(_GREY, _GREY, _GREY))
    least = MIN_SIDE * min(h, w)
    return [d for d in _detect_in(padded, -pad, -pad, sx * ssx, sy * ssy)
            if max(d.box[2] - d.box[0], d.box[3] - d.box[1]) >= least]
