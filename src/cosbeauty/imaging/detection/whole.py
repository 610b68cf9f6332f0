"""Stage 1, whole image: the full-range detector on a <= 640 px copy, upright, and (second
pass) with a mirrored border at each quarter turn (:data:`TURNS`): faces at any angle and cut
by the frame.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .imageops import mirror_pad, rot90, shrink, unturn
from .models import _graphs, _proposer
from .threads import pmap
from .common import _DET_MAX_SIDE, _EDGE_PAD, _Detection


def _detect_in(src: np.ndarray, x0: float, y0: float, sx: float = 1.0, sy: float = 1.0,
               max_side: int | None = None, turns: int = 0, proposer: bool = False) -> list[_Detection]:
    """Run the detector on ``src``: image pixels scaled by (sx, sy) with origin (x0, y0) of the
    scaled image; boxes come back in image pixels. ``max_side`` pre-shrinks ``src``; ``turns``
    quarter turns counter-clockwise (``np.rot90``) are applied to the detector's input, so a face
    lying on its side or upside down is seen upright (the boxes and eyes are mapped back)."""
    h, w = src.shape[:2]
    small, ssx, ssy = (shrink(src, max_side / max(h, w)) if max_side and max(h, w) > max_side
                       else (np.ascontiguousarray(src), 1.0, 1.0))
    sh, sw = small.shape[:2]
    view = rot90(small, turns) if turns % 4 else small
    vh, vw = view.shape[:2]
    detector = _proposer() if proposer else _graphs()[0]
    result = detector.process({"image": np.ascontiguousarray(view)})
    kx, ky = sw / ssx, sh / ssy        # small pixels -> src pixels

    def to_image(px: float, py: float) -> tuple[float, float]:
        """A point in the detector's (turned) input, relative units -> image pixels."""
        x, y = unturn(px * vw, py * vh, turns, sw, sh)
        return (x / sw * kx + x0) / sx, (y / sh * ky + y0) / sy

    found = []
    for det in result.detections or []:
        loc = det.location_data
        bb = loc.relative_bounding_box
        corners = np.array([to_image(bb.xmin, bb.ymin), to_image(bb.xmin + bb.width, bb.ymin + bb.height)])
        lo, hi = corners.min(axis=0), corners.max(axis=0)
        eyes = np.array([to_image(kp.x, kp.y) for kp in loc.relative_keypoints[:2]])
        found.append(_Detection(np.array([lo[0], lo[1], hi[0], hi[1]]), float(det.score[0]), eyes))
    return found


def _whole_small(src: np.ndarray) -> tuple[np.ndarray, float, float]:
    """``src`` shrunk to <= _DET_MAX_SIDE (the whole-image passes' input) -> (small, sx, sy)."""
    h, w = src.shape[:2]
    return (shrink(src, _DET_MAX_SIDE / max(h, w)) if max(h, w) > _DET_MAX_SIDE
            else (np.ascontiguousarray(src), 1.0, 1.0))


def _whole_pass(src: np.ndarray, sx: float = 1.0, sy: float = 1.0,
                turns: Sequence[int] = (0,), edges: bool = False,
                small: tuple[np.ndarray, float, float] | None = None) -> list[_Detection]:
    """The whole image (``src`` = image scaled by (sx, sy)) shrunk to <= _DET_MAX_SIDE (or
    ``small``, that shrink already made), once per quarter turn in ``turns`` (in parallel);
    ``edges``: with a mirrored border, for faces cut by the frame (it makes every face ~25 %
    smaller in the detector's input, so the first, upright pass goes without)."""
    small, ssx, ssy = small if small is not None else _whole_small(src)
    pad = round(_EDGE_PAD * max(small.shape[:2])) if edges else 0
    padded = mirror_pad(small, pad)
    return [d for found in pmap(lambda k: _detect_in(padded, -pad, -pad, sx * ssx, sy * ssy, turns=k), turns)
            for d in found]


TURNS = (0, 1, 2, 3)         # quarter turns of the second stage (the detector handles +-60 degrees)
