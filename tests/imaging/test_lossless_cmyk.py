"""Lossless outside the retouch for every four-component JPEG (issue #12, point 5).

YCCK (Adobe transform 2, what libjpeg/TurboJPEG and Photoshop write for CMYK by default) and
subsampled CMYK used to be decoded and re-encoded; plain 4:4:4 CMYK was spliced with K = 0 in
the retouched MCUs. Now the new blocks are computed in the source's own colour transform,
sampling and quantisation tables (jpeg_lossless._cmyk_blocks), so:

* decoding input and output gives identical CMYK planes outside the changed MCUs (+ one MCU
  for the decoder's chroma upsampling reach);
* Adobe transform, sampling, tables, ICC profile and COM are kept; the output is still CMYK;
* inside the changed MCUs the K plane is the source's wherever the retouch left a pixel
  alone, and the retouch is there (RGB within JPEG error of the array pipeline's result).

YCCK test files are written by libjpeg-turbo itself (TurboJPEG ``tjCompress2`` with
``TJPF_CMYK`` writes YCCK with an Adobe marker); subsampled CMYK by Pillow. Pillow's subsampled
CMYK samples C alone (2x1 / 2x2, M, Y, K 1x1), a layout TurboJPEG 2.1's transformer refuses: it
goes through libjpeg's coefficient I/O as pyjpegio exposes it (``cmyk-422``, ``cmyk-420``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import io
import os

import cv2
import numpy as np
import pytest
from PIL import Image

from cosbeauty.imaging import beautify, beautify_array, codec, detect_faces, jpeg_lossless
from tests.imaging import corpus

pytestmark = pytest.mark.skipif(not jpeg_lossless.available(), reason="libturbojpeg0 not installed")

ICC = b"\x00\x00\x02\x0cfake-cmyk-profile-for-the-test" + bytes(200)
TJPF_CMYK = 11
TJFLAG_PROGRESSIVE = 16384
TJSAMP = {"444": 0, "422": 1, "420": 2}


def photo_cmyk() -> np.ndarray:
    """Grace Hopper on a 1200x900 textured canvas, as CMYK (Pillow convention: 255 = full ink)
    with a real K plane (grey component replacement: K = 60 % of min(C, M, Y))."""
    rng = np.random.default_rng(5)
    canvas = cv2.GaussianBlur(rng.integers(0, 256, (900, 1200, 3), dtype=np.uint8), (0, 0), 1.5)
    canvas[150:750, 300:812] = corpus.hopper()
    cmy = 255 - canvas.astype(np.float64)
    k = 0.6 * cmy.min(axis=2)
    cmy = (cmy - k[..., None]) / np.maximum(1 - k / 255, 1e-6)[..., None]
    return np.clip(np.dstack([cmy, k]) + 0.5, 0, 255).astype(np.uint8)


def with_markers(jpeg: bytes) -> bytes:
    """An ICC profile (APP2) and a comment (COM) inserted after SOI."""
    icc = b"ICC_PROFILE\x00\x01\x01" + ICC
    app2 = b"\xff\xe2" + (len(icc) + 2).to_bytes(2, "big") + icc
    com = b"\xff\xfe" + (len(b"kept?") + 2).to_bytes(2, "big") + b"kept?"
    return jpeg[:2] + app2 + com + jpeg[2:]


def ycck_jpeg(cmyk: np.ndarray, sampling: str, quality: int = 90, progressive: bool = False) -> bytes:
    """libjpeg-turbo's own YCCK encoding of ``cmyk`` (Pillow convention; libjpeg's CMYK is
    inverted, as in Adobe files)."""
    lib = ctypes.CDLL(ctypes.util.find_library("turbojpeg") or "libturbojpeg.so.0")
    lib.tjInitCompress.restype = ctypes.c_void_p
    lib.tjCompress2.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                ctypes.c_int, ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte)),
                                ctypes.POINTER(ctypes.c_ulong), ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.tjFree.argtypes = [ctypes.POINTER(ctypes.c_ubyte)]
    lib.tjDestroy.argtypes = [ctypes.c_void_p]
    h, w = cmyk.shape[:2]
    handle = lib.tjInitCompress()
    buf, size = ctypes.POINTER(ctypes.c_ubyte)(), ctypes.c_ulong(0)
    rc = lib.tjCompress2(handle, np.ascontiguousarray(255 - cmyk).tobytes(), w, w * 4, h, TJPF_CMYK,
                         ctypes.byref(buf), ctypes.byref(size), TJSAMP[sampling], quality,
                         TJFLAG_PROGRESSIVE if progressive else 0)
    try:
        assert rc == 0
        return with_markers(ctypes.string_at(buf, size.value))
    finally:
        lib.tjFree(buf)
        lib.tjDestroy(handle)


def pillow_cmyk_jpeg(cmyk: np.ndarray, subsampling: int) -> bytes:
    out = io.BytesIO()
    Image.fromarray(cmyk, "CMYK").save(out, "JPEG", quality=90, subsampling=subsampling, icc_profile=ICC,
                                       comment=b"kept?")
    return out.getvalue()


def as_plain_cmyk(jpeg: bytes) -> bytes:
    """The Adobe marker's colour transform set to 0: the same four stored planes read as plain
    CMYK (a CMYK JPEG sampled like YCCK: C and K full, M and Y subsampled). No tool here
    writes such a file directly; its pixels are odd colours but a valid CMYK JPEG."""
    at = jpeg.index(b"\xff\xee")                     # APP14: FF EE, length, "Adobe", 6 bytes, transform
    assert jpeg[at + 4:at + 9] == b"Adobe" and jpeg[at + 15] == 2
    return jpeg[:at + 15] + b"\x00" + jpeg[at + 16:]


def make(kind: str) -> bytes:
    cmyk = photo_cmyk()
    if kind.startswith("ycck"):
        return ycck_jpeg(cmyk, kind.split("-")[1], progressive=kind.endswith("-progressive"))
    if kind.startswith("cmyk-tj"):
        return as_plain_cmyk(ycck_jpeg(cmyk, kind.split("-")[2]))
    return pillow_cmyk_jpeg(cmyk, {"cmyk-444": 0, "cmyk-422": 1, "cmyk-420": 2}[kind])


def mcu_of(im: Image.Image) -> tuple[int, int]:
    return 8 * max(h for _, h, _, _ in im.layer), 8 * max(v for _, _, v, _ in im.layer)


def outside_mask(changed: np.ndarray, mcu: tuple[int, int], shape: tuple[int, ...]) -> np.ndarray:
    grown = cv2.dilate(changed.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    return ~np.kron(grown, np.ones((mcu[1], mcu[0]), bool))[:shape[0], :shape[1]]


KINDS = ["ycck-444", "ycck-420", "ycck-422", "ycck-420-progressive", "cmyk-444", "cmyk-422", "cmyk-420"]
C_ONLY = ["cmyk-422", "cmyk-420"]        # Pillow's subsampled CMYK: TurboJPEG refuses, pyjpegio splices
needs_jpegio = pytest.mark.skipif(not jpeg_lossless._jpegio_available(), reason="pyjpegio not installed")


@pytest.mark.parametrize("kind", KINDS)
def test_four_component_jpeg_is_spliced_losslessly(kind):
    if kind in C_ONLY and not jpeg_lossless._jpegio_available():
        pytest.skip("pyjpegio not installed")
    data = make(kind)
    src = Image.open(io.BytesIO(data))
    assert src.mode == "CMYK"
    assert jpeg_lossless.supported(data)
    result = beautify(data, 1.0)
    assert len(result.faces) == 1
    dst = Image.open(io.BytesIO(result.data))
    assert dst.mode == "CMYK" and dst.size == src.size
    assert dst.info.get("adobe_transform") == src.info.get("adobe_transform")
    assert dst.layer == src.layer and dst.quantization == src.quantization
    assert bool(dst.info.get("progressive")) == bool(src.info.get("progressive"))
    assert dst.info.get("icc_profile") == ICC and dst.info.get("comment") == b"kept?"
    a, b = np.asarray(src).astype(np.int16), np.asarray(dst).astype(np.int16)
    mcu = mcu_of(src)
    changed = jpeg_lossless.changed_mcus(a, b, mcu)
    assert 0 < changed.mean() < 0.1
    outside = outside_mask(changed, mcu, a.shape)
    assert int(np.any(a != b, axis=2)[outside].sum()) == 0               # untouched blocks kept
    # the retouch is there: RGB within JPEG error of the array pipeline's result
    decoded = codec.decode(data).rgb
    expected, _ = beautify_array(decoded, 1.0, faces=detect_faces(decoded))
    got = codec.decode(result.data).rgb.astype(np.int16)
    moved = np.any(expected != decoded, axis=2)
    err = np.abs(got - expected).max(axis=2)
    print(kind, "changed MCUs", f"{changed.mean():.3%}", "RGB error p99.9", np.percentile(err, 99.9),
          "in the retouched pixels p99", np.percentile(err[moved], 99))
    assert np.percentile(err, 99.9) <= 8
    assert np.abs(got[moved] - decoded[moved]).mean() > 0.5


@pytest.mark.parametrize("kind", ["ycck-420", "cmyk-444", "cmyk-tj-420", "cmyk-tj-422", "cmyk-422", "cmyk-420"])
def test_k_plane_kept_where_the_retouch_left_pixels_alone(kind):
    if kind in C_ONLY and not jpeg_lossless._jpegio_available():
        pytest.skip("pyjpegio not installed")
    """Inside a changed MCU, the pixels the retouch did not touch keep their ink: K within JPEG
    error of the source's (the old plain-CMYK splice wrote K = 0 there: 60 % of the black moved
    to C, M and Y, a visible block under a colour-managed viewer)."""
    data = make(kind)
    src = Image.open(io.BytesIO(data))
    source = np.asarray(src)
    rgb = codec.decode(data).rgb
    after = rgb.copy()
    after[300:302, 400:402] = np.clip(rgb[300:302, 400:402].astype(np.int16) + (12, -6, -6), 0, 255)  # one MCU
    out = jpeg_lossless.splice(data, rgb, after)
    assert out is not None
    got = np.asarray(Image.open(io.BytesIO(out))).astype(np.int16)
    mcu = mcu_of(src)
    y0, x0 = 300 // mcu[1] * mcu[1], 400 // mcu[0] * mcu[0]
    block = (slice(y0, y0 + mcu[1]), slice(x0, x0 + mcu[0]))
    untouched = np.ones((mcu[1], mcu[0]), bool)
    untouched[300 - y0:302 - y0, 400 - x0:402 - x0] = False
    untouched = cv2.erode(untouched.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)  # ringing
    k_src, k_out = source[block][..., 3].astype(np.int16), got[block][..., 3]
    assert source[block][..., 3].mean() > 20                                  # there is black here
    k_err = np.abs(k_out - k_src)[untouched]
    ink_err = np.abs(got[block].astype(np.int16) - source[block])[untouched]
    print(kind, "K", source[block][..., 3].mean(), "K error max", k_err.max(), "mean", k_err.mean(),
          "ink error max", ink_err.max())
    assert k_err.max() <= 6 and k_err.mean() <= 1.5
    assert ink_err.max() <= 8
    outside = np.ones(source.shape[:2], bool)
    outside[max(0, y0 - mcu[1]):y0 + 2 * mcu[1], max(0, x0 - mcu[0]):x0 + 2 * mcu[0]] = False
    assert np.array_equal(got[outside], source[outside])


def test_unchanged_pixels_give_back_the_source_coefficients():
    """The block computation itself (colour transform, downsampling, DCT, quantisation with
    the source's tables): fed the source's own pixels it reproduces the source's quantised
    coefficients (full-resolution planes >= 99 % exactly, the rest +-1 from the decoder's
    rounding and clamping)."""
    for kind in ("ycck-420", "ycck-422", "ycck-444", "cmyk-444", "cmyk-tj-420"):
        data = make(kind)
        src = Image.open(io.BytesIO(data))
        layout, im = jpeg_lossless._layout(data)
        cmyk = np.asarray(src)
        rgb = np.asarray(src.convert("RGB"))
        mcu = layout.mcu
        box = (10, 10, 22, 25)                       # MCU rows/cols
        ref = jpeg_lossless._coefficients(data)
        new = jpeg_lossless._cmyk_blocks(rgb, cmyk, layout, box)
        for comp, ((h, v), coeffs) in enumerate(zip(layout.factors, new)):
            r0, c0, r1, c1 = box
            want = ref[comp][r0 * v:r1 * v, c0 * h:c1 * h]
            assert coeffs.shape == want.shape
            diff = np.abs(coeffs.astype(np.int32) - want)
            print(kind, comp, "exact", f"{(diff == 0).mean():.4f}", "max", diff.max())
            full = (h, v) == (max(f[0] for f in layout.factors), max(f[1] for f in layout.factors))
            # a subsampled plane went through the decoder's triangle upsampling and back through
            # box downsampling: slightly smoothed, a few AC terms off by 1-2
            assert (diff == 0).mean() > (0.99 if full else 0.9) and diff.max() <= 2
        assert mcu[0] * box[3] <= rgb.shape[1]


def jpegio_coefficients(data: bytes) -> list[np.ndarray]:
    """Every component's quantised coefficients (block rows, block cols, 64), read by pyjpegio."""
    import tempfile

    import jpegio

    with tempfile.NamedTemporaryFile(suffix=".jpg") as f:
        f.write(data)
        f.flush()
        arrays = jpegio.read(f.name).coef_arrays
    return [a.reshape(a.shape[0] // 8, 8, a.shape[1] // 8, 8).transpose(0, 2, 1, 3).reshape(
        a.shape[0] // 8, a.shape[1] // 8, 64).copy() for a in arrays]


def c_only_variant(variant: str, subsampling: int = 2) -> bytes:
    """Pillow's C-only-subsampled CMYK (ICC profile, comment), baseline or as ``variant``:
    progressive, restart markers every 4 MCUs, optimised Huffman tables. (Arithmetic-coded
    four-component JPEGs, which Pillow 13 cannot decode: test_lossless_arith_cmyk.py.)"""
    cmyk = photo_cmyk()
    out = io.BytesIO()
    options = {"progressive": True} if variant == "progressive" else {}
    if variant == "restart":
        options["restart_marker_blocks"] = 4
    if variant == "optimized":                      # Huffman tables lacking symbols: re-optimised
        options["optimize"] = True
    Image.fromarray(cmyk, "CMYK").save(out, "JPEG", quality=90, subsampling=subsampling, icc_profile=ICC,
                                       comment=b"kept?", **options)
    return out.getvalue()


@needs_jpegio
@pytest.mark.parametrize("variant", ["baseline-422", "baseline", "progressive", "restart", "optimized"])
def test_first_component_only_subsampled_cmyk_is_spliced(variant):
    """Pillow's subsampled CMYK samples only C (2x1 / 2x2; M, Y, K 1x1): TurboJPEG 2.1's
    transformer refuses the layout ("Could not determine subsampling type"; it used to be decoded
    and re-encoded to RGB). libjpeg's coefficient I/O (pyjpegio) takes it: the output is the
    source's coefficients but in the changed MCUs -- decoded CMYK planes (K included) identical
    outside them, sampling, tables, Adobe marker, ICC profile, comment, progressive / restart
    interval kept."""
    data = c_only_variant(variant.split("-")[0], 1 if variant == "baseline-422" else 2)
    src = Image.open(io.BytesIO(data))
    layout, _ = jpeg_lossless._layout(data)
    assert layout.coder == "jpegio" and not jpeg_lossless._tj_sampling(layout.factors)
    with pytest.raises(ValueError, match="subsampling"):
        jpeg_lossless._coefficients(data)               # what TurboJPEG 2.1 says
    rgb = codec.decode(data).rgb
    after = rgb.copy()
    after[300:340, 400:461] = np.clip(after[300:340, 400:461].astype(np.int16) + (14, -5, -5), 0, 255)
    out = jpeg_lossless.splice(data, rgb, after)
    assert out is not None and out != data
    dst = Image.open(io.BytesIO(out))
    assert dst.mode == "CMYK" and dst.size == src.size
    assert dst.layer == src.layer and dst.quantization == src.quantization
    assert dst.info.get("adobe") is not None and dst.info.get("adobe_transform") == 0
    assert dst.info.get("icc_profile") == ICC and dst.info.get("comment") == b"kept?"
    assert bool(dst.info.get("progressive")) == (variant == "progressive")
    assert jpeg_lossless.restart_interval(out) == jpeg_lossless.restart_interval(data) == (4 if variant == "restart" else 0)
    assert jpeg_lossless.sof_marker(out) == jpeg_lossless.sof_marker(data)
    # coefficients: only the changed MCUs' blocks differ, in every component
    mcu = layout.mcu
    changed = jpeg_lossless.changed_mcus(rgb, after, mcu)
    for (h, v), a, b in zip(layout.factors, jpeg_lossless_coefficients(data), jpeg_lossless_coefficients(out)):
        moved = np.any(a != b, axis=2)
        allowed = np.kron(changed, np.ones((v, h), bool))[:a.shape[0], :a.shape[1]]
        assert moved.any() and not moved[~allowed].any()
    # decoded planes: identical outside the changed MCUs (+ one MCU of upsampling reach)
    a, b = np.asarray(src), np.asarray(dst)
    outside = outside_mask(changed, mcu, a.shape)
    assert np.array_equal(a[outside], b[outside])
    assert np.array_equal(a[..., 3][outside], b[..., 3][outside])         # the K plane
    # the retouch is there
    got = codec.decode(out).rgb.astype(np.int16)
    assert np.abs(got[300:340, 400:461] - after[300:340, 400:461]).mean() < 3
    assert np.abs(got[300:340, 400:461] - rgb[300:340, 400:461]).mean() > 3


jpeg_lossless_coefficients = jpegio_coefficients


@needs_jpegio
def test_c_only_splice_keeps_complete_huffman_tables():
    """Standard (complete) Huffman tables are kept as they are (no optimisation pass, ~40 ms
    CPU at 12 MP); optimised ones, which may lack a symbol the new blocks need, are rebuilt
    (here to the same tables: few blocks changed), as for progressive output."""
    import tempfile

    import jpegio

    def tables(data: bytes):
        with tempfile.NamedTemporaryFile(suffix=".jpg") as f:
            f.write(data)
            f.flush()
            jpeg = jpegio.read(f.name)
        return jpeg, [(list(t["counts"]), list(t["symbols"])) for t in jpeg.ac_huff_tables + jpeg.dc_huff_tables]

    for variant, complete in (("baseline", True), ("optimized", False), ("progressive", False)):
        data = c_only_variant(variant)
        jpeg, before = tables(data)
        assert jpeg_lossless._complete_huffman(jpeg) == complete or variant == "progressive"
        rgb = codec.decode(data).rgb
        after = rgb.copy()
        after[300:340, 400:461] //= 2
        out = jpeg_lossless.splice(data, rgb, after)
        assert out is not None
        Image.open(io.BytesIO(out)).load()
        if variant == "baseline":
            assert tables(out)[1] == before


@needs_jpegio
@pytest.mark.parametrize("kind", C_ONLY)
def test_c_only_subsampled_blocks_match_the_source_coefficients(kind):
    """_cmyk_blocks for the C-only layout, fed the source's own pixels: the full-resolution C
    plane gives back the source's coefficients (>= 99 % exactly, as for the layouts TurboJPEG
    reads). M, Y and K went through the decoder's triangle upsampling and back through box
    downsampling, on this test's noise texture and with the fine luminance table all four
    planes share: measured 0.69-0.95 exact, 0.7-3.9 levels mean in the pixel domain -- why the
    splice adds the change to the source's blocks instead (delta=True, tested below)."""
    data = make(kind)
    src = Image.open(io.BytesIO(data))
    layout, _ = jpeg_lossless._layout(data)
    box = (10, 10, 22, 25)
    ref = jpegio_coefficients(data)
    new = jpeg_lossless._cmyk_blocks(np.asarray(src.convert("RGB")), np.asarray(src), layout, box)
    dct = jpeg_lossless._DCT8.astype(np.float64)
    for comp, ((h, v), coeffs, table) in enumerate(zip(layout.factors, new, layout.tables)):
        r0, c0, r1, c1 = box
        want = ref[comp][r0 * v:r1 * v, c0 * h:c1 * h]
        diff = np.abs(coeffs.astype(np.int32) - want)
        pixels = np.einsum("ux,rcuv,vy->rcxy", dct, diff.reshape(*diff.shape[:2], 8, 8) * table, dct)
        print(kind, comp, (h, v), "exact", f"{(diff == 0).mean():.4f}", "max", diff.max(),
              "pixel error mean", f"{np.abs(pixels).mean():.2f}")
        if comp == 0:
            assert (diff == 0).mean() > 0.99 and diff.max() <= 2
        else:
            assert (diff == 0).mean() > 0.6 and np.abs(pixels).mean() < 5


@pytest.mark.parametrize("kind", ["ycck-444", "ycck-420", "ycck-422", "cmyk-444", "cmyk-tj-420", "cmyk-422", "cmyk-420"])
def test_delta_blocks_of_unchanged_pixels_are_zero(kind):
    """The splice's four-component blocks are the source's plus the quantised DCT of the change
    (_cmyk_blocks(delta=True)): fed the source's own pixels, every delta is exactly 0, so every
    block the retouch did not touch keeps the source's coefficients, whatever the layout."""
    if kind in C_ONLY and not jpeg_lossless._jpegio_available():
        pytest.skip("pyjpegio not installed")
    data = make(kind)
    src = Image.open(io.BytesIO(data))
    layout, _ = jpeg_lossless._layout(data)
    delta = jpeg_lossless._cmyk_blocks(np.asarray(src.convert("RGB")), np.asarray(src), layout, (10, 10, 22, 25), delta=True)
    assert len(delta) == 4 and all(not d.any() for d in delta)


@pytest.mark.parametrize("kind", ["cmyk-420", "cmyk-422", "ycck-420", "cmyk-444"])
def test_untouched_pixels_of_changed_mcus_keep_their_ink(kind):
    """A gentle change (+8 on one pixel in every third MCU): the pixels of the changed MCUs
    at least 4 px from a changed one keep the source's ink within 0.2 mean / 3 max per plane.
    Recomputing whole blocks from the decoded pixels instead (the splice before the delta)
    lost the texture of subsampled planes: C-only 4:2:0 M/Y mean 2.0, p99 12, max 27; YCCK
    4:2:0 max 11."""
    if kind in C_ONLY and not jpeg_lossless._jpegio_available():
        pytest.skip("pyjpegio not installed")
    data = make(kind)
    src = np.asarray(Image.open(io.BytesIO(data))).astype(np.int16)
    rgb = codec.decode(data).rgb
    after = rgb.copy()
    for y0, x0 in ((40, 40), (300, 400)):                  # on the noise texture and on the face
        spot = (slice(y0, y0 + 320, 48), slice(x0, x0 + 400, 48))
        after[spot] = np.clip(after[spot].astype(np.int16) + 8, 0, 255)
    out = jpeg_lossless.splice(data, rgb, after)
    got = np.asarray(Image.open(io.BytesIO(out))).astype(np.int16)
    mcu = jpeg_lossless._layout(data)[0].mcu
    changed = jpeg_lossless.changed_mcus(rgb, after, mcu)
    inside = np.kron(changed, np.ones((mcu[1], mcu[0]), bool))[:rgb.shape[0], :rgb.shape[1]]
    near = cv2.dilate(np.any(rgb != after, axis=2).astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    err = np.abs(got - src)[inside & ~near]
    print(kind, "ink error mean", err.mean(axis=0).round(2), "max", err.max(axis=0))
    assert err.size and (err.mean(axis=0) <= 0.6).all() and err.max() <= 4
    outside = outside_mask(changed, mcu, src.shape)        # + one MCU: the decoder's upsampling reach
    assert np.array_equal(got[outside], src[outside])


def test_c_only_subsampled_cmyk_without_pyjpegio_is_re_encoded(monkeypatch):
    """No pyjpegio: the layout is not spliced (decode + re-encode, a valid JPEG back)."""
    monkeypatch.setattr(jpeg_lossless, "_jpegio_available", lambda: False)
    data = pillow_cmyk_jpeg(photo_cmyk(), 2)
    assert not jpeg_lossless.supported(data)
    assert_not_spliced_but_served(data)


def assert_not_spliced_but_served(data: bytes) -> None:
    """The splice gives None for ``data`` and beautify still answers a JPEG (re-encoded)."""
    rgb = codec.decode(data).rgb
    after = rgb.copy()
    after[300:302, 400:402] = 0
    assert jpeg_lossless.splice(data, rgb, after) is None
    assert Image.open(io.BytesIO(beautify(data, 1.0).data)).format == "JPEG"


@needs_jpegio
def test_c_only_subsampled_libjpeg_error_falls_back(monkeypatch):
    """A libjpeg error inside pyjpegio (RuntimeError) makes the splice give None: the caller
    re-encodes instead of failing the request."""
    import jpegio

    def broken(path, *args, **kwargs):
        raise RuntimeError("[JSTRUCT] Corrupt JPEG data")

    monkeypatch.setattr(jpegio, "read", broken)
    assert_not_spliced_but_served(pillow_cmyk_jpeg(photo_cmyk(), 2))


def assert_started_splice_gives_the_same_bytes(data: bytes) -> None:
    rgb = codec.decode(data).rgb
    after = rgb.copy()
    after[300:340, 400:460] //= 2
    regions = [(400, 300, 460, 340)]
    before = [rgb[300:340, 400:460].copy()]
    plain = jpeg_lossless.Splicer.open(data).finish(before, after, regions)
    started = jpeg_lossless.Splicer.open(data).start().finish(before, after, regions)
    assert plain == started and plain is not None and plain != data
    aborted = jpeg_lossless.Splicer.open(data).start()
    aborted.abort()


@needs_jpegio
def test_c_only_started_splice_gives_the_same_bytes():
    assert_started_splice_gives_the_same_bytes(make("cmyk-420"))


def test_started_splice_gives_the_same_bytes():
    """Splicer.start() (big images: the transform, and for four components the source's CMYK
    decode, run on a thread of their own while the retouch works) gives the same bytes."""
    assert_started_splice_gives_the_same_bytes(make("ycck-420"))


def test_four_component_splice_is_deterministic_under_concurrency():
    """The same source and retouch give the same bytes from 8 splices on 4 threads at once
    (the blocks are float32 BLAS products: no thread-count-dependent summation order)."""
    from concurrent.futures import ThreadPoolExecutor

    data = make("ycck-420")
    rgb = codec.decode(data).rgb
    after = rgb.copy()
    after[200:520, 300:700] = np.clip(after[200:520, 300:700].astype(np.int16) + 7, 0, 255).astype(np.uint8)
    with ThreadPoolExecutor(4) as pool:
        outs = list(pool.map(lambda _: jpeg_lossless.splice(data, rgb, after), range(8)))
    assert outs[0] is not None and len(set(outs)) == 1


def with_orientation(jpeg: bytes, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    block = exif.tobytes()
    block = block if block.startswith(b"Exif") else b"Exif\x00\x00" + block
    return jpeg[:2] + b"\xff\xe1" + (len(block) + 2).to_bytes(2, "big") + block + jpeg[2:]


@pytest.mark.parametrize("kind", ["ycck-420", "cmyk-444"])
def test_beautify_decodes_a_four_component_source_once(kind, monkeypatch):
    """The splice takes the planes the codec decoded (codec.decode(keep_cmyk=True)) instead of
    decoding the source a second time (12 MP YCCK: ~110 ms CPU), with the same bytes."""
    data = make(kind)
    decoded_here = []
    real = jpeg_lossless._decode_cmyk
    monkeypatch.setattr(jpeg_lossless, "_decode_cmyk", lambda src: decoded_here.append(1) or real(src))
    out = beautify(data, 1.0).data
    assert decoded_here == [] and out != data
    assert Image.open(io.BytesIO(out)).info.get("adobe_transform") == Image.open(io.BytesIO(data)).info.get(
        "adobe_transform")
    rgb = codec.decode(data).rgb
    after = rgb.copy()
    after[200:520, 300:700] //= 2
    own = jpeg_lossless.splice(data, rgb, after)           # decodes the planes itself
    assert decoded_here == [1]
    given = jpeg_lossless.Splicer.open(data, cmyk=codec.decode(data, keep_cmyk=True).extra["cmyk"])
    assert given.finish(rgb, after) == own
    assert jpeg_lossless.Splicer.open(data, cmyk=np.zeros((8, 8, 4), np.uint8)).source_cmyk().shape[:2] == rgb.shape[:2]


def test_oriented_four_component_source_spliced_with_the_codec_planes():
    """An EXIF-rotated YCCK source: the kept planes are in the stored frame, as the splice needs
    (same bytes as a splice that decodes them itself)."""
    data = with_orientation(make("ycck-420"), 6)
    decoded = codec.decode(data, keep_cmyk=True)
    assert decoded.info.orientation == 6 and decoded.extra["cmyk"].shape == (900, 1200, 4)
    before = decoded.rgb
    after = before.copy()
    after[400:700, 200:500] //= 2
    stored_before = jpeg_lossless.stored_view(before, 6)
    stored_after = jpeg_lossless.stored_view(after, 6)
    own = jpeg_lossless.Splicer.open(data).finish(np.ascontiguousarray(stored_before), stored_after)
    given = jpeg_lossless.Splicer.open(data, cmyk=decoded.extra["cmyk"]).finish(
        np.ascontiguousarray(stored_before), stored_after)
    assert own is not None and own == given and own != data


def test_blockwise_dct_in_chunks_matches_one_product():
    """_fdct runs its BLAS products in chunks of _BLAS_ROWS rows (OpenBLAS stays single-threaded:
    its spinning workers cost 5x the CPU); the coefficients are those of one whole product."""
    plane = np.random.default_rng(1).random((1536, 1040), np.float32) * 255
    rows, cols = 1536 // 8, 1040 // 8
    a = (plane.reshape(-1, 8) @ jpeg_lossless._DCT8.T).reshape(rows, 8, cols, 8)
    a = np.ascontiguousarray(a.transpose(0, 2, 3, 1)).reshape(-1, 8) @ jpeg_lossless._DCT8.T
    whole = np.ascontiguousarray(a.reshape(rows, cols, 8, 8).transpose(0, 1, 3, 2))
    assert np.array_equal(jpeg_lossless._fdct(plane), whole)


@pytest.mark.parametrize("kind", [k for k in KINDS if k not in C_ONLY] + ["cmyk-tj-420", "cmyk-tj-422"])
def test_kept_planes_decoded_by_turbojpeg_equal_pillows(kind):
    """codec.decode(keep_cmyk=True) decodes a four-component JPEG with TurboJPEG straight into an
    array (jpeg_lossless.decode_ink; 12 MP: ~60 ms CPU instead of Pillow's ~155): the planes and
    the rgb are exactly Pillow's."""
    data = make(kind)
    pillow = np.asarray(Image.open(io.BytesIO(data)))
    ink = jpeg_lossless.decode_ink(data)
    assert ink is not None and np.array_equal(255 - ink, pillow)
    kept, plain = codec.decode(data, keep_cmyk=True), codec.decode(data)
    assert np.array_equal(kept.extra["cmyk"], pillow) and np.array_equal(kept.rgb, plain.rgb)
    assert kept.rgb.flags.writeable


def test_kept_planes_fall_back_to_pillow():
    """What TurboJPEG refuses: Pillow's C-only-subsampled CMYK decodes through Pillow (same
    planes); truncated data raise CorruptImage as a plain decode does."""
    from cosbeauty.imaging.errors import CorruptImage

    data = pillow_cmyk_jpeg(photo_cmyk(), 2)
    assert jpeg_lossless.decode_ink(data) is None
    kept = codec.decode(data, keep_cmyk=True)
    assert np.array_equal(kept.extra["cmyk"], np.asarray(Image.open(io.BytesIO(data))))
    assert np.array_equal(kept.rgb, codec.decode(data).rgb)
    truncated = make("ycck-420")[:200_000]
    assert jpeg_lossless.decode_ink(truncated) is None
    for keep in (False, True):
        with pytest.raises(CorruptImage):
            codec.decode(truncated, keep_cmyk=keep)


def reference_cmyk_from_rgb(rgb: np.ndarray, cmyk: np.ndarray) -> np.ndarray:
    """jpeg_lossless._cmyk_from_rgb as first written (numpy, Pillow's conversion)."""
    src_rgb = np.asarray(Image.fromarray(np.ascontiguousarray(cmyk), "CMYK").convert("RGB"))
    same = np.all(rgb == src_rgb, axis=2)
    value = rgb.astype(np.float32)
    k = np.minimum(cmyk[..., 3].astype(np.float32), np.float32(255) - value.max(axis=2))
    scale = np.float32(255) / np.maximum(np.float32(255) - k, np.float32(1))
    out = np.empty(cmyk.shape, np.float32)
    out[..., :3] = np.clip(np.float32(255) - value * scale[..., None], 0, 255)
    out[..., 3] = k
    out[same] = cmyk[same]
    return np.rint(out)


@pytest.mark.parametrize("shape", [(1, 1), (1, 17), (13, 1), (300, 211)])
def test_cmyk_from_rgb_matches_the_numpy_reference(shape):
    """The OpenCV rewrite of _cmyk_from_rgb (3 MP: 260 -> ~55 ms CPU) gives the same planes."""
    rng = np.random.default_rng(shape[0] * 1000 + shape[1])
    for trial in range(6):
        cmyk = rng.integers(0, 256, (*shape, 4), dtype=np.uint8)
        if trial % 2:
            cmyk[..., 3] = rng.choice(np.array([0, 1, 254, 255], np.uint8), shape)
        rgb = np.asarray(Image.fromarray(cmyk, "CMYK").convert("RGB")).copy()
        moved = rng.random(shape) < 0.5
        rgb[moved] = rng.integers(0, 256, (int(moved.sum()), 3), dtype=np.uint8)
        got = jpeg_lossless._cmyk_from_rgb(rgb, cmyk)
        assert got.dtype == np.float32 and np.array_equal(got, reference_cmyk_from_rgb(rgb, cmyk))


@needs_jpegio
@pytest.mark.parametrize("size", [(901, 1203), (899, 1199)])
def test_c_only_splice_at_the_partial_edge_mcus(size):
    """A change in the last, partial MCU row and column (sizes not multiples of the 16 px MCU,
    components of different block counts): only those MCUs change, the rest decodes identically."""
    h, w = size
    cmyk = np.ascontiguousarray(np.resize(photo_cmyk(), (h, w, 4)) if h > 900 or w > 1200 else photo_cmyk()[:h, :w])
    out = io.BytesIO()
    Image.fromarray(cmyk, "CMYK").save(out, "JPEG", quality=90, subsampling=2)
    data = out.getvalue()
    rgb = codec.decode(data).rgb
    after = rgb.copy()
    after[-5:, -7:] = 255 - after[-5:, -7:]
    after[:3, -3:] = 0
    spliced = jpeg_lossless.splice(data, rgb, after)
    assert spliced is not None
    a = np.asarray(Image.open(io.BytesIO(data)))
    b = np.asarray(Image.open(io.BytesIO(spliced)))
    changed = jpeg_lossless.changed_mcus(rgb, after, (16, 16))
    outside = outside_mask(changed, (16, 16), a.shape)
    assert np.array_equal(a[outside], b[outside]) and not np.array_equal(a, b)
    got = codec.decode(spliced).rgb.astype(np.int16)
    assert np.abs(got[-5:, -7:] - after[-5:, -7:]).mean() < 12


@needs_jpegio
@pytest.mark.skipif(not os.path.exists("/usr/bin/convert"), reason="ImageMagick not installed")
@pytest.mark.parametrize("sampling", ["2x2", "2x1"])
def test_imagemagick_ycck_with_subsampled_k_is_spliced(sampling, tmp_path):
    """ImageMagick's CMYK JPEG with ``-sampling-factor 2x2`` is YCCK with Y alone at 2x2 (Cb, Cr
    and K 1x1): another layout TurboJPEG 2.1's transformer refuses, spliced through pyjpegio;
    planes identical outside the changed MCUs (+ one), sampling and Adobe transform kept."""
    import subprocess

    source = tmp_path / "src.tif"
    Image.fromarray(photo_cmyk(), "CMYK").save(source)
    target = tmp_path / "im.jpg"
    done = subprocess.run(["/usr/bin/convert", str(source), "-quality", "90", "-sampling-factor", sampling, str(target)],
                          capture_output=True, timeout=60, check=False)
    if done.returncode != 0 or not target.exists():
        pytest.skip("ImageMagick could not write the JPEG")
    data = target.read_bytes()
    src = Image.open(io.BytesIO(data))
    layout, _ = jpeg_lossless._layout(data)
    assert src.info.get("adobe_transform") == 2 and layout.coder == "jpegio"
    rgb = codec.decode(data).rgb
    after = rgb.copy()
    after[300:340, 400:461] //= 2
    out = jpeg_lossless.splice(data, rgb, after)
    assert out is not None
    dst = Image.open(io.BytesIO(out))
    assert dst.layer == src.layer and dst.info.get("adobe_transform") == 2 and dst.quantization == src.quantization
    a, b = np.asarray(src), np.asarray(dst)
    changed = jpeg_lossless.changed_mcus(rgb, after, layout.mcu)
    outside = outside_mask(changed, layout.mcu, a.shape)
    assert np.array_equal(a[outside], b[outside]) and not np.array_equal(a, b)
