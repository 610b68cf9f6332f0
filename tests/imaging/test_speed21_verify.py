"""Round 21 speed work on :func:`cosbeauty.imaging.verify.face_checks`: every landmark square read once
(:mod:`cosbeauty.imaging.verify_squares`), its statistics from integer sums and counts, batched reductions
and a median without numpy's partition -- with exactly the checks of the per-square code.

The oracle is that code, kept verbatim in ``tests/imaging/speed21_verify_oracle.py``. Every candidate that
reaches verification while :func:`detect_faces` (``verify=False``: rejected candidates kept) runs over
faces at several sizes and angles, cut by the frame, grey, tinted, over-exposed, masked or with hair over an
eye, and over the no-face corpus, is measured by both: every key and every value must be bit-identical.
"""

from __future__ import annotations

import math
import struct

import cv2
import numpy as np
import pytest

from cosbeauty.imaging import detect_faces, verify, verify_squares
from tests.imaging import corpus, speed21_verify_oracle as oracle
from tests.imaging.scenes import one_face, six_faces


def _same(a: dict, b: dict) -> list[str]:
    """Keys whose values differ (bit for bit, and in type), and keys only one side has."""
    bad = sorted(set(a) ^ set(b))
    for k in set(a) & set(b):
        x, y = a[k], b[k]
        if type(x) is not type(y) or struct.pack("<d", float(x)) != struct.pack("<d", float(y)):
            if not (isinstance(x, float) and math.isnan(x) and isinstance(y, float) and math.isnan(y)):
                bad.append(f"{k}: {x!r} != {y!r}")
    return bad


def _candidates_agree(images: list[tuple[str, np.ndarray]], monkeypatch, minimum: int) -> None:
    """Run detection (rejected candidates kept) over ``images``; each face_checks call is measured by the
    new code and the oracle on the same arguments."""
    real = verify.face_checks
    seen: list[str] = []
    wrong: list[str] = []
    current = [""]

    def both(rgb, pts, scale, presence, det_score):
        new = real(rgb, pts, scale, presence, det_score)
        old = oracle.face_checks(rgb, pts, scale, presence, det_score)
        seen.append(current[0])
        if bad := _same(new, old):
            wrong.append(f"{current[0]}: {bad}")
        return new

    monkeypatch.setattr(verify, "face_checks", both)
    for current[0], img in images:
        detect_faces(img, verify=False)
    assert not wrong, wrong[:5]
    assert len(seen) >= minimum, (len(seen), sorted(set(seen)))


def _canvas(w: int = 960, h: int = 720) -> np.ndarray:
    return np.full((h, w, 3), 128, np.uint8)


def _placed(name: str, px: int, w: int = 960, h: int = 720) -> np.ndarray:
    canvas = _canvas(w, h)
    corpus.place(canvas, corpus.heads()[name], px, w // 2, h // 2)
    return canvas


def _cut(name: str, px: int, side: str, out: float) -> np.ndarray:
    canvas = _canvas()
    corpus.place_cut(canvas, name, px, side, out)
    return canvas


def _sepia(rgb: np.ndarray) -> np.ndarray:
    y = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return np.clip(y[..., None] * np.array([1.07, 0.74, 0.43], np.float32) + 20, 0, 255).astype(np.uint8)


def _faces() -> list[tuple[str, np.ndarray]]:
    out = [("1080p one face", one_face(1920, 1080)), ("6 faces", six_faces(1280, 720))]
    for name in ("astronaut", "hopper"):
        for px in (24, 40, 96, 300):
            out.append((f"{name} {px}", _placed(name, px)))
        for deg in (45, 135, 200):
            out.append((f"{name} at {deg}", corpus.rotate(_placed(name, 120, 480, 480), deg)))
        for side, cut in (("top", 0.4), ("bottom", 0.5), ("left", 0.3), ("right", 0.25)):
            out.append((f"{name} cut {side}", _cut(name, 96, side, cut)))
    return out


def test_faces_sizes_angles_and_cut(monkeypatch) -> None:
    _candidates_agree(_faces(), monkeypatch, 25)


def test_close_up_faces(monkeypatch) -> None:
    """Faces ~800 px wide: their shading and hair squares are read square by square (luma_sums), their
    skin squares hold ~6900 pixels."""
    images = [(f"{name} close-up", _placed(name, 1000, 1920, 1080)) for name in ("astronaut", "hopper")]
    _candidates_agree(images, monkeypatch, 2)


def test_grey_tinted_and_clipped_faces(monkeypatch) -> None:
    base = [(n, img) for n, img in _faces() if "cut" in n or n in ("1080p one face", "hopper 96", "astronaut 300")]
    images = [(f"grey {n}", corpus.grey3(img)) for n, img in base]
    images += [(f"sepia {n}", _sepia(img)) for n, img in base[:4]]
    images += [(f"x1.7 {n}", cv2.convertScaleAbs(img, alpha=1.7)) for n, img in base[:4]]
    images += [(f"jpeg q40 {n}", corpus.decoded(corpus.jpeg_pil(img, 40))) for n, img in base[:3]]
    _candidates_agree(images, monkeypatch, 15)


def test_masked_and_hair_faces(monkeypatch) -> None:
    from tests.imaging.test_faces_occluded import _masked
    from tests.imaging.test_faces_occluded18 import _hair

    images = [("masked hopper blue", _masked("hopper", 128, "blue", "motorcycle", 90)[0]),
              ("masked astronaut white", _masked("astronaut", 200, "white", "motorcycle", None)[0]),
              ("hair astronaut", _hair("astronaut", 128)), ("hair hopper", _hair("hopper", 128))]
    _candidates_agree(images, monkeypatch, 4)


def test_no_face_candidates(monkeypatch) -> None:
    images = [(n, img) for n, img in corpus.no_face_images() if img.shape[0] * img.shape[1] <= 2_100_000]
    images += [(f"grey {n}", corpus.grey3(img)) for n, img in images[:12]]
    _candidates_agree(images, monkeypatch, 10)


# ----------------------------------------------------------------------------- the square statistics alone

def _squares(rng: np.random.Generator, shapes: list[tuple[int, int]]) -> list[np.ndarray]:
    return [rng.integers(0, 256, (h, w, 3)).astype(np.uint8) for h, w in shapes]


@pytest.mark.parametrize("shapes", [[(21, 21)] * 7, [(3, 3)] * 2, [(21, 21), (21, 14), (9, 21)], [(1, 5), (5, 1)],
                                    [(83, 83)] * 4, [(300, 300)], [(200, 200), (200, 200)]])
def test_square_statistics_equal_numpy(shapes: list[tuple[int, int]]) -> None:
    rng = np.random.default_rng(len(shapes) * 1000 + shapes[0][0])
    ps = _squares(rng, shapes)
    flats = [p.reshape(-1, 3).astype(np.float32) for p in ps]
    assert np.array_equal(verify_squares.means(ps), np.array([f.mean(axis=0) for f in flats]))
    assert verify_squares.means(ps).dtype == np.float32
    assert np.array_equal(verify_squares.pooled_mean(ps), np.concatenate(flats).mean(axis=0))
    assert verify_squares.pooled_y_mean(ps) == float(np.concatenate(flats)[:, 0].mean())
    stds = verify_squares.y_std(ps)
    assert stds.dtype == np.float32 and [float(v) for v in stds] == [float(f[:, 0].std()) for f in flats]
    assert verify_squares.plane_residuals([p[:, :, 0] for p in ps]) == [verify_squares.plane_residual(p[:, :, 0]) for p in ps]
    flat = verify_squares.pixels(ps)
    cat = np.concatenate(flats)
    for lo, hi in (((128.0, 185.0), (70.0, 132.0)), ((127.5, 200.2), (60.0, 131.9))):
        share = ((cat[:, 1] >= lo[0]) & (cat[:, 1] <= lo[1]) & (cat[:, 2] >= hi[0]) & (cat[:, 2] <= hi[1])).mean()
        assert verify_squares.share_in_range(flat, lo, hi) == float(share)
    for centre in (np.array([150.3, 101.7], np.float32), np.median(cat[:, 1:], axis=0)):
        near = float((np.linalg.norm(cat[:, 1:] - centre, axis=1) <= 10.0).mean())
        assert verify_squares.share_near(flat, centre, 10.0) == near


@pytest.mark.parametrize("code", [cv2.COLOR_RGB2YCrCb, cv2.COLOR_RGB2GRAY])
def test_luma_sums_by_region_and_by_square(code: int, monkeypatch) -> None:
    rng = np.random.default_rng(11)
    rgb = rng.integers(0, 256, (300, 400, 3)).astype(np.uint8)
    xy = np.array([[5, 5], [-3, 10], [399, 299], [200, 150], [-20, -20], [410, 100], [120, 40]], np.int64)
    want_area = [(min(400, x + 5) - max(0, x - 4)) * (min(300, y + 5) - max(0, y - 4))
                 if -5 < x < 404 and -5 < y < 304 else 0 for x, y in xy]
    luma = cv2.cvtColor(rgb, code)
    luma = luma[:, :, 0] if luma.ndim == 3 else luma
    want = [int(luma[max(0, y - 4):y + 5, max(0, x - 4):x + 5].sum()) if a else 0 for (x, y), a in zip(xy, want_area)]
    for limit in (10**9, 0):
        monkeypatch.setattr(verify_squares, "REGION_PX", limit)
        total, area = verify_squares.luma_sums(rgb, xy, 4, code)
        assert [int(v) for v in area] == want_area and [int(v) for v in total] == want


def test_pooled_region_mean_equals_square_by_square() -> None:
    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (120, 160, 3)).astype(np.uint8)
    sq = verify_squares.Squares(rgb)
    for boxes in ([sq.box(50, 60, 3), sq.box(52, 61, 3), sq.box(90, 70, 3)], [sq.box(0, 0, 4), sq.box(159, 119, 4)],
                  [sq.box(80, 60, 60)], [sq.box(10, 10, 1)] * 3):
        want = verify_squares.pooled_mean([sq.ycc(b) for b in boxes])
        got = verify_squares.pooled_region_mean(rgb, boxes)
        assert got.dtype == want.dtype and np.array_equal(got, want)


def test_median_equals_numpy() -> None:
    rng = np.random.default_rng(7)
    for n in range(1, 12):
        for dtype in (np.float32, np.float64):
            a = (rng.normal(size=n) * 50 + 128).astype(dtype)
            assert verify_squares.median(a) == np.median(a)
            assert type(verify_squares.median(a)) is type(np.median(a))
            b = (rng.normal(size=(n, 2)) * 50 + 128).astype(dtype)
            got, want = verify_squares.median0(b), np.median(b, axis=0)
            assert got.dtype == want.dtype and np.array_equal(got, want)
    assert verify_squares.median([1.0, 2.5, 9.0, 4.0]) == np.median([1.0, 2.5, 9.0, 4.0])
    assert np.isnan(verify_squares.median(np.array([1.0, np.nan, 3.0])))


def test_hue_line_equals_the_old() -> None:
    """verify_light._hue_line (tinted's one-hue measure; once per image, ~0.7 ms): the lit pixels picked on
    uint8 and their chroma magnitude from tables give the old values."""
    from cosbeauty.imaging import verify_light

    rng = np.random.default_rng(3)
    grids = [rng.integers(0, 256, (68, 120, 3)).astype(np.uint8) for _ in range(20)]
    grids += [np.full((40, 40, 3), v, np.uint8) for v in (0, 128, 250)]
    for _, img in list(corpus.no_face_images())[:20]:
        grids += [img[::8, ::8], corpus.grey3(img)[::8, ::8], _sepia(img)[::8, ::8]]
    for _, img in _faces()[:6]:
        grids += [img[::8, ::8], _sepia(img)[::8, ::8], img[100:300, 300:500]]
    for g in grids:
        assert verify_light._hue_line(g) == oracle._hue_line(g)


def test_shared_squares_are_read_once(monkeypatch) -> None:
    """The new path: the cheeks' and the forehead's squares (0.05 F) are converted once for the skin,
    occlusion and hair measures -- face_checks asks for squares it already has."""
    asked, converted = [], []
    ycc = verify_squares.Squares.ycc

    def counting(self, box):
        asked.append(box)
        if box not in self._ycc:
            converted.append(box)
        return ycc(self, box)

    monkeypatch.setattr(verify_squares.Squares, "ycc", counting)
    faces = detect_faces(one_face(1920, 1080))
    assert len(faces) == 1
    asked.clear(), converted.clear()
    f = faces[0]
    checks = verify.face_checks(np.ascontiguousarray(one_face(1920, 1080)), f.landmarks, 1.0, f.presence, f.score)
    assert checks["patches"] == 7.0
    assert len(asked) - len(converted) >= 5, (len(asked), len(converted))
