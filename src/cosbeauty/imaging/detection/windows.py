"""Stage 1, window pass (grey images): the full-range detector on overlapping 192 px windows
of an image pyramid (:func:`_levels`), windows without skin chroma skipped; and with the first
level the **edge view** (:func:`_edge_jobs`): the frame's left and right strips, a little finer
than that level, on a flat border, side by side in 192 px windows (small faces cut at the
sides, which the windows' mirrored border hides).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .imageops import _area, _pyramid, _skin_integral, _windows, mirror_pad
from .models import _detect_full, quietly
from .threads import pmap
from .common import _DET_INPUT, _LEVEL_STEP, _MIN_FACE_FRACTION, _MIN_SCORE, _TILE_FACE_PX, _WINDOW_MIN_SKIN, _WINDOW_PAD, _Detection
from .whole import _detect_in


_EDGE_VIEW = True            # the edge view (small faces cut at the left/right, grey images)
_EDGE_BORDER = 32            # ... its flat border (view px) at the mean of the strip
_EDGE_STRIP = _DET_INPUT // 2   # ... each side's strip: border + 64 image px; two strips per window
_EDGE_ZOOM = 1.15            # ... at this x the first level's scale (its smallest face ~18 px wide, not 16; docs)
_EDGE_FLAT = 8               # ... a strip whose image part spans fewer grey levels is skipped
_NEAR = 0.25                 # ``near_out``: the windows' detections from this score under the threshold
                             # (a small grey face turned 90-270 degrees: 0.25-0.72 near it; .turned)


def min_face(h: int, w: int, min_face_px: int = 20) -> float:
    """Smallest face width (px) the window pass is built to find in an h x w image: 24 px at
    1920x1080, 48 px at 4000x3000 (1.2 % of the long side), never under ``min_face_px``."""
    return max(float(min_face_px), _MIN_FACE_FRACTION * max(h, w))


def _levels(h: int, w: int, min_face_px: int = 20) -> list[float]:
    """Scales of the window pass: level k finds faces of ~[m 2^k, 2.4 m 2^k] px (m =
    :func:`min_face`), each seen >= _TILE_FACE_PX wide by the detector in 192 px windows;
    levels stop where the whole-image pass (long side letterboxed to 192) takes over."""
    m = min_face(h, w, min_face_px)
    whole = _TILE_FACE_PX * max(h, w) / _DET_INPUT          # faces the whole pass sees
    scales = []
    size = m
    while size < whole:
        scale = min(1.0, _TILE_FACE_PX / size)
        if max(h, w) * scale <= _DET_INPUT * 1.2:            # one window: the whole pass again
            break
        scales.append(scale)
        size *= _LEVEL_STEP
    return scales


def _tile_pass(image: np.ndarray | None, h: int, w: int,
               scaled: tuple[np.ndarray, float, float] | None = None,
               min_face_px: int = 20, near_out: list[_Detection] | None = None) -> list[_Detection]:
    """Detector on overlapping 192 px windows of the image at each scale of :func:`_levels`
    (an image pyramid: each level is shrunk from the previous one). The source is ``image``,
    or ``scaled`` = (src, sx, sy), an already reduced copy, when it has at least the first
    level's resolution. All windows of all levels run through :func:`pmap`. ``near_out``: when
    given, the level windows' detections in [_NEAR, threshold) are appended to it (image px;
    the same invokes, the detections returned unchanged)."""
    levels = _levels(h, w, min_face_px)
    if not levels:
        return []
    sources = _pyramid(image, levels, scaled)
    jobs = []
    pad = _WINDOW_PAD
    for level, (src, sx, sy) in enumerate(sources):
        padded = mirror_pad(src, pad)
        sh, sw = padded.shape[:2]
        skin = _skin_integral(padded)
        jobs += [(padded, sx, sy, x0, y0, x1, y1) for y0, y1 in _windows(sh, _DET_INPUT)
                 for x0, x1 in _windows(sw, _DET_INPUT)
                 if skin is None or _area(skin, x0, y0, x1, y1) >= _WINDOW_MIN_SKIN]
        if _EDGE_VIEW and skin is None and level == 0:
            jobs += _edge_jobs(image, scaled, _EDGE_ZOOM * levels[0])
    if near_out is None:
        return [d for found in pmap(_run_job, jobs) for d in found]
    out: list[_Detection] = []
    for found, low in pmap(_run_job_near, jobs):
        out += found
        near_out += low
    return out


def _run_job_near(j: tuple) -> tuple[list[_Detection], list[_Detection]]:
    """:func:`_run_job`, and for a 192 x 192 level window also its detections in [_NEAR, the
    threshold) (:func:`.proposer.detect_near`, the same invoke)."""
    if len(j) != 7 or (j[6] - j[4], j[5] - j[3]) != (_DET_INPUT, _DET_INPUT):
        return _run_job(j), []
    from .. import proposer

    padded, sx, sy, x0, y0, x1, y1 = j
    win = np.ascontiguousarray(padded[y0:y1, x0:x1, :3])
    rows, low = proposer.detect_near(win, _MIN_SCORE, _NEAR, quietly, model="full")
    return (_rows_in(rows, x0 - _WINDOW_PAD, y0 - _WINDOW_PAD, sx, sy),
            _rows_in(low, x0 - _WINDOW_PAD, y0 - _WINDOW_PAD, sx, sy))


def _run_job(j: tuple) -> list[_Detection]:
    """One window of :func:`_tile_pass`: a window of a padded level, or (8 fields) a window of
    the edge view."""
    if len(j) == 7:
        padded, sx, sy, x0, y0, x1, y1 = j
        return _window_in(padded[y0:y1, x0:x1], x0 - _WINDOW_PAD, y0 - _WINDOW_PAD, sx, sy)
    return _edge_window_in(*j)


def _edge_jobs(image: np.ndarray | None, scaled: tuple[np.ndarray, float, float] | None,
               scale: float) -> list[tuple]:
    """The edge view (a few windows: 6 at 1080p, where the pass has 66; 8 of 89 at 12 MP): the
    frame's left and right strips at ``scale`` x the image (:data:`_EDGE_ZOOM` x the first
    level's, at most the source's), 64 px of image each on a flat border of :data:`_EDGE_BORDER`
    px at the mean of the strip outside the frame (top and bottom mirrored as the level windows'
    are), side by side, cut into 192 px windows. Only the strips are resized (the side columns
    of ``image``, or of ``scaled`` = (src, sx, sy) when there is no image). The mirrored border
    shows a face cut at a side with a reflection of its cut part (an eye twice), which the
    detector scores 0; on a flat border it scores 0.4-0.8. Strips whose image part is flat (no
    face) are skipped, and a window runs when one of its two strips is textured."""
    src, bx, by = (image, 1.0, 1.0) if image is not None else scaled if scaled is not None else (None, 1.0, 1.0)
    if src is None:
        return []
    sh, sw = src.shape[:2]
    rel = min(1.0, scale / min(bx, by))                # strip px per src px
    inner = _EDGE_STRIP - _EDGE_BORDER
    cols = math.ceil(inner / rel - 1e-9)
    th = round(sh * rel)
    if 2 * cols > sw or th < 2 * _WINDOW_PAD:
        return []
    parts = tuple(np.ascontiguousarray(cv2.resize(np.ascontiguousarray(src[:, x0:x0 + cols]), (inner, th),
                                                  interpolation=cv2.INTER_AREA) if (cols, th) != (inner, sh)
                                       else src[:, x0:x0 + cols])
                  for x0 in (0, sw - cols))
    kx, ky = inner / cols * bx, th / sh * by           # strip px per image px
    right = (sw - cols) / bx                           # image x of the right strip's first column
    strips = []
    for i, part in enumerate(parts):
        flat = tuple(int(v) for v in np.round(part.reshape(-1, part.shape[2]).mean(axis=0)))
        bordered = cv2.copyMakeBorder(part, 0, 0, _EDGE_BORDER * (i == 0), _EDGE_BORDER * (i == 1),
                                      cv2.BORDER_CONSTANT, value=flat)
        strips.append(_mirror_pad_rows(bordered, _WINDOW_PAD))
    view = np.ascontiguousarray(np.concatenate(strips, axis=1))
    live = [_textured(part) for part in parts]
    jobs = []
    for y0, y1 in _windows(view.shape[0], _DET_INPUT):
        rows = slice(max(0, y0 - _WINDOW_PAD), min(th, y1 - _WINDOW_PAD))
        on = [bool(live[0][rows].any()), bool(live[1][rows].any())]
        if any(on):
            jobs.append((view, y0, y1, kx, ky, right, on[0], on[1]))
    return jobs


def _mirror_pad_rows(img: np.ndarray, pad: int) -> np.ndarray:
    """``img`` with a ``pad`` px mirrored border above and below (as :func:`mirror_pad`)."""
    return cv2.copyMakeBorder(img, pad, pad, 0, 0, cv2.BORDER_REFLECT_101)


def _textured(part: np.ndarray) -> np.ndarray:
    """Per row of ``part`` (a strip of the edge view): does the 32-row band around it span at least
    :data:`_EDGE_FLAT` grey levels (something that may be a face)?"""
    grey = part[:, :, 0] if part.ndim == 3 else part
    lo, hi = grey.min(axis=1).astype(np.int16), grey.max(axis=1).astype(np.int16)
    k = np.ones((32, 1), np.uint8)
    lo = cv2.erode(lo[:, None], k, borderType=cv2.BORDER_REPLICATE)[:, 0]
    hi = cv2.dilate(hi[:, None], k, borderType=cv2.BORDER_REPLICATE)[:, 0]
    return hi - lo >= _EDGE_FLAT


def _edge_window_in(view: np.ndarray, y0: int, y1: int, kx: float, ky: float, right: float,
                    left_on: bool, right_on: bool) -> list[_Detection]:
    """The detector on one window of the edge view; detections mapped back to image pixels
    (``kx``, ``ky``: strip px per image px; ``right``: the image x of the right strip's first
    column) from the strip their centre lies in, only from strips with texture."""
    half = _EDGE_STRIP
    win = np.ascontiguousarray(view[y0:y1])
    if win.shape[:2] == (_DET_INPUT, _DET_INPUT):
        rows = _detect_full(win).astype(np.float64)
    else:                                    # an image under ~150 px high: MediaPipe's letterbox
        rows = [np.r_[d.score, d.box, d.eyes.ravel()] for d in _detect_in(win, 0.0, 0.0)]
    found = []
    for r in rows:
        left = (r[1] + r[3]) / 2 < half
        if not (left_on if left else right_on):
            continue
        x0 = -_EDGE_BORDER / kx if left else right - half / kx    # image x of the window's column 0
        yy = (y0 - _WINDOW_PAD) / ky
        xs, ys = x0 + r[[1, 3, 5, 7]] / kx, yy + r[[2, 4, 6, 8]] / ky
        found.append(_Detection(np.array([xs[0], ys[0], xs[1], ys[1]]), float(r[0]),
                                np.array([[xs[2], ys[2]], [xs[3], ys[3]]])))
    return found


def _window_in(win: np.ndarray, x0: float, y0: float, sx: float, sy: float) -> list[_Detection]:
    """:func:`_detect_in` for one window of the window pass; a 192 x 192 one through LiteRT
    (:func:`_detect_full`, the same detections), others through MediaPipe's graph (letterbox)."""
    if win.shape[:2] != (_DET_INPUT, _DET_INPUT):
        return _detect_in(win, x0, y0, sx, sy)
    return _rows_in(_detect_full(win), x0, y0, sx, sy)


def _rows_in(rows: np.ndarray, x0: float, y0: float, sx: float, sy: float) -> list[_Detection]:
    """Detector rows of a window at (``x0``, ``y0``) of a level at scale (``sx``, ``sy``) -> image px."""
    return [_Detection(np.array([(r[1] + x0) / sx, (r[2] + y0) / sy, (r[3] + x0) / sx, (r[4] + y0) / sy]),
                       float(r[0]), np.array([[(r[5] + x0) / sx, (r[6] + y0) / sy], [(r[7] + x0) / sx, (r[8] + y0) / sy]]))
            for r in rows.astype(np.float64)]
