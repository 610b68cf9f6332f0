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

from .common import (_CONFIRM_CELL, _CONFIRM_PER_FACE, _DET_INPUT, _PROPOSE_FACE_PX, _PROPOSE_INPUT, _PROPOSE_LEVEL_STEP,
                     _PROPOSE_MIN_SKIN, _PROPOSE_MIN_SKIN_CENTRE, _PROPOSE_OVERLAP, _PROPOSE_PAD, _PROPOSE_SCORE,
                     _PROPOSE_TILE_FILL, _TILE_FACE_PX, _UPRIGHT_SURE, _Detection)
from .confirm import (_NEAR_AGAIN, _NEAR_MAX, _NEAR_SCORE, _NEAR_SLOTS, _confirm, _proposal_cells, _side_cells,
                      _top_edge_proposals, kept_again)
from . import masked
from .imageops import _area, _pyramid, _skin_integral, _windows, mirror_pad, rot90, shrink, unturn
from .models import _propose_rows, quietly
from .rescore import _WEAK_EDGE_BAND, _WEAK_EDGE_SCORE, _WEAK_SCORE, _rescored
from .strips import STRIP_CELLS as _STRIP_CELLS, strip_jobs
from .threads import pmap
from .windows import _levels, min_face


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
       (:func:`.rescore._rescored`, one more 192 px call): 352/352, also at 4 other offsets (351 before).
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
    m = smallest(h, w, min_face_px)
    sizes = level_sizes(h, w, m, min_face_px)
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
        if i == 0:      # the frame's top rows again, their border flat beyond a few mirrored rows (:mod:`.strips`)
            jobs += strip_jobs(padded, pad, 0, _strip_span, skin, _PROPOSE_MIN_SKIN_CENTRE)
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
    strip: tuple[list[tuple[_Detection, float, int]], list[_Detection]] = ([], [])
    for job, (rows, weak_rows) in zip(jobs, found):
        sx, sy, skin, size = levels[job[5]]
        for out, got in ((strip[0], rows), (strip[1], weak_rows)) if len(job) > 8 else ((proposals, rows), (weak, weak_rows)):
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
                if out is proposals or out is strip[0]:
                    out.append((d, size, job[6]))
                else:
                    out.append(d)
    # the top strip looks again only where the level's own tiles saw nothing; its proposals are
    # confirmed in the near misses' corner slots and its weak maxima re-scored after the level's
    # (the level's proposals and weak maxima get the cells, and neighbours, they had without it)
    seen = [d for d, s, turn in proposals if s == sizes[0] and not turn]
    late = [p for p in strip[0] if _apart(p[0], seen, sizes[0] / 2)]
    late_weak = [d for d in strip[1] if _apart(d, seen + [p[0] for p in late], sizes[0] / 2)]
    rescored = _rescored(weak, proposals, sizes[0], image, scaled, h, w, late_weak) if upright else []
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
    again += _proposal_cells(late, h, w)[:_STRIP_CELLS]     # the top strip's, in the same corner slots
    slots = len(_NEAR_SLOTS)
    confirmed += [d for found, _ in pmap(lambda group: _confirm(image, scaled, group, slots=_NEAR_SLOTS),
                                         [again[i:i + slots] for i in range(0, len(again), slots)])
                  for d in found if kept_again(d, h, w, _NEAR_AGAIN)]
    if upright and levels:      # masked faces: upper-face cues on the first level's skin map, own mosaics (.masked)
        sx0, sy0, skin0, _ = levels[0]
        confirmed += masked.candidates(image, scaled, pyramid[0][0], skin0, sx0, sy0, pad, h, w, sizes[0],
                                       list(known) + confirmed + rescored)
    return confirmed + rescored + _top_edge_proposals(proposals, confirmed)


_AREA_FRACTION = 0.0167    # smallest(): x the square root of the image's area (24 px at 1920x1080)


def smallest(h: int, w: int, min_face_px: int = 20) -> float:
    """The smallest face the proposal pass looks for: :func:`.windows.min_face` (1.2 % of the long
    side: 23 px at 1920x1080, 48 px at 4000x3000), or less in a long image (aspect > ~1.9:1):
    _AREA_FRACTION x the square root of its area, so the first level costs about what a 1080p
    frame's does (0.7 M px). A 6000x1000 panorama looked for faces from 72 px (a 1000 px high
    photo: faces up to 7 % of its height missed; the independent check's astronaut 48 and 60 px,
    no candidate); now from 41 px. 16:9 and 4:3 images are unchanged."""
    return min(min_face(h, w, min_face_px), max(float(min_face_px), _AREA_FRACTION * math.sqrt(h * w)))


def level_sizes(h: int, w: int, m: float, min_face_px: int = 20) -> list[float]:
    """The proposal levels' smallest faces from ``m`` (4x apart): as many as the window pass's
    levels (2x apart, :func:`.windows._levels`) would take to reach the faces the whole-image pass
    sees, counted from ``m``."""
    n = len(_levels(h, w, min_face_px))
    if n and m < min_face(h, w, min_face_px):
        whole = _TILE_FACE_PX * max(h, w) / _DET_INPUT
        n = max(n, math.ceil(math.log2(whole / m)))
    return [m * _PROPOSE_LEVEL_STEP ** k for k in range(-(-n // 2))]


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
        # the frame's top and bottom rows (tile px): weak maxima there from _WEAK_EDGE_SCORE
        ph, dy = job[7][0], job[8] if len(job) > 8 else 0
        r = _WEAK_EDGE_BAND * _PROPOSE_FACE_PX
        bands = [(e - job[2] - dy - r, e - job[2] - dy + r) for e in (_PROPOSE_PAD, ph - _PROPOSE_PAD)]
        return proposer.detect_weak(tile, _PROPOSE_SCORE, _WEAK_SCORE, quietly, _WEAK_EDGE_SCORE, bands)
    return _propose_rows(tile), np.zeros((0, 9), np.float32)


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


def _rows_to_image(rows: np.ndarray, job: tuple[Any, ...], sx: float, sy: float, pad: int) -> list[_Detection]:
    """Proposer rows of one job's tile -> detections in image pixels (boxes and eyes mapped back
    through the tile origin, the level's turn, its mirrored border and its scale)."""
    _, x0, y0, _, _, _, turn, (lh, lw) = job[:8]
    if not len(rows):
        return []
    dy, dx = job[8:10] if len(job) > 8 else (0, 0)      # an edge strip's array: its place in the level
    r = rows.astype(np.float64)
    # box corners, eyes: (k, 4) each
    px, py = unturn(r[:, 1:9:2] + x0 + dx, r[:, 2:9:2] + y0 + dy, turn, lw, lh)
    ix, iy = (px - pad) / sx, (py - pad) / sy
    boxes = np.stack([np.minimum(ix[:, 0], ix[:, 1]), np.minimum(iy[:, 0], iy[:, 1]),
                      np.maximum(ix[:, 0], ix[:, 1]), np.maximum(iy[:, 0], iy[:, 1])], axis=1)
    eyes = np.stack([ix[:, 2:4], iy[:, 2:4]], axis=2)
    return [_Detection(boxes[i], float(r[i, 0]), eyes[i]) for i in range(len(r))]


def _apart(d: _Detection, others: list[_Detection], dist: float) -> bool:
    """A top-strip detection ``d`` centred ``dist`` or more from each of ``others`` (the first
    level's own upright proposals or weak maxima): the strip looks again where the level saw
    nothing (a better-placed duplicate weak maximum would take the level's one's re-scoring cell:
    the 12 MP sweep's astronaut 48 px at offset 0 was lost so)."""
    cx, cy = (d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2
    return all(math.hypot((o.box[0] + o.box[2]) / 2 - cx, (o.box[1] + o.box[3]) / 2 - cy) >= dist for o in others)


def _strip_span(length: int) -> tuple[int, list[int]]:
    from .. import proposer

    return proposer.span(length, _PROPOSE_OVERLAP)


def _snap(scale: float) -> float:
    """``scale`` lowered to the power of 1/2 within 5 % below it (exact 2x2 halvings are
    OpenCV's SIMD path: 1080p -> 1/2 in ~1 ms, against ~20 ms for a fractional 0.52), else kept."""
    power = 2.0 ** round(math.log2(scale))
    return power if scale * 0.95 <= power <= scale else scale

