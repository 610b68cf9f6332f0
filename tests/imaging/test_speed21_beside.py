"""Round 21: the beside look's cue (:func:`cosbeauty.imaging.detection.beside.cells`) computes its
maps only around the skin (:func:`.beside._roi`), with exactly the old results.

The oracle below is round 20's ``cells`` verbatim (the maps of each size over the whole skin map);
the new one must give the same cells in the same order, bit for bit, on the test scenes, the real
photos and synthetic images of ``tests/imaging/corpus.py`` at several sizes (grey, no-skin and
all-skin images among them), with no big face, one and two.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import cv2
import numpy as np
import pytest

from cosbeauty.imaging.detection import beside
from cosbeauty.imaging.detection.beside import (_BLOB_PX, _HEAD, _INNER, _MIN_CONTRAST, _MIN_INNER, _RING, _SHOWN,
                                                _SIZE_STEP, _SIZES, CELLS)
from cosbeauty.imaging.detection.common import _CONFIRM_CELL, _SKIN_CB, _SKIN_CR
from cosbeauty.imaging.detection.windows import min_face
from tests.imaging import corpus
from tests.imaging.scenes import one_face, six_faces


def _old_rescaled(small: np.ndarray, k: float, target: float) -> tuple[np.ndarray, float]:
    h, w = small.shape[:2]
    size = (max(1, round(w * target / k)), max(1, round(h * target / k)))
    return cv2.resize(small, size, interpolation=cv2.INTER_AREA), k * size[0] / w


def old_cells(small: np.ndarray, k: float, h: int, w: int, least: float,
              big: Sequence[np.ndarray]) -> list[tuple[float, float, float, int]]:
    """Round 20's :func:`.beside.cells`, verbatim (the oracle)."""
    if k * least > 1.25 * _BLOB_PX:       # the smallest face ~_BLOB_PX wide (both paths then see one map)
        small, k = _old_rescaled(small, k, _BLOB_PX / least)
    ycc = cv2.cvtColor(np.ascontiguousarray(small[:, :, :3]), cv2.COLOR_RGB2YCrCb)
    mask = cv2.inRange(ycc, (0, _SKIN_CR[0], _SKIN_CB[0]), (255, _SKIN_CR[1], _SKIN_CB[1]))
    if not mask.any():
        return []
    skin = mask                 # 0/255; the maps below are means of it (0-255)
    peaks: list[tuple[float, float, float, float]] = []      # (score, size, cx, cy)
    kk = k
    for i in range(_SIZES):
        size = least * _SIZE_STEP ** i
        while size * kk > 2 * _BLOB_PX and min(skin.shape) > 16:     # a pyramid: each size seen ~_BLOB_PX wide
            skin = cv2.resize(skin, ((skin.shape[1] + 1) // 2, (skin.shape[0] + 1) // 2), interpolation=cv2.INTER_AREA)
            kk = k * skin.shape[1] / small.shape[1]
        fs = size * kk
        iw, ih = max(2, round(_INNER[0] * fs)), max(2, round(_INNER[1] * fs))
        ow = max(max(iw, ih) + 2, round(_RING * fs))
        inner = cv2.boxFilter(skin, cv2.CV_32F, (iw, ih), borderType=cv2.BORDER_REPLICATE)
        outer = cv2.boxFilter(skin, cv2.CV_32F, (ow, ow), borderType=cv2.BORDER_REPLICATE)
        ai, ao = iw * ih, ow * ow
        score = cv2.addWeighted(inner, ao / (ao - ai), outer, -ao / (ao - ai), 0.0)   # inner - ring mean
        r = max(3, round(fs) | 1)
        top = cv2.compare(score, cv2.dilate(score, np.ones((r, r), np.uint8)), cv2.CMP_GE)
        top &= cv2.compare(score, 255 * _MIN_CONTRAST, cv2.CMP_GE) & cv2.compare(inner, 255 * _MIN_INNER, cv2.CMP_GE)
        at = cv2.findNonZero(top)
        if at is None:
            continue
        xs, ys = at.reshape(-1, 2)[:, 0], at.reshape(-1, 2)[:, 1]
        sx, sy = k * skin.shape[1] / small.shape[1], k * skin.shape[0] / small.shape[0]   # image px -> map px
        cx, cy = (xs + 0.5) / sx, (ys + 0.5) / sy
        keep = np.ones(len(xs), bool)
        for b in big:
            bw, bh = b[2] - b[0], b[3] - b[1]
            keep &= ~((cx >= b[0] - _HEAD[0] * bw) & (cx <= b[2] + _HEAD[0] * bw)
                      & (cy >= b[1] - _HEAD[1] * bh) & (cy <= b[3] + _HEAD[2] * bh))
        values = np.round(score[ys, xs] / 255, 4)[keep]
        cx, cy = cx[keep], cy[keep]
        best = np.lexsort((cy, cx, -values))[: 2 * CELLS]      # best first; ties by position
        peaks += [(float(values[j]), size, float(cx[j]), float(cy[j])) for j in best]
    peaks.sort(key=lambda p: (-p[0], p[1], p[2], p[3]))
    kept: list[tuple[float, float, float, float]] = []
    for p in peaks:
        if len(kept) >= CELLS:
            break
        if all(math.hypot(p[2] - q[2], p[3] - q[3]) >= 0.5 * max(p[1], q[1]) for q in kept):
            kept.append(p)
    return [(px, py, size * _CONFIRM_CELL / _SHOWN, 0) for _, size, px, py in kept]


# the image sizes (w, h) the copies stand for, and the copies' long sides (the whole-image pass's
# <= 640 px copy; others for other map sizes, odd widths among them: the SIMD / scalar columns)
SIZES = [(1920, 1080), (4000, 3000), (1280, 960), (3000, 4000), (800, 600), (640, 427)]
LONG = [640, 480, 501, 250, 123, 37]


def _bigs(w: int, h: int) -> list[list[np.ndarray]]:
    return [[], [np.array([0.55 * w, 0.2 * h, 0.75 * w, 0.55 * h])],
            [np.array([0.1 * w, 0.3 * h, 0.3 * w, 0.7 * h]), np.array([0.6 * w, 0.05 * h, 0.9 * w, 0.5 * h])]]


def _images() -> Iterator[tuple[str, np.ndarray]]:
    yield "one-face", one_face(1920, 1080)
    yield "six-faces", six_faces(1920, 1080)
    yield "astronaut", corpus.astronaut()
    yield "hopper", corpus.hopper()
    for name, img in corpus.no_face_images():
        if img.shape[0] * img.shape[1] <= 3_000_000:
            yield name, img
    yield "skin-blobs", corpus._skin_blobs(np.random.default_rng(3))
    for name in corpus.REAL_BACKDROPS:
        canvas = corpus.cover(name, 1280, 720)
        corpus.paste_round(canvas, corpus.heads()["astronaut"], 200, 860, 330)
        corpus.paste_round(canvas, corpus.heads()["hopper"], 40, 300, 520)
        yield "beside-" + name, canvas
        yield "beside-grey-" + name, corpus.grey3(canvas)


def _cases() -> Iterator[tuple[str, tuple]]:
    for name, img in _images():
        img = corpus._rgb(img)
        for j, (w, h) in enumerate(SIZES):
            long = LONG[(j + len(name)) % len(LONG)]
            k = long / max(w, h)
            small = cv2.resize(img, (max(1, round(w * k)), max(1, round(h * k))), interpolation=cv2.INTER_AREA)
            for big in _bigs(w, h)[j % 3:] if j % 2 else _bigs(w, h)[:2]:
                yield f"{name}-{w}x{h}-{long}-{len(big)}", (small, small.shape[1] / w, h, w, min_face(h, w), big)


def test_cells_are_the_old_cells_on_scenes_and_corpus_photos():
    n = kinds = 0
    bad = []
    for name, args in _cases():
        got, want = beside.cells(*args), old_cells(*args)
        if got != want:
            bad.append(name)
        n += 1
        kinds += bool(want)
    assert not bad, bad[:10]
    assert n >= 300 and kinds >= 150, (n, kinds)      # most of them do have skin blobs


def test_cells_are_the_old_cells_on_random_skin_maps():
    """Random skin patches on random copies: every map width mod 4, all-skin, one skin pixel."""
    rng = np.random.default_rng(21)
    skin_rgb, other = (224, 172, 142), (60, 90, 160)
    for i in range(120):
        sh, sw = int(rng.integers(6, 200)), int(rng.integers(6, 260))
        small = np.empty((sh, sw, 3), np.uint8)
        small[:] = other
        for _ in range(int(rng.integers(0, 12))):
            x, y = int(rng.integers(0, sw)), int(rng.integers(0, sh))
            cv2.ellipse(small, (x, y), (int(rng.integers(1, 30)), int(rng.integers(1, 30))), 0, 0, 360, skin_rgb, -1)
        if i % 10 == 0:
            small[:] = skin_rgb
        if i % 10 == 1:
            small[int(rng.integers(0, sh)), int(rng.integers(0, sw))] = skin_rgb
        w, h = int(sw * rng.uniform(2, 12)), int(sh * rng.uniform(2, 12))
        for big in _bigs(w, h):
            args = (small, sw / w, h, w, min_face(h, w), big)
            assert beside.cells(*args) == old_cells(*args), (i, sh, sw)


@pytest.mark.parametrize("width", range(17, 41))
def test_roi_maps_are_the_whole_maps_there(width):
    """:func:`.beside._roi`'s maps against the whole map's box filters, bit for bit, where its
    inner mean can pass (and around), for every map width mod 4 and the pyramid's 0-255 maps."""
    rng = np.random.default_rng(width)
    for trial in range(12):
        hh = int(rng.integers(17, 60))
        skin = np.zeros((hh, width), np.uint8)
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, hh))
        x1, y1 = int(rng.integers(x0 + 1, width + 1)), int(rng.integers(y0 + 1, hh + 1))
        skin[y0:y1, x0:x1] = rng.integers(0, 2, (y1 - y0, x1 - x0)) * 255 if trial % 2 else rng.integers(0, 256, (y1 - y0, x1 - x0))
        box = cv2.boundingRect(skin)
        if box[2] == 0:
            continue
        iw, ih = int(rng.integers(2, 10)), int(rng.integers(2, 11))
        ow = max(iw, ih) + 2 + int(rng.integers(0, 14))
        (ry, rx), (inner, outer) = beside._roi(skin, box, (iw, ih), ow)
        whole_inner = cv2.boxFilter(skin, cv2.CV_32F, (iw, ih), borderType=cv2.BORDER_REPLICATE)
        whole_outer = cv2.boxFilter(skin, cv2.CV_32F, (ow, ow), borderType=cv2.BORDER_REPLICATE)
        part = np.s_[ry:ry + inner.shape[0], rx:rx + inner.shape[1]]
        assert np.array_equal(inner.view(np.uint32), whole_inner[part].view(np.uint32))
        assert np.array_equal(outer.view(np.uint32), whole_outer[part].view(np.uint32))
        rest = np.ones(skin.shape, bool)
        rest[part] = False
        assert not whole_inner[rest].any()           # outside: no skin in the inner box


def test_the_maps_are_computed_on_part_of_the_bench_portraits_map(monkeypatch):
    """The 1080p bench portrait's copy (480 x 270, its skin in columns 105-374): every box filter
    runs on fewer columns than the map's (the old code filtered all 480), the cells unchanged."""
    small = cv2.resize(one_face(1920, 1080), (480, 270), interpolation=cv2.INTER_AREA)
    big = [np.array([788.0, 145.0, 1006.0, 363.0])]
    widths: list[tuple[int, int]] = []
    box_filter = cv2.boxFilter
    monkeypatch.setattr(cv2, "boxFilter", lambda src, *a, **k: widths.append(src.shape[:2]) or box_filter(src, *a, **k))
    got = beside.cells(small, 0.25, 1080, 1920, min_face(1080, 1920), big)
    monkeypatch.setattr(cv2, "boxFilter", box_filter)
    assert got == old_cells(small, 0.25, 1080, 1920, min_face(1080, 1920), big) and len(got) == CELLS
    assert len(widths) == 2 * _SIZES
    assert all(w < (480 if h == 270 else 240) for h, w in widths), widths
