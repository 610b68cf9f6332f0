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

The top here (:data:`SIDES`); the bottom, left and right are :mod:`.greysides`' (run from
:func:`candidates`): the same strips (:mod:`.edgestrip`) at the first two levels only, the first where
the second cues it, detections from 0.72 (round 20: the three strips whole cost ~3x the top's, and at
0.6 a no-face texture at the 12 MP rocket's right edge passed verification). Run by
:func:`.greybig.candidates` where :mod:`.greyscan` runs (grey, >= ~1.14 MP): on smaller no-face crops
(the gravel photo at 512 px, a 550x280 crop) the strip proposed textures whose lower-half meshes (eyes
outside the frame) pass grey verification. The top strip costs ~48-60 ms CPU a grey 1080p image
(0.6x :mod:`.greyscan`), :mod:`.greysides` about as much again (the cue level's 11 tiles).
"""

from __future__ import annotations

import numpy as np

from .common import _Detection
from .edgestrip import BORDER, FIRST, FIRST_PX, LARGEST, SHOWN, STEP, STRIP, TILE, _OVERLAP, detections, jobs, levels
from .threads import pmap

__all__ = ["BORDER", "FIRST", "FIRST_PX", "LARGEST", "SHOWN", "STEP", "STRIP", "TILE", "_OVERLAP", "candidates",
           "detections", "levels"]

ENABLED = True          # A/B switch
MIN_SCORE = 0.6         # detections from this score are candidates
SIDES = ("top",)        # the frame's edges looked along ("bottom", "left", "right": see above)


def _jobs(src: np.ndarray, k: float, sides: tuple[str, ...] | None = None) -> list[tuple[np.ndarray, float, float, float]]:
    """:func:`.edgestrip.jobs` on ``sides`` (default :data:`SIDES`)."""
    return jobs(src, k, SIDES if sides is None else sides)


def candidates(image: np.ndarray | None, h: int, w: int,
               scaled: tuple[np.ndarray, float, float] | None = None,
               min_score: float | None = None) -> list[_Detection]:
    """Coarse candidates (image px) of faces cut by the frame in a grey image: the short-range
    model's detections from MIN_SCORE on the edge strips of every level (:func:`levels`), centred in
    the frame, then :func:`.greysides.candidates` (the other three sides). The source is ``image``,
    or ``scaled`` = (src, sx, sy) when there is no image."""
    from .. import proposer
    from . import greysides
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
        return detections(proposer.detect(tile, floor, quietly), ox, oy, k, sx, sy, h, w)

    return [d for found in pmap(run, jobs) for d in found] + greysides.candidates(src, h, w, sx, sy)
