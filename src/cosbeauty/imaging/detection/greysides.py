"""Grey faces cut by the bottom, left or right of the frame (issue #12, "cut by the frame, up to half
outside"): :mod:`.greyedge`'s strips on the other three sides, cheaper and stricter.

Why: :mod:`.greyedge` looks along the top only; at round 19's end 7 grey faces within the issue's half
were missed at the other sides (``bench/faces_real.py --check edges --modes grey``: the astronaut 40 px
right 0.25 / br 0.25 rocket, bottom 0.4 coffee, left 0.5 grass, right 0.5 coffee; Hopper 40 px br 0.25
rocket; the astronaut 96 px right 0.4 page), each without a candidate. The three strips at all of
greyedge's levels found them but cost ~3x the top's (+47 tiles, ~+108 ms CPU on a grey 1080p photo),
and at greyedge's MIN_SCORE (0.6) they proposed a no-face texture at the right edge of the 12 MP rocket
(0.62) whose lower-half mesh passed grey verification (``bench/nofaces_crops.py``: one accepted).

What: only the first :data:`LEVELS` levels (faces of ~40 and ~80 px at 1080p: shown 60 px; larger
faces cut at these sides are found by the other passes), and the first level (the dearest: 22 of
the three sides' 33 tiles at 1080p) only in the tiles where the second level, which shows the same
place at half the scale, has a detection or near miss from :data:`CUE` (``proposer.detect_near``:
the same invoke) on the same side. Detections from :data:`MIN_SCORE` centred in the frame are coarse
candidates. Chosen on data (the four strips at both levels, every detection >= 0.4): the 7 misses'
faces score 0.76-0.88 (their second-level cue >= 0.21); no-face, ``nofaces_crops``' 59 grey images
>= ~1.14 MP: <= 0.68 on these sides, the bench's six grey photos with faces pasted elsewhere <= 0.69.
"""

from __future__ import annotations

import numpy as np

from . import edgestrip
from .common import _Detection
from .threads import pmap

ENABLED = True          # A/B switch
SIDES = ("bottom", "left", "right")
LEVELS = 2              # greyedge's first levels looked at on these sides
MIN_SCORE = 0.72        # detections from this score are candidates (no-face <= 0.69, the misses >= 0.76)
CUE = 0.25              # a second-level row from this score opens the first level's tiles over it ...
CUE_DEPTH = 0.4         # ... when centred at most this x the first level's face inside the frame ...
CUE_BOX = 1.0           # ... and its box at most this x SHOWN wide (second-level px): a first-level face

_Job = tuple[np.ndarray, float, float, float]


def _span(job: _Job, side: str) -> tuple[float, float]:
    """The source px along the edge a tile covers."""
    tile, ox, oy, k = job
    start = ox if side == "bottom" else oy
    return start, start + edgestrip.TILE / k


def _cues(rows: np.ndarray, job: _Job, side: str, h: int, w: int, face: float) -> list[float]:
    """Centres (source px along the edge) of a second-level tile's rows that may be a first-level
    face cut by the edge: centred at most CUE_DEPTH x ``face`` (source px) inside the frame (``h, w``:
    the source's size), boxes at most CUE_BOX x SHOWN wide."""
    _, ox, oy, k = job
    out = []
    for r in rows.astype(np.float64):
        cx, cy = (r[1] + r[3]) / 2 / k + ox, (r[2] + r[4]) / 2 / k + oy
        depth = {"bottom": h - cy, "left": cx, "right": w - cx}[side]
        if depth <= CUE_DEPTH * face and r[3] - r[1] <= CUE_BOX * edgestrip.SHOWN:
            out.append(float(cx if side == "bottom" else cy))
    return out


def candidates(src: np.ndarray, h: int, w: int, sx: float = 1.0, sy: float = 1.0) -> list[_Detection]:
    """Coarse candidates (image px) of grey faces cut by the bottom, left or right edge: the short-range
    model's detections from MIN_SCORE on :mod:`.greyedge`'s strips of ``src`` (``sx, sy``: source px
    per image px) at its first LEVELS levels, the first level only where the second cues it."""
    from .. import proposer
    from .models import quietly

    if not ENABLED:
        return []
    ks = [k / min(sx, sy) for k in edgestrip.levels(h, w)[:LEVELS]]
    if not ks:
        return []
    first, rest = ks[0], ks[1:]
    sh, sw = src.shape[:2]
    jobs = [(side, job) for k in rest for side in SIDES for job in edgestrip.jobs(src, k, (side,))]

    def cue(item: tuple[str, _Job]) -> tuple[list[_Detection], list[float]]:
        side, job = item
        rows, near = proposer.detect_near(job[0], MIN_SCORE, CUE, quietly)
        face = edgestrip.SHOWN / first
        return (edgestrip.detections(rows, *job[1:], sx, sy, h, w),
                _cues(rows, job, side, sh, sw, face) + _cues(near, job, side, sh, sw, face))

    found, cues = [], {side: [] for side in SIDES}
    for (side, _), (dets, at) in zip(jobs, pmap(cue, jobs)):
        found += dets
        cues[side] += at
    opened = [job for side in SIDES for job in edgestrip.jobs(src, first, (side,))
              if not rest or any(a <= p <= b for p in cues[side] for a, b in [_span(job, side)])]

    def run(job: _Job) -> list[_Detection]:
        return edgestrip.detections(proposer.detect(job[0], MIN_SCORE, quietly), *job[1:], sx, sy, h, w)

    return [d for dets in pmap(run, opened) for d in dets] + found
