"""Small faces at the top and bottom edges of the frame, colour images (the proposal pass's top
strip and the weak maxima near the top and bottom edges: docs/faces.md)."""

import numpy as np
import pytest

from cosbeauty.imaging import detect_faces, proposer
from cosbeauty.imaging.detection.models import quietly
from tests.imaging import corpus
from tests.imaging.test_faces_edge import cut_face_canvas


def sweep_noise_12mp() -> np.ndarray:
    """The size sweep's noisy 4000x3000 canvas (test_faces_small.sweep_canvas's noise, seed 3)."""
    return np.clip(np.random.default_rng(3).normal(160, 12, (3000, 4000, 3)), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("cx,cy", [(2000, 44), (46, 46)])
def test_small_face_near_the_top_of_a_12mp_frame_found(cx, cy):
    """A 48 px astronaut 44 px from the top (and 46 px from the top-left corner) of a 12 MP frame:
    on the proposal pass's first level (the face 14 px wide, 13 px into it) its hair is mirrored
    in the level's 16 px border and the proposer saw no face at all (not even 0.01); the frame's
    top rows again with that border mirrored only 6 rows next to the edge and flat beyond
    (:mod:`.detection.strips`) score it 0.17-0.34. The 12 MP size sweep's hold-out miss (offset 3)
    was this face."""
    canvas = sweep_noise_12mp()
    corpus.place(canvas, corpus.heads()["astronaut"], 48, cx, cy)
    faces = detect_faces(canvas)
    assert any(abs(f.center[0] - cx) < 0.6 * 48 and abs(f.center[1] - cy) < 0.9 * 48 for f in faces), faces
    assert len(faces) == 1


def test_small_face_half_below_the_frame_rescored():
    """The colour astronaut 24 px half below a 1080p frame: face and reflection score 0.074 on the
    proposer (no proposal, under the weak maxima's 0.09); weak maxima within 0.6 x the level's
    face of the top or bottom edge are kept from 0.06 and re-scored (0.65-0.77)."""
    canvas, cx, cy = cut_face_canvas("astronaut", 24, "bottom", 0.5, True)
    faces = detect_faces(canvas)
    assert len(faces) == 1, faces
    assert abs(faces[0].center[0] - cx) < 8 and abs(faces[0].center[1] - cy) < 8


def test_detect_weak_low_band_only_adds_rows():
    """proposer.detect_weak with a lower threshold in row bands: the same rows and weak maxima as
    without it, plus maxima in [low, weak) whose cells lie in the bands (a narrower band: a subset)."""
    canvas, _, _ = cut_face_canvas("astronaut", 24, "bottom", 0.5, True)
    tile = np.ascontiguousarray(canvas[-192:, 864:1056])
    rows, weak = proposer.detect_weak(tile, 0.15, 0.09, quietly)
    rows2, weak2 = proposer.detect_weak(tile, 0.15, 0.09, quietly, 0.02, [(0, 192)])
    assert np.array_equal(rows, rows2) and np.array_equal(weak2[:len(weak)], weak)
    extra = weak2[len(weak):]
    assert len(extra) > 10 and (extra[:, 0] >= 0.02 - 1e-6).all() and (extra[:, 0] < 0.09).all()
    _, weak3 = proposer.detect_weak(tile, 0.15, 0.09, quietly, 0.02, [(96, 192)])
    part = weak3[len(weak):]
    assert 0 < len(part) < len(extra)
    assert all(any(np.array_equal(r, e) for e in extra) for r in part)
    assert ((part[:, 2] + part[:, 4]) / 2 > 96 - 16).all()


def test_size_sweep_hold_out_face_at_the_top_left_corner_found():
    """The 12 MP size sweep at grid offset 3 (hold-out): the astronaut 48 px centred 56 px from the
    frame's corner, its neighbours 52/57 px beside it, had no proposal and no weak maximum (0.06
    on the level, 0.00 on a top strip mirrored at the left); the top strip's left and right ends are
    made flat like its top border (0.13, re-scored)."""
    from tests.imaging.test_faces_small import SWEEP, sweep_canvas

    canvas, truth = sweep_canvas(4000, 3000, SWEEP[(4000, 3000)], 3)
    faces = detect_faces(canvas, max_faces=len(truth) + 5)
    name, s, cx, cy = truth[0]
    assert (name, s) == ("astronaut", 48)
    assert any(abs(f.center[0] - cx) < 0.6 * s and abs(f.center[1] - cy) < 0.9 * s for f in faces)
