"""Small faces turned in the plane (lying down, upside down) from the upright proposal pass's own
proposals: the short-range proposer scores a small face 0.5-0.86 at its first level whatever its
turn (measured on faces of 24-96 px turned 90-270 degrees at 1080p), but the full-range detector
confirms the upright cell of a face turned past ~60 degrees rarely, and then with eye keypoints
the landmark ROI cannot use. So the upright cells no sure detection explains (at most 12, best
proposal first) are looked at **turned** 90/180/270 degrees: pre-scored by the short-range model
on 32 px cells (36 in one 192 px call, :func:`prescore`), and the turns scoring >= 0.5 confirmed by
the full-range detector in the mosaics of 64 px cells the turned proposal views use (each cell
turned upright, detections mapped back, :func:`turned_confirm`): a call or two instead of three
turned views of a whole level (+~90 ms CPU at 1080p).

After the faces are finished, sure small candidates that gave no verified face are looked at
turned the same way (:func:`failed_sure_cells`).

Measured (1920x1080 noisy canvas, one face, both head photos): turns 0-270 x 24-96 px 80/80
(the upright pass alone 46/80; the cells without the failed-sure step 77/80; in between, 105-345
degrees, 80/80); 12 MP 48-128 px at 90-315 degrees 56/56 (23/56); pre-scores of turned faces' best
cells 0.64-0.94, of the no-face 1080p photos' cells <= 0.55 (rocket) / 0.59 (coffee); CPU +7 ms on
the no-face 1080p photos, +0 on an upright portrait (no small-face pass). Grey images (no proposal
pass) get their turned cells from the window pass's places: :mod:`.greyturned`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from . import widecells
from .models import quietly
from .confirm import _confirm, _unturn
from .imageops import centred_rows
from .threads import pmap
from .common import _CONFIRM_CELL, _DET_INPUT, Face, _Detection

TURNED_CELLS = 12        # at most this many unexplained upright cells (best first) are tried turned
_EXPLAINED = 0.5         # a cell is explained by a detection centred within this x its side of its centre ...
_EXPLAINED_SCORE = 0.75  # ... scoring this (an upright face's; the upright confirmation of a turned face
                         # scores 0.41-0.70 and its eyes mislead the landmark ROI)
_TURNS = (1, 2, 3)       # quarter turns tried (counter-clockwise)
_PRE_CELL = 32           # pre-scoring mosaic: 6x6 cells of 32 px (one short-range call for 12 cells x 3 turns) ...
_PRE_SHOWN = 0.75        # ... each showing the middle 0.75 of its confirmation cell (the level's smallest face 22 px)
_PRE_SCORE = 0.5         # ... a turn is confirmed from this score (80-case table 77/80; 0.6 lost 2 more of 76)

Cell = tuple[float, float, float, int]


def unexplained(cells: Sequence[Cell], found: Sequence[_Detection], cap: int = TURNED_CELLS) -> list[Cell]:
    """Upright cells (cx, cy, side, turn) in their order (best proposal first) with no detection of
    ``found`` centred near them, and none within half a cell of an earlier kept one; at most ``cap``."""
    centres = [((d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2) for d in found]
    kept: list[Cell] = []
    for cx, cy, side, turn in cells:
        if turn:
            continue
        r = _EXPLAINED * side
        if any(abs(cx - x) < r and abs(cy - y) < r for x, y in centres):
            continue
        if any(k[2] == side and math.hypot(cx - k[0], cy - k[1]) < 0.5 * side for k in kept):
            continue
        kept.append((cx, cy, side, 0))
        if len(kept) == cap:
            break
    return kept


def turned_candidates(image: np.ndarray | None, scaled: tuple[np.ndarray, float, float] | None,
                      cells: Sequence[Cell], found: Sequence[_Detection]) -> list[_Detection]:
    """Candidates of small turned faces from the upright proposal pass's confirmation ``cells``
    (cx, cy, side, turn; image px, best proposal first) and what it ``found``: the cells no sure
    detection (>= _EXPLAINED_SCORE) explains (:func:`unexplained`) are pre-scored turned 90/180/270
    degrees by the short-range model (:func:`prescore`, one call for 12 cells), and every turn
    scoring >= _PRE_SCORE is confirmed by the full-range detector in that turn
    (:func:`turned_confirm`); landmarks and verification decide."""
    todo = unexplained(cells, [d for d in found if d.score >= _EXPLAINED_SCORE])
    if not todo:
        return []
    scores = prescore(image, scaled, todo)
    picked = [(cx, cy, side, turn) for j, turn in enumerate(_TURNS)
              for i, (cx, cy, side, _) in enumerate(todo) if scores[i, j] >= _PRE_SCORE]
    got = turned_confirm(image, scaled, picked) if picked else []
    # the best cells that gave nothing, looked at wider every 45 degrees (a mid-size face's small cell)
    return got + widecells.candidates(image, scaled, todo, got)


def turned_confirm(image: np.ndarray | None, scaled: tuple[np.ndarray, float, float] | None,
                   turned: Sequence[Cell]) -> list[_Detection]:
    """The full-range detector on ``turned`` cells (cx, cy, side, quarter turns; image px), nine
    a 192 px mosaic, each cell turned upright (:func:`.confirm._confirm`); detections in image px."""
    per = (_DET_INPUT // _CONFIRM_CELL) ** 2
    mosaics = [turned[i:i + per] for i in range(0, len(turned), per)]
    return [d for found, _ in pmap(lambda group: _confirm(image, scaled, group), mosaics) for d in found]


def prescore(image: np.ndarray | None, scaled: tuple[np.ndarray, float, float] | None,
             cells: Sequence[Cell], turns: Sequence[int] = _TURNS, floor: float = _PRE_SCORE,
             shown: float = _PRE_SHOWN, cell_px: int = _PRE_CELL, model: str = "short",
             rows_out: dict[tuple[int, int], _Detection] | None = None) -> np.ndarray:
    """The short-range model's best score centred in each of ``cells`` turned by each of ``turns``
    (quarter turns), on mosaics of cells of ``cell_px`` (6x6 of 32 px, or 3x3 of 64) each showing
    ``shown`` x its side: (len(cells), len(turns)) array, 0 where nothing scored ``floor`` (decoding
    only the anchors from there keeps the NMS short). ``rows_out``: when given, the best detection
    of each (cell, turn) that scored is put there as a coarse detection in image px."""
    from .. import proposer

    c, n = cell_px, _DET_INPUT // cell_px
    src, sx, sy = (image, 1.0, 1.0) if image is not None else scaled      # type: ignore[misc]
    jobs = [(i, j) for i in range(len(cells)) for j in range(len(turns))]
    out = np.zeros((len(cells), len(turns)))
    for start in range(0, len(jobs), n * n):
        part = jobs[start:start + n * n]
        mosaic = np.full((_DET_INPUT, _DET_INPUT, 3), 128, np.uint8)
        for slot, (i, j) in enumerate(part):
            cx, cy, side, _ = cells[i]
            k = c / (shown * side * min(sx, sy))                   # src px -> cell px
            warp = np.array([[k, 0, c / 2 - 0.5 - k * (cx * sx - 0.5)], [0, k, c / 2 - 0.5 - k * (cy * sy - 0.5)]])
            cell = cv2.warpAffine(src[:, :, :3], warp, (c, c), flags=cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_REFLECT_101)
            mosaic[(slot // n) * c:(slot // n + 1) * c, (slot % n) * c:(slot % n + 1) * c] = np.rot90(cell, turns[j])
        for slot, col, row, r in centred_rows(proposer.detect(mosaic, floor, quietly, model=model), c, len(part)):
            i, j = part[slot]
            if rows_out is not None and r[0] > out[i, j]:
                rows_out[(i, j)] = _unturned_row(r, col * c, row * c, turns[j], cells[i], shown, c)
            out[i, j] = max(out[i, j], r[0])
    return out


def _unturned_row(r: np.ndarray, ox: int, oy: int, turn: int, cell: Cell, shown: float,
                  c: int = _PRE_CELL) -> _Detection:
    """A pre-score row ``r`` of the ``c`` px cell at (``ox``, ``oy``) of the mosaic, showing ``shown``
    x ``cell`` turned by ``turn`` quarter turns -> a coarse detection in image px (box and eyes
    turned back)."""
    cx, cy, side, _ = cell
    u = shown * side / c                                 # image px per cell px

    def back(px: float, py: float) -> tuple[float, float]:
        a, b = _unturn(px - ox, py - oy, turn, c, c)
        return cx + (a - c / 2) * u, cy + (b - c / 2) * u

    (ax, ay), (bx, by) = back(r[1], r[2]), back(r[3], r[4])
    return _Detection(np.array([min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)]), float(r[0]),
                      np.array([back(r[5], r[6]), back(r[7], r[8])]), coarse=True)


_FAILED_MAX = 6          # failed sure detections: at most this many (largest score first) ...
_FAILED_SIDE = 1.33      # ... each looked at in a cell this x its box (its face ~38 px of the 64 px cell)
_FAILED_BIG = 6          # ... only boxes up to this x the smallest face (bigger: the whole-image passes' job)


def failed_sure_cells(faces: Sequence[Face], dets: Sequence[_Detection], smallest: float) -> list[Cell]:
    """Cells around the sure (>= _EXPLAINED_SCORE) small candidates no verified face explains: a
    small face turned ~45-60 degrees gets a sure box from the turned whole-image passes (too big:
    120 px for a 96 px face) whose landmarks fail, and the proposal pass drops its proposals inside
    that box; an upside-down 24 px face may get a sure upright confirmation with upright eyes. Each
    such box (at most _FAILED_MAX, best first) becomes one upright cell of _FAILED_SIDE x its side."""
    centres = [f.center for f in faces]
    out: list[Cell] = []
    order = sorted(dets, key=lambda d: (-round(d.score, 6), tuple(np.round(d.box, 3))))
    for d in order:
        bw = max(d.box[2] - d.box[0], d.box[3] - d.box[1])
        if d.score < _EXPLAINED_SCORE or bw > _FAILED_BIG * smallest:
            continue
        cx, cy = (d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2
        if any(abs(cx - x) < 0.5 * bw and abs(cy - y) < 0.5 * bw for x, y in centres):
            continue
        if any(math.hypot(cx - k[0], cy - k[1]) < 0.3 * k[2] for k in out):
            continue
        out.append((float(cx), float(cy), float(_FAILED_SIDE * bw), 0))
        if len(out) == _FAILED_MAX:
            break
    return out
