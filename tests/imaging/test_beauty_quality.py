"""Objective quality suite for the AIFaceBeauty filter (metrics M1-M11 of docs/beauty.md).

All regions come from the *input* landmarks at full resolution; F = cheek-to-cheek width,
IOD = iris distance, Y = Rec.601 luma. Thresholds were set from measurement with a margin.
Before/after PNGs go to ``test-artifacts/beauty/``.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data
from skimage.color import deltaE_ciede2000, rgb2lab
from skimage.metrics import structural_similarity

from cosbeauty.imaging import beautify, beautify_array, detect_faces
from cosbeauty.imaging.beauty import FACE_OVAL, LEFT_BROW, LEFT_EYE, LIPS, RIGHT_BROW, RIGHT_EYE
from cosbeauty.imaging.faces import Face

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "beauty"
STRENGTHS = (0.0, 0.25, 0.5, 0.75, 1.0)


# ----------------------------------------------------------------------------- metrics


def luma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def poly_mask(shape, pts: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 1)
    return mask


def disc(r: float) -> np.ndarray:
    k = max(1, int(round(2 * r + 1)) | 1)
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))


def core_skin(shape, face: Face) -> np.ndarray:
    """Oval minus features dilated 0.08 F, eroded 0.08 F: skin well inside every feather."""
    f, pts = face.cheek_width, face.landmarks
    feats = np.zeros(shape[:2], np.uint8)
    for part in (LEFT_EYE, RIGHT_EYE, LEFT_BROW, RIGHT_BROW, LIPS):
        feats |= poly_mask(shape, cv2.convexHull(pts[part]).reshape(-1, 2))
    feats = cv2.dilate(feats, disc(0.08 * f))
    return cv2.erode(poly_mask(shape, pts[FACE_OVAL]) & (1 - feats), disc(0.08 * f)).astype(bool)


def band_energy(rgb: np.ndarray, face: Face, region: np.ndarray) -> tuple[float, float]:
    """(mid-band, fine-band) luma energy inside ``region``."""
    f = face.cheek_width
    y = luma(rgb)
    s1, s2 = max(0.6, 0.004 * f), 0.02 * f
    g1 = cv2.GaussianBlur(y, (0, 0), s1)
    g2 = cv2.GaussianBlur(y, (0, 0), s2)
    return float(((g1 - g2)[region] ** 2).mean()), float(((y - g1)[region] ** 2).mean())


def feature_ssim(before: np.ndarray, after: np.ndarray, face: Face) -> float:
    """Min luma SSIM over eyes, brows and lips bounding boxes (+0.03 F)."""
    pad = 0.03 * face.cheek_width
    y0, y1 = luma(before), luma(after)
    worst = 1.0
    for part in (LEFT_EYE, RIGHT_EYE, LEFT_BROW, RIGHT_BROW, LIPS):
        lo = np.floor(face.landmarks[part].min(axis=0) - pad).astype(int).clip(0)
        hi = np.ceil(face.landmarks[part].max(axis=0) + pad).astype(int)
        a, b = y0[lo[1]:hi[1], lo[0]:hi[0]], y1[lo[1]:hi[1], lo[0]:hi[0]]
        win = min(7, min(a.shape) // 2 * 2 - 1)
        if win >= 3:
            worst = min(worst, structural_similarity(a, b, data_range=255, win_size=win))
    return worst


def outside_change(before: np.ndarray, after: np.ndarray, faces: list[Face], people: np.ndarray | None = None) -> int:
    """Max abs difference outside the people: outside dilate(union of ovals, 0.10 F) and their
    neck bands (0.6 F under the jaw), and where
    the selfie-segmentation model (run on the whole image) sees no person (< 0.05). Since the
    v2 retouch (issue 9) the tone change continues onto the neck and other visible skin, so
    the face oval alone is no longer the limit. ``people``: where the people are, when the test
    knows it exactly (a collage of pasted photos); replaces the segmentation model's guess."""
    from cosbeauty.imaging.retouch.neck import person_probability

    from cosbeauty.imaging.retouch.common import JAW
    from cosbeauty.imaging.retouch.zones import down_vector

    inside = np.zeros(before.shape[:2], np.uint8)
    for face in faces:
        inside |= cv2.dilate(poly_mask(before.shape, face.landmarks[FACE_OVAL]), disc(0.1 * face.cheek_width))
        jaw = face.landmarks[JAW]       # the neck band under the jaw (where the person's skin may continue)
        neck = np.concatenate([jaw, (jaw + down_vector(face.landmarks) * 0.6 * face.cheek_width)[::-1]])
        inside |= poly_mask(before.shape, neck)
    # the filter segments each face's region, this the whole image: allow their boundaries to
    # disagree by 0.05 F
    if people is not None:
        person = people.astype(np.uint8)
    else:
        person = (person_probability(before) >= 0.05).astype(np.uint8)
        reach = max(f.cheek_width for f in faces) if faces else 0.0
        person = cv2.dilate(person, disc(0.05 * reach))
    background = (inside == 0) & (person == 0)
    diff = np.abs(before.astype(np.int32) - after.astype(np.int32)).max(axis=-1)
    return int(diff[background].max(initial=0))


def skin_de00(before: np.ndarray, after: np.ndarray, region: np.ndarray) -> tuple[float, float]:
    """(mean dE00, mean dL) on ``region``."""
    lab0 = rgb2lab(before[region][None].astype(np.float64) / 255)
    lab1 = rgb2lab(after[region][None].astype(np.float64) / 255)
    return float(deltaE_ciede2000(lab0, lab1).mean()), float((lab1[..., 0] - lab0[..., 0]).mean())


def nme(before: Face, after: Face) -> float:
    return float(np.linalg.norm(before.landmarks[:468] - after.landmarks[:468], axis=1).mean() / before.iod)


def save(name: str, *images: np.ndarray) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    h = max(i.shape[0] for i in images)
    tiles = [np.pad(i, ((0, h - i.shape[0]), (0, 0), (0, 0))) for i in images]
    cv2.imwrite(str(ARTIFACTS / f"{name}.png"), np.concatenate(tiles, axis=1)[..., ::-1])


def zoom(img: np.ndarray, face: Face, size: int = 384) -> np.ndarray:
    x, y, w, h = face.box
    side = int(max(w, h) * 1.2)
    cx, cy = x + w // 2, y + h // 2
    x0, y0 = max(0, cx - side // 2), max(0, cy - side // 2)
    crop = img[y0:y0 + side, x0:x0 + side]
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_NEAREST if side < size else cv2.INTER_AREA)


# ----------------------------------------------------------------------------- inputs


def rotate(img: np.ndarray, deg: float) -> np.ndarray:
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), deg, 1.0)
    c, s = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * s + w * c), int(h * c + w * s)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(img, m, (nw, nh), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)


def hopper() -> np.ndarray:
    cbook = pytest.importorskip("matplotlib.cbook")
    with cbook.get_sample_data("grace_hopper.jpg") as fh:
        return cv2.cvtColor(cv2.imdecode(np.frombuffer(fh.read(), np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def collage() -> tuple[np.ndarray, int]:
    """800x560 canvas with 7 astronaut/hopper heads, faces ~20..110 px wide."""
    rng = np.random.default_rng(7)
    canvas = np.clip(rng.normal(180, 12, (560, 800, 3)), 0, 255).astype(np.uint8)
    heads = [skimage.data.astronaut()[20:260, 105:345], hopper()[60:420, 80:440]]
    layout = [(0, 230, 10, 20), (1, 150, 270, 40), (0, 110, 460, 60), (1, 80, 620, 300),
              (0, 64, 330, 330), (0, 52, 60, 420), (1, 46, 200, 450)]
    for which, size, x, y in layout:
        canvas[y:y + size, x:x + size] = cv2.resize(heads[which], (size, size), interpolation=cv2.INTER_AREA)
    return canvas, len(layout)


def central_first(faces: list[Face], img: np.ndarray) -> list[Face]:
    """The face nearest the image centre first (the measured one): rot45's mirrored corner copy
    can be a pixel larger than the real face, and detection orders by size."""
    centre = np.array([img.shape[1] / 2, img.shape[0] / 2])
    return sorted(faces, key=lambda f: float(np.hypot(*(np.array(f.center) - centre))))


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return skimage.data.astronaut()


@pytest.fixture(scope="module")
def runs(astronaut):
    """Every positive input beautified at all strengths, with its faces; computed once."""
    inputs = {
        "astronaut": astronaut,
        "hopper": hopper(),
        "rot15": rotate(astronaut, 15),
        "rot45": rotate(astronaut, 45),
        "rot90": rotate(astronaut, 90),
    }
    out = {}
    for name, img in inputs.items():
        faces = central_first(detect_faces(img), img)
        assert faces, f"no face found in {name}"
        outs = {s: beautify_array(img, s, faces=faces)[0] for s in STRENGTHS}
        out[name] = (img, faces, outs)
        face = faces[0]
        save(f"{name}_zoom_s0_s05_s1", *(zoom(outs[s], face) for s in (0.0, 0.5, 1.0)))
    return out


# ----------------------------------------------------------------------------- tests


@pytest.mark.parametrize("name", ["astronaut", "hopper", "rot15", "rot45", "rot90"])
def test_detects_one_upright_face(runs, name):
    img, faces, _ = runs[name]
    # rot45's BORDER_REFLECT corner holds a mirrored copy of the face (turned ~135 degrees),
    # a real face that the any-angle detector finds too (issue #12)
    assert len(faces) == (2 if name == "rot45" else 1)
    assert faces[0].landmarks.shape == (478, 2)
    assert 0.4 < faces[0].iod / faces[0].cheek_width < 0.6


@pytest.mark.parametrize("name", ["astronaut", "hopper", "rot15", "rot45", "rot90"])
def test_blemish_band_falls_monotonically_and_pores_stay(runs, name):
    img, faces, outs = runs[name]
    region = core_skin(img.shape, faces[0])
    mid0, fine0 = band_energy(img, faces[0], region)
    mids, fines = [], []
    for s in STRENGTHS:
        mid, fine = band_energy(outs[s], faces[0], region)
        mids.append(mid / mid0)
        fines.append(fine / fine0)
    print(name, "mid", np.round(mids, 3), "fine", np.round(fines, 3))
    assert mids[0] == 1.0 and fines[0] == 1.0
    assert all(a > b for a, b in zip(mids, mids[1:])), mids
    assert all(a >= b for a, b in zip(fines, fines[1:])), fines
    assert mids[2] <= 0.88                       # visible smoothing at the default
    assert mids[4] >= 0.2                        # not a flat wash at full strength
    assert fines[2] >= 0.7                       # pores kept at the default (no plastic look)
    assert fines[4] >= 0.4


@pytest.mark.parametrize("name", ["astronaut", "hopper", "rot15", "rot45", "rot90"])
def test_features_untouched(runs, name):
    img, faces, outs = runs[name]
    ssim = [feature_ssim(img, outs[s], faces[0]) for s in (0.5, 1.0)]
    print(name, "feature SSIM", np.round(ssim, 4))
    assert ssim[0] >= 0.98        # issue 9: eyes brightened and crisper on purpose (was 0.99)
    assert ssim[1] >= 0.98


@pytest.mark.parametrize("name", ["astronaut", "hopper", "rot15", "rot45", "rot90"])
def test_nothing_outside_the_face_changes(runs, name):
    img, faces, outs = runs[name]
    for s in STRENGTHS:
        assert outside_change(img, outs[s], faces) == 0


@pytest.mark.parametrize("name", ["astronaut", "hopper"])
def test_skin_colour_shift_is_small_and_brightening(runs, name):
    img, faces, outs = runs[name]
    region = core_skin(img.shape, faces[0])
    des = [skin_de00(img, outs[s], region) for s in STRENGTHS[1:]]
    print(name, "dE00, dL", np.round(des, 2))
    assert all(a[0] < b[0] for a, b in zip(des, des[1:]))          # monotone in strength
    assert 1.5 <= des[1][0] <= 3.0          # s = 0.5: visible side by side (issue 9; was 0.5-2.5)
    assert des[-1][0] < 5.0                 # s = 1: "beauty app" (issue 9; was < 3)
    assert all(dl >= 0 for _, dl in des)                            # whitening never darkens


@pytest.mark.parametrize("name", ["astronaut", "hopper", "rot45"])
def test_landmarks_do_not_move(runs, name):
    img, faces, outs = runs[name]
    for s in (0.5, 1.0):
        again = central_first(detect_faces(outs[s]), img)
        assert len(again) == len(faces)          # rot45: + the mirrored face in its corner
        err = nme(faces[0], again[0])
        print(name, s, "NME %IOD", round(100 * err, 2))
        assert err < 0.015


def test_strength_zero_is_identity_and_runs_are_deterministic(runs, astronaut):
    _, faces, outs = runs["astronaut"]
    assert np.array_equal(outs[0.0], astronaut)
    again, _ = beautify_array(astronaut, 0.5)
    assert np.array_equal(again, outs[0.5])


def test_small_face_on_big_canvas():
    canvas = np.full((900, 1200, 3), (90, 110, 140), np.uint8)
    canvas[600:800, 850:1050] = cv2.resize(skimage.data.astronaut(), (200, 200), interpolation=cv2.INTER_AREA)
    out, faces = beautify_array(canvas, 1.0)
    assert len(faces) == 1 and 30 < faces[0].cheek_width < 45
    assert outside_change(canvas, out, faces) == 0
    assert not np.array_equal(out, canvas)
    save("small_face_canvas_s1", zoom(canvas, faces[0]), zoom(out, faces[0]))


def test_collage_of_many_faces():
    canvas, count = collage()
    out, faces = beautify_array(canvas, 1.0)
    widths = sorted(f.box[2] for f in faces)
    print("collage face widths", widths)
    assert len(faces) >= count - 1 >= 6
    assert widths[0] <= 30                       # the small ones are found too
    assert outside_change(canvas, out, faces) == 0
    for face in faces:
        region = core_skin(canvas.shape, face)
        if region.sum() > 50:
            assert band_energy(out, face, region)[0] < band_energy(canvas, face, region)[0]
    save("collage_s1", canvas, out)


def test_grey_stays_grey(astronaut):
    grey = np.repeat(cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    out, faces = beautify_array(grey, 1.0)
    assert len(faces) == 1
    assert np.array_equal(out[..., 0], out[..., 1]) and np.array_equal(out[..., 0], out[..., 2])
    assert not np.array_equal(out, grey)


def test_uint16_matches_uint8(astronaut):
    wide = astronaut.astype(np.uint16) * 257
    faces = detect_faces(astronaut)
    out16, _ = beautify_array(wide, 0.5, faces=faces)
    out8, _ = beautify_array(astronaut, 0.5, faces=faces)
    assert out16.dtype == np.uint16
    diff = np.abs((out16 / 257.0) - out8)
    # spot detection is a threshold: a float ulp between the two paths can flip one tiny
    # spot (issue 9's healing); everything else matches within a level
    assert np.percentile(diff, 99.9) <= 1.0 and diff.mean() < 0.02


@pytest.mark.parametrize("name", ["coffee", "chelsea"])
def test_no_face_bytes_unchanged(name):
    img = getattr(skimage.data, name)()
    data = cv2.imencode(".jpg", img[..., ::-1])[1].tobytes()
    result = beautify(data, 1.0)
    assert result.faces == [] and result.data == data


def test_rgba_png_keeps_alpha(astronaut):
    from PIL import Image

    alpha = np.tile(np.linspace(64, 255, astronaut.shape[1]).astype(np.uint8), (astronaut.shape[0], 1))
    buf = io.BytesIO()
    Image.fromarray(np.dstack([astronaut, alpha]), "RGBA").save(buf, "PNG")
    result = beautify(buf.getvalue(), 0.5)
    out = np.asarray(Image.open(io.BytesIO(result.data)))
    assert result.format == "PNG" and out.shape == (512, 512, 4) and len(result.faces) == 1
    assert np.array_equal(out[..., 3], alpha)
    assert not np.array_equal(out[..., :3], astronaut)


@pytest.mark.slow
def test_4000x3000_upscale(astronaut):
    big = cv2.resize(astronaut, (4000, 3000), interpolation=cv2.INTER_CUBIC)
    out, faces = beautify_array(big, 0.5)
    assert len(faces) == 1
    face = faces[0]
    region = core_skin(big.shape, face)
    mid0, fine0 = band_energy(big, face, region)
    mid, fine = band_energy(out, face, region)
    print("4000x3000 mid", round(mid / mid0, 3), "fine", round(fine / fine0, 3))
    # An 8x upscale has no real pore band: the metric's "fine" band here is the 512 px image's
    # blemish band, so it is expected to fall. Native photos carry the >= 0.75 assertion.
    assert mid / mid0 <= 0.85 and fine / fine0 >= 0.6
    assert outside_change(big, out, faces) == 0
    assert feature_ssim(big, out, face) >= 0.99
    save("upscale_4000x3000_zoom_s05", zoom(big, face, 512), zoom(out, face, 512))
    assert math.isfinite(face.cheek_width)


@pytest.mark.parametrize("strength", [0.5, 1.0])
def test_reshape_is_fold_free_and_bounded(runs, strength):
    from cosbeauty.imaging.beauty import _displacement, _roi_for, min_jacobian

    img, faces, _ = runs["astronaut"]
    roi = _roi_for(faces[0], img.shape)
    dx, dy = _displacement((roi.y1 - roi.y0, roi.x1 - roi.x0), roi.pts, roi.f, strength, strength)
    assert min_jacobian(dx, dy) > 0.3
    assert np.hypot(dx, dy).max() <= 0.035 * roi.f
    out, _ = beautify_array(img, strength, faces=faces, reshape=True)
    again = detect_faces(out)
    assert len(again) == 1 and nme(faces[0], again[0]) < 0.04
    if strength == 1.0:
        save("astronaut_reshape_s1", zoom(img, faces[0]), zoom(out, faces[0]))


def test_ten_and_more_faces_found_largest_first():
    """A group photo stand-in: 12 heads on a 1600x900 canvas, faces about 75..115 px wide.
    (Smaller faces in an image this size are below what 3x3 detector tiles resolve; see
    docs/beauty.md, "Limits".)"""
    rng = np.random.default_rng(11)
    canvas = np.clip(rng.normal(170, 14, (900, 1600, 3)), 0, 255).astype(np.uint8)
    heads = [skimage.data.astronaut()[20:260, 105:345], hopper()[60:420, 80:440]]
    sizes = [250, 240, 232, 224, 216, 208, 200, 192, 186, 180, 174, 168]
    photos = np.zeros(canvas.shape[:2], bool)       # the pasted photos: the only places people are
    for i, size in enumerate(sizes):
        x, y = 5 + (i % 6) * 265, 60 + (i // 6) * 420 + (i % 3) * 30
        canvas[y:y + size, x:x + size] = cv2.resize(heads[i % 2], (size, size), interpolation=cv2.INTER_AREA)
        photos[y:y + size, x:x + size] = True
    found = detect_faces(canvas, max_faces=len(sizes))
    assert len(found) >= len(sizes) - 1
    widths = [f.cheek_width for f in found]         # detect_faces orders by the face's own width
    assert widths == sorted(widths, reverse=True)
    out, processed = beautify_array(canvas, 0.5)          # the default cap (faces.MAX_FACES, 50; was 10)
    assert len(processed) == len(found) > 10
    # nothing outside the pasted photos changes (the whole-image segmentation model sees these
    # 170-250 px tiles poorly, so the collage's own layout is the oracle here)
    assert outside_change(canvas, out, processed, people=photos) == 0
    save("twelve_faces_s05", canvas, out)


# EXIF orientation -> the transpose that stores an upright image that way (Pillow's constants)
@pytest.mark.parametrize("orientation,to_stored", [(6, 2), (8, 4), (3, 3)])   # ROTATE_90/270/180
def test_exif_rotated_photo_comes_out_upright(astronaut, orientation, to_stored):
    """A phone photo stored sideways with an EXIF Orientation tag: the face is found, and the
    output, *as a viewer shows it* (EXIF orientation applied), is upright and matches beautifying
    the upright photo. (Since the lossless JPEG path splices in the stored frame, the output keeps
    the stored frame and its Orientation tag, as README promises: "EXIF orientation ... kept";
    tests/imaging/test_lossless.py checks the tag and the untouched blocks.)"""
    from PIL import Image, ImageOps

    upright = astronaut[:, 56:456]                       # 512 x 400, not square
    stored = Image.fromarray(upright).transpose(to_stored)
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    stored.save(buf, "JPEG", quality=95, exif=exif.tobytes())
    result = beautify(buf.getvalue(), 0.5)
    assert len(result.faces) == 1
    out = ImageOps.exif_transpose(Image.open(io.BytesIO(result.data)))
    assert out.size == (400, 512)
    ref = io.BytesIO()
    Image.fromarray(upright).save(ref, "JPEG", quality=95)
    expected = beautify(ref.getvalue(), 0.5)
    got, want = result.faces[0], expected.faces[0]
    assert all(abs(a - b) <= 3 for a, b in ((got.x, want.x), (got.y, want.y), (got.width, want.width),
                                             (got.height, want.height)))
    diff = np.abs(np.asarray(out, np.int16) - np.asarray(Image.open(io.BytesIO(expected.data)), np.int16))
    assert diff.mean() < 2.0


def test_segmentation_warm_builds_every_graph_the_retouch_uses():
    """segmentation.warm() (the CI warm-up): both models on the calling thread and the
    landscape model (the retouch's neck step) on every imaging helper thread."""
    import threading

    from cosbeauty.imaging import segmentation
    from cosbeauty.imaging.faces import _HELPERS, executor

    def built() -> set:
        return set(segmentation._local.__dict__.get("graphs", {}))

    segmentation.warm()
    assert {0, 1} <= built()
    barrier = threading.Barrier(_HELPERS)

    def helper() -> tuple[str, set]:
        barrier.wait(10)                     # one task per helper thread
        return threading.current_thread().name, built()

    seen = [job.result() for job in [executor().submit(helper) for _ in range(_HELPERS)]]
    assert len({name for name, _ in seen}) == _HELPERS
    assert all(1 in graphs for _, graphs in seen)
