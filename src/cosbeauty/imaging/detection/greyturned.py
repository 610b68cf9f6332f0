"""Small turned faces in grey (colourless) images. Grey images get no proposal pass (the
short-range proposer misses tightly cropped grey faces), only the exhaustive window pass,
upright; its full-range windows see a small turned grey face just under the threshold (the best
detection within 0.4 face of it scores 0.25-0.72 at 1080p). So the places no sure detection
explains (:func:`grey_turned_candidates`) are pre-scored turned 90/180/270 degrees by the
short-range model (:func:`.turned.prescore`; a place with a big box and no turn scoring once more in
a cell sized from its box), and
each turn scoring >= 0.5 is confirmed by the full-range detector in a turned cell centred on the
pre-score's box (:func:`.turned.turned_confirm`). Their candidates are :class:`GreyTurned`, so
that :func:`pending` can hand those no verified face explains to a second landmarking alone: the
upright window detections of a turned face outscore its turned confirmation and lead the merged
candidate with upright eyes. The sure window detections no verified face explains are looked at
turned the same way (:func:`failed_sure_places`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .common import _CONFIRM_CELL, _CONFIRM_FACE_PX, Face, _Detection
from .turned import _EXPLAINED_SCORE, _TURNS, prescore, turned_confirm, unexplained

GREY_TRIGGER = 0.25      # window-pass detections from this score (most under the 0.4 threshold:
                         # the full-range model scores a small grey face turned 90-270 degrees 0.25-0.72 near it) ...
GREY_CELLS = 6           # ... at most this many places (best first) no sure detection explains ...
_PRE_CELL = 64           # ... pre-scored turned by the short-range model in 64 px cells (nine a call: 32 px cells
                         # lost half the faces, the place being up to 0.4 face off and the model weak on grey) ...
_SHOWN = 1.5             # ... each showing this x the confirmation cell of the smallest face (70 px at 1080p) ...
_SECOND_MAX = 3          # ... and places no turn of which scored (at most this many, best first: one call) once more
_BIG_BOX = 2.5           # ... when their box is big (>= this x the smallest face), showing _SHOWN_BOX x the box
_SHOWN_BOX = 2.2         #     (a 96 px face's places: 65-96 px boxes; sizing every cell so lost 32 px faces, and a
                         #     second look at 1.15x the confirmation cell for small boxes found no 24 px face)
_CONFIRM = 2.0           # each turn scoring >= _PRE_SCORE confirmed in a cell of this x its pre-score box, centred on it
_FAILED_MAX = 4          # sure small window detections no verified face explains: at most this many ...
_FAILED_BIG = 6          # ... up to this x the smallest face


@dataclass
class GreyTurned(_Detection):
    """A candidate of :func:`grey_turned_candidates` (a turned confirmation)."""


def _second(box_w: float, side: float, smallest: float) -> float:
    """The side (image px) the second pre-score cell of a place whose detection box is ``box_w``
    wide shows (``side``: the confirmation cell of the ``smallest`` face); 0: no second look."""
    if box_w >= _BIG_BOX * smallest:
        return max(_SHOWN * side, _SHOWN_BOX * box_w)
    return 0.0


def grey_turned_candidates(image: np.ndarray | None, scaled: tuple[np.ndarray, float, float] | None,
                           rows: Sequence[_Detection], found: Sequence[_Detection], smallest: float,
                           cap: int = GREY_CELLS) -> list[_Detection]:
    """Candidates of small turned faces in a grey image from the window pass's detections
    ``rows`` (image px, including those under its threshold): the places no sure detection of
    ``found`` explains, best first, at most ``cap``, are pre-scored turned 90/180/270 degrees by the
    short-range model (:func:`.turned.prescore`, 64 px cells showing _SHOWN x the confirmation cell
    of a ``smallest`` face; a place with a big box and no turn scoring once more, :func:`_second`),
    and each turn scoring >= _PRE_SCORE is confirmed by the full-range detector (:func:`.turned.turned_confirm`)
    in a cell centred on the pre-score's box (_CONFIRM x its side); those centred in the frame
    are candidates (:class:`GreyTurned`; landmarks and verification decide)."""
    side = smallest * _CONFIRM_CELL / _CONFIRM_FACE_PX
    order = sorted((d for d in rows if d.score >= GREY_TRIGGER),
                   key=lambda d: (-round(d.score, 6), tuple(np.round(d.box, 3))))
    cells = [((d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2, side, 0) for d in order]
    width = {(c[0], c[1]): float(d.box[2] - d.box[0]) for c, d in zip(cells, order)}
    places = unexplained(cells, [d for d in found if d.score >= _EXPLAINED_SCORE], cap)
    todo = [(cx, cy, _SHOWN * side, 0) for cx, cy, _, _ in places]
    return _look_turned(image, scaled, todo, [_second(width[(cx, cy)], side, smallest) for cx, cy, _, _ in places])


def _look_turned(image: np.ndarray | None, scaled: tuple[np.ndarray, float, float] | None,
                 todo: Sequence[tuple[float, float, float, int]], second: Sequence[float]) -> list[_Detection]:
    """Pre-score the upright cells ``todo`` turned; those no turn of which scored once more showing
    ``second`` px (where that is not 0; at most _SECOND_MAX); confirm the turns that score, keep
    those centred in the frame (as :class:`GreyTurned`)."""
    if not todo:
        return []
    seen: dict[tuple[int, int], _Detection] = {}
    prescore(image, scaled, todo, shown=1.0, cell_px=_PRE_CELL, rows_out=seen)
    hit = {i for i, _ in seen}
    again = [(cx, cy, second[i], 0) for i, (cx, cy, _, _) in enumerate(todo) if second[i] and i not in hit][:_SECOND_MAX]
    more: dict[tuple[int, int], _Detection] = {}
    if again:
        prescore(image, scaled, again, shown=1.0, cell_px=_PRE_CELL, rows_out=more)
    # the second look's turns in mosaics of their own: sharing one, a 93 px cell's content took the
    # other cells' detections (the grey astronaut 32 px at 135 degrees at (843, 543): 0.72 -> none)
    picked = [_picked(seen), _picked(more)]
    if not any(picked):
        return []
    # centred in the frame: a cell at an edge shows the image's mirror image past it, where a face
    # just inside the frame has an upside-down twin (the grey Hopper 32 px cut 25 % at the top:
    # found at 180 degrees 15 px above the frame, in place of the upright face)
    src, sx, sy = (image, 1.0, 1.0) if image is not None else scaled      # type: ignore[misc]
    h, w = src.shape[0] / sy, src.shape[1] / sx
    return [GreyTurned(d.box, d.score, d.eyes, coarse=d.coarse) for group in picked if group
            for d in turned_confirm(image, scaled, group)
            if 0 <= (d.box[0] + d.box[2]) / 2 < w and 0 <= (d.box[1] + d.box[3]) / 2 < h]


def _picked(seen: dict[tuple[int, int], _Detection]) -> list[tuple[float, float, float, int]]:
    """The confirmation cells (cx, cy, side, turn) of pre-score rows ``seen`` by (cell, turn index):
    centred on each row's box, _CONFIRM x its side, in (cell, turn) order."""
    out = []
    for i, j in sorted(seen):
        d = seen[(i, j)]
        bw = max(d.box[2] - d.box[0], d.box[3] - d.box[1])
        out.append(((d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2, _CONFIRM * bw, _TURNS[j]))
    return out


def _explained(d: _Detection, faces: Sequence[Face], k: float = 0.5) -> bool:
    cx, cy = (d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2
    bw = max(d.box[2] - d.box[0], d.box[3] - d.box[1])
    return any(abs(cx - f.center[0]) < k * max(bw, f.cheek_width) and abs(cy - f.center[1]) < k * max(bw, f.cheek_width)
               for f in faces)


def failed_sure_places(image: np.ndarray | None, scaled: tuple[np.ndarray, float, float] | None,
                       faces: Sequence[Face], dets: Sequence[_Detection], smallest: float) -> list[_Detection]:
    """The sure (>= _EXPLAINED_SCORE) small window detections no verified face explains (a grey
    48 px face turned 315 degrees: a sure 25 px upright box whose landmarks fail; it also kept
    the place from :func:`grey_turned_candidates`), at most _FAILED_MAX, best first, looked at
    turned as those places are."""
    side = smallest * _CONFIRM_CELL / _CONFIRM_FACE_PX
    todo: list[tuple[float, float, float, int]] = []
    order = sorted(dets, key=lambda d: (-round(d.score, 6), tuple(np.round(d.box, 3))))
    for d in order:
        bw = float(d.box[2] - d.box[0])
        if d.score < _EXPLAINED_SCORE or isinstance(d, GreyTurned) or bw > _FAILED_BIG * smallest or _explained(d, faces):
            continue
        cx, cy = (d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2
        if any(math.hypot(cx - t[0], cy - t[1]) < 0.5 * side for t in todo):
            continue
        todo.append((float(cx), float(cy), _SHOWN * side, 0))
        if len(todo) == _FAILED_MAX:
            break
    return _look_turned(image, scaled, todo, [0.0] * len(todo))


def pending(dets: Sequence[_Detection], faces: Sequence[Face]) -> list[_Detection]:
    """The grey turned candidates of ``dets`` no verified face of ``faces`` explains."""
    return [d for d in dets if isinstance(d, GreyTurned) and not _explained(d, faces)]
