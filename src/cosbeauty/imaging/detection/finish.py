"""Stage 2 over all candidates: select, landmark and verify them in parallel, drop faces too
small or duplicated, largest first.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .. import verify_cut
from ..verify import CUT_INSIDE
from .candidates import _select
from .landmarks import _face_from, _landmarks, _roi_from_landmarks
from .onframe import onto_frame
from .threads import pmap
from .common import _ALTERNATES, Face, _Detection, _Roi


class Landmarked(dict[int, tuple[_Detection, "Face | None"]]):
    """Candidates landmarked so far: id -> (the candidate, its face or None). The entry holds the
    candidate: an id is only unique while its object lives, and merged candidates are made anew by
    every :func:`_finish` call (keyed by id alone, a later call's candidate at a freed address was
    handed another candidate's face).

    Made for one image (``Landmarked(image)``, as :func:`.faces.detect_faces` does for each call),
    it also remembers each face by what decides it (:func:`view_key`: the candidate's box, score,
    eye keypoints and coarseness, and those of the alternates :func:`.landmarks._face_from` would
    try), so a later :func:`_finish` on the same image -- the turned follow-ups finish every
    candidate again with their new ones -- does not landmark the same candidate twice: the very
    same computation, its result reused. Only for that very image object (``image is``)."""

    def __init__(self, image: np.ndarray | None = None) -> None:
        super().__init__()
        self.image = image
        self.views: dict[tuple, Face | None] = {}


def _view(d: _Detection) -> tuple:
    box, eyes = np.asarray(d.box), np.asarray(d.eyes)
    return (box.dtype.str, box.shape, box.tobytes(), float(d.score), eyes.dtype.str, eyes.shape, eyes.tobytes(),
            bool(d.coarse))


def view_key(d: _Detection, check: bool) -> tuple:
    """What :func:`.landmarks._face_from` ``(d, image, check=check)`` depends on besides the image:
    ``d``'s box, score, eyes and coarseness, and those of its first _ALTERNATES alternates by score
    (in the order it tries them)."""
    alts = sorted(d.alts, key=lambda a: -a.score)[:_ALTERNATES]
    return (bool(check), _view(d), tuple(_view(a) for a in alts))


def _dedupe(faces: list[Face]) -> list[Face]:
    """Drop faces whose landmark centre lies within 0.3 F of a kept (larger) face."""
    kept: list[Face] = []
    for face in faces:
        cx, cy = face.center
        if all(math.hypot(cx - k.center[0], cy - k.center[1]) > 0.3 * max(k.cheek_width, 1.0)
               for k in kept):
            kept.append(face)
    return kept


def _extent(face: Face) -> float:
    """The shorter side of the face's landmark extent, outside the frame included (its box is
    clipped to the frame: a 24 px face half outside is 12 px of box)."""
    pts = face.landmarks[:468]
    return float(min(np.ceil(pts.max(axis=0)) - np.floor(pts.min(axis=0)) + 1))   # as the box, unclipped


def _flat_view(face: Face, image: np.ndarray) -> bool:
    """:mod:`.verify_cut`'s second look at an asymmetric face cut between its eyes and its lips:
    the landmark model's presence on the face's ROI with the part outside the frame filled flat
    instead of mirrored (stored in ``face.checks["flat_presence"]``, computed once). True: it
    stays a face."""
    if verify_cut.needs_flat_view(face.checks, CUT_INSIDE):
        roi = _roi_from_landmarks(face.landmarks)
        half = roi.size * (abs(math.cos(roi.angle)) + abs(math.sin(roi.angle))) / 2 + 2
        crop, x0, y0 = verify_cut.flat_fill(image, roi.cx, roi.cy, half)
        got = _landmarks(crop, _Roi(roi.cx - x0, roi.cy - y0, roi.size, roi.angle), 1.0, cv2.BORDER_REPLICATE)
        face.checks["flat_presence"] = got[1] if got is not None else 0.0
    return not verify_cut.reflection_fails(face.checks)


def _finish(dets: list[_Detection], image: np.ndarray | None, max_faces: int, min_face_px: int,
            shape: tuple[int, int], done: Landmarked | None = None,
            verify: bool = True) -> list[Face]:
    """Merge, landmark and verify (in parallel; ``done`` holds faces already landmarked, by id
    of their detection, with the detection itself so that id stays taken), filter, sort, dedupe."""
    h, w = shape
    dets = _select(onto_frame(dets, h, w), max_faces, min_face_px, h, w)
    done = {} if done is None else done
    views = done.views if isinstance(done, Landmarked) and done.image is image and image is not None else None
    todo = [d for d in dets if id(d) not in done]
    if views is not None:           # the same candidate landmarked by an earlier call on this image
        keys = {id(d): view_key(d, verify) for d in todo}
        done.update((id(d), (d, views[keys[id(d)]])) for d in todo if keys[id(d)] in views)
        todo = [d for d in todo if id(d) not in done]
    if todo:
        assert image is not None
        found = pmap(lambda d: _face_from(d, image, check=verify), todo)
        done.update((id(d), (d, f)) for d, f in zip(todo, found))
        if views is not None:
            views.update((keys[id(d)], f) for d, f in zip(todo, found))
    faces = [f for f in (done[id(d)][1] for d in dets)
             if f is not None and _extent(f) >= min_face_px * 0.8]
    if verify and image is not None:
        faces = [f for f in faces if _flat_view(f, image)]
    faces.sort(key=lambda f: (-f.cheek_width, f.box))
    return _dedupe(faces)[:max_faces]
