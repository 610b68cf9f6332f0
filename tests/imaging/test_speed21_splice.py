"""Round 21 speed: the lossless splice's tail (``Splicer.finish`` -> bytes).

* ``_region_mask`` reduces the MCU cells of the difference grid as 64-bit words: the same mask
  as round 20's byte-wise max (kept here as the reference).
* ``Splicer._transform``'s filter only notes libjpeg's block-row addresses; the last row's call
  waits for the new blocks and writes them with one masked numpy assignment per patch and
  component (``_write_patches``) instead of a Python body per block row after ``ready`` (and
  ``_row_work`` before it). The output bytes are those of the row-by-row writer (``_write_rows``,
  round 20's filter body, still the way when a component's rows are not at one stride), for
  every sampling, grey, progressive, odd sizes, CMYK (delta blocks) and the pipeline.
"""

from __future__ import annotations

import hashlib
import io

import cv2
import numpy as np
import pytest
from PIL import Image

from cosbeauty.imaging import jpeg_lossless
from tests.imaging.scenes import one_face

pytestmark = pytest.mark.skipif(not jpeg_lossless.available(), reason="libturbojpeg missing")


def _old_region_mask(crops, after, regions, mcu):
    """Round 20's ``_region_mask`` (the reference)."""
    h, w = after.shape[:2]
    mw, mh = mcu
    mask = np.zeros((-(-h // mh), -(-w // mw)), bool)
    for (x0, y0, x1, y1), crop in zip(regions, crops):
        if x1 <= x0 or y1 <= y0:
            continue
        diff = cv2.absdiff(crop, after[y0:y1, x0:x1])
        c = diff.shape[2] if diff.ndim == 3 else 1
        ax0, ay0 = x0 // mw * mw, y0 // mh * mh
        ax1, ay1 = -(-x1 // mw) * mw, -(-y1 // mh) * mh
        grid = np.zeros((ay1 - ay0, (ax1 - ax0) * c), np.uint8)
        grid[y0 - ay0:y1 - ay0, (x0 - ax0) * c:(x1 - ax0) * c] = diff.reshape(y1 - y0, -1)
        blocks = grid.reshape((ay1 - ay0) // mh, mh, (ax1 - ax0) // mw, mw * c).max(axis=(1, 3)) > 0
        mask[ay0 // mh:ay1 // mh, ax0 // mw:ax1 // mw] |= blocks
    return mask


@pytest.mark.parametrize("channels", [3, 1, 4])
@pytest.mark.parametrize("mcu", [(8, 8), (16, 8), (16, 16)])
def test_region_mask_same_as_round20(channels: int, mcu: tuple[int, int]) -> None:
    rng = np.random.default_rng(channels * 100 + mcu[0] + mcu[1])
    h, w = 301, 457
    shape = (h, w) if channels == 1 else (h, w, channels)
    before = rng.integers(0, 256, shape, dtype=np.uint8)
    after = before.copy()
    regions = [(0, 0, 37, 19), (101, 53, 263, 190), (440, 290, 457, 301), (5, 5, 5, 9), (300, 120, 333, 121)]
    for x0, y0, x1, y1 in regions:
        sub = after[y0:y1, x0:x1]
        if sub.size:
            pick = rng.random(sub.shape[:2]) < 0.01          # sparse single-pixel changes
            sub[pick] ^= 1
    crops = [before[y0:y1, x0:x1].copy() for x0, y0, x1, y1 in regions]
    old = _old_region_mask(crops, after, regions, mcu)
    assert old.any()
    for parallel in (True, False):
        assert np.array_equal(jpeg_lossless._region_mask(crops, after, regions, mcu, parallel), old)


@pytest.mark.parametrize("mcu", [(8, 8), (16, 16)])
def test_large_regions_compared_in_halves_same_mask(mcu: tuple[int, int], monkeypatch) -> None:
    rng = np.random.default_rng(mcu[0])
    before = rng.integers(0, 256, (700, 900, 3), dtype=np.uint8)
    after = before.copy()
    regions = [(13, 7, 611, 529), (300, 150, 900, 700), (600, 20, 640, 90)]       # overlapping, two large
    for x0, y0, x1, y1 in regions:
        sub = after[y0:y1, x0:x1]
        sub[rng.random(sub.shape[:2]) < 0.002] += 1
    after[528, 300] += 1                                          # on the last row of the first region
    crops = [before[y0:y1, x0:x1].copy() for x0, y0, x1, y1 in regions]
    pieces: list = []
    real = jpeg_lossless._changed_cells
    monkeypatch.setattr(jpeg_lossless, "_changed_cells", lambda p, a, m: (pieces.append(p[0]), real(p, a, m))[1])
    got = jpeg_lossless._region_mask(crops, after, regions, mcu)
    assert len(pieces) == 5                                       # two halves each for the large ones
    assert np.array_equal(got, _old_region_mask(crops, after, regions, mcu))


def _jpeg(rgb: np.ndarray, **options) -> bytes:
    out = io.BytesIO()
    if options.pop("grey", False):
        Image.fromarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)).save(out, "JPEG", **options)
    elif options.pop("cmyk", False):
        Image.fromarray(rgb).convert("CMYK").save(out, "JPEG", **options)
    else:
        Image.fromarray(rgb).save(out, "JPEG", **options)
    return out.getvalue()


CASES = {
    "420-odd": ((531, 389), {"quality": 90}),
    "420-even": ((640, 480), {"quality": 92}),
    "422-odd": ((517, 303), {"quality": 85, "subsampling": 1}),
    "444-odd": ((333, 211), {"quality": 95, "subsampling": 0}),
    "progressive-420": ((529, 371), {"quality": 90, "progressive": True}),
    "grey-odd": ((419, 277), {"quality": 90, "grey": True}),
    "cmyk": ((301, 205), {"quality": 90, "cmyk": True}),
}


def _scene(size: tuple[int, int], seed: int) -> tuple[np.ndarray, np.ndarray]:
    w, h = size
    rng = np.random.default_rng(seed)
    rgb = cv2.GaussianBlur(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), (0, 0), 2)
    after = rgb.copy()
    after[h // 5:h // 2, w // 4:w // 2] = 255 - after[h // 5:h // 2, w // 4:w // 2]   # an interior box
    after[h - 9:, w - 13:] //= 2                                                        # the bottom-right corner
    after[3:11, 2:5] = 7                                                                 # a tiny top-left change
    return rgb, after


def _splice_both_ways(data: bytes, after: np.ndarray, monkeypatch) -> tuple[bytes, bytes, list[str]]:
    """(bytes with the masked numpy writer, bytes with the row-by-row writer, writers used)."""
    decoded = jpeg_lossless.Splicer.open(data)
    assert decoded is not None
    im = Image.open(io.BytesIO(data))
    before = np.asarray(im.convert("RGB"))
    if im.mode == "L":
        after = cv2.cvtColor(cv2.cvtColor(after, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
        before = cv2.cvtColor(np.asarray(im), cv2.COLOR_GRAY2RGB)
    used: list[str] = []
    monkeypatch.setattr(jpeg_lossless, "_coefficients_at_once", lambda *a: None)     # views of the writer only
    real_rows = jpeg_lossless._write_rows
    monkeypatch.setattr(jpeg_lossless, "_write_rows", lambda *a: (used.append("rows"), real_rows(*a))[1])
    real_view = jpeg_lossless._component_view

    def spy_view(addresses, width):
        view = real_view(addresses, width)
        used.append("view" if view is not None else "none")
        return view

    monkeypatch.setattr(jpeg_lossless, "_component_view", spy_view)
    fast = jpeg_lossless.splice(data, before, after)
    monkeypatch.setattr(jpeg_lossless, "_component_view", lambda *a: None)
    rows = jpeg_lossless.splice(data, before, after)
    return fast, rows, used


@pytest.mark.parametrize("name", list(CASES))
def test_masked_writer_gives_the_row_writers_bytes(name: str, monkeypatch) -> None:
    size, options = CASES[name]
    rgb, after = _scene(size, len(name))
    data = _jpeg(rgb, **options)
    fast, rows, used = _splice_both_ways(data, after, monkeypatch)
    assert fast is not None and rows is not None
    assert fast == rows
    assert fast != data
    ncomp = len(Image.open(io.BytesIO(data)).layer)
    assert used[:ncomp] == ["view"] * ncomp          # the first splice: one view per component ...
    assert used[ncomp:] == ["rows"]                   # ... only the forced one went row by row


def test_started_splice_same_bytes_and_no_row_work(monkeypatch) -> None:
    """The transform started early (the pipeline's way) waits in the last row's filter call;
    ``_row_work`` is not built; the bytes equal the late, row-by-row ones."""
    rgb = one_face(960, 540)
    data = _jpeg(rgb, quality=92)
    before = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    after = before.copy()
    after[100:300, 400:600] = 255 - after[100:300, 400:600]
    splicer = jpeg_lossless.Splicer.open(data)
    splicer.start()
    calls: list[int] = []
    real = jpeg_lossless._row_work
    monkeypatch.setattr(jpeg_lossless, "_row_work", lambda *a: (calls.append(1), real(*a))[1])
    early = splicer.finish(before, after)
    assert calls == []
    monkeypatch.setattr(jpeg_lossless, "_component_view", lambda *a: None)
    late = jpeg_lossless.splice(data, before, after)
    assert calls == [1]
    assert hashlib.sha256(early).digest() == hashlib.sha256(late).digest()


@pytest.mark.parametrize("size", [(640, 480), (531, 389), (17, 9), (8, 8), (1000, 1)])
@pytest.mark.parametrize("subsampling", [0, 1, 2, "grey"])
def test_block_rows_are_the_rows_the_filter_visits(size, subsampling) -> None:
    rgb = np.full((size[1], size[0], 3), 90, np.uint8)
    data = _jpeg(rgb, quality=90, **({"grey": True} if subsampling == "grey" else {"subsampling": subsampling}))
    layout, _ = jpeg_lossless._layout(data)
    seen: dict[int, list[int]] = {}
    jpeg_lossless._transform(data, jpeg_lossless.TJXOPT_NOOUTPUT,
                             lambda address, blocks, row, comp: seen.setdefault(comp, []).append(row))
    assert [len(seen[c]) for c in sorted(seen)] == jpeg_lossless._block_rows(layout)
    assert all(rows == list(range(len(rows))) for rows in seen.values())


def test_component_view_refuses_rows_not_at_one_stride() -> None:
    buf = np.zeros((4, 10, 64), np.int16)
    base = buf.ctypes.data
    view = jpeg_lossless._component_view([base, base + 1280, base + 2560], 9)
    assert view is not None and view.shape == (3, 9, 64)
    view[2, 8, 5] = 7
    assert buf[2, 8, 5] == 7
    assert jpeg_lossless._component_view([base, base + 1280, base + 3840], 9) is None    # a gap
    assert jpeg_lossless._component_view([base, base + 1000], 9) is None                 # overlapping rows


def test_bands_pair_up_for_the_two_threads() -> None:
    heights = {r: [b[2] - b[0] for b in jpeg_lossless._bands((3, 1, 3 + r, 9))] for r in (1, 7, 8, 13, 26, 49, 60, 73)}
    assert heights[1] == [1] and heights[7] == [7]
    for r, h in heights.items():
        assert sum(h) == r
        if r >= 8:
            assert len(h) % 2 == 0 and max(h) <= 24 and max(h) - min(h) <= 3
    assert heights[49] == [13, 13, 13, 10]         # round 20: [17, 17, 15], two on one thread


@pytest.mark.parametrize("name", ["420-odd", "422-odd", "grey-odd", "cmyk"])
def test_band_cut_does_not_change_the_bytes(name: str, monkeypatch) -> None:
    size, options = CASES[name]
    rgb, after = _scene(size, 7)
    data = _jpeg(rgb, **options)
    im = Image.open(io.BytesIO(data))
    before = np.asarray(im.convert("RGB"))
    if im.mode == "L":
        after = cv2.cvtColor(cv2.cvtColor(after, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
        before = cv2.cvtColor(np.asarray(im), cv2.COLOR_GRAY2RGB)
    real = jpeg_lossless._bands
    outputs = set()
    for rows, pair_from in ((24, 10 ** 6), (24, 8), (3, 8), (1, 8)):
        monkeypatch.setattr(jpeg_lossless, "_bands", lambda box, r=rows, p=pair_from: real(box, r, p))
        outputs.add(hashlib.sha256(jpeg_lossless.splice(data, before, after)).hexdigest())
    assert len(outputs) == 1


@pytest.mark.parametrize("name", list(CASES))
def test_coefficients_at_once_equal_the_row_by_row_read(name: str) -> None:
    size, options = CASES[name]
    rgb, _ = _scene(size, 11)
    data = _jpeg(rgb, **options)
    layout, _ = jpeg_lossless._layout(data)
    rows = jpeg_lossless._block_rows(layout)
    fast = jpeg_lossless._coefficients_at_once(data, rows)
    slow = jpeg_lossless._coefficients(data)
    assert fast is not None and len(fast) == len(slow)
    for a, b in zip(fast, slow):
        assert a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b)
    assert jpeg_lossless._coefficients_at_once(data, [r + 1 for r in rows]) is None     # wrong rows: refused
    wrong = jpeg_lossless._coefficients(data, [r + 1 for r in rows])                   # ... and read row by row
    assert all(np.array_equal(a, b) for a, b in zip(wrong, slow))


def test_splice_reads_its_patches_at_once(monkeypatch) -> None:
    size, options = CASES["420-odd"]
    rgb, after = _scene(size, 3)
    data = _jpeg(rgb, **options)
    before = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    seen: list = []
    real = jpeg_lossless._coefficients_at_once
    monkeypatch.setattr(jpeg_lossless, "_coefficients_at_once", lambda d, r: seen.append(real(d, r)) or seen[-1])
    fast = jpeg_lossless.splice(data, before, after)
    assert seen and all(s is not None for s in seen)
    monkeypatch.setattr(jpeg_lossless, "_coefficients_at_once", lambda d, r: None)
    assert jpeg_lossless.splice(data, before, after) == fast


def _old_boxes(mask: np.ndarray) -> list[tuple[int, int, int, int]]:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=4)
    return [(int(s[1]), int(s[0]), int(s[1] + s[3]), int(s[0] + s[2])) for s in stats[1:count]]


def test_boxes_labelled_in_the_bounding_box_are_round20s() -> None:
    rng = np.random.default_rng(21)
    for density in (0.0, 0.002, 0.02, 0.2, 0.6):
        mask = rng.random((188, 250)) < density
        mask[40:70, 100:150] = True
        assert jpeg_lossless._boxes(mask) == _old_boxes(mask)
    assert jpeg_lossless._boxes(np.zeros((5, 7), bool)) == []
    one = np.zeros((68, 120), bool)
    one[67, 119] = True
    assert jpeg_lossless._boxes(one) == [(67, 119, 68, 120)]
