"""Upright small faces wherever they are in the picture (issue #12: every face >= 24 px wide at
1920x1080 and >= 48 px at 4000x3000 is found): one head photo pasted on a noisy canvas, the face
``size`` px wide centred at (x, y).

The size sweep (test_faces_small.py) puts its faces on a few grid rows; at other places a face of
40-160 px was lost: the whole-image passes (the full-range detector on a <= 640 px copy, the face
a few px wide in its 192 px input) boxed the head with a "sure" score (>= 0.75) but too big
(95 px for a 48 px face) or as a turned face (eyes 90 degrees off), its landmarks failed, and the
proposal pass had dropped its own proposals inside that box. Only boxes the whole-image pass
resolves (>= its smallest face, :func:`.detection.proposals.resolved`) now drop proposals.
"""

from __future__ import annotations

import numpy as np
import pytest

from cosbeauty.imaging import detect_faces
from tests.imaging import corpus

HD, MP12 = (1080, 1920), (3000, 4000)


def canvas_with(name: str, size: int, at: tuple[int, int], shape: tuple[int, int] = HD,
                seed: int = 7) -> np.ndarray:
    """A noisy grey-ish canvas with head ``name`` pasted so its face is ``size`` px wide at ``at``."""
    h, w = shape
    rng = np.random.default_rng(seed)
    canvas = np.clip(rng.normal(165, 10, (h, w, 3)), 0, 255).astype(np.uint8)
    corpus.place(canvas, corpus.heads()[name], size, *at)
    return canvas


def found(faces, size: int, at: tuple[int, int]) -> bool:
    cx, cy = at
    return any(abs(f.center[0] - cx) < 0.7 * size and abs(f.center[1] - cy) < 0.7 * size for f in faces)


@pytest.mark.parametrize("name,size", [("astronaut", 96), ("hopper", 64)])
def test_upright_face_behind_a_sure_whole_image_box_is_found(name, size):
    """At (1311, 707) of a 1080p frame the turned whole-image passes boxed these faces 129-130 px
    at 0.78-0.80 with the eyes 90 degrees off (landmark presence 0.02), the upright pass 95 px at
    0.46-0.61 with its eyes 43-73 degrees off: no candidate gave a face, and the proposals of the
    face were dropped inside the sure box. At (806, 442) both were found."""
    at = (1311, 707)
    faces = detect_faces(canvas_with(name, size, at))
    assert found(faces, size, at), [(f.box, round(f.score, 2)) for f in faces]
    assert len(faces) == 1


# the centres where the position sweep (docs/faces.md, "Position") lost faces, at 1080p and 12 MP
POSITIONS_HD = [(806, 301), (1043, 301), (1547, 442), (97, 707), (331, 707), (806, 707), (1311, 707), (1790, 707)]
SIZES_HD = (40, 48, 64, 80, 96)
POSITIONS_12MP = [(3833, 150), (1037, 2200), (170, 2850)]
SIZES_12MP = (96, 160)


@pytest.mark.slow
def test_position_sweep():
    """Both people at each size at the centres where the position sweep lost faces: 1080p 8 centres
    x 40-96 px (64/80 before), 12 MP 3 centres x 96/160 px (9/12 before); now all found, and no
    face found twice or elsewhere."""
    cases = ([(HD, at, s) for at in POSITIONS_HD for s in SIZES_HD]
             + [(MP12, at, s) for at in POSITIONS_12MP for s in SIZES_12MP])
    missed, extra = [], 0
    for shape, at, size in cases:
        for name in ("astronaut", "hopper"):
            faces = detect_faces(canvas_with(name, size, at, shape))
            ok = found(faces, size, at)
            extra += len(faces) - ok
            if not ok:
                missed.append((shape[1], name, size, at))
    total = 2 * len(cases)
    print(f"position sweep: {total - len(missed)}/{total}, extra {extra}; missed {missed}")
    assert not missed
    assert extra == 0
