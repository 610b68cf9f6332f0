"""Faces at in-between angles (issue #12, "any in-plane angle"): a place where something face-like
was seen but no verified face came out -- a candidate whose landmarks failed, or a proposal cell no
detection explains -- is looked at turned by every 45 degrees (:data:`ANGLES`) by the short-range
model (one 192 px call holds 36 views: :func:`octant_scores`), and the best view scoring
>= :data:`_SCORE` becomes a coarse candidate with that view's box and eyes turned back (the first
mesh refines its ROI; landmarks and verification decide).

Why: the quarter-turn views (:mod:`.whole`, :mod:`.turned`) see a face ~45 degrees off every quarter
turn at the limit of the full-range detector; on photo backgrounds it then boxes the face with eyes
that point the ROI 30-90 degrees wrong (the mesh fails or sits skewed and fails stability/skin) or
does not confirm it at all, while the mesh on a right ROI passes every check (measured:
/tmp/s14/turnreal/diag.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from .candidates import _select
from .common import _DET_INPUT, Face, _Detection
from .finish import _dedupe, _finish
from .imageops import _colourful, centred_rows
from .models import quietly

ENABLED = True                      # the follow-up runs (A/B switch)
ANGLES = tuple(range(0, 360, 45))   # views (degrees, counter-clockwise on screen)
_CELL = 32            # 6x6 views of 32 px per short-range call
_SHOWN = 0.75         # a view shows this x the place's side ... (turned.py's pre-score cells)
_SCORE = 0.75         # a place's best view from this score is a candidate (no-face corpus and bench
                      # photos' failed places: best views <= 0.55, hubble_deep_field) ...
_SCORE_GREY = 0.75    # ... in a grey image. The short-range model scores grey faces lower (a grey 300 px
                      # astronaut turned 90 degrees: best view 0.48, its mesh passes); 0.45 found 2 more of
                      # 15 grey 300 px misses for +31 % CPU on those images, not taken (no-face check pending)
_PLACES = 4           # at most this many places an image (best first): 4 x 8 views, one call
_FAILED_FLOOR = 0.5   # failed candidates from this detector score are places
_FAILED_SIDE = 1.33   # ... looked at in a cell this x their box


Place = tuple[float, float, float]      # centre x, y, side (image px)


def _warp(cx: float, cy: float, side: float, deg: float, c: int, sx: float, sy: float) -> np.ndarray:
    """Affine map: image px (scaled by sx, sy in the source) -> a c px view of ``side`` image px
    around (cx, cy), turned ``deg`` degrees counter-clockwise."""
    k = c / (_SHOWN * side * min(sx, sy))
    m = cv2.getRotationMatrix2D((cx * sx, cy * sy), deg, k)
    m[0, 2] += c / 2 - cx * sx
    m[1, 2] += c / 2 - cy * sy
    return m


def octant_scores(image: np.ndarray | None, scaled: tuple[np.ndarray, float, float] | None,
                  places: Sequence[Place], angles: Sequence[int] = ANGLES,
                  floor: float = 0.3) -> list[tuple[float, _Detection | None]]:
    """The short-range model's best detection centred in each place's view at each of ``angles``:
    per place (best score, that detection turned back to image px, or None below ``floor``)."""
    from .. import proposer

    c, n = _CELL, _DET_INPUT // _CELL
    src, sx, sy = (image, 1.0, 1.0) if image is not None else scaled      # type: ignore[misc]
    jobs = [(i, a) for i in range(len(places)) for a in angles]
    best: list[tuple[float, _Detection | None]] = [(0.0, None)] * len(places)
    for start in range(0, len(jobs), n * n):
        part = jobs[start:start + n * n]
        mosaic = np.full((_DET_INPUT, _DET_INPUT, 3), 128, np.uint8)
        warps = []
        for slot, (i, a) in enumerate(part):
            cx, cy, side = places[i]
            m = _warp(cx, cy, side, a, c, sx, sy)
            warps.append(m)
            mosaic[(slot // n) * c:(slot // n + 1) * c, (slot % n) * c:(slot % n + 1) * c] = cv2.warpAffine(
                src[:, :, :3], m, (c, c), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        for slot, col, row, r in centred_rows(proposer.detect(mosaic, floor, quietly, model="short"), c, len(part)):
            i, _ = part[slot]
            if r[0] <= best[i][0]:
                continue
            inv = cv2.invertAffineTransform(warps[slot])
            ox, oy = col * c, row * c

            def back(px: float, py: float) -> tuple[float, float]:
                u, v = inv @ np.array([px - ox, py - oy, 1.0])      # noqa: B023
                return u / sx, v / sy                                 # noqa: B023

            corners = np.array([back(r[1], r[2]), back(r[3], r[2]), back(r[1], r[4]), back(r[3], r[4])])
            mid = corners.mean(axis=0)
            half = max(r[3] - r[1], r[4] - r[2]) / 2 * _SHOWN * places[i][2] / c
            best[i] = (float(r[0]), _Detection(np.r_[mid - half, mid + half], float(r[0]),
                                               np.array([back(r[5], r[6]), back(r[7], r[8])]), coarse=True))
    return best


def failed_places(faces: Sequence[Face], dets: Sequence[_Detection], floor: float = _FAILED_FLOOR) -> list[Place]:
    """Candidates (detector score >= ``floor``, best first) with no verified face centred within
    half their box: each a place of _FAILED_SIDE x its box."""
    out: list[Place] = []
    order = sorted(dets, key=lambda d: (-round(d.score, 6), tuple(np.round(d.box, 3))))
    for d in order:
        if d.score < floor:
            continue
        bw = max(d.box[2] - d.box[0], d.box[3] - d.box[1])
        cx, cy = (d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2
        if any(abs(cx - f.center[0]) < 0.5 * bw and abs(cy - f.center[1]) < 0.5 * bw for f in faces):
            continue
        if any(math.hypot(cx - p[0], cy - p[1]) < 0.3 * p[2] for p in out):
            continue
        out.append((float(cx), float(cy), float(_FAILED_SIDE * bw)))
        if len(out) == _PLACES:
            break
    return out


def candidates(image: np.ndarray | None, scaled: tuple[np.ndarray, float, float] | None,
               places: Sequence[Place], score: float = _SCORE) -> list[_Detection]:
    """Each place's best view over :data:`ANGLES` scoring >= ``score``, as a coarse candidate."""
    if not places:
        return []
    return [d for s, d in octant_scores(image, scaled, places) if d is not None and s >= score]



def followup(faces: list[Face], dets: Sequence[_Detection], image: np.ndarray | None, h: int, w: int,
             scaled: tuple[np.ndarray, float, float] | None, min_face_px: int, max_faces: int,
             verify: bool) -> list[Face]:
    """After the faces are finished: the candidates (>= _FAILED_FLOOR) that gave no verified face
    (:func:`failed_places`, at most _PLACES) looked at every 45 degrees (:func:`candidates`); the
    faces those views give (landmarked alone: merged with the failed candidate they would be one
    of its alternates) are added to ``faces``."""
    if not ENABLED:
        return faces
    places = failed_places(faces, _select(list(dets), max_faces, min_face_px, h, w))
    if not places:
        return faces
    src = image if image is not None else scaled[0] if scaled is not None else None
    grey = src is not None and _SCORE_GREY != _SCORE and not _colourful(src)
    new = candidates(image, scaled, places, _SCORE_GREY if grey else _SCORE)
    if not new:
        return faces
    more = _finish(new, image, max_faces, min_face_px, (h, w), verify=verify)
    if not more:
        return faces
    return _dedupe(sorted(faces + more, key=lambda f: (-f.cheek_width, f.box)))[:max_faces]
