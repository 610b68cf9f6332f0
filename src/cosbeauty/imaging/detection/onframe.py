"""Big candidates centred just past the frame's edge, moved onto it (:func:`onto_frame`).

A face half outside the frame (its centre on the edge) and its reflection in the mirrored border
of the whole-image and proposal passes are boxed as one pattern centred on the edge, a few pixels
either side of it: on photo backgrounds (``bench/faces_real.py --check edges``) Grace Hopper 300 px
half out at the right was boxed 272 px centred 6 px past the edge, half out at the top 296 px
centred 3 px above it, the astronaut 175 px centred 7 px above it. :func:`.candidates._select`
drops candidates centred outside the frame (mirror images in the padding), but for small boxes
(:data:`.candidates._EDGE_SLACK_SIDE_CUT`), so these faces had no candidate. A box centred past the
edge by at most :data:`BIG_SLACK` of its side is moved onto the edge (its eyes with it); the
landmark model's ROI then moves by at most that much, and its refined ROI follows the mesh. The
mirror image of a face inside the frame is centred past the edge by at least half its side, so it
is still dropped.
"""

from __future__ import annotations

import numpy as np

from .candidates import _EDGE_SLACK_SIDE_CUT
from .common import _Detection

BIG_SLACK = 0.07      # x the box's side: how far past the edge a big candidate's centre may lie (0.05 until
                      # round 18: the astronaut 300 px half above a 1080p frame on chelsea, 0.74, was boxed
                      # 175 px centred 10 px = 5.7 % of it above the edge, and dropped) ...
BIG_SLACK_LOW = 0.05  # ... for candidates under BIG_SLACK_SCORE: the no-face 1080p rocket's 0.44 box at the
BIG_SLACK_SCORE = 0.6  # bottom, kept at 0.07, cost +25-30 ms CPU (its landmark tries)
BIG_MIN_PX = 100      # ... and big means at least this wide too (in a 427x323 crop of the no-face corpus's
                      # rocket every box passes 5 % of the long side: there, moving and the mesh rule
                      # together let a 31 px candidate at the right edge through)
ENABLED = True


def big(side: float, h: int, w: int) -> bool:
    """A box this wide is big: wider than the small boxes :func:`.candidates._centred_in` keeps
    past the edge, and at least BIG_MIN_PX."""
    return side > max(_EDGE_SLACK_SIDE_CUT * max(h, w), BIG_MIN_PX)


def onto_frame(dets: list[_Detection], h: int, w: int) -> list[_Detection]:
    """``dets`` with each big candidate (:func:`big`) centred past the frame's edge by at most BIG_SLACK of its side moved onto
    the edge (a copy, half a pixel inside; the others as they are)."""
    if not ENABLED:
        return dets
    out = []
    for d in dets:
        cx, cy = (d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2
        side = max(d.box[2] - d.box[0], d.box[3] - d.box[1])
        if not big(side, h, w):
            out.append(d)
            continue
        m = (BIG_SLACK if d.score >= BIG_SLACK_SCORE else BIG_SLACK_LOW) * side
        dx = -cx + 0.5 if -m <= cx < 0 else w - 0.5 - cx if w <= cx < w + m else 0.0
        dy = -cy + 0.5 if -m <= cy < 0 else h - 0.5 - cy if h <= cy < h + m else 0.0
        inside = (0 <= cx + dx < w) and (0 <= cy + dy < h)
        if (dx or dy) and inside:
            shift = np.array([dx, dy])
            d = _Detection(d.box + np.r_[shift, shift], d.score, d.eyes + shift, list(d.alts), d.coarse)
        out.append(d)
    return out


MESH_IN_FRAME = True    # a cut candidate's mesh must be centred in the frame (mesh_in_frame)
MESH_SLACK = 0.1        # ... or at most this x F (its cheek width) past the edge (round 18)


def mesh_in_frame(pts: np.ndarray, h: int, w: int, det: _Detection | None = None) -> bool:
    """The mesh's centre lies in the h x w frame (its edges included), or ``det`` (the candidate
    landmarked) is not :func:`big` (the boxes :func:`onto_frame` leaves alone: small faces half
    out, the astronaut 32 px half above a 1080p frame, have meshes centred a pixel past the edge,
    found before and kept). A mesh centred outside is
    more than half outside, where the mirrored border of the detectors and of the landmark crop
    shows a face's reflection: a face cut at the bottom is reflected upside down below the edge, and
    on photo backgrounds Grace Hopper 300 px 40-50 % out at a bottom corner was retouched with her
    reflection's upside-down mesh (0.75 F off) once big candidates centred just past the edge were
    kept (:func:`onto_frame`). Such a try fails (:func:`.landmarks._face_try`), so the candidate's
    other views and tries go on.

    A face half outside has its mesh centred on the edge, a few pixels either side of it (round 18:
    the astronaut 300 px half out at the right of the coffee photo, presence 1.0, mesh centred 1-6 px
    past the edge, F 206; half above chelsea's, 8 px above it, F 160; both missed), so the centre may lie
    MESH_SLACK x F past the top or bottom edge, half an F or more from the frame's corners: a reflection
    0.75 F off is still dropped. Only an upright mesh (roll within +-60 degrees) gets the
    slack: the reflection of a face cut there is upside down, and the astronaut 300 px a quarter
    above the coffee photo's top-right corner (found before) was lost to her reflection's mesh (roll
    171, centred 24 px = 0.1 F above the edge: the try succeeded, the reflection rule dropped the
    face afterwards). Not near a corner, where a face is reflected on both axes: Grace Hopper 300 px
    half out at the grass photo's bottom-left corner was taken with an upside-down mesh centred 6 px
    left of the frame (test_faces_cut_real's reflection cases)."""
    if not MESH_IN_FRAME:
        return True
    if det is not None and not big(max(det.box[2] - det.box[0], det.box[3] - det.box[1]), h, w):
        return True
    cx, cy = pts[:468].mean(axis=0)
    if 0 <= cx <= w and 0 <= cy <= h:
        return True
    f = float(np.linalg.norm(pts[234] - pts[454]))
    m = MESH_SLACK * f
    if not 0 <= cx <= w:        # past the left or right: no slack (a grey drawn emoji at the left edge of
        return False            # nofaces_drawn, emoji-9-grey-q60, was taken; the face half out at the
    dx, dy = pts[263] - pts[33]  # right is boxed by the corner mosaic, or not at all)
    return bool(-m <= cy <= h + m and f / 2 <= cx <= w - f / 2 and dx > 0 and abs(dy) < _TAN60 * dx)


_TAN60 = 1.7320508
