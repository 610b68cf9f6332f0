"""Small upright grey faces just under the window pass's threshold: a second, bigger look.

The grey window pass shows its smallest faces 16-38 px wide, where the full-range detector scores a
grey face weakly (upright 40 px faces on the bench photos: 0.35-0.40 next to the 0.4 threshold; tight
LFW faces 24/32 px on grey photos). Its near misses (:data:`.windows._NEAR` .. threshold) no sure
detection explains are looked at once more, upright, each in a 96 px cell showing _SHOWN x its box
(the face ~45 px wide, where grey faces score 0.6-0.9), four cells a call; a centred detection from
:data:`MIN_SCORE` is a candidate (landmarks and verification decide).

Measured (round 15, grey, JPEG): the bench's 40 px faces every 15 degrees on the six photos
(``bench/faces_real.py --check angles --modes grey --sizes 40``) 21 -> 24/48; LFW faces 20 per grey
1080p photo (coffee, chelsea, rocket; round 14's independent check) 24 px 18 -> 21/60, 32 px 29 -> 35/60.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from .common import _DET_INPUT, _Detection
from .imageops import centred_rows
from .models import _detect_full
from .threads import pmap

ENABLED = True          # the second look runs on grey images' window passes (A/B switch)
PLACES = 8              # at most this many near misses (best first) an image: two detector calls
_FLOOR = 0.25           # near misses from this score
_SHOWN = 2.2            # a cell shows this x the near miss's box
_CELL = _DET_INPUT // 2  # 2 x 2 cells a call
MIN_SCORE = 0.6         # a centred detection from this score is a candidate (as .greybig)
_EXPLAINED = 0.75       # a near miss within half its box of a detection this sure is explained


def _places(near: Sequence[_Detection], found: Sequence[_Detection]) -> list[tuple[float, float, float]]:
    sure = [((d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2) for d in found if d.score >= _EXPLAINED]
    out: list[tuple[float, float, float]] = []
    for d in sorted(near, key=lambda d: (-round(d.score, 6), tuple(np.round(d.box, 3)))):
        if d.score < _FLOOR:
            continue
        cx, cy = (d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2
        bw = float(d.box[2] - d.box[0])
        if any(abs(cx - x) < 0.5 * bw and abs(cy - y) < 0.5 * bw for x, y in sure):
            continue
        if any(math.hypot(cx - p[0], cy - p[1]) < 0.25 * p[2] for p in out):
            continue
        out.append((float(cx), float(cy), _SHOWN * bw))
        if len(out) == PLACES:
            break
    return out


def candidates(image: np.ndarray | None, scaled: tuple[np.ndarray, float, float] | None,
               near: Sequence[_Detection], found: Sequence[_Detection]) -> list[_Detection]:
    """Candidates from the window pass's near misses ``near`` no sure detection of ``found`` explains."""
    if not ENABLED:
        return []
    places = _places(near, found)
    if not places:
        return []
    src, sx, sy = (image, 1.0, 1.0) if image is not None else scaled      # type: ignore[misc]
    c = _CELL

    def run(part: Sequence[tuple[float, float, float]]) -> list[_Detection]:
        mosaic = np.full((_DET_INPUT, _DET_INPUT, 3), 128, np.uint8)
        ks = []
        for slot, (cx, cy, side) in enumerate(part):
            k = c / (side * min(sx, sy))                   # src px -> cell px
            m = np.array([[k, 0, c / 2 - k * cx * sx], [0, k, c / 2 - k * cy * sy]])
            ks.append(k)
            mosaic[(slot // 2) * c:(slot // 2 + 1) * c, (slot % 2) * c:(slot % 2 + 1) * c] = cv2.warpAffine(
                src[:, :, :3], m, (c, c), flags=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REFLECT_101)
        best: dict[int, np.ndarray] = {}
        for slot, _col, _row, r in centred_rows(_detect_full(mosaic), c, len(part)):
            if r[0] >= MIN_SCORE and (slot not in best or r[0] > best[slot][0]):
                best[slot] = r
        out = []
        for slot, r in sorted(best.items()):
            cx, cy, side = part[slot]
            u = side / c                                   # image px per cell px
            col, row = slot % 2, slot // 2
            xs = cx + (r[[1, 3, 5, 7]] - col * c - c / 2) * u
            ys = cy + (r[[2, 4, 6, 8]] - row * c - c / 2) * u
            out.append(_Detection(np.array([xs[0], ys[0], xs[1], ys[1]]), float(r[0]),
                                  np.array([[xs[2], ys[2]], [xs[3], ys[3]]])))
        return out

    parts = [places[i:i + 4] for i in range(0, len(places), 4)]
    return [d for found_ in pmap(run, parts) for d in found_]
