"""Large grey faces at any angle (issue #12): the full-range detector on the image shrunk until its
short side fills the detector's 192 px input, in 192 px windows along the long side, each window
turned 90/180/270 degrees.

Why: in a grey (colourless) image the full-range detector scores a face shown 16-32 px wide weakly
(a grey 300 px astronaut upright at 1080p: 0.46 in the whole-image pass, where it is 30 px wide;
0.81-0.92 when shown 40-96 px wide), and every pass that looks at large faces shows them that small:
the whole-image pass (~10 % of the image's long side: a 300 px face 30 px wide, 23 px with the
turned passes' mirrored border) and the window pass's levels (upright only; their faces 16-38 px).
Colour faces score well there, grey ones are lost: on real photo backgrounds (``bench/faces_real.py
--check angles --modes grey``) 12 of 48 grey 300 px faces and 12 of 48 at 200 px were missed, most
with no candidate at all, upside down included. Shown ~49 px wide (the image's short side -> 192 px:
1920x1080 -> 313x176), the turned 200/300 px faces score 0.57-0.94 at their nearest quarter turn
(most >= 0.7; other places of the six photos <= 0.58). Upright faces are the window pass's and the
whole-image pass's, so only the three turns run: 3 windows x 3 turns = 9 detector calls at 16:9, 6
at 4:3 and 3:2 (grey no-face 1080p photos: +43-48 ms CPU, ~+11 %). Runs with the grey small-face
pass (not on a portrait whose upright face the whole-image pass is sure of).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import greyedge, greyscan, greysmall
from .common import _DET_INPUT, _Detection
from .imageops import _pyramid, _windows, mirror_pad, rot90, unturn
from .models import _detect_full
from .threads import pmap

ENABLED = True          # the pass runs on grey images that get the small-face pass (A/B switch)
WINDOWS = False         # ... its full-range turned windows (round 15) also where :mod:`.greyscan` runs. Off
                        # since round 17: the short-range scan of :mod:`.greyscan` (run by :func:`candidates`)
                        # finds the grey faces turned on the bench photos at 96/200/300/450 px, 48/48 each
                        # without them (with them, round 16: 200 px 45/48, 300 px 47/48); they cost ~35 ms CPU
                        # a grey 1080p image. Images the scan does not shrink (under ~1.14 MP) keep them
TURNS = (1, 2, 3)       # quarter turns (counter-clockwise) of each window
MIN_SCORE = 0.6         # its detections from this score are candidates (grey 200/300 px faces turned 30-315
                        # degrees on the six photos: 0.57-0.94, most >= 0.7; other places <= 0.58, and one at
                        # 0.44 on the page photo passed verification)
_PAD = 8                # mirrored border (px of the shrunk image) around it (a face at the frame)
_OVERLAP = 96           # windows overlap by at least this (px): a face shown up to ~96 px wide lies
                        # whole in one window (faces of ~half the short side)


def scale_for(h: int, w: int) -> float:
    """The shrink that makes the short side (plus the border) one window, _DET_INPUT px (1920x1080
    -> 313x176: a 300 px face 49 px wide, three windows; 4:3 and 3:2: two); 0: the image is too
    small for it to show faces bigger than the whole-image pass does. (Two windows at 16:9, 272x153:
    the 300 px faces scored 0.44-0.89, 0.57-0.94 here.)"""
    s = (_DET_INPUT - 2 * _PAD) / min(h, w)
    return s if s < 0.5 else 0.0


def candidates(image: np.ndarray | None, h: int, w: int,
               scaled: tuple[np.ndarray, float, float] | None = None,
               known: Sequence[_Detection] = ()) -> list[_Detection]:
    """Candidates of turned grey faces: :func:`.greyscan.candidates`, and where that scan does not run
    (or :data:`WINDOWS`), the detections (image px) of the full-range detector at its usual threshold
    on the turned windows of the image shrunk by :func:`scale_for` (the source is ``image``, or
    ``scaled`` = (src, sx, sy) when it has the resolution). ``known``: the window pass's detections (for
    :func:`.greysmall.candidates`)."""
    if not ENABLED:
        return []
    scan = greyscan.candidates(image, h, w, scaled)
    if greyscan.scale_for(h, w):        # small turned faces at a cheap cue's places (.greysmall)
        scan += greysmall.candidates(image, h, w, scaled, known)
        scan += greyedge.candidates(image, h, w, scaled)       # faces cut by the frame's top (.greyedge)
    s = scale_for(h, w) if WINDOWS or not greyscan.scale_for(h, w) else 0.0
    if not s:
        return scan
    (src, sx, sy), = _pyramid(image, [s], scaled)
    padded = mirror_pad(src, _PAD)
    ph, pw = padded.shape[:2]
    if min(ph, pw) < _DET_INPUT:         # rounding: a row or column short
        padded = np.pad(padded, ((0, max(0, _DET_INPUT - ph)), (0, max(0, _DET_INPUT - pw)), (0, 0)), mode="edge")
        ph, pw = padded.shape[:2]
    jobs = [(y0, x0, k) for y0, _ in _windows(ph, _DET_INPUT, _OVERLAP) for x0, _ in _windows(pw, _DET_INPUT, _OVERLAP)
            for k in TURNS]

    def run(job: tuple[int, int, int]) -> list[_Detection]:
        y0, x0, k = job
        win = padded[y0:y0 + _DET_INPUT, x0:x0 + _DET_INPUT]
        rows = _detect_full(rot90(win, k)).astype(np.float64)
        out = []
        for r in rows[rows[:, 0] >= MIN_SCORE]:
            pts = np.array([_unturn(r[1], r[2], k), _unturn(r[3], r[4], k),
                            _unturn(r[5], r[6], k), _unturn(r[7], r[8], k)])
            pts[:, 0] = (pts[:, 0] + x0 - _PAD) / sx
            pts[:, 1] = (pts[:, 1] + y0 - _PAD) / sy
            lo, hi = pts[:2].min(axis=0), pts[:2].max(axis=0)
            out.append(_Detection(np.r_[lo, hi], float(r[0]), pts[2:].copy()))
        return out

    return [d for found in pmap(run, jobs) for d in found] + scan


def _unturn(x: float, y: float, k: int, side: int = _DET_INPUT) -> tuple[float, float]:
    """A point of a square window turned ``k`` quarter turns counter-clockwise -> the window's."""
    return unturn(x, y, k, side, side)
