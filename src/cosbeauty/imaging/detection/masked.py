"""Stage 1, masked faces (colour images): a face whose nose and mouth are hidden (a surgical mask,
dark or light) gives the proposal pass nothing to confirm. The short-range proposer does not score
it at the levels' scale, and its centre (the mask) shows no skin chroma, so its proposals are dropped
(:mod:`.proposals`). Yet the full-range detector scores such a face 0.57-0.78 when the face fills
half of its input (a 96 px cell of a 2 x 2 mosaic, the face's crop 1.5x its size).

1. **Cue** (:func:`cues`): on the proposal pass's first-level skin-cell map (no new image work),
   an upper face: a box of skin (the forehead, brows and eyes' surroundings) with little skin
   below it (the mask) and around it above and at its sides (hair, background), at sizes from
   2x the smallest face the pass looks for up to 0.4 x the image's short side (sqrt 2 apart).
2. **Confirmation** (:func:`confirm`): the best :data:`MAX_CELLS` cues, none centred in a known
   candidate, each in its own 96 px cell of 2 x 2 mosaics for the full-range detector (one call
   per four cues). The other proposals' mosaics are unchanged, so no other face's confirmation
   moves. A detection centred in its cell and overlapping no known candidate is a candidate;
   :mod:`..verify` judges it on its visible upper face (:mod:`..verify_occluded`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from .common import _DET_INPUT, _SKIN_CELL, _Detection
from .confirm import _cell
from .models import _detect_full

__all__ = ["cues", "confirm", "candidates"]

ENABLED = True           # tests and benches patch it here (False: round 16's proposal pass alone)
MAX_CELLS = 8            # cues confirmed per image: two full-range calls (~8 ms CPU) at most
CELL = 96                # a 2 x 2 mosaic in the full-range detector's 192 px input
SHOWN = 2.0              # the cell shows this x the cue's cheek width F (the face's crop ~1.5x its size)
DOWN = 0.1               # ... centred this x F below the cue's centre (the face's landmark centre)
STEP = 2 ** 0.5          # cue sizes: this apart ...
FIRST = 2.0              # ... from this x the smallest face the proposal pass looks for ...
LARGEST = 0.4            # ... to this x the image's short side
MIN_CELLS = 5.0          # ... and F at least this many skin cells wide
# boxes in F units around the face's landmark centre (x right, y down; measured on the suite's heads:
# forehead top -0.56, brows -0.35, irises (+-0.23, -0.23), mask top -0.22, chin +0.57, cheeks +-0.5)
UPPER = (-0.3, -0.55, 0.3, -0.25)      # forehead, brows, between the eyes: skin
BELOW = (-0.3, -0.05, 0.3, 0.4)        # nose and mouth: the mask, not skin (hair is often skin chroma:
                                       # no ring above or beside is asked for)
MIN_UPPER = 0.6          # the upper box is this much skin ...
MIN_CONTRAST = 0.45      # ... and this much more than the box below
SMOOTH = 0.3             # the contrast map box-blurred over this x F (a plateau's centre)
FOREHEAD = -0.42         # the skin's luminance: a window of 0.1 F here (F units below the centre) ...
BROWS = -0.33            # ... and of 0.05 F between the brows, the darker ...
EYE = (0.23, -0.24)      # ... against the eyes' mean: windows of EYE_R F at (+-x, y) ...
EYE_R = 0.06
MIN_EYES = 0.3           # ... both this much darker (masked faces 0.36-0.6; plain no-face photos <= 0.35)
MIN_SCORE = 0.5          # a confirmation from this score (the full-range threshold is 0.4)
PRE_CELL = 64            # the cells pre-scored by the short-range detector, 2 x 2 in its 128 px input ...
PRE_SCORE = 0.3          # ... those it scores this (masked faces 0.35-0.74 shown 2 F wide) confirmed


def _box_sums(padded: np.ndarray, m: int, shape: tuple[int, int], f: float,
              box: tuple[float, float, float, float]) -> np.ndarray:
    """Mean of ``box`` (F units, F = ``f`` cells) around every cell of a (rows, cols) = ``shape`` map,
    from its integral edge-padded by ``m`` (cells outside the map count as 0)."""
    nh, nw = shape
    a0, b0 = math.floor(box[0] * f + 0.5), math.floor(box[1] * f + 0.5)
    a1, b1 = max(a0 + 1, math.floor(box[2] * f + 0.5)), max(b0 + 1, math.floor(box[3] * f + 0.5))
    a0, a1, b0, b1 = (min(max(v, -m), m) for v in (a0, a1, b0, b1))
    total = (padded[m + b1:m + b1 + nh, m + a1:m + a1 + nw] - padded[m + b0:m + b0 + nh, m + a1:m + a1 + nw]
             - padded[m + b1:m + b1 + nh, m + a0:m + a0 + nw] + padded[m + b0:m + b0 + nh, m + a0:m + a0 + nw])
    return total.astype(np.float32) / float((a1 - a0) * (b1 - b0))


def cues(integral: np.ndarray, sx: float, sy: float, pad: int, h: int, w: int,
         least: float) -> list[tuple[float, float, float, float]]:
    """Upper-face cues (score, F, cx, cy) in image px (each size's local maxima), on ``integral``:
    the skin-cell integral (:func:`.imageops._skin_integral`) of a level of the image scaled by
    ``sx``, ``sy`` with a mirrored border of ``pad`` level px; faces from FIRST x ``least``."""
    k = min(sx, sy) / _SKIN_CELL                 # image px -> cells
    shape = (integral.shape[0] - 1, integral.shape[1] - 1)
    out: list[tuple[float, float, float, float]] = []
    size = max(FIRST * least, MIN_CELLS / k)
    sizes = []
    while size <= LARGEST * min(h, w):
        sizes.append(size)
        size *= STEP
    if not sizes:
        return []
    m = int(math.ceil(max(sizes) * k)) + 1
    padded = np.pad(integral.astype(np.int32), m, mode="edge")
    for size in sizes:
        f = size * k
        up = _box_sums(padded, m, shape, f, UPPER)
        score = up - _box_sums(padded, m, shape, f, BELOW)
        score[up < MIN_UPPER] = 0.0
        b = max(1, int(round(SMOOTH * f)))
        score = cv2.blur(score, (b, b))          # a plateau's centre, not its first cell
        r = max(3, int(round(0.5 * f)) | 1)
        top = (score >= MIN_CONTRAST) & (score >= cv2.dilate(score, np.ones((r, r), np.uint8)))
        ys, xs = np.nonzero(top)
        cx = ((xs + 0.5) * _SKIN_CELL - pad) / sx
        cy = ((ys + 0.5) * _SKIN_CELL - pad) / sy
        ok = (cx >= 0) & (cx < w) & (cy >= 0) & (cy < h)
        out += [(round(float(v), 4), size, float(x), float(y)) for v, x, y in zip(score[ys, xs][ok], cx[ok], cy[ok])]
    return out


def eyes(grey: np.ndarray, sx: float, sy: float, found: Sequence[tuple[float, float, float, float]]) -> np.ndarray:
    """For each cue: how much darker than the forehead and the skin between the brows its two eye
    windows are (the lesser of the two, a fraction of that skin's mean luminance; ``grey``: the
    level's luminance, the image scaled by ``sx``, ``sy``)."""
    gh, gw = grey.shape[:2]
    integ = cv2.integral(grey).astype(np.float64)
    c = np.asarray(found, np.float64).reshape(-1, 4)
    size, cx, cy = c[:, 1], c[:, 2], c[:, 3]
    f = size * min(sx, sy)

    def mean(u: float, v: float, r: float) -> np.ndarray:
        x, y = np.round((cx + u * size) * sx).astype(int), np.round((cy + v * size) * sy).astype(int)
        rr = np.maximum(1, np.round(r * f)).astype(int)
        x0, y0 = np.clip(x - rr, 0, gw), np.clip(y - rr, 0, gh)
        x1, y1 = np.clip(x + rr + 1, 0, gw), np.clip(y + rr + 1, 0, gh)
        area = (x1 - x0) * (y1 - y0)
        total = integ[y1, x1] - integ[y0, x1] - integ[y1, x0] + integ[y0, x0]
        return np.where(area > 0, total / np.maximum(area, 1), -1.0)

    skin = np.minimum(mean(0.0, FOREHEAD, 0.1), mean(0.0, BROWS, 0.05))
    eye = np.maximum(mean(-EYE[0], EYE[1], EYE_R), mean(EYE[0], EYE[1], EYE_R))
    dark = (skin - eye) / np.maximum(skin, 1.0)
    return np.where((skin > 0) & (eye >= 0), dark, 0.0)


def _inside(x: float, y: float, boxes: Sequence[np.ndarray]) -> bool:
    return any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in boxes)


def _overlaps(box: np.ndarray, boxes: Sequence[np.ndarray], least: float = 0.3) -> bool:
    """``box`` overlaps one of ``boxes`` by more than ``least`` of the smaller's area."""
    for b in boxes:
        iw = min(box[2], b[2]) - max(box[0], b[0])
        ih = min(box[3], b[3]) - max(box[1], b[1])
        if iw > 0 and ih > 0:
            small = min((box[2] - box[0]) * (box[3] - box[1]), (b[2] - b[0]) * (b[3] - b[1]))
            if iw * ih > least * max(small, 1e-6):
                return True
    return False


def prescore(image: np.ndarray | None, scaled: tuple[np.ndarray, float, float] | None,
             cells: list[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
    """The ``cells`` the short-range detector sees a face in (>= PRE_SCORE, centred in its cell), on
    2 x 2 mosaics of PRE_CELL px cells (a 128 px input, ~1.7 ms a call against ~4.5 for the
    full-range one): masked faces 0.35-0.74 there."""
    from .. import proposer
    from .models import quietly

    src, sx, sy = (image, 1.0, 1.0) if image is not None else scaled      # type: ignore[misc]
    c, n = PRE_CELL, 2
    kept: list[tuple[float, float, float]] = []
    for start in range(0, len(cells), n * n):
        group = cells[start:start + n * n]
        mosaic = np.full((n * c, n * c, 3), 128, np.uint8)
        for i, (cx, cy, side) in enumerate(group):
            mosaic[(i // n) * c:(i // n + 1) * c, (i % n) * c:(i % n + 1) * c] = _cell(
                src, cx * sx, cy * sy, side * min(sx, sy), c)
        hit: set[int] = set()
        for r in proposer.detect(mosaic, PRE_SCORE, quietly):
            mx, my = (r[1] + r[3]) / 2, (r[2] + r[4]) / 2
            col, row = int(mx // c), int(my // c)
            if 0 <= col < n and 0 <= row < n and abs(mx - (col + 0.5) * c) <= 0.3 * c and abs(my - (row + 0.5) * c) <= 0.3 * c:
                hit.add(row * n + col)
        kept += [cell for i, cell in enumerate(group) if i in hit]
    return kept


def confirm(image: np.ndarray | None, scaled: tuple[np.ndarray, float, float] | None,
            cells: list[tuple[float, float, float]]) -> list[_Detection]:
    """The full-range detector on 2 x 2 mosaics of ``cells`` (cx, cy, side in image px): each cell's
    best detection >= MIN_SCORE centred in it, as a coarse candidate in image px."""
    src, sx, sy = (image, 1.0, 1.0) if image is not None else scaled      # type: ignore[misc]
    n, c = _DET_INPUT // CELL, CELL
    per = n * n
    found: list[_Detection] = []
    for start in range(0, len(cells), per):
        group = cells[start:start + per]
        mosaic = np.full((_DET_INPUT, _DET_INPUT, 3), 128, np.uint8)
        for i, (cx, cy, side) in enumerate(group):
            mosaic[(i // n) * c:(i // n + 1) * c, (i % n) * c:(i % n + 1) * c] = _cell(
                src, cx * sx, cy * sy, side * min(sx, sy), c)
        best: set[int] = set()
        for r in _detect_full(mosaic).astype(np.float64):          # best first
            if r[0] < MIN_SCORE:
                continue
            mx, my = (r[1] + r[3]) / 2, (r[2] + r[4]) / 2
            col, row = int(mx // c), int(my // c)
            i = row * n + col
            if not (0 <= col < n and 0 <= row < n) or i >= len(group) or i in best:
                continue
            if abs(mx - (col + 0.5) * c) > 0.3 * c or abs(my - (row + 0.5) * c) > 0.3 * c:
                continue
            best.add(i)
            cx, cy, side = group[i]
            u, ox, oy = side / c, col * c + c / 2, row * c + c / 2

            def back(px: float, py: float, ox: float = ox, oy: float = oy, u: float = u,
                     cx: float = cx, cy: float = cy) -> tuple[float, float]:
                return cx + (px - ox) * u, cy + (py - oy) * u

            (ax, ay), (bx, by) = back(r[1], r[2]), back(r[3], r[4])
            found.append(_Detection(np.array([ax, ay, bx, by]), float(r[0]),
                                    np.array([back(r[5], r[6]), back(r[7], r[8])]), coarse=True))
    return found


def candidates(image: np.ndarray | None, scaled: tuple[np.ndarray, float, float] | None,
               level: np.ndarray | None, integral: np.ndarray | None, sx: float, sy: float, pad: int,
               h: int, w: int, least: float, known: Sequence[_Detection]) -> list[_Detection]:
    """Masked-face candidates: the best :data:`MAX_CELLS` cues (:func:`cues`; ``level``: the proposal
    pass's first level, the image scaled by ``sx``, ``sy``, ``integral`` its padded skin-cell integral)
    centred in no ``known`` candidate's box and with eyes darker than the forehead (:func:`eyes`),
    confirmed (:func:`confirm`); those overlapping a known candidate dropped."""
    if not ENABLED or integral is None or level is None:
        return []
    found = cues(integral, sx, sy, pad, h, w, least)
    if not found:
        return []
    grey = cv2.cvtColor(np.ascontiguousarray(level[:, :, :3]), cv2.COLOR_RGB2GRAY)
    dark = np.round(eyes(grey, sx, sy, found), 4)
    ranked = sorted(((float(d), c) for d, c in zip(dark, found) if d >= MIN_EYES), key=lambda e: (-e[0], e[1][1:]))
    boxes = [d.box for d in known]
    kept: list[tuple[float, float, float, float]] = []
    for _, c in ranked:
        if len(kept) >= MAX_CELLS:
            break
        _, size, cx, cy = c
        if (_inside(cx, cy + DOWN * size, boxes)
                or _overlaps(np.array([cx - 0.5 * size, cy - 0.6 * size, cx + 0.5 * size, cy + 0.6 * size]), boxes)):
            continue            # a face found already (its own candidate)
        if all(math.hypot(cx - q[2], cy - q[3]) >= 0.5 * max(size, q[1]) for q in kept):
            kept.append(c)
    cells = [(cx, cy + DOWN * size, SHOWN * size) for _, size, cx, cy in kept]
    cells = prescore(image, scaled, cells) if cells else []
    return [d for d in confirm(image, scaled, cells) if not _overlaps(d.box, boxes)] if cells else []
