"""Grey faces cut by the top of the frame (issue #12, "cut by the frame, up to half outside"): the
short-range detector on the frame's top strip, a mirrored border beyond the edge, at a few scales.

Why: in a grey (colourless) image no pass proposed a face cut by the frame at the top or at a top
corner (round 19: 24 of ``bench/faces_real.py --check edges --modes grey``'s 47 misses on f728576 are
within the issue's half, 17 of them at the top or a top corner; 22 of the 24 had no candidate near the
face). The window pass's full-range detector sees the face and its reflection in its mirrored border
as a pattern with four eyes (< 0.4 on any border), the colour path's proposals are gated by skin
chroma. The short-range model, shown the face :data:`SHOWN` px wide in a strip :data:`STRIP` px deep
whose first :data:`BORDER` rows mirror the frame's edge, scores all 24 faces 0.54-0.93 (40/96/300 px,
sides and corners a quarter out, the worst of three places along the strip; shown 32 px: 0.29-0.75).

Levels: the faces of :data:`FIRST` x the image's long side (at least :data:`FIRST_PX`) and :data:`STEP`
x larger, each level showing its faces SHOWN px wide, up to half the short side (1080p: five levels,
1.5x down to 0.09x). Only the strip is resized (an edge band of the image, mirrored beyond the frame
and at the corners, then scaled), cut in :data:`TILE` px tiles along the edge. Detections from
:data:`MIN_SCORE` centred in the frame are coarse candidates (the landmark model's ROI follows the
first mesh); landmarks and verification decide, as for every candidate.

Only the top (:data:`SIDES`): the bottom strip would find 3 of the 7 in-scope misses left (40 px faces
at the bottom and bottom-right corner), the left and right ones 4, each strip about the top's cost
again (~60 ms CPU a 1080p image at load ~30, 0.6x :mod:`.greyscan`). Run by :func:`.greybig.candidates`
where :mod:`.greyscan` runs (grey, >= ~1.14 MP): on smaller no-face crops (the gravel photo at 512 px,
a 550x280 crop) the strip proposed textures whose lower-half meshes (eyes outside the frame) pass grey
verification.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .common import _Detection
from .threads import pmap

ENABLED = True          # A/B switch
SHOWN = 60              # each level shows its faces this wide (px)
FIRST = 40 / 1920       # the first level's face, x the image's long side (40 px at 1920) ...
FIRST_PX = 40           # ... and at least this (px): smaller images show their small faces big enough
STEP = 2.0              # face size ratio between levels
LARGEST = 0.5           # ... up to this x the short side
STRIP = 64              # strip depth (px, the border included)
BORDER = 24             # ... its mirrored rows beyond the frame's edge
TILE = 384              # tiles along the strip (px)
_OVERLAP = 96           # ... overlapping by this (a face shown up to ~SHOWN * sqrt(STEP) wide, with margin)
MIN_SCORE = 0.6         # detections from this score are candidates
SIDES = ("top",)        # the frame's edges looked along ("bottom", "left", "right": see above)


def levels(h: int, w: int) -> list[float]:
    """Scales (strip px per image px) of the levels: faces FIRST x the long side, then STEP x larger,
    up to LARGEST x the short side."""
    face = max(FIRST * max(h, w), FIRST_PX)
    out = []
    while face <= LARGEST * min(h, w) * math.sqrt(STEP):
        out.append(SHOWN / face)
        face *= STEP
    return out


def _band(src: np.ndarray, side: str, k: float) -> tuple[np.ndarray, float, float]:
    """The edge strip of ``src`` on ``side`` at scale ``k``: (strip, x, y of its top-left in ``src``
    px units before scaling, i.e. strip px = (src px - origin) * k)."""
    h, w = src.shape[:2]
    inner = STRIP - BORDER
    b = max(1, math.ceil(BORDER / k))                       # border, src px
    d = min(math.ceil(inner / k), h if side in ("top", "bottom") else w)   # band depth, src px
    if side == "top":
        part, top, bot, lft, rgt, ox, oy = src[:d], b, 0, b, b, -b, -b
    elif side == "bottom":
        part, top, bot, lft, rgt, ox, oy = src[h - d:], 0, b, b, b, -b, h - d
    elif side == "left":
        part, top, bot, lft, rgt, ox, oy = src[:, :d], b, b, b, 0, -b, -b
    else:
        part, top, bot, lft, rgt, ox, oy = src[:, w - d:], b, b, 0, b, w - d, -b
    framed = cv2.copyMakeBorder(np.ascontiguousarray(part[:, :, :3]), top, bot, lft, rgt, cv2.BORDER_REFLECT_101)
    fh, fw = framed.shape[:2]
    size = (max(16, round(fw * k)), max(16, round(fh * k)))
    strip = cv2.resize(framed, size, interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
    return strip, ox, oy


def _tiles(length: int) -> list[int]:
    """Starts of TILE px tiles covering ``length`` px, overlapping by >= _OVERLAP."""
    if length <= TILE:
        return [0]
    n = math.ceil((length - _OVERLAP) / (TILE - _OVERLAP))
    return [round(i * (length - TILE) / (n - 1)) for i in range(n)]


def _jobs(src: np.ndarray, k: float) -> list[tuple[np.ndarray, float, float, float]]:
    """(tile, x, y origin in ``src`` px, scale) of every tile of the four strips at scale ``k``."""
    out = []
    for side in SIDES:
        strip, ox, oy = _band(src, side, k)
        across = side in ("top", "bottom")
        deep = strip.shape[0] if across else strip.shape[1]
        if deep > STRIP:                                   # rounding: keep STRIP px next to the edge
            cut = slice(0, STRIP) if side in ("top", "left") else slice(deep - STRIP, deep)
            strip = strip[cut] if across else strip[:, cut]
            if side in ("bottom", "right"):
                off = (deep - STRIP) / k
                ox, oy = (ox, oy + off) if across else (ox + off, oy)
        elif deep < STRIP:
            continue
        length = strip.shape[1] if across else strip.shape[0]
        if length < TILE:
            pad = ((0, 0), (0, TILE - length)) if across else ((0, TILE - length), (0, 0))
            strip = np.pad(strip, (*pad, (0, 0)), mode="edge")
            length = TILE
        for s in _tiles(length):
            tile = strip[:, s:s + TILE] if across else strip[s:s + TILE]
            out.append((np.ascontiguousarray(tile), ox + (s / k if across else 0.0),
                        oy + (0.0 if across else s / k), k))
    return out


def candidates(image: np.ndarray | None, h: int, w: int,
               scaled: tuple[np.ndarray, float, float] | None = None,
               min_score: float | None = None) -> list[_Detection]:
    """Coarse candidates (image px) of faces cut by the frame in a grey image: the short-range
    model's detections from MIN_SCORE on the edge strips of every level (:func:`levels`), centred in
    the frame. The source is ``image``, or ``scaled`` = (src, sx, sy) when there is no image."""
    from .. import proposer
    from .models import quietly

    if not ENABLED:
        return []
    src, sx, sy = (image, 1.0, 1.0) if image is not None else scaled if scaled is not None else (None, 1.0, 1.0)
    if src is None:
        return []
    floor = MIN_SCORE if min_score is None else min_score
    jobs = [j for k in levels(h, w) for j in _jobs(src, k / min(sx, sy))]

    def run(job: tuple[np.ndarray, float, float, float]) -> list[_Detection]:
        tile, ox, oy, k = job
        out = []
        for r in proposer.detect(tile, floor, quietly).astype(np.float64):
            xs, ys = (r[1:9:2] / k + ox) / sx, (r[2:9:2] / k + oy) / sy
            cx, cy = (xs[0] + xs[1]) / 2, (ys[0] + ys[1]) / 2
            if 0 <= cx < w and 0 <= cy < h:
                out.append(_Detection(np.array([xs[0], ys[0], xs[1], ys[1]]), float(r[0]),
                                      np.stack([xs[2:4], ys[2:4]], axis=1), coarse=True))
        return out

    return [d for found in pmap(run, jobs) for d in found]
