"""Which small-face pass runs: the proposal pass on colour images, the window pass on grey
ones; and the turned follow-up (:data:`SMALL_TURNS`). Tests patch ``SMALL_TURNS`` here, where it
is read.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .finish import Landmarked, _finish
from .imageops import _colourful
from .proposals import _proposal_pass
from .types import Face, _Detection
from .windows import _tile_pass


SMALL_TURNS: bool | str = "auto"   # proposal pass on quarter-turned views too (faces >= 2x the smallest,
                                   # +~90 ms CPU at 1080p): True, False, or "auto" = once more when a
                                   # verified face is rolled past _SMALL_TURNS_ROLL degrees
_SMALL_TURNS_ROLL = 60             # ... (people lying down, a group upside down)


def _small_face_pass(image: np.ndarray | None, h: int, w: int,
                     scaled: tuple[np.ndarray, float, float] | None = None,
                     min_face_px: int = 20, known: Sequence[_Detection] = (),
                     max_faces: int = 10) -> list[_Detection]:
    """Faces smaller than the whole-image pass sees: the proposal pass on colour images, the
    exhaustive window pass (:func:`_tile_pass`) on colourless ones (the proposer misses tightly
    cropped grey faces; grey photos pay the full scan)."""
    src = image if image is not None else scaled[0] if scaled is not None else None
    if src is None or not _colourful(src):
        return _tile_pass(image, h, w, scaled, min_face_px)
    return _proposal_pass(image, h, w, scaled, min_face_px, known, max_faces, turned=SMALL_TURNS is True)


def _turned_followup(faces: list[Face], dets: list[_Detection], image: np.ndarray | None, h: int, w: int,
                     scaled: tuple[np.ndarray, float, float] | None, min_face_px: int, max_faces: int,
                     verify: bool, done: Landmarked | None = None) -> list[Face]:
    """``SMALL_TURNS == "auto"``: when a verified face is rolled past _SMALL_TURNS_ROLL degrees
    (people lying down, a group upside down), the proposal pass runs once more on the turned
    views only, and the faces are finished again with its candidates."""
    if SMALL_TURNS != "auto" or not any(abs(f.roll) > _SMALL_TURNS_ROLL for f in faces):
        return faces
    src = image if image is not None else scaled[0] if scaled is not None else None
    if src is None or not _colourful(src):
        return faces
    more = _proposal_pass(image, h, w, scaled, min_face_px, dets, max_faces, upright=False, turned=True)
    if not more:
        return faces
    return _finish(dets + more, image, max_faces, min_face_px, (h, w), done, verify=verify)
