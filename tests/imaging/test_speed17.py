"""Round 17 speed work: the faster paths give byte-identical output to the slow ones.

The lossless splice's coefficient filter (``jpeg_lossless.Splicer._transform``) writes the new
blocks of each block row as contiguous runs (one ``memmove`` each) instead of numpy fancy
indexing per row; the reference here is round 16's filter, kept verbatim.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from cosbeauty.imaging import jpeg_lossless as jl

pytestmark = pytest.mark.skipif(not jl.available(), reason="libturbojpeg missing")


def _slow_row_work(patches: list, factors: list[tuple[int, int]]) -> dict:
    """Round 16's ``_row_work``: (destination block columns, their new blocks) per (comp, row)."""
    work: dict = {}
    for r0, c0, r1, _c1, coeffs, sub in patches:
        for comp, (h, v) in enumerate(factors):
            blocks = coeffs[comp]
            for i in range(min((r1 - r0) * v, blocks.shape[0])):
                js = np.flatnonzero(sub[i // v])
                if not len(js):
                    continue
                cols = (js[:, None] * h + np.arange(h)).ravel()
                cols = cols[cols < blocks.shape[1]]
                work.setdefault((comp, r0 * v + i), []).append((cols + c0 * h, blocks[i, cols]))
    return work


def _slow_splice(splicer: jl.Splicer, patches: list) -> bytes | None:
    """Round 16's filter: per block row, numpy fancy indexing into a view of libjpeg's row."""
    layout = splicer.layout
    todo = _slow_row_work(patches, layout.factors)

    def replace(address: int, blocks: int, row: int, comp: int) -> None:
        work = todo.get((comp, row))
        if work is None:
            return
        view = jl._row_view(address, blocks)
        for dst, new in work:
            keep = dst < blocks
            dst, new = dst[keep], new[keep]
            view[dst] = jl._add_delta(view[dst], new) if splicer.delta else new

    return jl._transform(splicer.source, jl.TJXOPT_PROGRESSIVE if layout.progressive else 0, replace)


def _scene(w: int, h: int, mode: str = "RGB") -> np.ndarray:
    rng = np.random.default_rng(w * 7 + h)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([(xx * 255 // max(w - 1, 1)), (yy * 255 // max(h - 1, 1)), (xx + yy) % 256], -1)
    img = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
    return img


def _jpeg(img: np.ndarray, mode: str = "RGB", **options) -> bytes:
    out = io.BytesIO()
    im = Image.fromarray(img)
    if mode != "RGB":
        im = im.convert(mode)
    im.save(out, "JPEG", quality=90, **options)
    return out.getvalue()


def _edit(img: np.ndarray, boxes: list[tuple[int, int, int, int]]) -> np.ndarray:
    after = img.copy()
    for k, (x0, y0, x1, y1) in enumerate(boxes):
        patch = after[y0:y1, x0:x1].astype(np.int16)
        yy, xx = np.mgrid[y0:y1, x0:x1]
        ring = ((xx - (x0 + x1) / 2) ** 2 / ((x1 - x0) / 2) ** 2 + (yy - (y0 + y1) / 2) ** 2 / ((y1 - y0) / 2) ** 2) < 1
        patch[ring] += 9 + 4 * k                      # an oval: ragged runs of changed MCUs per row
        after[y0:y1, x0:x1] = np.clip(patch, 0, 255).astype(np.uint8)
    return after


CASES = [
    ("420", 333, 221, {"subsampling": 2}, "RGB", [(40, 30, 190, 200), (250, 5, 333, 90)]),
    ("444", 250, 130, {"subsampling": 0}, "RGB", [(3, 3, 120, 120), (200, 60, 250, 130)]),
    ("422", 301, 177, {"subsampling": 1}, "RGB", [(100, 20, 300, 170)]),
    ("progressive", 257, 190, {"subsampling": 2, "progressive": True}, "RGB", [(10, 10, 250, 180)]),
    ("grey", 211, 149, {}, "L", [(20, 40, 200, 149)]),
    ("cmyk", 180, 120, {}, "CMYK", [(30, 20, 150, 110)]),
]


@pytest.mark.parametrize("name,w,h,options,mode,boxes", CASES, ids=[c[0] for c in CASES])
def test_splice_filter_matches_round16(name, w, h, options, mode, boxes) -> None:
    img = _scene(w, h)
    data = _jpeg(img, mode, **options)
    splicer = jl.Splicer.open(data)
    assert splicer is not None
    before = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    after = _edit(before, boxes)
    captured: dict = {}
    wait = splicer._wait_patches

    def grab() -> list:
        captured["patches"] = wait()
        return captured["patches"]

    splicer._wait_patches = grab              # the patches finish computed, for the reference
    fast = splicer.finish(before, after)
    assert fast is not None and fast != data
    slow = _slow_splice(jl.Splicer.open(data), captured["patches"])
    assert fast == slow


@pytest.mark.parametrize("strength", [0.5, 1.0])
def test_eyebags_and_tone_side_by_side_same_output(strength: float, monkeypatch) -> None:
    """retouch.PARALLEL_TONE runs the eye bags and the tone on two threads: the same bytes."""
    import cosbeauty.imaging.retouch as retouch
    from cosbeauty.imaging.pipeline import beautify

    from tests.imaging.scenes import one_face

    out = io.BytesIO()
    Image.fromarray(one_face(1920, 1080)).save(out, "JPEG", quality=92)
    data = out.getvalue()
    monkeypatch.setattr(retouch, "PARALLEL_TONE", False)
    one = beautify(data, strength)
    monkeypatch.setattr(retouch, "PARALLEL_TONE", True)
    two = beautify(data, strength)
    assert len(one.faces) == 1 and one.data != data
    assert two.data == one.data
