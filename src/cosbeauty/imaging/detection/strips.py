"""Stage 1, the proposal pass's **top strip** (colour images): the first level's top rows once
more, on a border mirrored only next to the edge and flat beyond.

A small face near the top of the frame (the 12 MP size sweep's astronaut 48 px, its face 14 px
wide 13-15 px into the level) has its hair mirrored in the level's 16 px border, and the proposer
sees no face there at all (not even 0.01). With the border's 6 rows next to the edge mirrored and
the 10 beyond flat it scores 0.17-0.34 (all flat: 0.09-0.25). Faces cut by the frame need the
whole mirror (their reflection completes them), so the strip is a view of its own, added to the
level's tiles: its proposals and weak maxima go through the same gates, and only those where the
level's own tiles saw nothing are kept (:func:`.proposals._apart`).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

STRIP = True                 # run the top strip
STRIP_HEIGHT = 64            # its rows: the level's border, then the level's top rows (48 at _PROPOSE_PAD 16)
STRIP_MIRROR = 6             # the border's rows next to the edge that stay mirrored (the rest flat)
FLAT_ROWS = 16               # the flat part: each column's mean over this many edge rows of the level,
FLAT_BLUR = 33               # ... smoothed over this many columns
STRIP_CELLS = 4              # its proposals' confirmation cells (best first), in the near misses' corner slots


def strip_jobs(padded: np.ndarray, pad: int, level: int, span: Any,
               skin: np.ndarray | None = None, min_skin: int = 0) -> list[tuple[Any, ...]]:
    """Proposer jobs (array, x0, y0, x1, y1, level, turn, shape, dy, dx) on the top strip of the
    mirror-``pad``ded level ``padded``: its first STRIP_HEIGHT rows, the border's rows (and at the
    corners its columns) beyond STRIP_MIRROR from the edge made flat, cut in tiles (``span``: a column layout as
    :func:`.proposer.span` gives); the array's (x, y) is the padded level's (x + dx, y + dy). A
    tile whose part of the padded level has fewer than ``min_skin`` cells of skin chroma in
    ``skin`` (its integral) is skipped: no detection there would pass the proposals' skin gate
    at its centre."""
    from .imageops import _area

    ph, pw = padded.shape[:2]
    if not STRIP or ph - 2 * pad < STRIP_HEIGHT - pad or STRIP_HEIGHT % 16:
        return []
    tw, xs = span(pw)
    kept = [x0 for x0 in xs if skin is None or _area(skin, x0, 0, x0 + tw, STRIP_HEIGHT) >= min_skin]
    if not kept:
        return []
    view = padded[:STRIP_HEIGHT, :, :3].copy()        # (never the level itself: its tiles keep the mirror)
    if pw < max(kept) + tw:
        view = cv2.copyMakeBorder(view, 0, 0, 0, max(kept) + tw - pw, cv2.BORDER_REPLICATE)
    flat = max(0, pad - STRIP_MIRROR)
    if flat:    # the top border, then the left and right ones (the frame's top corners) likewise
        line = view[pad:pad + FLAT_ROWS].mean(axis=0, dtype=np.float32)[None]          # 1 x W x 3
        view[:flat] = np.round(cv2.blur(line, (FLAT_BLUR, 1), borderType=cv2.BORDER_REFLECT_101)).astype(np.uint8)
        for edge, at in ((slice(pad, pad + FLAT_ROWS), slice(0, flat)), (slice(pw - pad - FLAT_ROWS, pw - pad), slice(pw - flat, pw))):
            col = view[:, edge].mean(axis=1, dtype=np.float32)[:, None]                 # H x 1 x 3
            view[:, at] = np.round(cv2.blur(col, (1, FLAT_BLUR), borderType=cv2.BORDER_REFLECT_101)).astype(np.uint8)
    return [(view, x0, 0, x0 + tw, STRIP_HEIGHT, level, 0, (ph, pw), 0, 0) for x0 in kept]
