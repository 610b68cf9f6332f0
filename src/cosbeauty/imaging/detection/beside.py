"""Small faces beside one big face (the portrait fast path's look).

When the whole-image pass finds one face that is not small, :func:`..faces.detect_faces` skips the
small-face pass (it costs 15 -> ~250 ms CPU on the bench portrait). A family photo with a near and a
far person then lost the far one (round 14's check: 15/48). This look costs ~2 ms of skin-chroma
maps and one short-range detector call (~1.5 ms), on the other thread while the big face is
landmarked, and a full-range call only where the short-range one saw a face:

1. **Cue** (:func:`cells`): skin-chroma blobs of a face's size on the whole-image pass's <= 640 px
   copy: an inner box (a face's skin) against the ring around it (hair, background), at five
   sizes from the smallest face sought (:func:`.windows.min_face`) to 4x it, outside the big
   face's head and neck; the best :data:`CELLS`, each in a cell that shows its size 45/64 wide.
2. **Pre-score** (:func:`look`): the cells in one 4x4 mosaic of 32 px cells for the short-range
   detector at the proposal pass's threshold (0.15): on the 1080p bench portrait's bytes path (the
   astronaut's suit and flag) its best is 0.10, so no full-range call; at other sizes of that scene
   0.17-0.63 (the full-range mosaic then runs and confirms nothing); the sweep's small faces 0.17-0.92.
3. **Confirmation**: the cells it proposes a face in, at most nine, in one 3x3 mosaic of 64 px
   cells for the full-range detector (:func:`.confirm._confirm`, the proposal pass's): a detection
   with eye keypoints, landmarked and verified like any other candidate.

Skin chroma only: a grey image has no skin cue (its small faces need the window pass: ~200 ms
CPU at 1080p), so a small face beside a big one in a grey photo is still missed; so is one on a
skin-coloured backdrop (the cat photo's fur: no blob stands out).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from .common import _CONFIRM_CELL, _DET_INPUT, _SKIN_CB, _SKIN_CR, Face, _Detection
from .confirm import _cell, _confirm
from .finish import _dedupe, _finish
from .models import _propose_rows
from .windows import _levels

ENABLED = True           # the look runs (tests and benches patch it here: False = the fast path as before)
CELLS = 16               # blobs looked at: one 4x4 mosaic for the short-range detector (~1 ms) ...
_PRE_INPUT = 128         # ... 128 px, 32 px cells (the blob's size shown ~22 px wide)
_PRE_CELL = 32
_SHOWN = 45              # a blob's size is shown this wide in its 64 px cell (faces 0.73-1.47x it: 33-66 px)
_SIZE_STEP = 2 ** 0.5    # blob sizes tried: min face x 1, 1.41, 2, 2.8, 4
_SIZES = 5
_BLOB_PX = 6             # each size is looked for on a skin map where it is 6-12 px wide
_INNER = (0.75, 0.9)     # the inner box (a face's skin): this x the size wide, high
_RING = 2.0              # the ring: a square this x the size, the inner box taken out
_MIN_INNER = 0.55        # the inner box is at least this much skin ...
_MIN_CONTRAST = 0.45     # ... and this much more than its ring (faces on non-skin backdrops: 0.6-0.93)
_HEAD = (0.25, 0.25, 0.6)   # the big face's box widened by this x its side at each side, above, below (neck)


def cells(small: np.ndarray, k: float, h: int, w: int, least: float,
          big: Sequence[np.ndarray]) -> list[tuple[float, float, float, int]]:
    """Confirmation cells (cx, cy, side, 0) in image pixels of the skin blobs of ``small`` (the
    image scaled by ``k``, RGB uint8) sized ``least``..4 x ``least`` px, best first, none centred in
    the head of a ``big`` face box; [] when no pixel shows skin chroma (a grey image). Not gated by
    :func:`.imageops._colourful`: a colour face on a grey photo is a colour image's small face.

    The maps of each size are computed only around the skin's bounding box (:func:`_peaks`: the
    values there are those of the whole map, see :func:`_roi`)."""
    if k * least > 1.25 * _BLOB_PX:       # the smallest face ~_BLOB_PX wide (both paths then see one map)
        small, k = _rescaled(small, k, _BLOB_PX / least)
    ycc = cv2.cvtColor(np.ascontiguousarray(small[:, :, :3]), cv2.COLOR_RGB2YCrCb)
    skin = cv2.inRange(ycc, (0, _SKIN_CR[0], _SKIN_CB[0]), (255, _SKIN_CR[1], _SKIN_CB[1]))
    box = cv2.boundingRect(skin)        # 0/255; the maps below are means of it (0-255)
    if box[2] == 0:
        return []
    peaks: list[tuple[float, float, float, float]] = []      # (score, size, cx, cy)
    kk = k
    for i in range(_SIZES):
        size = least * _SIZE_STEP ** i
        if size * kk > 2 * _BLOB_PX and min(skin.shape) > 16:
            while size * kk > 2 * _BLOB_PX and min(skin.shape) > 16:     # a pyramid: each size seen ~_BLOB_PX wide
                skin = cv2.resize(skin, ((skin.shape[1] + 1) // 2, (skin.shape[0] + 1) // 2),
                                  interpolation=cv2.INTER_AREA)
                kk = k * skin.shape[1] / small.shape[1]
            box = cv2.boundingRect(skin)
        sx, sy = k * skin.shape[1] / small.shape[1], k * skin.shape[0] / small.shape[0]   # image px -> map px
        peaks += _peaks(skin, box, size, size * kk, (sx, sy), big)
    peaks.sort(key=lambda p: (-p[0], p[1], p[2], p[3]))
    kept: list[tuple[float, float, float, float]] = []
    for p in peaks:
        if len(kept) >= CELLS:
            break
        if all(math.hypot(p[2] - q[2], p[3] - q[3]) >= 0.5 * max(p[1], q[1]) for q in kept):
            kept.append(p)
    return [(px, py, size * _CONFIRM_CELL / _SHOWN, 0) for _, size, px, py in kept]


def _peaks(skin: np.ndarray, box: tuple[int, int, int, int], size: float, fs: float, scale: tuple[float, float],
           big: Sequence[np.ndarray]) -> list[tuple[float, float, float, float]]:
    """The best 2 x :data:`CELLS` (score, size, cx, cy) of one blob size ``fs`` map px wide on the map
    ``skin`` (image px x ``scale`` = map px; ``box``: its skin's bounding box): the local maxima of
    the inner box's mean minus its ring's (over an r x r square) that pass both thresholds, centred
    outside the heads of ``big``. Only points whose inner box meets the skin can pass the inner
    threshold or beat such a peak: the maps are computed on those (:func:`_roi`)."""
    iw, ih = max(2, round(_INNER[0] * fs)), max(2, round(_INNER[1] * fs))
    ow = max(max(iw, ih) + 2, round(_RING * fs))
    r = max(3, round(fs) | 1)
    (y0, x0), (inner, outer) = _roi(skin, box, (iw, ih), ow)
    ai, ao = iw * ih, ow * ow
    score = cv2.addWeighted(inner, ao / (ao - ai), outer, -ao / (ao - ai), 0.0)   # inner - ring mean
    top = cv2.compare(score, cv2.dilate(score, np.ones((r, r), np.uint8)), cv2.CMP_GE)     # local maxima
    top &= cv2.compare(score, 255 * _MIN_CONTRAST, cv2.CMP_GE) & cv2.compare(inner, 255 * _MIN_INNER, cv2.CMP_GE)
    at = cv2.findNonZero(top)
    if at is None:
        return []
    xs, ys = at.reshape(-1, 2)[:, 0], at.reshape(-1, 2)[:, 1]
    sx, sy = scale
    cx, cy = (xs + x0 + 0.5) / sx, (ys + y0 + 0.5) / sy
    keep = np.ones(len(xs), bool)
    for b in big:
        bw, bh = b[2] - b[0], b[3] - b[1]
        keep &= ~((cx >= b[0] - _HEAD[0] * bw) & (cx <= b[2] + _HEAD[0] * bw)
                  & (cy >= b[1] - _HEAD[1] * bh) & (cy <= b[3] + _HEAD[2] * bh))
    values = np.round(score[ys, xs] / 255, 4)[keep]
    cx, cy = cx[keep], cy[keep]
    best = np.lexsort((cy, cx, -values))[: 2 * CELLS]      # best first; ties by position
    return [(v, size, x, y) for v, x, y in zip(values[best].tolist(), cx[best].tolist(), cy[best].tolist())]


def _roi(skin: np.ndarray, box: tuple[int, int, int, int], inner: tuple[int, int],
         ow: int) -> tuple[tuple[int, int], tuple[np.ndarray, np.ndarray]]:
    """The inner and outer (``ow`` x ``ow``) box means (CV_32F) of ``skin`` on the points whose
    ``inner`` box meets the skin's bounding ``box`` (a little more), cut to the map: ((y0, x0) their
    first row and column, (inner, outer)). Elsewhere the inner mean is 0, so the score is <= 0: no
    peak there, nor one that beats a peak (>= the contrast threshold) in its r x r square.

    The values are exactly those of the whole map's :func:`cv2.boxFilter`: the part filtered has no
    skin at its edges but at the map's own (its replicated border adds the zeros the map has
    there), the box sums are integers, and OpenCV makes float of a w px wide map's column j by SIMD
    lanes when j < 4 (w // 4), else by scalar code (one ulp apart at times: float(s) * float(1/n)
    against float(s * (1/n))), so the part's columns start at a multiple of 4 and end at one or at
    the map's edge. (OpenCV's box filter code with fixed-width SIMD: SSE/AVX2/AVX-512/NEON, a 4-lane
    loop last; tests/imaging/test_speed21_beside.py checks the maps against the whole map's.)"""
    hh, ww = skin.shape
    bx, by, bw, bh = box
    y0, y1 = max(0, by - inner[1]), min(hh, by + bh + inner[1])
    x0, x1 = max(0, bx - inner[0]), min(ww, bx + bw + inner[0])
    mx0, mx1 = x0 // 4 * 4, min(ww, (x1 + 3) // 4 * 4)
    part = skin[y0:y1, mx0:mx1]
    maps = tuple(cv2.boxFilter(part, cv2.CV_32F, kernel, borderType=cv2.BORDER_REPLICATE)[:, x0 - mx0:x1 - mx0]
                 for kernel in (inner, (ow, ow)))
    return (y0, x0), maps        # type: ignore[return-value]


def _rescaled(small: np.ndarray, k: float, target: float) -> tuple[np.ndarray, float]:
    """``small`` (the image scaled by ``k``) shrunk to ~``target`` x the image, and its scale."""
    h, w = small.shape[:2]
    size = (max(1, round(w * target / k)), max(1, round(h * target / k)))
    return cv2.resize(small, size, interpolation=cv2.INTER_AREA), k * size[0] / w


def look(image: np.ndarray | None, scaled: tuple[np.ndarray, float, float] | None,
         todo: list[tuple[float, float, float, int]]) -> list[_Detection]:
    """The cells ``todo`` pre-scored in one 128 px mosaic of 32 px cells by the short-range detector
    (:func:`.models._propose_rows`, the proposal pass's, at its threshold); those it proposes a face
    in (best first, at most one mosaic's) confirmed by the full-range one: the detections, image px."""
    todo = todo[:CELLS]
    if not todo:
        return []
    n, c = _PRE_INPUT // _PRE_CELL, _PRE_CELL
    src, sx, sy = (image, 1.0, 1.0) if image is not None else scaled      # type: ignore[misc]
    mosaic = np.full((_PRE_INPUT, _PRE_INPUT, 3), 128, np.uint8)
    for i, (cx, cy, side, _) in enumerate(todo):
        mosaic[(i // n) * c:(i // n + 1) * c, (i % n) * c:(i % n + 1) * c] = _cell(src, cx * sx, cy * sy,
                                                                                side * min(sx, sy), c)
    best: dict[int, float] = {}
    for r in _propose_rows(mosaic):
        col, row = int((r[1] + r[3]) / 2 // c), int((r[2] + r[4]) / 2 // c)
        i, ox, oy = row * n + col, col * c, row * c
        if i >= len(todo) or min(r[1] - ox, r[2] - oy, ox + c - r[3], oy + c - r[4]) < -0.15 * c:
            continue            # spans two cells: no face of its own cell
        best[i] = max(best.get(i, 0.0), float(r[0]))
    keep = sorted(best, key=lambda i: (-round(best[i], 6), i))[:_DET_INPUT // _CONFIRM_CELL * (_DET_INPUT // _CONFIRM_CELL)]
    return _confirm(image, scaled, [todo[i] for i in keep])[0] if keep else []


def wanted(dets: Sequence[_Detection], tiles: bool, h: int, w: int, min_face_px: int) -> bool:
    """The look runs when the small-face pass does not (one face that is not small) but would look
    for faces smaller than the whole-image pass sees."""
    return ENABLED and not tiles and len(dets) == 1 and bool(_levels(h, w, min_face_px))


def with_extra(faces: list[Face], extra: list[_Detection], image: np.ndarray, max_faces: int, min_face_px: int,
               shape: tuple[int, int], verify: bool = True) -> list[Face]:
    """``faces`` and the faces of the look's detections ``extra`` (landmarked and verified alone:
    the big face's landmarks are not redone), largest first, duplicates dropped."""
    if not extra:
        return faces
    new = _finish(extra, image, max_faces, min_face_px, shape, verify=verify)
    if not new:
        return faces
    return _dedupe(sorted(faces + new, key=lambda f: (-f.cheek_width, f.box)))[:max_faces]
