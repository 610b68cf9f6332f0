"""Colour faces in an image that is grey overall (a colour face on a grey, white or black backdrop).

:func:`.imageops._colourful` sends an image whose mean chroma is under verify's grey limit down the
grey window pass: no proposal pass, no colour turned cells. A colour face on a neutral backdrop
hardly moves that mean (skimage's page, grass and brick with one 40-300 px colour face: the image is
"grey"), and the window pass found 5 of 27 such faces turned 60-345 degrees in a real-background angle
check (issue #12; /tmp/s14/turnreal/diag.md). So a grey image that still holds skin-chroma colour
(:func:`colour_patches`) also gets the colour pass (:func:`colour_candidates`: the proposal pass and
the turned cells, which only look where skin chroma is), besides the window pass (grey faces).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from .common import _SKIN_CB, _SKIN_CELL, _SKIN_CR, _Detection
from .imageops import shrink

ENABLED = True          # the colour pass on grey images with skin-chroma colour (A/B switch)
_PATCH_CHROMA = 8       # a 4x4 cell mean in the skin box with |Cr-128| + |Cb-128| from this ...
_PATCH_CELLS = 12       # ... this many of them (a 24 px face: ~30 cells): colour to look at


def colour_patches(rgb: np.ndarray) -> bool:
    """Whether ``rgb`` (an image :func:`.imageops._colourful` calls grey) holds skin-chroma colour:
    >= _PATCH_CELLS 4x4 cell means inside the skin box with chroma >= _PATCH_CHROMA. A grey
    image (R = G = B, JPEG'd) has none."""
    if not ENABLED:
        return False
    small, _, _ = shrink(rgb[:, :, :3], 1 / _SKIN_CELL)
    ycc = cv2.cvtColor(small, cv2.COLOR_RGB2YCrCb)
    cr, cb = ycc[:, :, 1].astype(np.int16), ycc[:, :, 2].astype(np.int16)
    hit = ((cr >= _SKIN_CR[0]) & (cr <= _SKIN_CR[1]) & (cb >= _SKIN_CB[0]) & (cb <= _SKIN_CB[1])
           & (np.abs(cr - 128) + np.abs(cb - 128) >= _PATCH_CHROMA))
    return int(np.count_nonzero(hit)) >= _PATCH_CELLS


def colour_candidates(image: np.ndarray | None, h: int, w: int, scaled: tuple[np.ndarray, float, float] | None,
                      min_face_px: int, known: Sequence[_Detection], max_faces: int,
                      turned: bool = False) -> list[_Detection]:
    """The colour small-face pass (the proposal pass, skin-gated, and its unexplained cells tried
    turned: :func:`.turned.turned_candidates`) on an image the window pass already scanned."""
    from .proposals import _proposal_pass
    from .turned import turned_candidates

    cells: list[tuple[float, float, float, int]] = []
    dets = _proposal_pass(image, h, w, scaled, min_face_px, known, max_faces, turned=turned, cells_out=cells)
    return dets + turned_candidates(image, scaled, cells, dets + list(known))
