"""Stage 1, the proposal pass's **edge strips** (colour images): the first level's top and bottom
rows once more, on a flat border instead of the level's mirrored one.

A small face near the top of the frame (the 12 MP size sweep's astronaut 48 px, its face 14 px
wide 13-15 px into the level) has its hair mirrored in the level's 16 px border, and the proposer
sees no face there at all (not even 0.01); with the border flat at the strip's mean it scores
0.1-0.36. Faces cut by the frame need the mirror (their reflection completes them), so the strip
is a view of its own, added to the level's tiles: its proposals and weak maxima go through the
same gates, duplicates merge in the confirmation cells.
"""

from __future__ import annotations

from typing import Any

import numpy as np

STRIP = True                 # run the edge strips
STRIP_ROWS = 48              # level rows of the frame shown (the face's centre <= ~15 rows in: 13-15 missed)
STRIP_BORDER = 16            # flat border rows (the level's own pad: strip rows are padded-level rows)
STRIP_MEAN_ROWS = 16         # the border's value: the mean of this many edge rows of each tile
EDGES = ("top", "bottom")


def strip_jobs(padded: np.ndarray, pad: int, level: int, span: Any) -> list[tuple[Any, ...]]:
    """Proposer jobs (array, x0, y0, x1, y1, level, turn, shape, dy) on the top and bottom strips of
    the mirror-``pad``ded level ``padded``: each a tile of the strip (``span``: a column layout
    as :func:`.proposer.span` gives) holding STRIP_ROWS level rows and a STRIP_BORDER flat border
    on the frame's side; ``dy`` maps the array's rows to the padded level's (row + dy)."""
    if not STRIP:
        return []
    ph, pw = padded.shape[:2]
    lh = ph - 2 * pad
    rows = min(STRIP_ROWS, lh)
    height = -(-(STRIP_BORDER + rows) // 16) * 16
    rows = height - STRIP_BORDER
    if rows > lh:
        return []
    tw, xs = span(pw)
    jobs: list[tuple[Any, ...]] = []
    for edge in EDGES:
        for x0 in xs:
            x1 = min(pw, x0 + tw)
            a = np.empty((height, tw, 3), np.uint8)
            if edge == "top":
                body = padded[pad:pad + rows, x0:x1, :3]
                a[STRIP_BORDER:, :x1 - x0] = body
                a[:STRIP_BORDER] = body[:STRIP_MEAN_ROWS].reshape(-1, 3).mean(axis=0).round().astype(np.uint8)
                dy = pad - STRIP_BORDER
            else:
                body = padded[pad + lh - rows:pad + lh, x0:x1, :3]
                a[:rows, :x1 - x0] = body
                a[rows:] = body[-STRIP_MEAN_ROWS:].reshape(-1, 3).mean(axis=0).round().astype(np.uint8)
                dy = pad + lh - rows
            if x1 - x0 < tw:
                a[:, x1 - x0:] = a[:, x1 - x0 - 1:x1 - x0]
            jobs.append((a, 0, 0, tw, height, level, 0, (ph, pw), dy, x0))
    return jobs
