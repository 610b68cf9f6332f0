"""Small faces cut at the top or bottom of a 1080p frame that reached landmarking and were lost
there (issue #12; docs/faces.md, "Recall"): each missed before, found now on the face, verified,
and retouched without a seam at the frame's edge."""

from __future__ import annotations

import pytest

from cosbeauty.imaging import detect_faces, verify
from tests.imaging.test_faces_edge import assert_retouched_without_seam, cut_face_canvas


def _found(name: str, size: int, side: str, out: float, colour: bool):
    canvas, cx, cy = cut_face_canvas(name, size, side, out, colour)
    faces = detect_faces(canvas)
    assert len(faces) == 1, faces
    face = faces[0]
    assert abs(face.center[0] - cx) < size / 3 and abs(face.center[1] - cy) < size / 3, (face.center, cx, cy)
    assert verify.is_face(face.checks)
    return canvas, faces


@pytest.mark.parametrize("name,size,side,out", [("astronaut", 24, "top", 0.25), ("astronaut", 24, "bottom", 0.25),
                                                ("astronaut", 32, "top", 0.5)])
def test_small_grey_face_cut_at_the_top_or_bottom_found_on_a_box_sized_roi(name, size, side, out):
    """Grey (the window pass): the candidate boxes the face with its reflection or hair and neck
    (31 px boxes for the 24 px astronaut, whose face's landmark box is 17 px; or 16 px on the
    visible part centred 11 px below the face's centre): on MediaPipe's ROI (1.5x the box) and
    every retry the landmark model saw no face. Upright ROIs the size of the box, at its centre
    and a quarter of it into the frame (detection.cutbox.box_tries), find it."""
    canvas, faces = _found(name, size, side, out, False)
    assert_retouched_without_seam(canvas, faces, side)


@pytest.mark.parametrize("name,size", [("hopper", 24), ("astronaut", 32)])
def test_small_colour_face_half_above_the_frame_keeps_its_mesh_in_an_unzoomed_view(name, size):
    """Colour (the proposal pass): half the face above the frame, every check passed but
    stability: both turned views (+-25 degrees on a window 1.15x the mesh's ROI) lost the face
    (presence 0.0-0.07). The same turns on a window the size of the ROI hold the mesh
    (landmarks._cut_stability: shift 0.086 / 0.110 F, cut limit 0.16)."""
    _, faces = _found(name, size, "top", 0.5, True)
    assert 0.0 <= faces[0].checks["stability"] <= verify.MAX_INSTABILITY_CUT
    assert faces[0].checks["stability_presence"] >= 0.5
    # retouched without a seam: test_faces_edge.py::test_retouch_of_small_faces_cut_by_the_frame_leaves_no_seam
