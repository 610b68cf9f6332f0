"""Stage 1, the proposer's weak maxima re-scored (colour images): :func:`_rescored`."""

from __future__ import annotations

import cv2
import numpy as np

from .common import _DET_INPUT, _Detection
from .confirm import _EDGE_SLACK
from .models import quietly

# Weak proposals (the first level's smallest faces score 0.1-0.3 on the proposer, by where they fall on
# its anchor grid): the local maxima of its stride-8 score map in [_WEAK_SCORE, _PROPOSE_SCORE) are
# re-scored by the same model on 32 px cells showing the level's smallest face 22 px wide (the 26-57 px
# faces the size sweep lost: 0.10-0.15 -> 0.66-0.83; weak maxima of no-face photos: <= 0.39), 36 cells in one
# 192 px mosaic; those >= _RESCORE_SCORE become candidates (landmarks and verification decide).
_WEAK_SCORE = 0.09           # weak maxima from this score (the sweep's lost faces: 0.096-0.148)
_WEAK_EDGE_SCORE = 0.06      # ... and from this one centred near the frame's top or bottom edge (the astronaut
_WEAK_EDGE_BAND = 0.6        # ... 24 px half below a 1080p frame: 0.074, re-scored 0.77), within this x the
                             # level's face (_PROPOSE_FACE_PX) of the edge
_RESCORE_CELL = 32           # re-scoring mosaic: 6x6 cells of 32 px ...
_RESCORE_FACE_PX = 22        # ... the level's smallest face shown this wide (20: lost 2 of the 4; 24 px cells: 3)
_RESCORE_SCORE = 0.45        # ... a candidate from this score
_RESCORE_MAX = 36            # ... at most one mosaic per image (best proposer scores first)
_RESCORE_PAST_EDGE = True    # ... also weak maxima centred up to _EDGE_SLACK x the level's face past the frame


def _rescored(weak: list[_Detection], proposals: list[tuple[_Detection, float, int]], size: float,
              image: np.ndarray | None, scaled: tuple[np.ndarray, float, float] | None,
              h: int, w: int, late: list[_Detection] | None = None) -> list[_Detection]:
    """Candidates from the first level's weak maxima (``weak``, image px; ``size``: the level's
    smallest face): those centred in the frame and more than half a face from a proposal of that
    level or a better weak one, best first, at most _RESCORE_MAX, are re-scored by the short-range
    model on a mosaic of _RESCORE_CELL px cells showing a face of ``size`` _RESCORE_FACE_PX wide
    (the sweep's lost faces score 0.66-0.83 there, 0.10-0.15 at the level); a cell's best detection
    >= _RESCORE_SCORE centred in it comes back as a coarse candidate in image px. ``late``: more
    weak maxima (the top strip's, :mod:`.strips`), taken after all of ``weak``."""
    from .. import proposer

    late = late or []
    if not weak and not late:
        return []
    strong = np.array([((d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2) for d, s, turn in proposals
                       if s == size and not turn]).reshape(-1, 2)
    order = [d for group in (weak, late) for d in sorted(group, key=lambda d: (-round(d.score, 6), tuple(np.round(d.box, 3))))]
    centres = np.array([((d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2) for d in order])
    near = (0.5 * size) ** 2
    m = _EDGE_SLACK * size if _RESCORE_PAST_EDGE else 0.0      # as proposals: a face cut by the frame
    ok = (centres[:, 0] >= -m) & (centres[:, 0] < w + m) & (centres[:, 1] >= -m) & (centres[:, 1] < h + m)
    if len(strong):
        ok &= (((centres[:, None, :] - strong[None, :, :]) ** 2).sum(axis=2) >= near).all(axis=1)
    kept: list[tuple[float, float]] = []
    first, n_weak = len(order) - len(late), None       # the late ones are kept apart from each other only
    for i in np.flatnonzero(ok):
        cx, cy = float(centres[i, 0]), float(centres[i, 1])
        if i >= first and n_weak is None:
            n_weak = len(kept)
        if all((cx - a) ** 2 + (cy - b) ** 2 >= near for a, b in kept[n_weak or 0:]):
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
