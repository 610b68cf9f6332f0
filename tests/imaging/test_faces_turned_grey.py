"""Small faces turned in the plane in grey (colourless) images (issue #12: every face >= 24 px at
1080p, at any angle). Grey images get the exhaustive window pass, upright only; its detections
under the threshold mark where a turned face may be, and :func:`.greyturned.grey_turned_candidates`
looks at those places turned (:data:`.small.GREY_TURNED_CELLS`).

The head photos made grey, turned 90/180/270 degrees and pasted 32 and 48 px wide on a noisy grey
1920x1080 canvas (both people on each): each face is found where the upright one is and is the
same face (landmarks within 9 % of the IOD of the upright ones turned, roll the turn +-5 degrees,
retouched within 40 % as strongly); Hopper upside down is missed at these places (:data:`FOUND`).
Without the grey turned cells none is found. Grey no-face photos gain no face.

``test_grey_turned_face_found``: one face per canvas at (806, 442) of the 1080p table's canvas
(docs/faces.md), one case per cause fixed in round 14 (:data:`CASES`: all missed before), each the
upright one's turned as above.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np
import pytest

from cosbeauty.imaging import beautify_array, detect_faces
from cosbeauty.imaging.detection import small
from cosbeauty.imaging.detection.greyturned import grey_turned_candidates
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
# down at these places was missed until round 18 (the window pass scores him 0.14 / 0.22 there, under the
# 0.25 trigger); detection/greysmall.py's bright-blob places find him since
FOUND = {90: (True, True, True, True), 180: (True, True, True, True), 270: (True, True, True, True)}


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


def one_face(name: str, degrees: int, size: int, at: tuple[int, int] = (806, 442)) -> tuple[np.ndarray, tuple[int, float, float]]:
    """One head turned ``degrees`` CCW, ``size`` px wide at ``at`` of the noisy 1920x1080 canvas (the
    1080p table's, docs/faces.md), made grey: (canvas, (size, tile centre x, y))."""
    img = np.clip(np.random.default_rng(7).normal(165, 10, (*HD, 3)), 0, 255).astype(np.uint8)
    head = corpus.heads()[name]
    rot = corpus.rotate(head, degrees)
    x0, y0, x1, y1 = corpus.place(img, rot, int(round(size * rot.shape[1] / head.shape[1])), *at)
    return grey(img), (size, (x0 + x1 - 1) / 2, (y0 + y1 - 1) / 2)


def assert_one_like_upright(name: str, degrees: int, size: int, at: tuple[int, int] = (806, 442)) -> None:
    """The face of :func:`one_face` is found alone, and is the upright one's turned (landmarks within
    9 % IOD, roll +-5 degrees, retouched within 40 % as strongly)."""
    img, truth = one_face(name, degrees, size, at)
    faces = detect_faces(img)
    got = match(faces, [truth])[0]
    assert got is not None and len(faces) == 1, f"{name} {size} px at {degrees}: {[(f.center, f.roll) for f in faces]}"
    # the upright reference at the table's place (the upright 32 px astronaut at (843, 543) is missed
    # by the upright window pass), moved to this one
    up_img, (_, ux, uy) = one_face(name, 0, size)
    ref = match(detect_faces(up_img), [(size, ux, uy)])[0]
    assert ref is not None
    _, cx, cy = truth
    m = cv2.getRotationMatrix2D((cx, cy), degrees, 1.0)
    expected = np.c_[ref.landmarks[:468] + (cx - ux, cy - uy), np.ones(468)] @ m.T
    nme = float(np.linalg.norm(got.landmarks[:468] - expected, axis=1).mean() / ref.iod)
    roll = (got.roll - ref.roll + degrees + 180) % 360 - 180
    change = skin_change(img, beautify_array(img, 0.5, faces=[got])[0], got)
    ref_change = skin_change(up_img, beautify_array(up_img, 0.5, faces=[ref])[0], ref)
    label = f"{name} {size} px at {degrees}: nme {nme:.3f}, roll {roll:.1f}, change {change:.2f} vs {ref_change:.2f}"
    assert nme < 0.09, label
    assert abs(roll) < 5, label
    assert abs(change - ref_change) <= 0.4 * ref_change, label


# newly found (0/1 before, docs/faces.md's grey table): one per cause
CASES = {
    # the turned confirmation (0.54-0.57) merged under the upright window detections of the same face
    # (0.50-0.66), which led the candidate with upright eyes: landmarked alone after the first round
    "outscored": ("astronaut", 180, 48),
    # a sure upright window box (0.78, 25 px) on the face: it kept the place from the turned cells and its
    # landmarks failed; looked at turned after the first round
    "failed_sure": ("astronaut", 315, 48),
    # a 96 px face's places (65-96 px boxes) pre-scored in cells sized for 24 px faces: cells from the box
    "big": ("hopper", 270, 96),
}


@pytest.mark.parametrize("case", CASES)
def test_grey_turned_face_found(case):
    assert_one_like_upright(*CASES[case])


def test_grey_second_look_keeps_the_first_looks_faces():
    """The big places' second look has mosaics of its own: sharing one with the first look's turns,
    its 2x cell took the 0.72 confirmation of this face (found before; the table's second placement,
    37/101 px off; its mesh is 9.1 % IOD off the upright one's, just over the 9 % above)."""
    img, truth = one_face("astronaut", 135, 32, (843, 543))
    faces = detect_faces(img)
    assert match(faces, [truth])[0] is not None and len(faces) == 1


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
