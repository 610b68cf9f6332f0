"""JPEG in, JPEG out without generation loss outside the retouch: DCT-coefficient splicing.

libjpeg-turbo's lossless transformer (TurboJPEG ``tjTransform``, Debian package
``libturbojpeg0``, loaded with ctypes) reads the source's quantised DCT coefficients and writes
them back entropy-coded, calling a *custom filter* on every block row of every component before
it does. The filter replaces only the blocks of the MCUs in which the retouch changed a pixel;
their new coefficients come from libjpeg itself: the retouched pixels of those MCUs are encoded
by Pillow (libjpeg-turbo) with the source's quantisation tables and chroma sampling on the same
MCU grid, and read back through the same transformer. Nothing here is a hand-written codec.

Result: decoding input and output gives bit-identical pixels outside the changed MCUs (plus the
one-pixel reach of the decoder's chroma upsampling into the neighbouring MCU); quantisation
tables, Huffman-vs-progressive mode (``TJXOPT_PROGRESSIVE`` when the source is progressive),
colour space and every APPn/COM marker (EXIF, ICC, XMP, Adobe) are kept byte-for-byte.

Four-component JPEGs (Adobe CMYK, YCCK = Adobe transform 2, any sampling) stay what they are,
with their profile: the new blocks of the retouched MCUs are computed here from the four
planes (:func:`_cmyk_blocks`: the retouched RGB back to CMYK keeping the source's K wherever
it can, the source's colour transform and downsampling, an 8x8 DCT and the source's
quantisation tables) -- libjpeg writes no YCCK with given tables, and Pillow no YCCK at all.
They are written as the source's blocks plus the quantised DCT of the change (``delta=``): a
block the retouch left alone keeps its coefficients even inside a changed MCU, and the untouched
pixels of a changed block keep their texture in subsampled components (recomputing whole blocks
from decoded pixels smoothed those: C-only 4:2:0 M/Y mean 2 levels, max 27).
The source's planes come from the caller when it has them (``Splicer.open(cmyk=)``: the pipeline
passes those ``codec.decode(keep_cmyk=True)`` decoded, with TurboJPEG, :func:`decode_ink`), so
the source is decoded once.

Four-component layouts that TurboJPEG 2.1's transformer refuses (``getSubsamp``: the first
component alone at 2x2/2x1, the other three 1x1 -- Pillow's CMYK with ``subsampling=``,
ImageMagick's YCCK with ``-sampling-factor``, whose K is then subsampled) go through
libjpeg's own coefficient I/O instead: ``jpeg_read_coefficients`` / ``jpeg_write_coefficients``
as the ``pyjpegio`` package exposes them (:func:`_jpegio_splice`, its bundled libjpeg-turbo
3.2), with the same new blocks. That writer keeps every APPn/COM marker, quantisation tables,
sampling, restart interval, arithmetic and progressive coding itself (Huffman tables kept
when they are complete, else re-optimised).

Restart markers: TurboJPEG 2.1's transformer has no restart setting, so when the source declares
a restart interval the output is passed through libjpeg-turbo's ``jpegtran -restart`` (another
lossless transcode; without ``jpegtran`` the output has no restart markers).

A source with an EXIF orientation other than 1 is spliced in its stored frame (:func:`stored_view`,
:func:`stored_box` turn the upright retouch back), so it keeps its orientation tag and layout.
Arithmetic-coded sources are spliced too (libjpeg-turbo reads them) and put back to arithmetic
coding by ``jpegtran -arithmetic`` (pyjpegio's writer keeps it itself). Pillow cannot decode
arithmetic-coded four-component JPEGs; those TurboJPEG 2.1 cannot decode either (the first
component alone subsampled) are decoded by pyjpegio's libjpeg-turbo 3.2 (:func:`decode_ink_jpegio`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import io
import os
import tempfile
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from .cmyk import cmyk_from_rgb as _cmyk_from_rgb   # kept under its old name (tests)

__all__ = ["Splicer", "available", "changed_mcus", "decode_ink", "decode_ink_jpegio", "decode_pixels", "restart_interval", "sof_marker",
           "splice", "stored_box", "stored_view", "supported"]

TJXOP_NONE = 0
# Four-component layouts on TurboJPEG's transformer also get their new blocks as source + change
DELTA_TJ = True
TJXOPT_NOOUTPUT = 16
TJXOPT_PROGRESSIVE = 32
TJPF_RGB = 0
TJPF_GRAY = 6
TJPF_CMYK = 11
TJFLAG_STOPONWARNING = 8192


class _Region(ctypes.Structure):
    _fields_ = [("x", ctypes.c_int), ("y", ctypes.c_int), ("w", ctypes.c_int), ("h", ctypes.c_int)]


class _Transform(ctypes.Structure):
    pass


_FILTER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, _Region, _Region, ctypes.c_int,
                           ctypes.c_int, ctypes.POINTER(_Transform))
_Transform._fields_ = [("r", _Region), ("op", ctypes.c_int), ("options", ctypes.c_int),
                       ("data", ctypes.c_void_p), ("customFilter", _FILTER)]

_lib: ctypes.CDLL | None = None
_lib_lock = threading.Lock()


def _load() -> ctypes.CDLL | None:
    global _lib
    with _lib_lock:
        if _lib is None:
            name = ctypes.util.find_library("turbojpeg") or "libturbojpeg.so.0"
            try:
                lib = ctypes.CDLL(name)
            except OSError:
                return None
            lib.tjInitTransform.restype = ctypes.c_void_p
            lib.tjTransform.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_int,
                                        ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte)),
                                        ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(_Transform), ctypes.c_int]
            lib.tjFree.argtypes = [ctypes.POINTER(ctypes.c_ubyte)]
            lib.tjGetErrorStr2.argtypes = [ctypes.c_void_p]
            lib.tjGetErrorStr2.restype = ctypes.c_char_p
            lib.tjDestroy.argtypes = [ctypes.c_void_p]
            lib.tjInitDecompress.restype = ctypes.c_void_p
            lib.tjDecompressHeader3.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_ulong] \
                + [ctypes.POINTER(ctypes.c_int)] * 4
            lib.tjDecompress2.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p,
                                          ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int]
            _lib = lib
        return _lib


def available() -> bool:
    """libturbojpeg is installed (``apt-get install libturbojpeg0``)."""
    return _load() is not None


def decode_ink(data: bytes) -> np.ndarray | None:
    """A four-component JPEG decoded by libjpeg-turbo (TurboJPEG) straight into an array:
    H x W x 4 uint8 as libjpeg outputs CMYK (stored frame; 255 = *no* ink, the Adobe convention;
    YCCK converted), the default decompression settings (ISLOW IDCT, fancy upsampling) -- the
    planes Pillow's decoder gives, inverted, without Pillow's copy out of its image memory
    (12 MP: ~60 ms instead of ~155). None when TurboJPEG cannot decode it (a sampling its API
    refuses, a warning such as truncated data: the caller lets Pillow decode and report)."""
    lib = _load()
    handle = lib.tjInitDecompress() if lib is not None else None
    if not handle:
        return None
    try:
        header = _header(lib, handle, data)
        if header is None:
            return None
        width, height, _colorspace = header
        out = np.empty((height, width, 4), np.uint8)
        if lib.tjDecompress2(handle, data, len(data), out.ctypes.data, width, 0, height,
                             TJPF_CMYK, TJFLAG_STOPONWARNING) != 0:
            return None
        return out
    finally:
        lib.tjDestroy(handle)


def _header(lib: Any, handle: Any, data: bytes) -> tuple[int, int, int] | None:
    """(width, height, TJCS colour space) of a JPEG by tjDecompressHeader3, None if it fails."""
    width, height, sampling, colorspace = (ctypes.c_int() for _ in range(4))
    if lib.tjDecompressHeader3(handle, data, len(data), ctypes.byref(width), ctypes.byref(height),
                               ctypes.byref(sampling), ctypes.byref(colorspace)) != 0:
        return None
    return width.value, height.value, colorspace.value


def decode_pixels(data: bytes, factor: int = 1, grey: bool = False) -> np.ndarray | None:
    """A plain (one- or three-component) JPEG decoded by libjpeg-turbo's TurboJPEG API straight
    into a numpy array: H x W x 3 RGB (``grey``: H x W), stored frame (EXIF orientation not
    applied), the default settings (ISLOW IDCT, fancy upsampling) -- the pixels OpenCV's
    ``imdecode`` gives (the same library; checked bit for bit on every sampling, progressive,
    arithmetic, restart markers, Adobe RGB, grey). ``factor`` 2, 4, 8: libjpeg's DCT scaling to
    ceil(W / f) x ceil(H / f), as OpenCV's ``IMREAD_REDUCED_*``.

    Why not OpenCV: its ``Mat`` memory is no transparent-huge-page allocation, so a 12 MP
    decode takes ~9400 page faults (~25 ms of kernel time, as much as the decode itself); numpy
    asks for huge pages (~100 faults). None when TurboJPEG is missing or reports anything (a
    warning such as truncated data included: the caller decodes with OpenCV then)."""
    lib = _load()
    if lib is None or factor not in (1, 2, 4, 8):
        return None
    handle = lib.tjInitDecompress()
    if not handle:
        return None
    try:
        header = _header(lib, handle, data)
        if header is None:
            return None
        width, height, colorspace = header
        if colorspace not in (0, 1, 2) or (grey and colorspace != 2):   # TJCS_RGB, YCbCr, GRAY
            return None
        # TurboJPEG picks the largest scaling that fits: exactly 1/factor (TJSCALED = ceil(W / f))
        w, h = -(-width // factor), -(-height // factor)
        out = np.empty((h, w) if grey else (h, w, 3), np.uint8)
        if lib.tjDecompress2(handle, data, len(data), out.ctypes.data, w, 0, h,
                             TJPF_GRAY if grey else TJPF_RGB, TJFLAG_STOPONWARNING) != 0:
            return None
        return out
    finally:
        lib.tjDestroy(handle)


def _transform(data: bytes, options: int, on_row) -> bytes | None:
    """tjTransform(TJXOP_NONE) with ``on_row(address, blocks, block_row, comp)`` called for
    every block row (``address``: of its ``blocks`` x 64 int16 coefficients, see :func:`_row_view`;
    a view is only made for the rows that are read or changed: ~750 calls at 12 MP 4:2:0);
    returns the output JPEG (None with TJXOPT_NOOUTPUT)."""
    lib = _load()
    assert lib is not None
    errors: list[BaseException] = []

    def custom(coeffs, array_region, _plane_region, component, _index, _t):
        try:
            on_row(coeffs, array_region.w >> 3, array_region.y >> 3, component)
            return 0
        except BaseException as exc:  # noqa: BLE001 - re-raised after the C call
            errors.append(exc)
            return -1

    callback = _FILTER(custom)
    t = _Transform(_Region(0, 0, 0, 0), TJXOP_NONE, options, None, callback)
    out_buf = ctypes.POINTER(ctypes.c_ubyte)()
    out_size = ctypes.c_ulong(0)
    # A fresh handle per call: TurboJPEG 2.1 keeps the progressive scan script of a previous
    # TJXOPT_PROGRESSIVE transform in the handle, corrupting the next baseline one (measured).
    handle = lib.tjInitTransform()
    if not handle:
        raise MemoryError("tjInitTransform failed")
    rc = lib.tjTransform(handle, data, len(data), 1, ctypes.byref(out_buf), ctypes.byref(out_size),
                         ctypes.byref(t), 0)
    try:
        if errors:
            raise errors[0]
        if rc != 0:
            raise ValueError(f"tjTransform: {lib.tjGetErrorStr2(handle).decode(errors='replace')}")
        if options & TJXOPT_NOOUTPUT:
            return None
        return ctypes.string_at(out_buf, out_size.value)
    finally:
        if out_buf:
            lib.tjFree(out_buf)
        lib.tjDestroy(handle)


@dataclass
class _Layout:
    """Component sampling of a JPEG, from Pillow's header parse."""

    width: int
    height: int
    factors: list[tuple[int, int]]     # (h, v) per component
    progressive: bool
    tables: list[np.ndarray] | None = None    # 8x8 quantisation table (natural order) per component
    transform: int | None = None       # Adobe colour transform of a 4-component JPEG (0 CMYK, 2 YCCK)
    coder: str = "turbojpeg"           # coefficient I/O: TurboJPEG's transformer, or "jpegio" (see module doc)

    @property
    def mcu(self) -> tuple[int, int]:
        hmax = max(h for h, _ in self.factors)
        vmax = max(v for _, v in self.factors)
        return 8 * hmax, 8 * vmax


_PIL_SAMPLING = {(1, 1): 0, (2, 1): 1, (2, 2): 2}   # luma factors -> Pillow's ``subsampling`` (4:4:4, 4:2:2, 4:2:0)


def _layout(data: bytes) -> tuple[_Layout, Image.Image] | None:
    im = Image.open(io.BytesIO(data))
    if im.format != "JPEG" or im.mode not in ("RGB", "L", "CMYK"):
        return None
    layers = getattr(im, "layer", None) or []
    if len(layers) not in (1, 3, 4) or im.info.get("arithmetic"):
        return None
    if len(layers) == 4 and (im.mode != "CMYK" or im.info.get("adobe_transform") not in (0, 2, None)
                             or any(tq not in im.quantization for *_, tq in layers)):
        return None                    # Adobe transform 1 on four components: not a thing
    coder = "turbojpeg"
    if len(layers) == 4 and not _tj_sampling([(h, v) for _, h, v, _ in layers]):
        if not _jpegio_available():
            return None                # a sampling TurboJPEG's transformer refuses
        coder = "jpegio"               # libjpeg's coefficient I/O takes any sampling
    if len(layers) == 3 and im.info.get("adobe") is not None and im.info.get("adobe_transform") == 0:
        return None                    # stored as RGB, not YCbCr: a crop encode would not match
    factors = [(h, v) for _, h, v, _ in layers]
    if len(factors) == 3 and (factors[1:] != [(1, 1), (1, 1)] or factors[0] not in _PIL_SAMPLING):
        return None                    # 4:4:0, 4:1:1, 4:1:0: Pillow's encoder cannot write the new
                                       # blocks in that grid (KeyError before): the caller re-encodes
    progressive = bool(im.info.get("progressive") or im.info.get("progression"))
    hmax, vmax = max(h for h, _ in factors), max(v for _, v in factors)
    if any(hmax % h or vmax % v for h, v in factors):
        return None                    # fractional sampling ratios (legal, never seen)
    tables, transform = None, None
    if len(layers) == 4:
        tables = [np.asarray(im.quantization[tq], np.float64).reshape(8, 8) for *_, tq in layers]
        transform = im.info.get("adobe_transform") or 0
    return _Layout(im.width, im.height, factors, progressive, tables, transform, coder), im


def _tj_sampling(factors: list[tuple[int, int]]) -> bool:
    """TurboJPEG 2.1's transformer (``getSubsamp``) accepts a four-component JPEG only sampled
    like YCCK: components 2 and 3 at 1x1, 1 and 4 alike at 1x1, 2x1, 2x2, 1x2 or 4x1 (Pillow's
    subsampled CMYK, with only C subsampled, and ImageMagick's subsampled YCCK, K at 1x1, are
    refused: spliced through pyjpegio instead)."""
    return (factors[1] == factors[2] == (1, 1) and factors[3] == factors[0]
            and factors[0] in ((1, 1), (2, 1), (2, 2), (1, 2), (4, 1)))


def changed_mcus(before: np.ndarray, after: np.ndarray, mcu: tuple[int, int]) -> np.ndarray:
    """Boolean (mcu rows, mcu cols): the MCUs in which any pixel differs."""
    h, w = before.shape[:2]
    mw, mh = mcu
    rows, cols = -(-h // mh), -(-w // mw)
    diff = np.any(before != after, axis=2) if before.ndim == 3 else before != after
    padded = np.zeros((rows * mh, cols * mw), bool)
    padded[:h, :w] = diff
    return padded.reshape(rows, mh, cols, mw).any(axis=(1, 3))


_MASK_SPLIT_PIXELS = 300_000    # a region from this size is compared as two row halves (pmap's two threads)


def _region_mask(crops: list[np.ndarray], after: np.ndarray, regions: list[tuple[int, int, int, int]],
                 mcu: tuple[int, int], parallel: bool = True) -> np.ndarray:
    """Like :func:`changed_mcus`, comparing only inside ``regions`` (``crops`` = their before).
    The differences go straight into an MCU-aligned zero grid (channels side by side), whose
    MCU cells are then reduced as 64-bit words (an MCU row of a cell is mw x channels bytes, a
    multiple of 8): ~2.5x faster than a byte-wise max over the cells (12 MP face: 4.5 -> 1.8 ms).
    ``parallel``: the regions (large ones cut in two at an MCU row) are compared on the caller
    and a pool helper (:func:`.faces.pmap`); their cells are or-ed on the caller, in order."""
    h, w = after.shape[:2]
    mw, mh = mcu
    mask = np.zeros((-(-h // mh), -(-w // mw)), bool)
    pieces = []
    for (x0, y0, x1, y1), crop in zip(regions, crops):
        if x1 <= x0 or y1 <= y0:
            continue
        ay0, ay1 = y0 // mh * mh, -(-y1 // mh) * mh
        rows = (ay1 - ay0) // mh
        n = 2 if parallel and rows >= 2 and (x1 - x0) * (y1 - y0) >= _MASK_SPLIT_PIXELS else 1
        step = -(-rows // n) * mh
        for cy in range(ay0, ay1, step):
            py0, py1 = max(y0, cy), min(y1, cy + step)
            pieces.append(((x0, py0, x1, py1), crop[py0 - y0:py1 - y0]))
    if parallel and len(pieces) > 1:
        from .faces import pmap

        cells = pmap(lambda piece: _changed_cells(piece, after, mcu), pieces)
    else:
        cells = [_changed_cells(piece, after, mcu) for piece in pieces]
    for r, c, changed in cells:
        mask[r:r + changed.shape[0], c:c + changed.shape[1]] |= changed
    return mask


def _changed_cells(piece: tuple, after: np.ndarray, mcu: tuple[int, int]) -> tuple[int, int, np.ndarray]:
    """(first MCU row, first MCU column, changed MCUs) of one (box, before crop) of :func:`_region_mask`."""
    import cv2

    (x0, y0, x1, y1), crop = piece
    mw, mh = mcu
    c = crop.shape[2] if crop.ndim == 3 else 1
    ax0, ay0 = x0 // mw * mw, y0 // mh * mh
    ax1, ay1 = -(-x1 // mw) * mw, -(-y1 // mh) * mh
    grid = np.zeros((ay1 - ay0, (ax1 - ax0) * c), np.uint8)
    inner = grid[y0 - ay0:y1 - ay0, (x0 - ax0) * c:(x1 - ax0) * c].reshape(crop.shape)    # a view
    # OpenCV takes the row-strided views as they are (no copies of the region)
    if cv2.absdiff(crop, after[y0:y1, x0:x1], dst=inner) is not inner or not np.shares_memory(inner, grid):
        raise AssertionError("cv2.absdiff did not write into the grid")
    words = grid.view(np.uint64).reshape((ay1 - ay0) // mh, mh, (ax1 - ax0) // mw, mw * c // 8)
    return ay0 // mh, ax0 // mw, words.any(axis=3).any(axis=1)


def _boxes(mask: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Row-runs of changed MCUs merged into rectangles: (r0, c0, r1, c1) in MCU units, the
    bounding box of each connected group (4-connected) of changed MCUs."""
    import cv2

    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not rows.size:
        return []
    r0, c0 = int(rows[0]), int(cols[0])          # labelled inside the changed MCUs' bounding box only
    inner = mask[r0:int(rows[-1]) + 1, c0:int(cols[-1]) + 1].astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(inner, connectivity=4)
    return [(r0 + int(s[1]), c0 + int(s[0]), r0 + int(s[1] + s[3]), c0 + int(s[0] + s[2])) for s in stats[1:count]]


def _bands(box: tuple[int, int, int, int], rows: int = 24, pair_from: int = 8) -> list[tuple[int, int, int, int]]:
    """A box of MCUs cut into horizontal bands of <= ``rows`` MCU rows (encoded in parallel by
    the caller and one helper, :func:`.faces.pmap`). From ``pair_from`` MCU rows on, an even
    number of bands of near-equal height, so both threads get the same share (a 12 MP face of
    49 rows: 4 bands of 12-13 rows instead of 3 of 17, two on one thread). Each block depends on
    its own MCU's pixels only, so the cut does not change the blocks."""
    r0, c0, r1, c1 = box
    n = max(1, -(-(r1 - r0) // rows))
    if r1 - r0 >= pair_from:
        n = max(2, n + n % 2)
    step = -(-(r1 - r0) // n)
    return [(r, c0, min(r1, r + step), c1) for r in range(r0, r1, step)]


_TO_STORED = {
    2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1), 6: lambda a: a[:, ::-1].swapaxes(0, 1),
    7: lambda a: a.swapaxes(0, 1)[::-1, ::-1], 8: lambda a: a[::-1].swapaxes(0, 1),
}


def stored_view(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """The upright ``pixels`` (EXIF ``orientation`` applied, as :mod:`.codec` decodes) seen in the
    JPEG's stored frame: a numpy view, no copy (the inverse of ``codec._orient``)."""
    return _TO_STORED[orientation](pixels) if orientation in _TO_STORED else pixels


def stored_box(box: tuple[int, int, int, int], orientation: int, width: int, height: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the upright ``width`` x ``height`` image -> the same pixels' box in the
    stored frame."""
    x0, y0, x1, y1 = box
    if orientation in (5, 6, 7, 8):             # stored transposed: rows <-> columns
        x0, y0, x1, y1, width, height = y0, x0, y1, x1, height, width
        flip_x, flip_y = orientation in (7, 8), orientation in (6, 7)
    else:
        flip_x, flip_y = orientation in (2, 3), orientation in (3, 4)
    if flip_x:
        x0, x1 = width - x1, width - x0
    if flip_y:
        y0, y1 = height - y1, height - y0
    return x0, y0, x1, y1


def _row_view(address: int, blocks: int) -> np.ndarray:
    """The (blocks, 64) int16 coefficients libjpeg hands the filter at ``address`` (a view)."""
    return np.frombuffer((ctypes.c_int16 * (blocks * 64)).from_address(address), np.int16).reshape(blocks, 64)


def _coefficients(data: bytes, block_rows: list[int] | None = None) -> list[np.ndarray]:
    """Every component's quantised coefficients of a JPEG: (block rows, block cols, 64) int16.
    ``block_rows``: the rows per component the filter visits (:func:`_block_rows` of the JPEG's
    layout), when the caller knows them: the filter then only notes addresses and its last call
    copies each component at once (a 1080p face band: 0.54 -> ~0.3 ms)."""
    if block_rows:
        got = _coefficients_at_once(data, block_rows)
        if got is not None:
            return got
    rows: dict[int, dict[int, np.ndarray]] = {}

    def grab(address: int, blocks: int, row: int, comp: int) -> None:
        rows.setdefault(comp, {})[row] = _row_view(address, blocks).copy()

    _transform(data, TJXOPT_NOOUTPUT, grab)
    return [np.stack([r[k] for k in sorted(r)]) for _, r in sorted(rows.items())]


def _coefficients_at_once(data: bytes, block_rows: list[int]) -> list[np.ndarray] | None:
    """:func:`_coefficients` copying each component's rows in one go in the last filter call;
    None when the filter's rows are not ``block_rows``."""
    addresses: list[list[int]] = [[] for _ in block_rows]
    widths = [0] * len(block_rows)
    last_comp, last_row = len(block_rows) - 1, block_rows[-1] - 1
    out: list[np.ndarray] = []

    def note(address: int, blocks: int, row: int, comp: int) -> None:
        if comp > last_comp:
            return
        addresses[comp].append(address)
        if row == 0:
            widths[comp] = blocks
        if comp == last_comp and row == last_row:
            for noted, width in zip(addresses, widths):
                view = _component_view(noted, width)
                out.append(view.copy() if view is not None else np.stack([_row_view(a, width) for a in noted]))

    _transform(data, TJXOPT_NOOUTPUT, note)
    if len(out) != len(block_rows) or [len(a) for a in addresses] != block_rows:
        return None
    return out


def supported(source: bytes) -> bool:
    """:func:`splice` can handle this JPEG (and libturbojpeg is installed)."""
    return available() and _layout(source) is not None


def splice(source: bytes, before: np.ndarray | list[np.ndarray], after: np.ndarray,
           regions: list[tuple[int, int, int, int]] | None = None) -> bytes | None:
    """The source JPEG with only the MCUs whose pixels differ between ``before`` (the decoded
    source, upright = stored: orientation 1) and ``after`` re-encoded; None when this source
    cannot be handled (see the module docstring) or libturbojpeg is missing.

    ``regions``: (x0, y0, x1, y1) boxes outside which ``before`` and ``after`` are known to be
    equal; ``before`` is then a list of the crops of those boxes (saves a full-frame copy)."""
    splicer = Splicer.open(source)
    return None if splicer is None else splicer.finish(before, after, regions)


class Splicer:
    """:func:`splice` in two steps. :meth:`start` (optional) runs the transform on a thread of its
    own, whose coefficient filter waits for the new blocks, so libjpeg's entropy decoding of the
    source overlaps the caller's retouch; :meth:`finish` computes the new blocks (in bands, on the
    caller plus a pool helper) and returns the result; :meth:`abort` releases a started
    transform. The output does not depend on which thread ran what."""

    def __init__(self, source: bytes, layout: _Layout, im: Image.Image, cmyk: np.ndarray | None = None) -> None:
        self.source, self.layout, self.im = source, layout, im
        self.patches: list | None = None
        self.ready = threading.Event()
        self.job: Any = None
        self._cmyk: np.ndarray | None = cmyk
        self._cmyk_lock = threading.Lock()
        # four components: new blocks = the source's + the quantised change (_cmyk_blocks(delta=))
        self.delta = len(layout.factors) == 4 and (layout.coder == "jpegio" or DELTA_TJ)

    def source_cmyk(self) -> np.ndarray:
        """The source's four planes as Pillow decodes them (CMYK, 255 = full ink): the ones
        handed to :meth:`open`, else decoded here once."""
        with self._cmyk_lock:
            if self._cmyk is None:
                self._cmyk = _decode_cmyk(self.source)
            return self._cmyk

    @classmethod
    def open(cls, source: bytes, cmyk: np.ndarray | None = None) -> "Splicer | None":
        """None when ``source`` cannot be spliced. ``cmyk``: a four-component source's planes as
        ``codec.decode(keep_cmyk=True)`` keeps them (stored frame, Pillow convention), so the
        splice does not decode the source again; ignored unless they fit the header."""
        if not available():
            return None
        parsed = _layout(source)
        if parsed is None:
            return None
        layout = parsed[0]
        if cmyk is not None and (len(layout.factors) != 4 or cmyk.dtype != np.uint8
                                 or cmyk.shape != (layout.height, layout.width, 4)):
            cmyk = None
        return cls(source, *parsed, cmyk=cmyk)

    def start(self) -> "Splicer":
        """Run the transform on a splice thread (:func:`_splice_queue`; not the shared helper
        pool: blocked in the coefficient filter until :meth:`finish`, it would take a helper
        from the retouch)."""
        from concurrent.futures import Future

        if self.layout.coder == "jpegio":
            # pyjpegio holds the GIL while libjpeg reads and writes (measured: a Python loop on
            # another thread runs 18x slower meanwhile): overlapped, it would stall the retouch
            return self
        future: Future = Future()

        def run() -> None:
            if future.set_running_or_notify_cancel():
                try:
                    if len(self.layout.factors) == 4:
                        self.source_cmyk()       # not handed to open(): decoded while the retouch runs
                    future.set_result(self._transform())
                except BaseException as exc:  # noqa: BLE001 - handed to the caller
                    future.set_exception(exc)

        self.job = future
        _splice_queue().put(run)     # not started by finish(): finish cancels it and runs it itself
        return self

    def abort(self) -> None:
        self.patches = None
        self.ready.set()
        if self.job is not None and not self.job.cancel():
            try:
                self.job.result()
            except Exception:  # noqa: BLE001 - aborted on purpose
                pass

    def finish(self, before: np.ndarray | list[np.ndarray], after: np.ndarray,
               regions: list[tuple[int, int, int, int]] | None = None) -> bytes | None:
        layout = self.layout
        if (after.shape[1], after.shape[0]) != (layout.width, layout.height):
            self.abort()
            return None
        mcu = layout.mcu
        if regions is None:
            assert isinstance(before, np.ndarray)
            mask = changed_mcus(before, after, mcu)
        else:
            assert isinstance(before, list)
            mask = _region_mask(before, after, regions, mcu)
        if not mask.any():
            self.abort()
            return self.source
        from .faces import pmap

        bands = [band for box in _boxes(mask) for band in _bands(box)]

        def patch(box: tuple[int, int, int, int]) -> tuple:
            r0, c0, r1, c1 = box
            if len(layout.factors) == 4:
                return (r0, c0, r1, c1, _cmyk_blocks(after, self.source_cmyk(), layout, box, delta=self.delta),
                        mask[r0:r1, c0:c1])
            x0, y0 = c0 * mcu[0], r0 * mcu[1]
            x1, y1 = min(layout.width, c1 * mcu[0]), min(layout.height, r1 * mcu[1])
            crop = np.ascontiguousarray(after[y0:y1, x0:x1])
            if len(layout.factors) == 1 and crop.ndim == 3:
                import cv2

                crop = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
            crop_factors = layout.factors if len(layout.factors) == 3 else [(1, 1)]    # as Pillow encodes it
            rows = _block_rows(_Layout(crop.shape[1], crop.shape[0], crop_factors, False))
            coeffs = _coefficients(_encode_like(crop, self.im, layout), rows)
            return r0, c0, r1, c1, coeffs, mask[r0:r1, c0:c1]

        try:
            patches = pmap(patch, bands)         # Pillow's encoder and ctypes release the GIL
        except BaseException:
            self.abort()
            raise
        if any(len(p[4]) != len(layout.factors) for p in patches):
            self.abort()
            return None
        self.patches = patches
        self.ready.set()
        if self.job is None or self.job.cancel():      # not started: do it here
            return self._transform()
        return self.job.result()

    def _wait_patches(self) -> list:
        self.ready.wait()
        if self.patches is None:
            raise RuntimeError("splice aborted")
        return self.patches

    def _transform(self) -> bytes | None:
        layout = self.layout
        if layout.coder == "jpegio":
            return _jpegio_splice(self.source, self._wait_patches, layout, self.delta)

        # The filter only notes where libjpeg keeps each block row (its coefficient arrays stay
        # in memory until the entropy coding that follows the filter); the last row's call waits
        # for the new blocks and writes them all at once (:func:`_write_patches`): after finish()
        # sets ``ready``, no Python runs per block row (round 21).
        factors = layout.factors
        last_comp, last_row = len(factors) - 1, _block_rows(layout)[-1] - 1
        addresses: list[list[int]] = [[] for _ in factors]
        widths = [0] * len(factors)
        written: list[bool] = []

        def note(address: int, blocks: int, row: int, comp: int) -> None:
            addresses[comp].append(address)
            if row == 0:
                widths[comp] = blocks
            if comp == last_comp and row == last_row:
                _write_patches(self._wait_patches(), factors, addresses, widths, self.delta)
                written.append(True)

        out = _transform(self.source, TJXOPT_PROGRESSIVE if layout.progressive else 0, note)
        if not written:
            raise RuntimeError("splice: the coefficient filter never reached the last block row")
        interval = restart_interval(self.source)
        arithmetic = sof_marker(self.source) in _ARITHMETIC_SOF
        if out is not None and (interval or arithmetic):
            out = _jpegtran(out, interval, layout.progressive, arithmetic)
        return out


def _block_rows(layout: _Layout) -> list[int]:
    """Block rows per component that tjTransform's filter visits: libjpeg's ``height_in_blocks``
    (ceil(H v / (vmax 8))) rounded up to the component's v sampling factor."""
    vmax = max(v for _, v in layout.factors)
    rows = []
    for _, v in layout.factors:
        height_in_blocks = -(-layout.height * v // (vmax * 8))
        rows.append(-(-height_in_blocks // v) * v)
    return rows


def _component_view(addresses: list[int], width: int) -> np.ndarray | None:
    """The block rows libjpeg handed the filter at ``addresses`` (row order), ``width`` blocks
    each, as one writable (rows, width, 64) int16 view -- when they lie at one constant stride
    (libjpeg's in-memory virtual array: one allocation); None otherwise."""
    if not addresses or width <= 0:
        return None
    stride = addresses[1] - addresses[0] if len(addresses) > 1 else width * 128
    if stride < width * 128 or stride % 128:
        return None
    steps = np.diff(np.asarray(addresses, np.int64))
    if steps.size and not (steps == stride).all():
        return None
    size = (len(addresses) - 1) * stride // 2 + width * 64
    flat = np.frombuffer((ctypes.c_int16 * size).from_address(addresses[0]), np.int16)
    return np.lib.stride_tricks.as_strided(flat, shape=(len(addresses), width, 64), strides=(stride, 128, 2))


_BLOCK = np.dtype((np.void, 128))      # one block of 64 int16 coefficients


def _write_patches(patches: list, factors: list[tuple[int, int]], addresses: list[list[int]],
                   widths: list[int], delta: bool) -> None:
    """Put the blocks of the changed MCUs of ``patches`` (MCU box r0, c0, r1, c1, per-component
    blocks (rows, cols, 64), changed-MCU mask) into libjpeg's coefficient rows at ``addresses``
    (per component, every block row in order; ``widths``: blocks per row): one masked numpy
    assignment per patch and component. The same blocks as the per-row filter of round 20
    (:func:`_row_work`), which remains the way when a component's rows are not at one stride.
    ``delta``: the patches hold quantised changes, added to the source's blocks."""
    views = [_component_view(a, w) for a, w in zip(addresses, widths)]
    if any(v is None for v in views):
        _write_rows(patches, factors, addresses, widths, delta)
        return
    for r0, c0, r1, c1, coeffs, sub in patches:
        for comp, (h, v) in enumerate(factors):
            view, blocks = views[comp], coeffs[comp]
            b0, k0 = r0 * v, c0 * h
            b1 = min(len(view), r1 * v, b0 + blocks.shape[0])
            k1 = min(view.shape[1], c1 * h, k0 + blocks.shape[1])
            if b1 <= b0 or k1 <= k0:
                continue
            sel = np.repeat(np.repeat(sub, v, axis=0), h, axis=1)[:b1 - b0, :k1 - k0]
            dst, new = view[b0:b1, k0:k1], blocks[:b1 - b0, :k1 - k0]
            if delta:
                dst[sel] = _add_delta(dst[sel], new[sel])
            else:            # whole blocks as 128-byte records: ~5x faster than masking (n, k, 64)
                dst.view(_BLOCK)[..., 0][sel] = np.ascontiguousarray(new).view(_BLOCK)[..., 0][sel]


def _write_rows(patches: list, factors: list[tuple[int, int]], addresses: list[list[int]],
                widths: list[int], delta: bool) -> None:
    """:func:`_write_patches` row by row (round 20's filter body, :func:`_row_work`'s runs)."""
    memmove = ctypes.memmove
    for (comp, row), work in _row_work(patches, factors).items():
        if row >= len(addresses[comp]):
            continue
        address, blocks = addresses[comp][row], widths[comp]
        for start, new in work:               # a run of block columns [start, start + len(new))
            n = min(len(new), blocks - start)
            if n <= 0:
                continue
            if delta:
                view = _row_view(address, blocks)
                view[start:start + n] = _add_delta(view[start:start + n], new[:n])
            else:                             # new: C-contiguous (n, 64) int16, libjpeg's layout
                memmove(address + start * 128, new.ctypes.data, n * 128)


def _row_work(patches: list, factors: list[tuple[int, int]]) -> dict:
    """What :meth:`Splicer._transform`'s filter writes, by (component, block row): a list of
    (first destination block column, its run of new blocks (n, 64) int16, C-contiguous) -- only
    the blocks of the changed MCUs of each patch (MCU box r0, c0, r1, c1, per-component blocks,
    changed-MCU mask), adjacent changed MCUs in one run (one ``memmove`` in the filter)."""
    work: dict = {}
    for r0, c0, r1, _c1, coeffs, sub in patches:
        # runs [a, b) of changed MCUs per MCU row: starts where the mask goes 0 -> 1, ends 1 -> 0
        padded = np.zeros((sub.shape[0], sub.shape[1] + 2), np.int8)
        padded[:, 1:-1] = sub
        steps = np.diff(padded, axis=1)
        runs = [list(zip(np.flatnonzero(d > 0).tolist(), np.flatnonzero(d < 0).tolist())) for d in steps]
        for comp, (h, v) in enumerate(factors):
            blocks = coeffs[comp]
            width = blocks.shape[1]
            for i in range(min((r1 - r0) * v, blocks.shape[0])):
                for a, b in runs[i // v]:
                    k0, k1 = a * h, min(b * h, width)         # block columns in the patch
                    if k1 > k0:
                        work.setdefault((comp, r0 * v + i), []).append(
                            (c0 * h + k0, np.ascontiguousarray(blocks[i, k0:k1])))
    return work


SPLICE_THREADS = 2
_splice_jobs: list = []
_splice_lock = threading.Lock()


def _splice_queue() -> Any:
    """The queue of :meth:`Splicer.start`'s transforms, served by SPLICE_THREADS daemon threads
    that live as long as the process. A thread of its own per call (as before) gets a fresh
    malloc arena state each time: libjpeg's coefficient buffers (36 MB at 12 MP 4:2:0) were
    then faulted in page by page on most calls (~9500 minor faults, ~25 ms of kernel time;
    kept threads: ~600, as the re-encode path). A transform left waiting in the queue (both
    threads busy with other calls) is cancelled and run by its caller in :meth:`Splicer.finish`."""
    import queue

    with _splice_lock:
        if not _splice_jobs:
            jobs: queue.SimpleQueue = queue.SimpleQueue()

            def serve() -> None:
                while True:
                    jobs.get()()

            for i in range(SPLICE_THREADS):
                threading.Thread(target=serve, name=f"cosbeauty-jpeg-splice-{i}", daemon=True).start()
            _splice_jobs.append(jobs)
        return _splice_jobs[0]


def _jpegio_available() -> bool:
    try:
        import jpegio  # noqa: F401 - pyjpegio: libjpeg's coefficient I/O
    except ImportError:
        return False
    return True


def _scratch_dir() -> str | None:
    """Where the jpegio path's two files go: RAM (/dev/shm) when there is one."""
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def _jpegio_splice(source: bytes, patches, layout: _Layout, delta: bool = False) -> bytes | None:
    """The source with the blocks of ``patches()`` (as :meth:`Splicer.finish` builds them: MCU box,
    per-component blocks (rows, cols, 64) natural order, mask of the changed MCUs) put in, through
    libjpeg's ``jpeg_read_coefficients`` / ``jpeg_write_coefficients`` (pyjpegio, which takes
    paths: two files in a private temporary directory). Every other coefficient is copied as
    read; markers, tables, sampling, restart interval, progressive and arithmetic coding are
    written back by libjpeg (the source's Huffman tables when complete, else re-optimised).
    None when libjpeg reports an error (the caller re-encodes). ``delta``: the patches' blocks
    are added to the source's (``_cmyk_blocks(delta=True)``)."""
    import jpegio

    with tempfile.TemporaryDirectory(prefix="cosbeauty-splice-", dir=_scratch_dir()) as tmp:
        src, dst = os.path.join(tmp, "in.jpg"), os.path.join(tmp, "out.jpg")
        with open(src, "wb") as f:
            f.write(source)
        try:
            jpeg = jpegio.read(src)
        except RuntimeError:
            return None
        arrays = jpeg.coef_arrays
        if len(arrays) != len(layout.factors):
            return None
        for r0, c0, r1, c1, coeffs, sub in patches():
            for comp, (h, v) in enumerate(layout.factors):
                arr = arrays[comp]                   # (block rows * 8, block cols * 8), blocks in place
                rows, cols = arr.shape[0] // 8, arr.shape[1] // 8
                blocks = arr.reshape(rows, 8, cols, 8).transpose(0, 2, 1, 3)     # a view
                b0, k0 = r0 * v, c0 * h
                b1, k1 = min(rows, r1 * v), min(cols, c1 * h)
                if b1 <= b0 or k1 <= k0:
                    continue
                sel = np.repeat(np.repeat(sub, v, axis=0), h, axis=1)[:b1 - b0, :k1 - k0]
                new = coeffs[comp][:b1 - b0, :k1 - k0].reshape(b1 - b0, k1 - k0, 8, 8)
                if delta:
                    new = _add_delta(blocks[b0:b1, k0:k1].reshape(b1 - b0, k1 - k0, 64), new.reshape(b1 - b0, k1 - k0, 64))
                    new = new.reshape(b1 - b0, k1 - k0, 8, 8)
                blocks[b0:b1, k0:k1][sel] = new[sel]
        # The source's Huffman tables when they can code any 8-bit sequential block (complete:
        # the standard tables most writers use); else re-optimised (~40 ms CPU more at 12 MP)
        jpeg.optimize_coding = not jpeg.arith_code and (layout.progressive or not _complete_huffman(jpeg))
        try:
            jpeg.write(dst)
        except RuntimeError:
            return None
        with open(dst, "rb") as f:
            out = f.read()
    return out if out.startswith(b"\xff\xd8") else None


def _complete_huffman(jpeg: Any) -> bool:
    """Every Huffman table of a (jpegio-read) sequential JPEG codes every symbol a baseline
    8-bit block can need (DC: sizes 0-11; AC: EOB, ZRL and runs 0-15 x sizes 1-10), so new
    blocks can be coded with them (libjpeg-turbo does not check for a missing code)."""
    dc_need = set(range(12))
    ac_need = {0x00, 0xF0} | {r << 4 | s for r in range(16) for s in range(1, 11)}
    for tables, need in ((jpeg.dc_huff_tables, dc_need), (jpeg.ac_huff_tables, ac_need)):
        if not tables:
            return False
        for table in tables:
            count = int(np.sum(table["counts"]))
            if not need <= {int(x) for x in np.asarray(table["symbols"])[:count]}:
                return False
    return True


def _decode_cmyk(source: bytes) -> np.ndarray:
    """A four-component JPEG's planes as Pillow decodes them (and ``codec.decode`` keeps them):
    TurboJPEG, else Pillow, else (arithmetic-coded: Pillow cannot) libjpeg through pyjpegio."""
    ink = decode_ink(source)
    if ink is None:
        try:
            return np.asarray(Image.open(io.BytesIO(source)).convert("CMYK"))
        except OSError:
            ink = decode_ink_jpegio(source) if sof_marker(source) in _ARITHMETIC_SOF else None
            if ink is None:
                raise
    return np.bitwise_not(ink, out=ink)


def decode_ink_jpegio(data: bytes) -> np.ndarray | None:
    """:func:`decode_ink` for the arithmetic-coded four-component JPEGs that neither TurboJPEG 2.1
    (a sampling its API refuses: the first component alone subsampled) nor Pillow 13 decode (its
    suspending data source breaks libjpeg's arithmetic decoder past the first buffer: "broken
    data stream"): libjpeg-turbo 3.2 as pyjpegio bundles it reads the coefficients and writes
    them back Huffman-coded (lossless: the same coefficients, markers, tables, sampling), which
    TurboJPEG or Pillow then decode -- the pixels libjpeg gives for the source. (pyjpegio's own
    pixel decode, ``read_spatial``, gives the same planes but as int32, ~2x slower: 12 MP
    ~750 against ~450 ms.) Through files in /dev/shm. None on any libjpeg error, on data
    without an EOI marker after the last scan (truncated: libjpeg only warns), or without
    pyjpegio."""
    if not _jpegio_available() or data.rfind(b"\xff\xd9") < data.rfind(b"\xff\xda"):
        return None             # no EOI after the last scan: truncated (libjpeg would only warn)
    import jpegio

    with tempfile.TemporaryDirectory(prefix="cosbeauty-decode-", dir=_scratch_dir()) as tmp:
        src, dst = os.path.join(tmp, "in.jpg"), os.path.join(tmp, "out.jpg")
        with open(src, "wb") as f:
            f.write(data)
        try:
            jpeg = jpegio.read(src)
            if jpeg.num_components != 4:
                return None
            jpeg.arith_code = 0
            jpeg.optimize_coding = True          # Huffman tables for these coefficients
            jpeg.write(dst)
        except RuntimeError:
            return None
        with open(dst, "rb") as f:
            huffman = f.read()
    ink = decode_ink(huffman)
    if ink is None:
        try:
            im = Image.open(io.BytesIO(huffman))
            if im.mode != "CMYK":
                return None
            ink = np.bitwise_not(np.asarray(im))            # Pillow's convention back to libjpeg's
        except OSError:
            return None
    return ink


def restart_interval(jpeg: bytes) -> int:
    """The DRI restart interval (MCUs) declared before the first SOS, 0 when none."""
    pos = 2
    while pos + 4 <= len(jpeg) and jpeg[pos] == 0xFF:
        code = jpeg[pos + 1]
        length = int.from_bytes(jpeg[pos + 2:pos + 4], "big")
        if code == 0xDD and length == 4:
            return int.from_bytes(jpeg[pos + 4:pos + 6], "big")
        if code == 0xDA:
            return 0
        pos += 2 + length
    return 0


_ARITHMETIC_SOF = (0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF)


def sof_marker(jpeg: bytes) -> int:
    """The code of the first SOFn marker (0xC0 baseline, 0xC2 progressive, 0xC9/0xCA arithmetic
    ...), 0 when none is found."""
    pos = 2
    while pos + 4 <= len(jpeg) and jpeg[pos] == 0xFF:
        code = jpeg[pos + 1]
        if 0xC0 <= code <= 0xCF and code not in (0xC4, 0xC8, 0xCC):
            return code
        pos += 2 + int.from_bytes(jpeg[pos + 2:pos + 4], "big")
    return 0


def _jpegtran(jpeg: bytes, interval: int, progressive: bool, arithmetic: bool = False) -> bytes:
    """Put back what TurboJPEG 2.1's transformer cannot write: the source's restart interval
    (``-restart NB``) and arithmetic coding (``-arithmetic``), with libjpeg-turbo's ``jpegtran``
    (a lossless transcode; Debian libjpeg-turbo-progs). Without jpegtran the output has no
    restart markers and is Huffman-coded (pixels are the same either way)."""
    import shutil
    import subprocess

    tool = shutil.which("jpegtran")
    if tool is None:
        return jpeg
    args = [tool, "-copy", "all"] + (["-restart", f"{interval}B"] if interval else []) \
        + (["-arithmetic"] if arithmetic else []) + (["-progressive"] if progressive else [])
    done = subprocess.run(args, input=jpeg, capture_output=True, timeout=60, check=False)
    return done.stdout if done.returncode == 0 and done.stdout.startswith(b"\xff\xd8") else jpeg


def _encode_like(pixels: np.ndarray, source: Image.Image, layout: _Layout) -> bytes:
    """``pixels`` (an MCU-aligned crop) encoded by libjpeg with the source's quantisation tables
    and chroma sampling, so its blocks drop into the source's grid."""
    out = io.BytesIO()
    options: dict = {"qtables": source.quantization, "optimize": False}
    if len(layout.factors) == 3:
        (h0, v0), (h1, v1), (h2, v2) = layout.factors
        if (h1, v1) != (1, 1) or (h2, v2) != (1, 1) or (h0, v0) not in _PIL_SAMPLING:
            raise ValueError("unusual chroma sampling")      # refused by _layout before
        options["subsampling"] = _PIL_SAMPLING[(h0, v0)]
    Image.fromarray(pixels).save(out, "JPEG", **options)
    return out.getvalue()


_DCT8 = np.array([[(np.sqrt(0.125) if u == 0 else 0.5) * np.cos((2 * x + 1) * u * np.pi / 16) for x in range(8)]
                  for u in range(8)], np.float32)
# Y, Cb, Cr (JFIF, + 128 on the chroma) of R, G, B as one affine map
_YCC = np.array([[0.299, 0.587, 0.114, 0.0],
                 [-0.168735892, -0.331264108, 0.5, 128.0],
                 [0.5, -0.418687589, -0.081312411, 128.0]], np.float32)


_DCT8_T = np.ascontiguousarray(_DCT8.T)
# Rows per BLAS call of the DCT's (n x 8) @ (8 x 8) products. Larger products cross OpenBLAS's
# threading threshold (m n k >= 262144): its worker threads then busy-wait on a machine whose
# cores the retouch and the splice threads already use -- measured 41 ms CPU instead of 8 for
# a 1.5 MP plane, for the same result (each row's product does not depend on the chunking).
_BLAS_ROWS = 2048


def _rows_times_dct(rows: np.ndarray) -> np.ndarray:
    """``rows`` (n, 8) float32 @ _DCT8.T, in single-threaded BLAS calls."""
    out = np.empty_like(rows)
    for i in range(0, len(rows), _BLAS_ROWS):
        np.matmul(rows[i:i + _BLAS_ROWS], _DCT8_T, out=out[i:i + _BLAS_ROWS])
    return out


def _fdct(plane: np.ndarray) -> np.ndarray:
    """The orthonormal 8x8 DCT-II (= JPEG's FDCT) of every block of ``plane`` (H, W multiples of
    8): (block rows, block cols, 8, 8), coefficient [u, v] = vertical u, horizontal v. Two
    matrix products over all blocks (BLAS, in chunks that keep it on this thread)."""
    h, w = plane.shape
    rows, cols = h // 8, w // 8
    a = _rows_times_dct(np.ascontiguousarray(plane).reshape(-1, 8)).reshape(rows, 8, cols, 8)   # [r, x, c, v]
    a = _rows_times_dct(np.ascontiguousarray(a.transpose(0, 2, 3, 1)).reshape(-1, 8))          # [r, c, v, u]
    return np.ascontiguousarray(a.reshape(rows, cols, 8, 8).transpose(0, 1, 3, 2))


def _cmyk_components(planes: np.ndarray, layout: _Layout) -> list[np.ndarray]:
    """Four planes (float32, Pillow's CMYK convention) -> the JPEG's four components at full
    resolution: libjpeg's CMYK is inverted (Adobe), YCCK holds 255 - C, 255 - M, 255 - Y as JFIF
    YCbCr (rounded, as libjpeg's colour converter) and K inverted."""
    import cv2

    if layout.transform == 2:                    # YCCK: JFIF YCbCr of (255 - C_lib, ...) = Pillow's C, M, Y
        ycc = np.rint(cv2.transform(np.ascontiguousarray(planes[..., :3]), _YCC))
        return [ycc[..., 0], ycc[..., 1], ycc[..., 2], np.float32(255) - planes[..., 3]]
    return [np.float32(255) - planes[..., i] for i in range(4)]      # Adobe CMYK: stored inverted


# Quantised coefficients an 8-bit JPEG can hold (libjpeg refuses an AC term of 11 bits)
_COEF_LO = np.full(64, -1023, np.int32)
_COEF_LO[0] = -1024
_COEF_HI = np.full(64, 1023, np.int32)


def _add_delta(blocks: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """Source blocks (..., 64) plus quantised deltas, kept within the 8-bit coefficient range."""
    return np.clip(blocks.astype(np.int32) + delta, _COEF_LO, _COEF_HI)


def _cmyk_blocks(after: np.ndarray, cmyk: np.ndarray, layout: _Layout,
                 box: tuple[int, int, int, int], delta: bool = False) -> list[np.ndarray]:
    """Quantised DCT blocks (block rows, block cols, 64) int16 per component of the MCUs
    ``box`` = (r0, c0, r1, c1) of a four-component JPEG, computed from the RGB ``after`` (and
    the source's planes ``cmyk``, Pillow convention) the way libjpeg would encode them
    (:func:`_cmyk_components`; the right/bottom image edge replicated into the last MCU,
    components box-downsampled to their sampling, level shift, the orthonormal 8x8 DCT (=
    JPEG's FDCT), quantisation to the source's tables with rounding to nearest (libjpeg's)).

    ``delta``: the quantised DCT of the *change* instead (after's components minus the source
    planes' ones, downsampled), to be added to the source's own coefficients: a block whose
    pixels the retouch left alone gets 0 (its coefficients stay the source's), and the
    untouched pixels of a changed block keep the source's texture in a subsampled component
    instead of going through the decoder's upsampling and back."""
    import cv2

    assert layout.tables is not None
    r0, c0, r1, c1 = box
    mw, mh = layout.mcu
    x0, y0 = c0 * mw, r0 * mh
    x1, y1 = min(layout.width, c1 * mw), min(layout.height, r1 * mh)
    source = cmyk[y0:y1, x0:x1]
    planes = _cmyk_from_rgb(np.ascontiguousarray(after[y0:y1, x0:x1, :3]), source)
    pad = ((0, (r1 - r0) * mh - (y1 - y0)), (0, (c1 - c0) * mw - (x1 - x0)), (0, 0))
    comps = _cmyk_components(np.pad(planes, pad, mode="edge"), layout)
    if delta:
        base = _cmyk_components(np.pad(source.astype(np.float32), pad, mode="edge"), layout)
        comps = [a - b for a, b in zip(comps, base)]
    hmax, vmax = max(h for h, _ in layout.factors), max(v for _, v in layout.factors)
    out = []
    for plane, (h, v), table in zip(comps, layout.factors, layout.tables):
        fx, fy = hmax // h, vmax // v
        plane = np.ascontiguousarray(plane, np.float32)
        if fx > 1 or fy > 1:                     # box average of fx x fy pixels (integer ratio: INTER_AREA)
            ph, pw = plane.shape
            plane = cv2.resize(plane, (pw // fx, ph // fy), interpolation=cv2.INTER_AREA)
        dct = _fdct(plane if delta else plane - np.float32(128))
        q = np.abs(dct)
        q /= table.astype(np.float32)
        q += np.float32(0.5)
        np.floor(q, out=q)
        np.copysign(q, dct, out=q)               # rounding half away from zero, as libjpeg
        out.append(np.clip(q, -32768, 32767).astype(np.int16).reshape(q.shape[0], q.shape[1], 64))
    return out
