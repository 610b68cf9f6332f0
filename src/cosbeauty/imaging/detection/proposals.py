"""Stage 1, proposal pass (colour images): the short-range detector proposes small faces on a
pyramid (skin-gated windows or big tiles), each proposal is confirmed by the full-range detector
on a 3x3 mosaic of 64 px cells; confident top-edge proposals become candidates of their own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from .imageops import _area, _pyramid, _skin_integral, _windows, mirror_pad, rot90, shrink
from .models import _detect_full, _propose_rows, quietly
from .threads import pmap
from .types import (_MIN_SCORE, _CONFIRM_CELL, _CONFIRM_FACE_PX, _CONFIRM_PER_FACE, _DET_INPUT, _PROPOSE_BIG,
                    _PROPOSE_FACE_PX, _PROPOSE_INPUT, _PROPOSE_LEVEL_STEP, _PROPOSE_MIN_SKIN, _PROPOSE_SCORE,
                    _PROPOSE_MIN_SKIN_CENTRE, _PROPOSE_OVERLAP, _PROPOSE_PAD, _PROPOSE_TILE_FILL, _TILE_FACE_PX,
                    _TOP_EDGE_SCORE, _UPRIGHT_SURE, _Detection)
from .windows import _levels, min_face

# Weak proposals (the first level's smallest faces score 0.1-0.3 on the proposer, by where they fall on
# its anchor grid): the local maxima of its stride-8 score map in [_WEAK_SCORE, _PROPOSE_SCORE) are
# re-scored by the same model on 32 px cells showing the level's smallest face 22 px wide (the 26-57 px
# faces the size sweep lost: 0.10-0.15 -> 0.66-0.83; weak maxima of no-face photos: <= 0.39), 36 cells in one
# 192 px mosaic; those >= _RESCORE_SCORE become candidates (landmarks and verification decide).
_WEAK_SCORE = 0.09           # weak maxima from this score (the sweep's lost faces: 0.096-0.148)
_RESCORE_CELL = 32           # re-scoring mosaic: 6x6 cells of 32 px ...
_RESCORE_FACE_PX = 22        # ... the level's smallest face shown this wide (20: lost 2 of the 4; 24 px cells: 3)
_RESCORE_SCORE = 0.45        # ... a candidate from this score
_RESCORE_MAX = 36            # ... at most one mosaic per image (best proposer scores first)
_RESCORE_PAST_EDGE = True    # ... also weak maxima centred up to _EDGE_SLACK x the level's face past the frame
_NEAR_SCORE = 0.25           # confirmation near misses from this score (the full-range threshold is 0.4) ...
_NEAR_SLOTS = (0, 2, 6, 8)   # ... are confirmed again in the mosaic's corners, grey cells between them
_NEAR_MAX = 8                # ... at most this many per image (two calls)
_NEAR_AGAIN = 0.6            # ... a candidate when they score this there (the sweep's lost faces: 0.74-0.91;
                             # Hopper turned 200 degrees: a 0.40 candidate, +20 % CPU to reject it)
_SIDE_INWARD = 0.2           # upright proposals centred within 0.25 x the level's face of the left/right edge
                             # (or past it) get a second confirmation cell this far (x that face) inside,
_SIDE_MAX = 4                # ... at most this many an image (with the near misses, grey cells around them)
_EDGE_SLACK = 0.4            # proposals centred this far (x the level's face size) outside the frame are kept:
                             # a small face cut by the frame and its reflection in the level's mirrored
                             # border are boxed as one pattern centred 7-8 px past the edge (Hopper 24 px
                             # 25-50 % above/below a 1080p frame; 0.2 = 4.6 px at the 23 px level lost them)


def _proposal_pass(image: np.ndarray | None, h: int, w: int,
                   scaled: tuple[np.ndarray, float, float] | None = None,
                   min_face_px: int = 20, known: Sequence[_Detection] = (),
                   max_faces: int = 10, upright: bool = True, turned: bool = False,
                   cells_out: list[tuple[float, float, float, int]] | None = None) -> list[_Detection]:
    """Small faces in two cheap steps instead of the full-range detector on every window:

    1. **Proposals**: the short-range BlazeFace (128 px input, 1.7 ms a call against 6.2 ms for
       the full-range 192 px one: 1.6x cheaper per pixel) at a low threshold (0.15) on
       overlapping windows of a pyramid whose levels show the faces of :func:`_levels`' size
       ranges 14-28 px wide; windows without skin-chroma cells are skipped. At 14 px and 0.15
       a sweep of 352 faces of 24-343 px (1080p and 12 MP, 4 grid offsets) found 348, the
       exhaustive window pass 351; at 12 px and 0.2, 329 (the smallest astronaut faces score
       0.1-0.3 depending on where they fall on the model's anchor grid); 16 px: 349 at ~1.3x
       the calls. The first level's weak maxima (0.09-0.15) are re-scored at a finer scale
       (:func:`_rescored`, one more 192 px call): 352/352, also at 4 other offsets (351 before).
    2. **Confirmation**: each proposal (best first, near-duplicates dropped, at most
       _CONFIRM_PER_FACE per wanted face) is cut out so the face is 30-60 px wide in a 64 px
       cell; nine cells make one 192 px mosaic for the full-range detector at its usual
       threshold, so what comes out is the same kind of detection (box, eye keypoints, score)
       the window pass gave, for 1/9 of a call each. A cell that scored only 0.25-0.4 there (its
       neighbours' context: a face scored 0.35 in the mosaic, 0.74 alone) is confirmed once
       more in a mosaic's corner, grey cells around it (at most _NEAR_MAX an image; kept from
       _NEAR_AGAIN).

    ``cells_out``: when given, the confirmation cells (centre x, y, side, turn) are appended to it
    (:mod:`.turned` looks again, turned, at those that confirmed no face).
    """
    m = min_face(h, w, min_face_px)
    sizes = [m * _PROPOSE_LEVEL_STEP ** k for k in range(-(-len(_levels(h, w, min_face_px)) // 2))]
    if not sizes:
        return []
    scales = [_snap(min(1.0, _PROPOSE_FACE_PX / size)) for size in sizes]
    pad = _PROPOSE_PAD
    levels = []           # (sx, sy, skin integral) per level
    jobs: list[tuple[np.ndarray, int, int, int, int, int, int, tuple[int, int]]] = []
    # a linear last step: the first level's fractional shrink of a 1080p frame 13 -> 1.6 ms
    pyramid = _pyramid(image, scales if upright else scales[:1], scaled, cv2.INTER_LINEAR)
    for i, (src, sx, sy) in enumerate(pyramid if upright else []):
        padded = mirror_pad(src, pad)
        skin = _skin_integral(padded, colour=True)
        levels.append((sx, sy, skin, sizes[i]))
        jobs += _tile_jobs(padded, skin, len(levels) - 1, 0)
    if turned and sizes:
        # faces lying or upside down, >= 2x the smallest: the proposer on the level showing them
        # 14-56 px wide (half the first level's scale), turned by 1-3 quarter turns
        first, sx, sy = pyramid[0]
        src, ex, ey = shrink(first, 0.5)
        padded = mirror_pad(src, pad)
        levels.append((sx * ex, sy * ey, _skin_integral(padded, colour=True), 2 * sizes[0]))
        for k in (1, 2, 3):
            view = rot90(padded, k)
            jobs += _tile_jobs(view, _skin_integral(view, colour=True), len(levels) - 1, k, padded.shape[:2])
    found = pmap(_propose, jobs)
    # sure boxes the whole-image passes resolve (see resolved(): a smaller sure box may be the head boxed
    # too big or as a turned face, its landmarks failing: the position sweep's lost faces)
    least = resolved(h, w)
    sure = [d.box for d in known if d.score >= _UPRIGHT_SURE and d.box[2] - d.box[0] >= least]
    proposals: list[tuple[_Detection, float, int]] = []
    weak: list[_Detection] = []
    for job, (rows, weak_rows) in zip(jobs, found):
        sx, sy, skin, size = levels[job[5]]
        for out, got in ((proposals, rows), (weak, weak_rows)):
            for d in _rows_to_image(got, job, sx, sy, pad):
                cx, cy = (d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2
                # inside a face the whole-image passes already found (not for turned views: the turned
                # whole-image passes size small turned faces badly, e.g. a 64 px upside-down face as 105 px)
                if not job[6] and any(b[0] <= cx <= b[2] and b[1] <= cy <= b[3] for b in sure):
                    continue
                if skin is not None:      # the face's centre must show skin chroma
                    lx, ly, r = round(cx * sx) + pad, round(cy * sy) + pad, int(_PROPOSE_FACE_PX // 2)
                    if _area(skin, max(0, lx - r), max(0, ly - r), lx + r, ly + r) < _PROPOSE_MIN_SKIN_CENTRE:
                        continue
                if out is proposals:
                    proposals.append((d, size, job[6]))
                else:
                    weak.append(d)
    rescored = _rescored(weak, proposals, sizes[0], image, scaled, h, w) if upright else []
    cells = _proposal_cells(proposals, h, w)
    if cells_out is not None:
        cells_out.extend(cells)
    per = (_DET_INPUT // _CONFIRM_CELL) ** 2
    cap = max(9, _CONFIRM_PER_FACE * max_faces)        # upright, turned: turned cells never crowd out upright ones
    mosaics = []
    for group in ([c for c in cells if not c[3]][:cap], [c for c in cells if c[3]][:cap]):
        group = sorted(group, key=lambda c: (c[3], c[2]))   # stable: a mosaic holds cells of one turn and scale
        mosaics += [group[i:i + per] for i in range(0, len(group), per)]
    results = pmap(lambda group: _confirm(image, scaled, group, _NEAR_SCORE), mosaics)
    confirmed = [d for found, _ in results for d in found]
    # upright near misses (0.25-0.4 in a crowded mosaic) again, each with grey cells around it
    again = [cell for _, near in results for cell in near if not cell[3]][:_NEAR_MAX]
    again += _side_cells(proposals, h, w)    # side-edge proposals, again a little inside the frame
    slots = len(_NEAR_SLOTS)
    confirmed += [d for found, _ in pmap(lambda group: _confirm(image, scaled, group, slots=_NEAR_SLOTS),
                                         [again[i:i + slots] for i in range(0, len(again), slots)])
                  for d in found if d.score >= _NEAR_AGAIN]
    return confirmed + rescored + _top_edge_proposals(proposals, confirmed)


def resolved(h: int, w: int) -> float:
    """The smallest box (image px) of a sure whole-image detection that drops the proposals inside
    it: a face _TILE_FACE_PX wide in the whole-image passes' 192 px input (160 px at 1920x1080, 333
    px at 4000x3000; where :func:`.windows._levels` hands over to them). Below it the detector sees
    a head a few px wide: in a position sweep (1080p, 40 centres x 24-128 px, both head photos) it
    boxed 16 of 640 upright faces of 40-96 px at >= 0.75 as 93-133 px boxes (the head, or a
    turned face: eyes 90 degrees off) whose landmarks failed; at 12 MP three 160 px faces as 259-288
    px. Those faces' proposals, kept, find them: 624 -> 640/640, 197 -> 200/200."""
    return _TILE_FACE_PX * max(h, w) / _DET_INPUT


def _propose(job: tuple[Any, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The proposer's rows on one job's tile, and on the first level's upright tiles its weak
    local maxima too (:func:`.proposer.detect_weak`); (k, 9) rows in tile px each."""
    from .. import proposer

    tile = np.ascontiguousarray(job[0][job[2]:job[4], job[1]:job[3]])
    if job[5] == 0 and job[6] == 0:
        return proposer.detect_weak(tile, _PROPOSE_SCORE, _WEAK_SCORE, quietly)
    return _propose_rows(tile), np.zeros((0, 9), np.float32)


def _rescored(weak: list[_Detection], proposals: list[tuple[_Detection, float, int]], size: float,
              image: np.ndarray | None, scaled: tuple[np.ndarray, float, float] | None,
              h: int, w: int) -> list[_Detection]:
    """Candidates from the first level's weak maxima (``weak``, image px; ``size``: the level's
    smallest face): those centred in the frame and more than half a face from a proposal of that
    level or a better weak one, best first, at most _RESCORE_MAX, are re-scored by the short-range
    model on a mosaic of _RESCORE_CELL px cells showing a face of ``size`` _RESCORE_FACE_PX wide
    (the sweep's lost faces score 0.66-0.83 there, 0.10-0.15 at the level); a cell's best detection
    >= _RESCORE_SCORE centred in it comes back as a coarse candidate in image px."""
    from .. import proposer

    if not weak:
        return []
    strong = np.array([((d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2) for d, s, turn in proposals
                       if s == size and not turn]).reshape(-1, 2)
    order = sorted(weak, key=lambda d: (-round(d.score, 6), tuple(np.round(d.box, 3))))
    centres = np.array([((d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2) for d in order])
    near = (0.5 * size) ** 2
    m = _EDGE_SLACK * size if _RESCORE_PAST_EDGE else 0.0      # as proposals: a face cut by the frame
    ok = (centres[:, 0] >= -m) & (centres[:, 0] < w + m) & (centres[:, 1] >= -m) & (centres[:, 1] < h + m)
    if len(strong):
        ok &= (((centres[:, None, :] - strong[None, :, :]) ** 2).sum(axis=2) >= near).all(axis=1)
    kept: list[tuple[float, float]] = []
    for i in np.flatnonzero(ok):
        cx, cy = float(centres[i, 0]), float(centres[i, 1])
        if all((cx - a) ** 2 + (cy - b) ** 2 >= near for a, b in kept):
            kept.append((cx, cy))
            if len(kept) == _RESCORE_MAX:
                break
    if not kept:
        return []
    src, sx, sy = (image, 1.0, 1.0) if image is not None else scaled      # type: ignore[misc]
    c, n = _RESCORE_CELL, _DET_INPUT // _RESCORE_CELL
    side = c * size / _RESCORE_FACE_PX                  # image px shown by one cell
    k = c / (side * min(sx, sy))                        # src px -> cell px
    mosaic = np.full((_DET_INPUT, _DET_INPUT, 3), 128, np.uint8)
    for i, (cx, cy) in enumerate(kept):                 # linear resampling (1080p: 35 -> 32 px)
        warp = np.array([[k, 0, c / 2 - 0.5 - k * (cx * sx - 0.5)], [0, k, c / 2 - 0.5 - k * (cy * sy - 0.5)]])
        mosaic[(i // n) * c:(i // n + 1) * c, (i % n) * c:(i % n + 1) * c] = cv2.warpAffine(
            src[:, :, :3], warp, (c, c), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    best: dict[int, _Detection] = {}
    for r in proposer.detect(mosaic, _RESCORE_SCORE, quietly).astype(np.float64):
        x, y = (r[1] + r[3]) / 2, (r[2] + r[4]) / 2
        col, row = int(x // c), int(y // c)
        i = row * n + col
        if not (0 <= col < n and 0 <= row < n) or i >= len(kept) or i in best:    # rows come best first
            continue
        if abs(x - (col + 0.5) * c) > 0.3 * c or abs(y - (row + 0.5) * c) > 0.3 * c:
            continue
        cx, cy = kept[i]
        ox, oy, u = col * c + c / 2, row * c + c / 2, side / c

        def back(px: float, py: float, ox: float = ox, oy: float = oy, u: float = u,
                 cx: float = cx, cy: float = cy) -> tuple[float, float]:
            return cx + (px - ox) * u, cy + (py - oy) * u

        (ax, ay), (bx, by) = back(r[1], r[2]), back(r[3], r[4])
        best[i] = _Detection(np.array([ax, ay, bx, by]), float(r[0]),
                             np.array([back(r[5], r[6]), back(r[7], r[8])]), coarse=True)
    return [best[i] for i in sorted(best)]


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


def _tile_jobs(padded: np.ndarray, skin: np.ndarray | None, level: int, turn: int,
               unturned: tuple[int, int] | None = None) -> list[tuple[Any, ...]]:
    """Proposer jobs (array, x0, y0, x1, y1, level, turn, unturned shape) covering ``padded`` (a
    level, possibly turned by ``turn`` quarter turns from its ``unturned`` h, w): each big tile
    (:func:`.proposer.span`), or only its small windows showing skin chroma when they cost less."""
    from .. import proposer

    ph, pw = padded.shape[:2]
    (th, ys), (tw, xs) = proposer.span(ph, _PROPOSE_OVERLAP), proposer.span(pw, _PROPOSE_OVERLAP)
    small = _PROPOSE_INPUT
    if max(th, small) > ph or max(tw, small) > pw:   # a level smaller than one tile: tiles reach past it
        padded = cv2.copyMakeBorder(padded, 0, max(0, th - ph, small - ph), 0, max(0, tw - pw, small - pw),
                                    cv2.BORDER_REPLICATE)
    shape = unturned or (ph, pw)
    wins: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for wy0, _ in _windows(max(ph, small), small, _PROPOSE_OVERLAP):
        for wx0, _ in _windows(max(pw, small), small, _PROPOSE_OVERLAP):
            if skin is None or _area(skin, wx0, wy0, wx0 + small, wy0 + small) >= _PROPOSE_MIN_SKIN:
                tile = (max(y for y in ys if y <= wy0 + small // 2), max(x for x in xs if x <= wx0 + small // 2))
                wins.setdefault(tile, []).append((wy0, wx0))
    jobs: list[tuple[Any, ...]] = []
    for y0 in ys:
        for x0 in xs:
            kept = wins.get((y0, x0), [])
            if len(kept) * small * small < _PROPOSE_TILE_FILL * th * tw:
                jobs += [(padded, wx0, wy0, wx0 + small, wy0 + small, level, turn, shape) for wy0, wx0 in kept]
            else:
                jobs.append((padded, x0, y0, x0 + tw, y0 + th, level, turn, shape))
    return jobs


def _unturn(x: float, y: float, turn: int, h: int, w: int) -> tuple[float, float]:
    """A point of ``np.rot90(a, turn)`` -> the same point of ``a`` (h x w), continuous px."""
    k = turn % 4
    if k == 1:
        return w - y, x
    if k == 2:
        return w - x, h - y
    if k == 3:
        return y, h - x
    return x, y


def _rows_to_image(rows: np.ndarray, job: tuple[Any, ...], sx: float, sy: float, pad: int) -> list[_Detection]:
    """Proposer rows of one job's tile -> detections in image pixels (boxes and eyes mapped back
    through the tile origin, the level's turn, its mirrored border and its scale)."""
    _, x0, y0, _, _, _, turn, (lh, lw) = job
    if not len(rows):
        return []
    r = rows.astype(np.float64)
    px, py = r[:, 1:9:2] + x0, r[:, 2:9:2] + y0         # box corners, eyes: (k, 4) each
    k = turn % 4
    if k == 1:
        px, py = lw - py, px
    elif k == 2:
        px, py = lw - px, lh - py
    elif k == 3:
        px, py = py, lh - px
    ix, iy = (px - pad) / sx, (py - pad) / sy
    boxes = np.stack([np.minimum(ix[:, 0], ix[:, 1]), np.minimum(iy[:, 0], iy[:, 1]),
                      np.maximum(ix[:, 0], ix[:, 1]), np.maximum(iy[:, 0], iy[:, 1])], axis=1)
    eyes = np.stack([ix[:, 2:4], iy[:, 2:4]], axis=2)
    return [_Detection(boxes[i], float(r[i, 0]), eyes[i]) for i in range(len(r))]


def _snap(scale: float) -> float:
    """``scale`` lowered to the power of 1/2 within 5 % below it (exact 2x2 halvings are
    OpenCV's SIMD path: 1080p -> 1/2 in ~1 ms, against ~20 ms for a fractional 0.52), else kept."""
    power = 2.0 ** round(math.log2(scale))
    return power if scale * 0.95 <= power <= scale else scale


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
    the cell 4 px outward; 0.82-0.90 4 px inward, grey cells around it)."""
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
        if any(abs(ix - k[0]) < 0.5 * size and abs(cy - k[1]) < 0.5 * size for k in out):
            continue
        out.append((ix, cy, size * _CONFIRM_CELL / _CONFIRM_FACE_PX, 0))
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
