"""Candidates between the stages: which passes run (:func:`_want_turns`, :func:`_want_tiles`),
merging overlapping boxes (:func:`_merge`) and choosing those worth landmarking (:func:`_select`).
"""

from __future__ import annotations

import numpy as np

from .common import (_CANDIDATES_PER_FACE, _EDGE_SLACK, _MERGE_IOM, _SMALL_FACE, _UPRIGHT_SURE,
                    _Detection)
from .windows import _levels


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over the smaller box's area."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return float(iw * ih / max(smaller, 1e-6))


def _merge(dets: list[_Detection]) -> list[_Detection]:
    """Greedy NMS keeping the most confident of overlapping boxes (ties: larger, then position,
    so the result never depends on the order the passes finished in)."""
    kept: list[_Detection] = []
    order = sorted(dets, key=lambda d: (-round(d.score, 6), -(d.box[2] - d.box[0]),
                                        tuple(np.round(d.box, 3))))
    for det in order:
        same = next((k for k in kept if _overlap(det.box, k.box) > _MERGE_IOM), None)
        if same is None:
            kept.append(_Detection(det.box, det.score, det.eyes, coarse=det.coarse))
        else:
            same.alts.append(det)      # another pass's view: its eye keypoints may be better
    return kept


def _want_turns(dets: list[_Detection], tiles: bool) -> bool:
    """The second stage (whole image with a mirrored border, at 0/90/180/270 degrees: faces at
    any angle and cut by the frame) runs unless the upright pass is sure of a face and no
    window pass is needed (a portrait): upright portraits stay at one detector call. Faces
    turned 90-180 degrees score <= 0.72 upright (measured), upright ones >= 0.78."""
    return tiles or not any(d.score >= _UPRIGHT_SURE for d in dets)


def _want_tiles(dets: list[_Detection], h: int, w: int, min_face_px: int = 20) -> bool:
    """Tiles help unless the whole-image pass found exactly one face that is not small (when
    that one fails verification, :func:`detect_faces` looks for small faces after all)."""
    if not _levels(h, w, min_face_px):      # the whole-image pass already sees the smallest faces
        return False
    if len(dets) != 1:              # nothing found, or a group: more faces may be smaller
        return True
    return dets[0].box[2] - dets[0].box[0] < _SMALL_FACE * min(h, w)


_EDGE_SLACK_SIDE_CUT = 0.05   # _centred_in's "small box" (was _EDGE_SLACK_SIDE, 0.04: 77 px at 1920 px;
                              # the confirmation of a 48 px face half out at the left boxed face and
                              # reflection as 79 px): 96 px at 1920, 150 px at 3000 (the rocket's 205 px)


def _centred_in(box: np.ndarray, h: int, w: int) -> bool:
    """The box's centre lies in the frame, or, for a small box (side <= _EDGE_SLACK_SIDE_CUT of
    the long side), just outside it (by <= _EDGE_SLACK of its side): a small face cut by the frame
    and its reflection in a mirrored border are boxed as one pattern centred on the edge, the
    face's own centre a few pixels either side of it. Not for bigger boxes: a 205 px candidate
    of the rocket's edge crops, centred just right of its 2060 x 3000 frame, passed verification
    (test_faces_edge_calibration.py)."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    side = max(box[2] - box[0], box[3] - box[1])
    m = _EDGE_SLACK * side if side <= _EDGE_SLACK_SIDE_CUT * max(h, w) else 0.0
    return -m <= cx < w + m and -m <= cy < h + m


def _select(dets: list[_Detection], max_faces: int, min_face_px: int, h: int, w: int) -> list[_Detection]:
    """Merged candidates worth landmarking: centred inside the h x w frame (not mirror images
    in the padding), the most confident ones first (false candidates are rejected by
    verification, so a cap by size would let them crowd out real faces). Boxes too narrow for
    a face are dropped before merging: merged first, a narrow box more confident than a wider
    one over the same face took it along (the grey astronaut 24 px half out at the right: boxes
    of 11.9 px, score 0.57, and 15.4 px, 0.56; the floor 12 px: no candidate)."""
    dets = [d for d in dets if _centred_in(d.box, h, w) and d.box[2] - d.box[0] >= min_face_px * 0.6]
    dets = _merge(dets)
    return dets[: _CANDIDATES_PER_FACE * max_faces]
