"""Faces cut by the frame (issue #12, point 4): verification of candidates at the border.

A candidate cut by the frame gets a looser stability limit (0.16 F instead of 0.10 F: half a
face seen through a turned window moves more). Measured on the no-face corpus cropped so that
each of its detector candidates sits 25 % / 50 % outside one side (76 crops;
test_faces_edge_calibration.py prints the distributions), that looseness let through:

* colourless crops (coins, cell): there is no colour test for them, and their stability
  (0.127-0.150) sits where real grey cut faces also reach (0.118-0.145). What separates them
  is the eye: with an iris inside the frame, a real grey face's iris is 0.21-0.87 (5th percentile
  0.44, 48 cut candidates) darker than its skin (relative luminance) against 0.01-0.17 for
  those crops: the limit is 0.2;
* a flat painted disc (the synthetic "blobs", cropped at its top): every skin patch exactly
  the same colour (chroma spread 0.0, also the uncropped blobs' candidates); real faces,
  cut or not, 24-150 px, measured >= 1.85.

Here: those crops come back without a face, and grey and colour faces cut by the frame are
still found.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cosbeauty.imaging import detect_faces, verify
from tests.imaging import corpus

NO_FACE = dict(corpus.no_face_images())
CROPS = {
    "coins-top": lambda: NO_FACE["coins"][50:],
    "cell-left": lambda: NO_FACE["cell"][:, 435:],
    "cell-right": lambda: NO_FACE["cell"][:, :435],
    **{f"blobs-top-{y0}": (lambda y0=y0: NO_FACE["blobs"][y0:]) for y0 in (465, 469, 471, 473, 477)},
}


@pytest.mark.parametrize("name", list(CROPS))
def test_no_face_crops_cut_by_the_frame_are_rejected(name):
    img = np.ascontiguousarray(CROPS[name]())
    faces = detect_faces(img)
    assert faces == [], [(f.box, {k: round(v, 3) for k, v in f.checks.items()}) for f in faces]


def cut_canvas(head: np.ndarray, size: int, side: str, out: float) -> tuple[np.ndarray, tuple[int, int]]:
    canvas = np.full((720, 1280, 3), 140, np.uint8)
    inset = int(size * (0.5 - out))
    cx, cy = {"left": (inset, 360), "right": (1280 - inset, 360),
              "top": (640, inset), "bottom": (640, 720 - inset)}[side]
    corpus.place(canvas, head, size, cx, cy)
    return canvas, (cx, cy)


def grey(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)


@pytest.mark.parametrize("colour", ["grey", "colour"])
def test_faces_cut_by_the_frame_still_found(colour):
    """Both people, 60 and 150 px, every side, 25 % and 50 % outside. Measured before and after
    the two rules: grey 31/32 (the miss: the astronaut 60 px 25 % out at the top, stability
    0.17), colour 31/32 (the miss: Grace Hopper 150 px half out at the top, whose detector
    candidate is the mirror image of the face in the padded border: see verify.py)."""
    found, missed = 0, []
    for name, head in corpus.heads().items():
        head = grey(head) if colour == "grey" else head
        for size in (60, 150):
            for side in ("left", "right", "top", "bottom"):
                for out in (0.25, 0.5):
                    canvas, (cx, cy) = cut_canvas(head, size, side, out)
                    faces = detect_faces(canvas)
                    hit = [f for f in faces if abs(f.center[0] - cx) < 0.6 * size and abs(f.center[1] - cy) < 0.9 * size]
                    if len(faces) == 1 and hit:
                        found += 1
                        assert verify.is_face(faces[0].checks)
                    else:
                        missed.append((name, size, side, out))
    print(colour, f"cut faces found {found}/32, missed {missed}")
    assert found >= 31, missed


def photo_cuts() -> list[tuple[str, np.ndarray]]:
    """The two real photos cropped so the face is 25 % / 50 % outside each side (its own
    background, hair and clothes at the border, not a flat canvas)."""
    out = []
    for name, img in (("astronaut", corpus.astronaut()), ("hopper", np.asarray(corpus.hopper()))):
        face = detect_faces(img)[0]
        x, y, w, h = face.box
        cx, cy = x + w // 2, y + h // 2
        for side in ("left", "right", "top", "bottom"):
            for frac in (0.25, 0.5):
                d = int(round((0.5 - frac) * (w if side in ("left", "right") else h)))
                crop = {"left": img[:, cx - d:], "right": img[:, :cx + d],
                        "top": img[cy - d:], "bottom": img[:cy + d]}[side]
                out.append((f"{name[:4]} {side} {int(frac * 100)}%", np.ascontiguousarray(crop)))
    return out


def test_retouch_of_faces_cut_by_the_frame_leaves_no_seam():
    """Real photos cut through the face: found, retouched only inside the face's region, and the
    change at the frame's edge line steps to the next line no more than lines step inside
    (no seam). Before/after/amplified-difference sheet: test-artifacts/faces/edges_before_after.png
    (each triple: before, after, |after - before| x 8)."""
    from cosbeauty.imaging import beautify_array
    from cosbeauty.imaging.beauty import roi_for

    tiles, ratios, missed = [], [], []
    for label, img in photo_cuts():
        faces = detect_faces(img)
        if len(faces) != 1:
            missed.append(label)
            continue
        after, _ = beautify_array(img, 1.0, faces=faces)
        diff = np.abs(after.astype(np.int16) - img.astype(np.int16)).max(axis=2)
        roi = roi_for(faces[0], img.shape)
        inside = np.zeros_like(diff, bool)
        inside[roi.y0:roi.y1, roi.x0:roi.x1] = True
        assert diff[~inside].max(initial=0) == 0, label
        d = diff.astype(np.float32)
        side = label.split()[1]
        lines = {"left": (d[:, 0], d[:, 1], d[:, 2]), "right": (d[:, -1], d[:, -2], d[:, -3]),
                 "top": (d[0], d[1], d[2]), "bottom": (d[-1], d[-2], d[-3])}[side]
        seam, interior = np.abs(lines[0] - lines[1]).mean(), np.abs(lines[1] - lines[2]).mean()
        ratios.append(seam / max(interior, 0.05))
        assert seam <= 2.5 * interior + 0.5, (label, seam, interior)
        x0, y0, x1, y1 = roi.x0, roi.y0, roi.x1, roi.y1
        amp = np.clip(diff[y0:y1, x0:x1].astype(np.int32) * 8, 0, 255).astype(np.uint8)
        tiles += [(label, img[y0:y1, x0:x1]), ("after", after[y0:y1, x0:x1]),
                  ("diff x8", np.repeat(amp[:, :, None], 3, axis=2))]
    corpus.contact_sheet("edges_before_after", tiles, cell=160, cols=6)
    print(f"cut photos retouched {len(ratios)}/16, missed {missed}; seam/interior step median "
          f"{np.median(ratios):.2f} max {max(ratios):.2f}")
    assert len(missed) <= 2, missed


def test_flat_painted_skin_is_not_a_face():
    """The skin-texture floor: a mesh whose skin patches are flat paint (two flat colours, so
    the chroma-spread floor alone would pass it) is rejected. Seen on the blobs image cropped at
    its top once faces.py tries the mirror image of a cut candidate (skin texture 0.0; real
    faces >= 4.7, the darkest tone-shifted ones)."""
    img = np.ascontiguousarray(corpus.hopper())
    face = detect_faces(img)[0]
    assert verify.is_face(face.checks) and face.checks["skin_texture"] > 4
    flat = img.copy()
    x, y, w, h = face.box
    flat[y:y + h, x:x + w // 2] = (224, 170, 140)
    flat[y:y + h, x + w // 2:x + w] = (221, 168, 141)
    checks = verify.face_checks(flat, face.landmarks, 1.0, face.presence, face.score)
    assert checks["skin_texture"] < verify.MIN_SKIN_TEXTURE
    assert checks["chroma_spread"] >= verify.MIN_CHROMA_SPREAD
    assert "flat" in verify.reasons(checks)


def small_cut_canvas(head: np.ndarray, size: int, side: str, out: float, colour: bool) -> tuple[np.ndarray, int, int]:
    """A 1920x1080 canvas, flat grey (the grey window pass: no colour) or a noisy tan (colour: the
    proposal pass, as in real photos), with ``head`` ``size`` px wide, its placement point (not
    the face's centre: see :func:`cut_face_canvas`) ``out`` x ``size`` outside ``side``."""
    canvas = _canvas_1080p(colour)
    inset = int(size * (0.5 - out))
    cx, cy = {"left": (inset, 540), "right": (1920 - inset, 540), "top": (960, inset), "bottom": (960, 1080 - inset)}[side]
    corpus.place(canvas, head, size, cx, cy)
    return canvas, cx, cy


def _canvas_1080p(colour: bool) -> np.ndarray:
    if colour:
        return np.clip(np.random.default_rng(1).normal((150, 135, 110), 8, (1080, 1920, 3)), 0, 255).astype(np.uint8)
    return np.full((1080, 1920, 3), 140, np.uint8)


def cut_face_canvas(name: str, size: int, side: str, out: float, colour: bool) -> tuple[np.ndarray, float, float]:
    """As :func:`small_cut_canvas`, but ``out`` is measured on the face itself: that fraction of
    the face's landmark box (corpus.HEAD_FACE_BOX) is outside ``side``. Returns the canvas and
    the face box's centre."""
    head = corpus.heads()[name]
    canvas = _canvas_1080p(colour)
    x0, y0, x1, y1 = corpus.place_cut(canvas, name, size, side, out, head if colour else grey(head))
    return canvas, (x0 + x1) / 2, (y0 + y1) / 2


@pytest.mark.parametrize("name", ["astronaut", "hopper"])
def test_head_face_box_is_where_the_mesh_is(name):
    """corpus.HEAD_FACE_BOX (what "x % of the face outside" is measured on) matches the landmark
    box detect_faces gives the head pasted whole, within 2 % of the crop's side."""
    canvas = np.full((1080, 1920, 3), 140, np.uint8)
    x0, y0, x1, y1 = corpus.place_cut(canvas, name, 150, "left", -3.0)      # whole, 3 boxes in
    faces = detect_faces(canvas)
    assert len(faces) == 1
    pts = faces[0].landmarks[:468]
    s = round(150 / 0.55)
    assert np.abs(np.r_[pts.min(axis=0), pts.max(axis=0)] - [x0, y0, x1, y1]).max() < 0.02 * s


@pytest.mark.parametrize("side", ["left", "right", "top", "bottom"])
def test_place_cut_puts_that_fraction_of_the_face_outside(side):
    canvas = np.zeros((1080, 1920, 3), np.uint8)
    for name in ("astronaut", "hopper"):
        for out in (0.25, 0.4, 0.5):
            x0, y0, x1, y1 = corpus.place_cut(canvas, name, 48, side, out)
            a, b, n = {"left": (x0, x1, None), "right": (x0, x1, 1920), "top": (y0, y1, None),
                       "bottom": (y0, y1, 1080)}[side]
            outside = (-a if n is None else b - n) / (b - a)
            assert abs(outside - out) < 1.5 / (b - a), (name, side, out, outside)


@pytest.mark.slow
@pytest.mark.parametrize("colour,floor", [(False, 69), (True, 71)])
def test_small_faces_cut_by_the_frame_1080p(colour, floor):
    """24/32/48 px faces (``place``'s size) with 25/40/50 % of the face's own landmark box outside
    each side of a 1920x1080 frame, both people (72 cases; docs/faces.md, "Recall"). Until this
    round the head's placement point was put ``out`` x size outside, which is not the face: the
    astronaut's face box is 0.70 x size wide with its centre 0.13 x size above that point, so
    "50 % out" at the top put 53-63 % of her face outside (eyes included) and "25 % out" at the
    left or right only ~14 %. Measured with that placement: grey 65/72, colour 59/72 (the figures
    kept in docs/faces.md); with this one, before the fixes of this round, grey 50/72 (most misses
    faces 25 % out at the left/right: the mirrored border doubles an eye, see docs) and colour
    58/72. With the edge slack up to 5 % of the long side (candidates._centred_in), the -25 degree
    stability view for cut faces (landmarks._face_try) and the cut faces' chroma-spread limit 32
    (verify): grey 51/72, colour 61/72 (the rest: no proposal or no confirmation, docs). Grey
    60/72 since the window pass's edge view (detection.windows._edge_jobs: the frame's side
    strips, 1.15x the first level's scale, on a flat border, where the mirrored border showed a
    face 25 % out at the left or right with an eye twice and the detector scored 0): left 11 ->
    16, right 10 -> 14 of 18, every face 25 % out at a side found. Colour 64/72 since the
    proposals' edge slack went 0.2 -> 0.4 (detection.confirm). Grey 65/72 since cut candidates
    boxed on their visible part get a last try on the box enlarged (landmarks._face_from_enlarged:
    left 16 -> 18, right 14 -> 17); colour 66/72 since weak maxima just past the frame are
    re-scored (rescore._rescored: the astronaut 24 px 25/40 % below the frame). Round 14 (on
    HEAD b61a985, which finds the colour astronaut 24 px half below): grey 66 -> 69/72 (top/bottom
    30 -> 33 of 36) with the box-sized upright ROIs for small candidates cut at the top/bottom
    (detection.cutbox), colour 71/72 (top/bottom 33 -> 35 of 36) with the unzoomed stability
    views (landmarks._cut_stability); see
    test_faces_cut_top_bottom.py."""
    found, by_size, by_side, missed = 0, {}, {}, []
    for name in ("astronaut", "hopper"):
        for size in (24, 32, 48):
            for side in ("left", "right", "top", "bottom"):
                for out in (0.25, 0.4, 0.5):
                    canvas, cx, cy = cut_face_canvas(name, size, side, out, colour)
                    faces = detect_faces(canvas)
                    # on the face: the mesh centre within a third of the face of its box's centre
                    # (the hits measured are within 0.26; the old test allowed 0.6 / 0.9 x size
                    # around the placement point)
                    hit = any(abs(f.center[0] - cx) < size / 3 and abs(f.center[1] - cy) < size / 3 for f in faces)
                    found += hit
                    by_size[size] = by_size.get(size, 0) + hit
                    by_side[side] = by_side.get(side, 0) + hit
                    if not hit:
                        missed.append(f"{name[:4]} {size} {side} {out}")
    print(f"small cut faces at 1080p ({'colour' if colour else 'grey'}): {found}/72, by size (of 24) {by_size}, "
          f"by side (of 18) {by_side}; missed {missed}")
    assert found >= floor


@pytest.mark.parametrize("side,size,out", [("bottom", 32, 0.4), ("bottom", 48, 0.5), ("top", 48, 0.4)])
def test_small_face_cut_by_the_frame_found_on_a_colour_canvas(side, size, out):
    """The proposal pass (colour images): Grace Hopper's proposal, centred on the frame's edge
    (the face and its reflection in the level's mirrored border), was dropped for a centre
    just outside the frame (bottom) or its confirmation failed (top: the full-range detector
    sees a lower half face and its reflection). Missed before, found now."""
    canvas, cx, cy = small_cut_canvas(corpus.heads()["hopper"], size, side, out, True)
    faces = detect_faces(canvas)
    assert len(faces) == 1, faces
    assert abs(faces[0].center[0] - cx) < 0.6 * size and abs(faces[0].center[1] - cy) < 0.9 * size
    assert verify.is_face(faces[0].checks)


@pytest.mark.parametrize("size,out", [(24, 0.5), (32, 0.5), (32, 0.4)])
def test_small_face_cut_at_the_top_found(size, out):
    """Grace Hopper 24/32 px, 40-50 % above a 1080p frame: the detector boxes the face and its
    reflection in the mirrored border as one pattern centred on the edge (its centre up to a
    few pixels above the frame, and its eye keypoints turned ~15-20 degrees). Missed before:
    such candidates were dropped for being centred outside the frame, and the landmark model
    saw no face on the turned ROI nor on the mirror image; found with the slack at the edge
    and the upright retry on an ROI the size of the box."""
    canvas = np.full((1080, 1920, 3), 140, np.uint8)
    cx, cy = 960, int(size * (0.5 - out))
    corpus.place(canvas, corpus.heads()["hopper"], size, cx, cy)
    faces = detect_faces(canvas)
    assert len(faces) == 1, faces
    assert abs(faces[0].center[0] - cx) < 0.6 * size and abs(faces[0].center[1] - cy) < 0.9 * size
    assert verify.is_face(faces[0].checks)


@pytest.mark.parametrize("name,size,side,out", [
    ("hopper", 48, "left", 0.5),       # boxed with its reflection as 79 px: no edge slack at 77 px
    ("astronaut", 32, "top", 0.4),     # mesh lost in the +25 degree stability view, kept at -25
    ("hopper", 32, "top", 0.5),        # mirrored skin patches spread 26.1 (limit 25; cut: 32)
])
def test_face_cut_by_the_frame_found_colour_1080p(name, size, side, out):
    """Faces with ``out`` of their own box outside a 1080p frame (corpus.place_cut), missed before
    this round for the reason beside each case and found now (docs/faces.md, "Recall")."""
    canvas, cx, cy = cut_face_canvas(name, size, side, out, True)
    faces = detect_faces(canvas)
    assert len(faces) == 1, faces
    assert abs(faces[0].center[0] - cx) < 0.6 * size and abs(faces[0].center[1] - cy) < 0.9 * size
    assert verify.is_face(faces[0].checks)


def test_face_cut_by_the_frame_with_mirrored_patches_on_hair_found():
    """Grace Hopper 60 px, 40 % of her face right of a 1280x720 frame: her mirrored skin patches
    spread 25.4 in chroma (hair), over the 25 of uncut faces; cut faces are allowed 32."""
    canvas = np.clip(np.random.default_rng(1).normal((150, 135, 110), 8, (720, 1280, 3)), 0, 255).astype(np.uint8)
    x0, y0, x1, y1 = corpus.place_cut(canvas, "hopper", 60, "right", 0.4)
    faces = detect_faces(canvas)
    assert len(faces) == 1, faces
    assert abs(faces[0].center[0] - (x0 + x1) / 2) < 36 and abs(faces[0].center[1] - (y0 + y1) / 2) < 54


@pytest.mark.parametrize("out", [0.25, 0.4])
def test_small_face_cut_at_the_top_proposed_past_the_edge(monkeypatch, out):
    """Grace Hopper 24 px with 25/40 % of her face above a colour 1080p frame: the proposer boxes
    face and reflection centred 7-8 px above the frame, past the proposals' edge slack (0.2 x the
    level's 23 px face). With that slack at 0.4 (a change for the proposal pass, measured: colour
    61 -> 62/72, no-face corpus and edge crops 0 accepted) the proposal reaches landmarking but
    no ROI found the face; the upright retry on the box reflected into the frame does
    (detection.landmarks._face_from_upright): 62 -> 64/72, mesh within 1 px of the face."""
    from cosbeauty.imaging.detection import confirm

    monkeypatch.setattr(confirm, "_EDGE_SLACK", 0.4)
    canvas, cx, cy = cut_face_canvas("hopper", 24, "top", out, True)
    faces = detect_faces(canvas)
    assert len(faces) == 1, faces
    assert abs(faces[0].center[0] - cx) < 3 and abs(faces[0].center[1] - cy) < 3


@pytest.mark.parametrize("name,size,side,out", [("hopper", 48, "left", 0.5), ("astronaut", 32, "top", 0.4),
                                                ("hopper", 32, "top", 0.5), ("hopper", 24, "top", 0.5),
                                                ("astronaut", 32, "top", 0.5)])
def test_retouch_of_small_faces_cut_by_the_frame_leaves_no_seam(name, size, side, out):
    """The small cut faces found in rounds 13-14, retouched at strength 1: nothing changes outside
    the face's region, something inside, and the change at the frame's edge line steps to the
    next line no more than lines step inside it (the criterion of the photo test above). The
    last two: half above the frame, found since the unzoomed stability views
    (test_faces_cut_top_bottom.py)."""
    canvas, _, _ = cut_face_canvas(name, size, side, out, True)
    faces = detect_faces(canvas)
    assert len(faces) == 1
    assert_retouched_without_seam(canvas, faces, side)


def assert_retouched_without_seam(canvas: np.ndarray, faces: list, side: str) -> None:
    """Strength 1: nothing changes outside the face's region, something inside, and the change
    at the frame's edge line steps to the next line no more than lines step inside it."""
    from cosbeauty.imaging import beautify_array
    from cosbeauty.imaging.beauty import roi_for

    after, _ = beautify_array(canvas, 1.0, faces=faces)
    diff = np.abs(after.astype(np.int16) - canvas.astype(np.int16)).max(axis=2).astype(np.float32)
    roi = roi_for(faces[0], canvas.shape)
    inside = np.zeros(diff.shape, bool)
    inside[roi.y0:roi.y1, roi.x0:roi.x1] = True
    assert diff[~inside].max(initial=0) == 0 and diff[inside].max() > 0
    index = {"left": (0, 1, 2), "top": (0, 1, 2), "right": (-1, -2, -3), "bottom": (-1, -2, -3)}[side]
    lines = [diff[:, i] if side in ("left", "right") else diff[i] for i in index]
    seam, interior = np.abs(lines[0] - lines[1]).mean(), np.abs(lines[1] - lines[2]).mean()
    assert seam <= 2.5 * interior + 0.5, (seam, interior)


@pytest.mark.parametrize("name,size,side", [("hopper", 32, "left"), ("hopper", 32, "right"), ("astronaut", 48, "right"),
                                            ("astronaut", 32, "left"), ("hopper", 24, "right")])
def test_small_grey_face_cut_at_the_side_found_and_retouched(name, size, side):
    """A grey face with 25 % of its own box outside the left/right of a 1080p frame (the window
    pass): the mirrored border of the pass's windows shows the cut quarter's reflection next to
    the face (an eye twice) and the detector scored 0 -- missed before. The edge view (the level's
    side strips on a flat border, detection.windows._edge_jobs) finds it; the retouch changes
    nothing outside the face's region and leaves no seam at the frame's edge."""
    canvas, cx, cy = cut_face_canvas(name, size, side, 0.25, False)
    faces = detect_faces(canvas)
    assert len(faces) == 1, faces
    assert abs(faces[0].center[0] - cx) < size / 3 and abs(faces[0].center[1] - cy) < size / 3
    assert verify.is_face(faces[0].checks)
    assert_retouched_without_seam(canvas, faces, side)


@pytest.mark.parametrize("name,size,side,out", [("astronaut", 32, "left", 0.4), ("astronaut", 32, "right", 0.4),
                                                ("astronaut", 32, "right", 0.5), ("astronaut", 24, "left", 0.4)])
def test_small_grey_face_boxed_on_its_visible_part_found(name, size, side, out):
    """A grey face 40-50 % outside a side of a 1080p frame, whose candidates box only the part
    inside the frame (the astronaut 32 px 40 % out at the left: a 15 px box, her face's landmark
    box 22 px): the mesh shrank into that ROI and failed the grey structure check, on every
    retry -- missed before. The last retry on the box enlarged 1.4x / 1.8x about its centre
    (detection.landmarks._face_from_enlarged) finds it; retouched without a seam."""
    canvas, cx, cy = cut_face_canvas(name, size, side, out, False)
    faces = detect_faces(canvas)
    assert len(faces) == 1, faces
    assert abs(faces[0].center[0] - cx) < size / 3 and abs(faces[0].center[1] - cy) < size / 3
    assert verify.is_face(faces[0].checks)
    assert_retouched_without_seam(canvas, faces, side)


@pytest.mark.parametrize("out", [0.25, 0.4])
def test_small_face_cut_at_the_bottom_rescored_past_the_edge(out):
    """The astronaut 24 px with 25/40 % of her face below a colour 1080p frame: no proposal (the
    proposer's best, 0.11-0.12, is a weak maximum), and that weak maximum, centred 4-6 px below
    the frame (face and reflection boxed as one), was not re-scored: only those centred in the
    frame were -- missed before. Weak maxima up to the proposals' edge slack past the frame are
    re-scored too (detection.rescore._rescored: 0.57-0.68); found, retouched without a seam."""
    canvas, cx, cy = cut_face_canvas("astronaut", 24, "bottom", out, True)
    faces = detect_faces(canvas)
    assert len(faces) == 1, faces
    assert abs(faces[0].center[0] - cx) < 8 and abs(faces[0].center[1] - cy) < 8
    assert verify.is_face(faces[0].checks)
    assert_retouched_without_seam(canvas, faces, "bottom")


def test_narrow_box_does_not_take_a_wider_one_along():
    """Candidates narrower than a face (0.6 x min_face_px) are dropped before merging: merged
    first, the narrow box (more confident) absorbed the wider one over the same face and was
    then dropped with it (the grey astronaut 24 px half out at the right of a 1080p frame: boxes
    11.9 px at 0.57 and 15.4 px at 0.56, no candidate)."""
    from cosbeauty.imaging.detection.candidates import _select
    from cosbeauty.imaging.detection.common import _Detection

    eyes = np.array([[1915.0, 536.0], [1918.0, 535.0]])
    narrow = _Detection(np.array([1909.3, 532.3, 1921.2, 544.1]), 0.57, eyes)
    wide = _Detection(np.array([1910.7, 528.1, 1926.1, 543.5]), 0.56, eyes)
    kept = _select([narrow, wide], 10, 20, 1080, 1920)
    assert len(kept) == 1 and kept[0].box[2] - kept[0].box[0] > 15


def test_small_grey_face_half_out_at_the_right_found():
    """The case above end to end: the wider box is landmarked (on its enlarged box,
    landmarks._face_from_enlarged) and verified; retouched without a seam."""
    canvas, cx, cy = cut_face_canvas("astronaut", 24, "right", 0.5, False)
    faces = detect_faces(canvas)
    assert len(faces) == 1, faces
    assert abs(faces[0].center[0] - cx) < 8 and abs(faces[0].center[1] - cy) < 8
    assert verify.is_face(faces[0].checks)
    assert_retouched_without_seam(canvas, faces, "right")


@pytest.mark.parametrize("size,out", [(24, 0.4), (32, 0.5)])
def test_small_face_cut_at_the_right_confirmed_inside_the_frame(size, out):
    """The astronaut 24 px 40 % / 32 px 50 % right of a colour 1080p frame: proposed (0.23-0.33,
    face and reflection boxed as one, centred on the edge), but the confirmation cell centred
    there scored under 0.25 (missed before). Side-edge proposals are confirmed once more a little
    inside the frame, grey cells around them (detection.confirm._side_cells: 0.82-0.90 alone);
    found, retouched without a seam."""
    canvas, cx, cy = cut_face_canvas("astronaut", size, "right", out, True)
    faces = detect_faces(canvas)
    assert len(faces) == 1, faces
    assert abs(faces[0].center[0] - cx) < size / 3 and abs(faces[0].center[1] - cy) < size / 3
    assert verify.is_face(faces[0].checks)
    assert_retouched_without_seam(canvas, faces, "right")
