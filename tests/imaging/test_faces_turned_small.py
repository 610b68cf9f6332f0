"""Small faces turned in the plane (issue #12: every face >= 24 px at 1080p / 48 px at 12 MP, at any
angle): the head photos turned 90/135/180/270 degrees and pasted 32 and 48 px wide on a noisy
1920x1080 canvas (one 12 MP canvas at 48 px), both people on each canvas.

Each face must be found where the upright one is, and be the same face: its landmarks where the
upright face's land under the same turn (mean error < 9 % of the IOD: these faces are 32-48 px,
measured 1.2-6.7 %), its roll the turn (+-5 degrees; measured <= 1), and retouched as strongly
(mean change on its skin within 40 % of the upright one's; measured 0.67-1.28x).

``test_turned_cells_*`` runs :mod:`.detection.turned` alone on the upright proposal cells a face
gets (what the proposal pass hands it); the others run :func:`detect_faces` with default settings.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np
import pytest

from cosbeauty.imaging import beautify_array, detect_faces
from cosbeauty.imaging.detection.finish import _finish
from cosbeauty.imaging.detection.turned import turned_candidates
from cosbeauty.imaging.detection.common import _CONFIRM_CELL, _CONFIRM_FACE_PX, _Detection
from cosbeauty.imaging.detection.windows import min_face
from tests.imaging import corpus

TURNS = (90, 135, 180, 270)
PEOPLE = ("astronaut", "hopper")
HD, MP12 = (1080, 1920), (3000, 4000)


@functools.cache
def canvas(degrees: int, sizes: tuple[int, ...], shape: tuple[int, int] = HD
           ) -> tuple[np.ndarray, list[tuple[int, float, float]]]:
    """Noisy canvas with both heads turned ``degrees`` CCW at each of ``sizes`` px:
    (canvas, [(size, tile centre x, y)]) -- the face turns about its tile's centre."""
    h, w = shape
    img = np.clip(np.random.default_rng(7).normal(165, 10, (h, w, 3)), 0, 255).astype(np.uint8)
    truth = []
    x = w // 5
    for size in sizes:
        for name in PEOPLE:
            head = corpus.heads()[name]
            rot = corpus.rotate(head, degrees)
            x0, y0, x1, y1 = corpus.place(img, rot, int(round(size * rot.shape[1] / head.shape[1])), x, h // 3)
            truth.append((size, (x0 + x1 - 1) / 2, (y0 + y1 - 1) / 2))
            x += max(240, 5 * size)
    img.setflags(write=False)
    return img, truth


def match(faces, truth):
    """The face found for each truth entry (or None)."""
    return [next((f for f in faces if abs(f.center[0] - cx) < 0.7 * s and abs(f.center[1] - cy) < 0.7 * s), None)
            for s, cx, cy in truth]


def skin_change(before: np.ndarray, after: np.ndarray, face) -> float:
    mask = np.zeros(before.shape[:2], np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(face.landmarks[:468].astype(np.int32)), 1)
    diff = np.abs(after.astype(np.int16) - before.astype(np.int16)).sum(axis=2)
    return float(diff[mask > 0].mean())


@functools.cache
def upright(sizes: tuple[int, ...], shape: tuple[int, int] = HD):
    """The upright canvas's faces (in truth order) and their retouch change."""
    img, truth = canvas(0, sizes, shape)
    faces = match(detect_faces(img), truth)
    assert all(faces), faces
    after, _ = beautify_array(img, 0.5, faces=faces)
    return faces, [skin_change(img, after, f) for f in faces]


def assert_like_upright(faces, degrees: int, sizes: tuple[int, ...], shape: tuple[int, int] = HD) -> None:
    img, truth = canvas(degrees, sizes, shape)
    got = match(faces, truth)
    assert all(got), f"{degrees} degrees: found {[g is not None for g in got]} of {truth}"
    refs, ref_changes = upright(sizes, shape)
    after, _ = beautify_array(img, 0.5, faces=list(faces))
    for (size, cx, cy), face, ref, ref_change in zip(truth, got, refs, ref_changes):
        m = cv2.getRotationMatrix2D((cx, cy), degrees, 1.0)
        expected = np.c_[ref.landmarks[:468], np.ones(468)] @ m.T
        nme = float(np.linalg.norm(face.landmarks[:468] - expected, axis=1).mean() / ref.iod)
        roll = (face.roll - ref.roll + degrees + 180) % 360 - 180
        change = skin_change(img, after, face)
        label = f"{size} px at {degrees}: nme {nme:.3f}, roll {roll:.1f}, change {change:.2f} vs {ref_change:.2f}"
        assert nme < 0.09, label
        assert abs(roll) < 5, label
        assert abs(change - ref_change) <= 0.4 * ref_change, label


def cells_for(truth, shape: tuple[int, int]):
    """The upright confirmation cells the proposal pass gives each face: the first level's (faces m
    to 2m, m = :func:`min_face`) and twice that (a confident proposal's second cell), centred on the
    face (a few px off, a face of the 16 here may be lost: the pass gives a face several cells)."""
    m = min_face(*shape)
    return [(cx, cy, k * m * _CONFIRM_CELL / _CONFIRM_FACE_PX, 0) for k in (1, 2) for _, cx, cy in truth]


@pytest.mark.parametrize("degrees", TURNS)
def test_turned_cells_find_small_turned_faces(degrees):
    img, truth = canvas(degrees, (32, 48))
    cands = turned_candidates(img, None, cells_for(truth, HD), [])
    faces = _finish(cands, img, 10, 20, HD)
    assert len(faces) == len(truth)
    refs, _ = upright((32, 48))
    for face, ref in zip(match(faces, truth), refs):
        assert face is not None and abs((face.roll - ref.roll + degrees + 180) % 360 - 180) < 15


def test_turned_cells_leave_upright_faces_alone():
    """An upright face's cell is explained by its sure upright detection: nothing is turned."""
    img, truth = canvas(0, (48,))
    faces = detect_faces(img)
    sure = [_Detection(np.array(f.box[:2] + (f.box[0] + f.box[2], f.box[1] + f.box[3]), float), 0.9, np.zeros((2, 2)))
            for f in faces]
    assert turned_candidates(img, None, cells_for(truth, HD), sure) == []


@pytest.mark.parametrize("degrees", TURNS)
def test_small_turned_faces_found_by_default(degrees):
    img, _ = canvas(degrees, (32, 48))
    faces = detect_faces(img)
    assert len(faces) == 4
    assert_like_upright(faces, degrees, (32, 48))


def test_small_turned_faces_found_by_default_12mp():
    img, _ = canvas(135, (48,), MP12)
    faces = detect_faces(img)
    assert len(faces) == 2
    assert_like_upright(faces, 135, (48,), MP12)


@pytest.mark.parametrize("name", PEOPLE)
def test_face_behind_a_failed_sure_box_found(name):
    """A 96 px face turned 60 degrees at (806, 442) of the noisy canvas: the turned whole-image
    passes box it sure but too big (~120 px; its landmarks fail) and the proposal pass drops the
    proposals inside that box; the box looked at turned (:func:`.turned.failed_sure_cells`) finds it
    (0/2 before)."""
    img = np.clip(np.random.default_rng(7).normal(165, 10, (*HD, 3)), 0, 255).astype(np.uint8)
    head = corpus.heads()[name]
    rot = corpus.rotate(head, 60)
    corpus.place(img, rot, int(round(96 * rot.shape[1] / head.shape[1])), 806, 442)
    faces = detect_faces(img)
    assert [f is not None for f in match(faces, [(96, 806, 442)])] == [True]
    assert len(faces) == 1


@pytest.mark.parametrize("name", ["rocket", "coffee", "chelsea", "immunohistochemistry"])
def test_no_face_photos_gain_no_faces(name):
    img = dict(corpus.no_face_images())[name]
    h, w = img.shape[:2]
    big = cv2.resize(img, (1920, round(1920 * h / w)), interpolation=cv2.INTER_CUBIC)
    for view in (img, big, np.ascontiguousarray(big[:, w // 3:])):
        assert detect_faces(view) == []
