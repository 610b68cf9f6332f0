"""Small faces turned in the plane in grey (colourless) images (issue #12: every face >= 24 px at
1080p, at any angle). Grey images get the exhaustive window pass, upright only; its detections
under the threshold mark where a turned face may be, and :func:`.turned.grey_turned_candidates`
looks at those places turned (:data:`.small.GREY_TURNED_CELLS`).

The head photos made grey, turned 90/180/270 degrees and pasted 32 and 48 px wide on a noisy grey
1920x1080 canvas (both people on each): each face is found where the upright one is and is the
same face (landmarks within 9 % of the IOD of the upright ones turned, roll the turn +-5 degrees,
retouched within 40 % as strongly); Hopper upside down is missed at these places (:data:`FOUND`).
Without the grey turned cells none is found. Grey no-face photos gain no face.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np
import pytest

from cosbeauty.imaging import beautify_array, detect_faces
from cosbeauty.imaging.detection import small
from cosbeauty.imaging.detection.turned import grey_turned_candidates
from cosbeauty.imaging.detection.common import _Detection
from cosbeauty.imaging.detection.windows import _tile_pass, min_face
from tests.imaging import corpus
from tests.imaging.test_faces_turned_small import canvas as colour_canvas, match, skin_change

TURNS = (90, 180, 270)
PEOPLE = ("astronaut", "hopper")
SIZES = (32, 48)
HD = (1080, 1920)


def grey(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)


@functools.cache
def canvas(degrees: int) -> tuple[np.ndarray, list[tuple[int, float, float]]]:
    """test_faces_turned_small's canvas (noisy, both heads turned ``degrees`` CCW at 32 and 48 px)
    made grey: (canvas, [(size, tile centre x, y)])."""
    img, truth = colour_canvas(degrees, SIZES)
    img = grey(img)
    img.setflags(write=False)
    return img, truth


@functools.cache
def upright():
    img, truth = canvas(0)
    faces = match(detect_faces(img), truth)
    assert all(faces), faces
    after, _ = beautify_array(img, 0.5, faces=faces)
    return faces, [skin_change(img, after, f) for f in faces]


# which faces (truth order: 32 px astronaut, Hopper, 48 px astronaut, Hopper) are found: Hopper upside
# down at these places is missed (the window pass scores him 0.14 / 0.22 there, under the 0.25 trigger;
# at other places he is found: the 1080p table, docs/faces.md)
FOUND = {90: (True, True, True, True), 180: (True, False, True, False), 270: (True, True, True, True)}


@pytest.mark.parametrize("degrees", TURNS)
def test_grey_small_turned_faces_found_by_default(degrees):
    img, truth = canvas(degrees)
    faces = detect_faces(img)
    got = match(faces, truth)
    assert tuple(g is not None for g in got) == FOUND[degrees] and len(faces) == sum(FOUND[degrees]), \
        f"{degrees}: found {[g is not None for g in got]}, {len(faces)} faces"
    refs, ref_changes = upright()
    after, _ = beautify_array(img, 0.5, faces=list(faces))
    for (size, cx, cy), face, ref, ref_change in zip(truth, got, refs, ref_changes):
        if face is None:
            continue
        m = cv2.getRotationMatrix2D((cx, cy), degrees, 1.0)
        expected = np.c_[ref.landmarks[:468], np.ones(468)] @ m.T
        nme = float(np.linalg.norm(face.landmarks[:468] - expected, axis=1).mean() / ref.iod)
        roll = (face.roll - ref.roll + degrees + 180) % 360 - 180
        change = skin_change(img, after, face)
        label = f"{size} px at {degrees}: nme {nme:.3f}, roll {roll:.1f}, change {change:.2f} vs {ref_change:.2f}"
        assert nme < 0.09, label
        assert abs(roll) < 5, label
        assert abs(change - ref_change) <= 0.4 * ref_change, label


def test_grey_turned_faces_need_the_grey_cells(monkeypatch):
    """Without the grey turned cells (the upright window pass alone) none of these faces is found."""
    monkeypatch.setattr(small, "GREY_TURNED_CELLS", False)
    for degrees in TURNS:
        img, truth = canvas(degrees)
        assert not any(match(detect_faces(img), truth)), degrees


def test_grey_turned_cells_leave_upright_faces_alone():
    """Upright faces are explained by their sure window detections: their places are not turned."""
    img, truth = canvas(0)
    rows: list[_Detection] = []
    dets = _tile_pass(img, *HD, near_out=rows)
    cands = grey_turned_candidates(img, None, dets + rows, dets, min_face(*HD))
    assert not any(m is not None for m in match_dets(cands, truth))


def match_dets(dets, truth):
    centre = [((d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2) for d in dets]
    return [next((c for c in centre if abs(c[0] - cx) < 0.5 * s and abs(c[1] - cy) < 0.5 * s), None)
            for s, cx, cy in truth]


@pytest.mark.parametrize("name", ["rocket", "coffee", "chelsea", "immunohistochemistry"])
def test_grey_no_face_photos_gain_no_faces(name):
    img = grey(dict(corpus.no_face_images())[name])
    h, w = img.shape[:2]
    big = cv2.resize(img, (1920, round(1920 * h / w)), interpolation=cv2.INTER_CUBIC)
    for view in (img, big, np.ascontiguousarray(big[:, w // 3:])):
        assert detect_faces(view) == []


def test_grey_turned_cells_take_no_reflection_past_the_frame():
    """A grey face cut by the top of the frame has an upside-down twin in a cell's mirrored border:
    confirmed turned 180 degrees 15 px above the frame, it took the upright face's place (the grey
    Hopper 32 px 25 % out at the top); turned candidates are centred in the frame."""
    from tests.imaging.test_faces_edge import cut_face_canvas

    img, cx, cy = cut_face_canvas("hopper", 32, "top", 0.25, False)
    faces = detect_faces(img)
    assert any(abs(f.center[0] - cx) < 32 / 3 and abs(f.center[1] - cy) < 32 / 3 for f in faces), \
        [(f.center, f.roll) for f in faces]
