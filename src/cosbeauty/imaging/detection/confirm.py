"""Stage 1, the proposals' confirmation (colour images): each proposal is cut out in a 64 px cell
(:func:`_cell`, the part outside the frame mirrored), nine cells make one mosaic for the full-range
detector (:func:`_confirm`); which proposals get a cell (:func:`_proposal_cells`), a second one a little
inside the frame at the sides (:func:`_side_cells`), and which top-edge proposals are candidates
unconfirmed (:func:`_top_edge_proposals`). Used by :mod:`.proposals` and :mod:`.turned`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from .imageops import unturn
from .common import _CONFIRM_CELL, _CONFIRM_FACE_PX, _DET_INPUT, _MIN_SCORE, _PROPOSE_BIG, _TOP_EDGE_SCORE, _Detection
from .models import _detect_full, quietly

_NEAR_SCORE = 0.25           # confirmation near misses from this score (the full-range threshold is 0.4) ...
_NEAR_SLOTS = (0, 2, 6, 8)   # ... are confirmed again in the mosaic's corners, grey cells between them
_NEAR_MAX = 8                # ... at most this many per image (two calls)
_NEAR_AGAIN = 0.6            # ... a candidate when they score this there (the sweep's lost faces: 0.74-0.91;
                             # Hopper turned 200 degrees: a 0.40 candidate, +20 % CPU to reject it)
_SIDE_INWARD = 0.2           # upright proposals centred within 0.25 x the level's face of the left/right edge
                             # (or past it) get a second confirmation cell this far (x that face) inside,
_SIDE_MAX = 4                # ... at most this many an image (with the near misses, grey cells around them)
_CORNER = True               # ... and at a corner (within 0.25 x that face of the top or bottom too) moved
                             # as far inward vertically: the 40 px faces a quarter out at a corner of a
                             # 1080p photo (bench/faces_real.py) had proposals 0.44-0.61 but no cell
                             # confirmed them (mirrored on both axes: four faces' parts)
_EDGE_AGAIN = 0.4            # a confirmation in those second cells that reaches past the frame's edge is a
                             # candidate from this score (the full-range model's own threshold), not
                             # _NEAR_AGAIN: the corner faces above scored 0.42-0.51 there
_EDGE_SLACK = 0.4            # proposals centred this far (x the level's face size) outside the frame are kept:
                             # a small face cut by the frame and its reflection in the level's mirrored
                             # border are boxed as one pattern centred 7-8 px past the edge (Hopper 24 px
                             # 25-50 % above/below a 1080p frame; 0.2 = 4.6 px at the 23 px level lost them)


def _unturn(x: float, y: float, turn: int, h: int, w: int) -> tuple[float, float]:
    """A point of ``np.rot90(a, turn)`` -> the same point of ``a`` (h x w), continuous px."""
    return unturn(x, y, turn, w, h)


def _proposal_cells(proposals: list[tuple[_Detection, float, int]], h: int, w: int) -> list[tuple[float, float, float, int]]:
    """(cx, cy, side) in image pixels of the confirmation cell of each (proposal, level face
    size) worth one: the best first (ties by position, so the order never depends on thread
    timing), dropping those centred within half a face of a kept one of the same size, or
    centred outside the frame. The short-range boxes of small faces say little about their
    size (12-32 px faces all come out 18-22 px, measured), so the cell's scale comes from the
    level: its faces (size..2 size) are shown 30-60 px wide in the 64 px cell. A confident
    proposal (>= _PROPOSE_BIG) may be a face above the level's range (the proposer likes big
    faces: a 100 px face scores 0.96 at the 23 px level, 0.2-0.3 at its own): it gets a second
    cell at twice the size."""
    kept: list[tuple[float, float, float, int]] = []
    order = sorted(proposals, key=lambda p: (-round(p[0].score, 6), p[1], p[2], tuple(np.round(p[0].box, 3))))
    for det, size, turn in order:
        cx, cy = (det.box[0] + det.box[2]) / 2, (det.box[1] + det.box[3]) / 2
        m = _EDGE_SLACK * size         # a small face half out: it and its reflection centred on the edge
        if not (-m <= cx < w + m and -m <= cy < h + m):
            continue
        for face in (size, 2 * size) if det.score >= _PROPOSE_BIG else (size,):
            if not any(k[2] == face and k[3] == turn and math.hypot(cx - k[0], cy - k[1]) < 0.5 * face for k in kept):
                kept.append((cx, cy, face, turn))
    return [(cx, cy, size * _CONFIRM_CELL / _CONFIRM_FACE_PX, turn) for cx, cy, size, turn in kept]


def _side_cells(proposals: list[tuple[_Detection, float, int]], h: int, w: int) -> list[tuple[float, float, float, int]]:
    """Confirmation cells, moved _SIDE_INWARD x the level's face into the frame, of the upright
    proposals (best first, at most _SIDE_MAX) centred within 0.25 x that face of the left or
    right edge or past it (up to the edge slack): a small face cut by the side, boxed with its
    reflection, centred on the edge. Its cell there shows the full-range model face and
    reflection (the astronaut 24 px 40 % and 32 px 50 % right of a 1080p frame: 0-0.43 with
    the cell 4 px outward; 0.82-0.90 4 px inward, grey cells around it). At a corner the proposal
    gets a second cell moved inward on both axes (_CORNER)."""
    out: list[tuple[float, float, float, int]] = []
    order = sorted(proposals, key=lambda p: (-round(p[0].score, 6), p[1], tuple(np.round(p[0].box, 3))))
    for det, size, turn in order:
        if len(out) >= _SIDE_MAX:
            break
        cx, cy = (det.box[0] + det.box[2]) / 2, (det.box[1] + det.box[3]) / 2
        m = _EDGE_SLACK * size
        if turn or not -m <= cy < h + m or not (-m <= cx < 0.25 * size or w - 0.25 * size <= cx < w + m):
            continue
        ix = cx + _SIDE_INWARD * size if cx < w / 2 else cx - _SIDE_INWARD * size
        ys = [cy]
        if _CORNER and (cy < 0.25 * size or cy >= h - 0.25 * size):
            ys.append(cy + _SIDE_INWARD * size if cy < h / 2 else cy - _SIDE_INWARD * size)
        prior = list(out)
        for iy in ys:
            if len(out) < _SIDE_MAX and not any(abs(ix - k[0]) < 0.5 * size and abs(iy - k[1]) < 0.5 * size
                                                for k in prior):
                out.append((ix, iy, size * _CONFIRM_CELL / _CONFIRM_FACE_PX, 0))
    return out


def kept_again(det: _Detection, h: int, w: int, least: float) -> bool:
    """A detection of the second confirmation (near misses, side and top-strip cells) that becomes a
    candidate: it scored ``least`` (_NEAR_AGAIN), or _EDGE_AGAIN and its box reaches past the frame's
    edge (a face cut by the frame, boxed with its reflection)."""
    x0, y0, x1, y1 = det.box
    past = x0 < 0 or y0 < 0 or x1 > w or y1 > h
    return det.score >= least or (past and det.score >= _EDGE_AGAIN)


def _top_edge_proposals(proposals: list[tuple[_Detection, float, int]],
                        confirmed: list[_Detection]) -> list[_Detection]:
    """Confident upright proposals centred on the top edge of the frame, also as candidates of
    their own (their confirmations, if any, failed on a turned ROI) (landmarks and verification decide): a small face cut by
    the top shows the full-range detector its lower half and that half's reflection in the
    confirmation cell's mirrored border, which is no face, while the proposer (seeing the
    level's mirrored border) scores it 0.5-0.9."""
    out: list[_Detection] = []
    for det, size, turn in proposals:
        cx, cy = (det.box[0] + det.box[2]) / 2, (det.box[1] + det.box[3]) / 2
        if turn or det.score < _TOP_EDGE_SCORE or not -_EDGE_SLACK * size <= cy < 0.25 * size:
            continue
        if any(abs((d.box[0] + d.box[2]) / 2 - cx) < size and (d.box[1] + d.box[3]) / 2 < size
               for d in out):
            continue
        out.append(_Detection(det.box.astype(np.float64), det.score, det.eyes, coarse=True))
    return out


def _confirm(image: np.ndarray | None, scaled: tuple[np.ndarray, float, float] | None,
             cells: list[tuple[float, float, float, int]], near: float | None = None,
             slots: Sequence[int] | None = None) -> tuple[list[_Detection], list[tuple[float, float, float, int]]]:
    """The full-range detector on one mosaic of up to 3x3 proposal cells (``image`` pixels, or
    those of ``scaled`` = (copy, sx, sy) when the image is not given); detections are mapped
    back to image pixels, those not centred well inside their own cell are dropped. ``slots``:
    the mosaic positions (0-8, row by row) the cells take, in order (default: all nine). With
    ``near``, also the cells with no detection but one in [``near``, the threshold) centred in
    them (the near misses, in cell order): (detections, near-miss cells)."""
    n = _DET_INPUT // _CONFIRM_CELL
    c = _CONFIRM_CELL
    where = list(slots if slots is not None else range(n * n))[:len(cells)]
    mosaic = np.full((_DET_INPUT, _DET_INPUT, 3), 128, np.uint8)
    src, sx, sy = (image, 1.0, 1.0) if image is not None else scaled      # type: ignore[misc]
    for (cx, cy, side, turn), i in zip(cells, where):      # a turned proposal's cell is turned upright
        cell = _cell(src, cx * sx, cy * sy, side * min(sx, sy), c)
        mosaic[(i // n) * c:(i // n + 1) * c, (i % n) * c:(i % n + 1) * c] = np.rot90(cell, turn) if turn else cell
    if near is None:
        rows, low = _detect_full(mosaic), np.zeros((0, 9), np.float32)
    else:
        from .. import proposer

        rows, low = proposer.detect_near(np.ascontiguousarray(mosaic), _MIN_SCORE, near, quietly, model="full")
    found: list[_Detection] = []
    hit: set[int] = set()
    missed: set[int] = set()
    for strong, r in [(True, r) for r in rows.astype(np.float64)] + [(False, r) for r in low.astype(np.float64)]:
        x0, y0, x1, y1 = r[1:5]
        col, row = int((x0 + x1) / 2 // c), int((y0 + y1) / 2 // c)
        if not (0 <= col < n and 0 <= row < n) or row * n + col not in where:
            continue
        i = where.index(row * n + col)
        ox, oy = col * c, row * c
        if min(x0 - ox, y0 - oy, ox + c - x1, oy + c - y1) < -0.15 * c:     # spans two cells
            continue
        if not strong:
            missed.add(i)
            continue
        hit.add(i)
        cx, cy, side, turn = cells[i]
        k = side / c

        def back(px: float, py: float, ox: int = ox, oy: int = oy, k: float = k,
                 cx: float = cx, cy: float = cy, side: float = side, turn: int = turn) -> tuple[float, float]:
            u, v = _unturn(px - ox, py - oy, turn, c, c)
            return cx - side / 2 + u * k, cy - side / 2 + v * k

        (ax, ay), (bx, by) = back(x0, y0), back(x1, y1)
        eyes = np.array([back(r[5], r[6]), back(r[7], r[8])])
        found.append(_Detection(np.array([min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)]), float(r[0]),
                                eyes, coarse=True))
    return found, [cells[i] for i in sorted(missed - hit)]


def _cell(src: np.ndarray, cx: float, cy: float, side: float, out: int) -> np.ndarray:
    """The ``side`` x ``side`` square of ``src`` centred on (cx, cy) resized to ``out`` px; the
    part outside the frame is mirrored (a face cut by the frame becomes whole)."""
    h, w = src.shape[:2]
    x0, y0 = int(math.floor(cx - side / 2)), int(math.floor(cy - side / 2))
    x1, y1 = x0 + max(1, int(round(side))), y0 + max(1, int(round(side)))
    cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if cx1 - cx0 < 2 or cy1 - cy0 < 2:
        return np.full((out, out, 3), 128, np.uint8)
    crop = np.ascontiguousarray(src[cy0:cy1, cx0:cx1, :3])
    if (cx0, cy0, cx1, cy1) != (x0, y0, x1, y1):
        top, bottom, left, right = cy0 - y0, y1 - cy1, cx0 - x0, x1 - cx1
        if max(top, bottom) >= crop.shape[0] or max(left, right) >= crop.shape[1]:
            crop = cv2.copyMakeBorder(crop, top, bottom, left, right, cv2.BORDER_REPLICATE)
        else:
            crop = cv2.copyMakeBorder(crop, top, bottom, left, right, cv2.BORDER_REFLECT_101)
    shrinking = crop.shape[0] > out
    return cv2.resize(crop, (out, out), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
