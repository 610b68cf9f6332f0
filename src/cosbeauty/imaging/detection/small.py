"""Which small-face pass runs: the proposal pass on colour images, the window pass on grey
ones; small turned faces from the proposal pass's unexplained cells (:mod:`.turned`,
:data:`SMALL_TURNED_CELLS`); and the turned follow-up (:data:`SMALL_TURNS`). Tests patch
``SMALL_TURNS`` / ``SMALL_TURNED_CELLS`` here, where they are read.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import anyangle, edgeturn, greybig, greynear, greyturned, mixed
from .finish import Landmarked, _dedupe, _finish
from .imageops import _colourful
from .proposals import _proposal_pass
from .turned import failed_sure_cells, turned_candidates
from .common import Face, _Detection
from .windows import _tile_pass, min_face


SMALL_TURNS: bool | str = "auto"   # proposal pass on quarter-turned views too (faces >= 2x the smallest,
                                   # +~90 ms CPU at 1080p): True, False, or "auto" = once more when a
                                   # verified face is rolled past _SMALL_TURNS_ROLL degrees
_SMALL_TURNS_ROLL = 60             # ... (people lying down, a group upside down)
SMALL_TURNED_CELLS = True          # the upright pass's unexplained cells confirmed turned (.turned: small
                                   # faces at 90-270 degrees, +~5-10 ms CPU on a no-face 1080p photo) ...
GREY_TURNED_CELLS = True           # grey images: the window pass's unexplained detections (most under its
                                   # threshold) pre-scored and confirmed turned (.greyturned), and after the
                                   # faces are finished, the grey turned candidates no verified face explains
                                   # landmarked alone (:func:`_grey_followup`)
_FOLLOW_BIG = 4                    # ... and then "auto" follows up only rolled faces >= this x the smallest
                                   # (a group upside down): the turned cells found the small ones


def _small_face_pass(image: np.ndarray | None, h: int, w: int,
                     scaled: tuple[np.ndarray, float, float] | None = None,
                     min_face_px: int = 20, known: Sequence[_Detection] = (),
                     max_faces: int = 10, later: list[_Detection] | None = None) -> list[_Detection]:
    """Faces smaller than the whole-image pass sees: the proposal pass on colour images, the
    exhaustive window pass (:func:`_tile_pass`) on colourless ones (the proposer misses tightly
    cropped grey faces; grey photos pay the full scan). On colour images, the proposal cells no
    sure detection explains are tried turned too (:func:`.turned.turned_candidates`), and those at
    the frame's edges moved inward and enlarged (:func:`.edgeturn.candidates`; the ones another
    candidate overlaps go to ``later``, for :func:`later_faces`, when given)."""
    src = image if image is not None else scaled[0] if scaled is not None else None
    if src is None or not _colourful(src):
        if not GREY_TURNED_CELLS:
            return _tile_pass(image, h, w, scaled, min_face_px)
        rows: list[_Detection] = []
        dets = _tile_pass(image, h, w, scaled, min_face_px, near_out=rows)
        dets += greyturned.grey_turned_candidates(image, scaled, dets + rows, dets + list(known),
                                                  min_face(h, w, min_face_px))
        dets += greybig.candidates(image, h, w, scaled, dets)  # large grey faces turned (.greybig)
        dets += greynear.candidates(image, scaled, rows, dets)   # small upright grey faces under the threshold (.greynear)
        if src is not None and mixed.colour_patches(src):      # colour faces on a grey backdrop (.mixed)
            dets += mixed.colour_candidates(image, h, w, scaled, min_face_px, dets + list(known), max_faces)
        return dets
    if not SMALL_TURNED_CELLS:
        return _proposal_pass(image, h, w, scaled, min_face_px, known, max_faces, turned=SMALL_TURNS is True)
    cells: list[tuple[float, float, float, int]] = []
    dets = _proposal_pass(image, h, w, scaled, min_face_px, known, max_faces, turned=SMALL_TURNS is True,
                          cells_out=cells)
    dets += turned_candidates(image, scaled, cells, dets + list(known))
    # faces cut by the frame and turned: the edge cells, moved inward and enlarged, turned (.edgeturn)
    return dets + edgeturn.candidates(image, scaled, cells, h, w, dets + list(known), later, min_face_px)


def later_faces(faces: list[Face], later: Sequence[_Detection], image: np.ndarray | None, h: int, w: int,
                min_face_px: int, max_faces: int, verify: bool) -> list[Face]:
    """The deferred edge candidates (:func:`_small_face_pass`'s ``later``) with no verified face
    centred within half their box, landmarked alone; the faces found so are added to ``faces``."""
    todo = [d for d in later if not any(abs(f.center[0] - (d.box[0] + d.box[2]) / 2) < 0.5 * (d.box[2] - d.box[0])
                                        and abs(f.center[1] - (d.box[1] + d.box[3]) / 2) < 0.5 * (d.box[3] - d.box[1])
                                        for f in faces)]
    if not todo:
        return faces
    new = _finish(todo, image, max_faces, min_face_px, (h, w), verify=verify)
    if not new:
        return faces
    return _dedupe(sorted(faces + new, key=lambda f: (-f.cheek_width, f.box)))[:max_faces]


def _turned_followup(faces: list[Face], dets: list[_Detection], image: np.ndarray | None, h: int, w: int,
                     scaled: tuple[np.ndarray, float, float] | None, min_face_px: int, max_faces: int,
                     verify: bool, done: Landmarked | None = None) -> list[Face]:
    """``SMALL_TURNS == "auto"``: when a verified face is rolled past _SMALL_TURNS_ROLL degrees
    (people lying down, a group upside down), the proposal pass runs once more on the turned
    views only, and the faces are finished again with its candidates."""
    if GREY_TURNED_CELLS:
        faces = _grey_followup(faces, dets, image, h, w, scaled, min_face_px, max_faces, verify)
    if SMALL_TURNED_CELLS:
        faces = _failed_sure_turned(faces, dets, image, h, w, scaled, min_face_px, max_faces, verify, done)
    faces = anyangle.followup(faces, dets, image, h, w, scaled, min_face_px, max_faces, verify)
    # with the turned cells on, a small rolled face was found by them: only a big one (a group
    # upside down, its small faces' proposals crowded out) calls for the turned scan
    least = _FOLLOW_BIG * min_face(h, w, min_face_px) if SMALL_TURNED_CELLS else 0.0
    if SMALL_TURNS != "auto" or not any(abs(f.roll) > _SMALL_TURNS_ROLL and f.cheek_width >= least for f in faces):
        return faces
    src = image if image is not None else scaled[0] if scaled is not None else None
    if src is None or not _colourful(src):
        return faces
    more = _proposal_pass(image, h, w, scaled, min_face_px, dets, max_faces, upright=False, turned=True)
    if not more:
        return faces
    return _finish(dets + more, image, max_faces, min_face_px, (h, w), done, verify=verify)


def _failed_sure_turned(faces: list[Face], dets: list[_Detection], image: np.ndarray | None, h: int, w: int,
                        scaled: tuple[np.ndarray, float, float] | None, min_face_px: int, max_faces: int,
                        verify: bool, done: Landmarked | None) -> list[Face]:
    """Sure small candidates that gave no verified face, looked at turned
    (:func:`.turned.failed_sure_cells`); the faces finished again when that found candidates."""
    src = image if image is not None else scaled[0] if scaled is not None else None
    if src is None or not (_colourful(src) or mixed.colour_patches(src)):
        return faces
    cells = failed_sure_cells(faces, dets, min_face(h, w, min_face_px))
    more = turned_candidates(image, scaled, cells, []) if cells else []
    if not more:
        return faces
    return _finish(dets + more, image, max_faces, min_face_px, (h, w), done, verify=verify)


def _grey_followup(faces: list[Face], dets: list[_Detection], image: np.ndarray | None, h: int, w: int,
                   scaled: tuple[np.ndarray, float, float] | None, min_face_px: int, max_faces: int,
                   verify: bool) -> list[Face]:
    """Grey images: the sure small window detections no verified face explains are looked at
    turned (:func:`.greyturned.failed_sure_places`), and the grey turned candidates no verified
    face explains are landmarked alone (:func:`.greyturned.pending`: merged with the upright window
    detections of the same turned face, which score more, they were tried with upright eyes);
    the faces found so are added to ``faces``."""
    src = image if image is not None else scaled[0] if scaled is not None else None
    if src is None or _colourful(src):
        return faces
    more = greyturned.failed_sure_places(image, scaled, faces, dets, min_face(h, w, min_face_px))
    todo = greyturned.pending(list(dets) + more, faces)
    if not todo:
        return faces
    new = _finish(todo, image, max_faces, min_face_px, (h, w), verify=verify)
    if not new:
        return faces
    out = sorted(faces + new, key=lambda f: (-f.cheek_width, f.box))
    return _dedupe(out)[:max_faces]
