"""Skin colour under casts, exposure and uneven light (:mod:`.verify`'s skin test, issue #12,
round 16; docs/faces.md, "Colour casts and exposure").

Round 15's independent check found faces that the detector boxes (presence 1.0, a stable mesh)
rejected for skin colour alone once the whole photo was brighter, warmer or more saturated:

* **clipped patches.** In an over-exposed photo (x1.3-1.9) or under a contrast curve the brightest
  skin patches (the forehead first) reach 255 in red, then green: their chroma falls towards
  neutral (Grace Hopper's forehead Cr 178 -> 144 at x1.3) while the shaded cheeks keep theirs, and
  the 7 patches' chroma spread passed :data:`.verify.MAX_CHROMA_SPREAD` (25; 29-37 measured).
  :func:`skin_colour` measures the spread of a clipped patch (>= :data:`CLIPPED_SHARE` of its pixels
  with a channel >= :data:`CLIP_LEVEL`) as its distance from the segment between the unclipped
  patches' median chroma (every patch clipped: the most colourful one) and neutral grey (the path
  clipping takes) when that is less than the plain spread, and takes the skin fraction over the
  unclipped pixels when that is more. Neither measure is ever stricter than before.
* **one-hue photos.** In a sepia photo the lips are no redder than the skin (``lip_cr`` -2.6..0.9):
  :func:`tinted` finds a one-hue image and a one-hue face, which :func:`.verify.face_checks` then
  judges like a grey one (its shading, the stability test; not for a face cut by the frame: the
  rocket's logo cut at the bottom of a crop is one hue and passed the grey cut rules).
* **light from above.** The lower face in shade: the lips' Cr falls with their luminance (``lip_cr``
  -4.3) but for their shade they stay redder than the skin (:func:`lip_shade`, ``lip_rel`` 12-14):
  accepted (:func:`shaded`) with skin all over the patches, dark irises and a stable mesh.
* **warm casts, saturation.** Tungsten white balance, a magenta tint, saturation x1.6 or a contrast
  curve take a ruddy face past the skin locus's Cr limit (185: Grace Hopper's cheeks 182-197 against
  163-172 neutral). Patches in a wider locus (:data:`CR_WIDE`, :data:`CB_WIDE`) count as skin, and
  the wider locus asks for more (:func:`wide_fails`, ``wide-skin``): lips clearly redder than the
  skin (``lip_cr`` >= :data:`.verify.MIN_LIP_CR`), irises darker than the skin, a stable mesh (the
  stability test is run: :func:`needs_look`).

Thresholds chosen on data (docs/faces.md, "Colour casts and exposure": the no-face and with-face
no-face sets' candidates, round 15's calibration collections, the cast sweeps).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import cv2
import numpy as np

from . import verify_squares

__all__ = ["CLIP_LEVEL", "lip_shade", "needs_look", "shaded", "shaded_fails", "skin_colour", "skin_colour_squares", "tinted",
           "wide", "wide_fails"]

CLIP_LEVEL = 250          # a channel at or above this is clipped (JPEG rings 250-255 around 255)
CLIPPED_SHARE = 0.25      # a patch with this share of clipped pixels is a clipped patch
MIN_UNCLIPPED = 0.1       # skin fraction over unclipped pixels only when at least this share is unclipped
CR_WIDE = (128.0, 205.0)  # the wider locus: redder and yellower than the strict one (verify.CR_RANGE, CB_RANGE),
CB_WIDE = (60.0, 132.0)   # never nearer neutral (a white mask's pixels: test_faces_occluded.py)
MIN_WIDE_EYE_DARK = 0.25  # a candidate needing the wider locus: irises this much darker than the skin
MAX_WIDE_INSTABILITY = 0.08   # ... and a mesh this stable (F)
MIN_WIDE_SKIN = 0.9       # ... with this share of its skin pixels in the wider locus
MIN_LIP_REL = 8.0         # lips red for their shade (:func:`shaded`) ...
MAX_LIP_Y = 0.75          # ... and in shade: their luminance over the skin's
MIN_SHADED_SKIN = 0.98    # ... then the skin patches all in the strict locus
NEUTRAL = np.array([128.0, 128.0])
TINT_CHROMA = 3.0         # one-hue images (:func:`tinted`): pixels with this much chroma ...
MIN_TINT_SHARE = 0.9      # ... are this share of the sample ...
MAX_TINT_PERP = 1.5       # ... and their chroma this close to one hue's line (90th percentile)
MAX_FACE_TINT = 0.12      # ... and the face's box too: that distance over its median chroma


_SQUARES = (np.arange(256) - 128) ** 2                          # (level - 128)^2, exact
_ROOTS = np.sqrt(np.arange(2 * 128 * 128 + 1, dtype=np.float32))  # float32 roots of the sums of two of them


def _hue_line(rgb: np.ndarray) -> tuple[float, float, float]:
    """(share of pixels with chroma >= :data:`TINT_CHROMA`, the 90th percentile of the chroma's distance
    from the median hue's line through neutral, the median chroma) of ``rgb``'s unclipped pixels."""
    ycc = cv2.cvtColor(np.ascontiguousarray(rgb[:, :, :3]), cv2.COLOR_RGB2YCrCb).reshape(1, -1, 3)
    lit = np.compress(cv2.inRange(ycc, (17, 0, 0), (239, 255, 255))[0], ycc[0], axis=0)   # 16 < Y < 240
    if len(lit) < 64:
        return 0.0, 99.0, 0.0
    c = lit[:, 1:].astype(np.float32) - 128.0
    mag = _ROOTS[_SQUARES[lit[:, 1]] + _SQUARES[lit[:, 2]]]   # = np.linalg.norm(c, axis=1): exact integer sums
    strong = mag >= TINT_CHROMA
    if not strong.any():
        return 0.0, 99.0, 0.0
    d = np.median(np.compress(strong, c, axis=0) / np.compress(strong, mag)[:, None], axis=0)
    norm = float(np.linalg.norm(d))
    if norm == 0.0:
        return float(strong.mean()), 99.0, float(np.median(mag))
    perp = np.abs(c @ np.array([-d[1], d[0]]) / norm)
    return float(strong.mean()), float(np.percentile(perp, 90)), float(np.median(mag))


_LINES: "OrderedDict[bytes, tuple[float, float, float]]" = OrderedDict()
_LINES_LOCK = threading.Lock()
_LINES_KEPT = 16


def _image_line(sample: np.ndarray) -> tuple[float, float, float]:
    """:func:`_hue_line` of a whole image's sample grid, remembered by the grid's bytes: every
    colour candidate of an image asks for the same grid (0.8 ms each; a 16-byte BLAKE2 of the
    ~25 kB grid: 0.05 ms), and the value depends on those bytes alone."""
    grid = np.ascontiguousarray(sample)
    key = hashlib.blake2b(grid.tobytes(), digest_size=16).digest() + repr((grid.shape, grid.dtype.str)).encode()
    with _LINES_LOCK:
        hit = _LINES.get(key)
    if hit is not None:
        return hit
    value = _hue_line(grid)
    with _LINES_LOCK:
        _LINES[key] = value
        while len(_LINES) > _LINES_KEPT:
            _LINES.popitem(last=False)
    return value


def tinted(rgb: np.ndarray, pts: np.ndarray | None = None, f: float = 0.0) -> bool:
    """A one-hue image (sepia, a duotone filter) and a one-hue face: nearly every pixel of a <= 64 px
    sample grid of ``rgb`` has chroma (>= :data:`TINT_CHROMA`, share >= :data:`MIN_TINT_SHARE`) and
    that chroma lies on one line through neutral (the 90th percentile of its distance from the median
    hue's line <= :data:`MAX_TINT_PERP`); with landmarks ``pts`` (cheek width ``f``) the face's box
    (0.6 F around the mesh) too: that distance <= :data:`MAX_FACE_TINT` of its median chroma (real colour
    faces >= 0.13, their lips and eyes off the skin's hue; sepia faces 0.05-0.15). Such a face has no
    colour of its own (its lips are no redder than its skin) and is judged like a grey one. A plain
    coloured backdrop is one hue as a whole: the face's own test keeps its faces in colour."""
    step = max(1, min(rgb.shape[:2]) // 64)
    share, perp, _ = _image_line(rgb[::step, ::step])
    if share < MIN_TINT_SHARE or perp > MAX_TINT_PERP:
        return False
    if pts is None:
        return True
    h, w = rgb.shape[:2]
    lo = np.floor(pts[:468].min(axis=0) - 0.6 * f).astype(int)
    hi = np.ceil(pts[:468].max(axis=0) + 0.6 * f).astype(int)
    box = rgb[max(0, lo[1]):min(h, hi[1]), max(0, lo[0]):min(w, hi[0])]
    if box.size == 0:
        return False
    _, perp, chroma = _hue_line(box)
    return perp <= MAX_FACE_TINT * max(chroma, 1.0)


def _segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Distance of point ``p`` from the segment ``a``-``b`` (2-d)."""
    d = b - a
    n = float(d @ d)
    t = 0.0 if n == 0.0 else min(1.0, max(0.0, float((p - a) @ d) / n))
    return float(np.linalg.norm(p - (a + t * d)))


def skin_colour(patches: list[np.ndarray], rgb_patches: list[np.ndarray], cr_range: tuple[float, float],
                cb_range: tuple[float, float]) -> dict[str, float]:
    """Skin measures of the patches (each ``patches[i]`` an (n, 3) float array of Y, Cr, Cb, with
    ``rgb_patches[i]`` the same pixels' RGB): ``skin_fraction`` (in the strict locus ``cr_range`` x
    ``cb_range``) and ``chroma_spread`` as before; ``skin_lit`` (the skin fraction, over the unclipped
    pixels when that is more), ``spread_lit`` (clipped patches against the segment to neutral, when that
    is less) and ``skin_wide`` (in :data:`CR_WIDE` x :data:`CB_WIDE`, like ``skin_lit``), which only
    :func:`.verify.reasons`' main skin test reads: the stricter rules that ask for skin all over (>= 0.98,
    0.99) keep the plain measures (a shiny gold pad's clipped highlight lifted its fraction 0.977 -> 0.994
    past :mod:`.verify_signs`' loose-skin); ``clipped``, the number of clipped patches."""
    clip = [(p.max(axis=1) >= CLIP_LEVEL) for p in rgb_patches]
    means = np.array([p.mean(axis=0) for p in patches])
    clipped = np.array([float(c.mean()) >= CLIPPED_SHARE for c in clip])
    spread, lit_spread = _spreads(means[:, 1:], clipped)
    flat = np.concatenate(patches)
    fraction = _fractions(flat, cr_range, cb_range)
    lit = fraction
    keep = ~np.concatenate(clip)
    if not keep.all() and keep.mean() >= MIN_UNCLIPPED:
        lit = np.maximum(fraction, _fractions(flat[keep], cr_range, cb_range))
    return {"skin_fraction": float(fraction[0]), "chroma_spread": spread, "skin_lit": float(lit[0]),
            "spread_lit": lit_spread, "skin_wide": float(lit[1]), "clipped": float(clipped.sum())}


def _spreads(chroma: np.ndarray, clipped: np.ndarray) -> tuple[float, float]:
    """(``chroma_spread``, ``spread_lit``) of :func:`skin_colour` from the patches' mean chroma (k, 2) and
    which patches are clipped."""
    spread = float(np.max(np.linalg.norm(chroma - verify_squares.median0(chroma), axis=1)))
    lit_spread = spread
    if clipped.any():
        free = chroma[~clipped]     # every patch clipped: the most colourful one is the least washed out
        centre = (verify_squares.median0(free) if len(free)
                  else chroma[int(np.argmax(np.linalg.norm(chroma - NEUTRAL, axis=1)))])
        lit_spread = min(spread, max(_segment_distance(c, centre, NEUTRAL) if k else float(np.linalg.norm(c - centre))
                                     for c, k in zip(chroma, clipped)))
    return spread, lit_spread


def skin_colour_squares(ycc: list[np.ndarray], rgbs: list[np.ndarray], means: np.ndarray,
                        cr_range: tuple[float, float], cb_range: tuple[float, float]) -> dict[str, float]:
    """:func:`skin_colour` of uint8 squares (round 21, speed): ``ycc[i]`` a square's YCrCb pixels (h, w, 3),
    ``rgbs[i]`` the same pixels' RGB, ``means`` their float32 channel means (:func:`.verify_squares.means`).
    The same values from pixel counts (:mod:`.verify_squares`) instead of float copies of every pixel."""
    sizes = [p.shape[0] * p.shape[1] for p in ycc]
    total = sum(sizes)
    lit_mask = cv2.inRange(verify_squares.pixels(rgbs), (0, 0, 0), (CLIP_LEVEL - 1,) * 3)   # no channel clipped
    kept = cv2.countNonZero(lit_mask)
    if kept == total:
        clipped = np.zeros(len(sizes), bool)
    else:
        unclipped = np.add.reduceat(lit_mask.ravel(), np.cumsum([0] + sizes[:-1]), dtype=np.int64) // 255
        clipped = np.array([float((n - int(u)) / n) >= CLIPPED_SHARE for n, u in zip(sizes, unclipped)])
    spread, lit_spread = _spreads(means[:, 1:], clipped)
    flat = verify_squares.pixels(ycc)
    strict, wide = verify_squares.in_range(flat, cr_range, cb_range), verify_squares.in_range(flat, CR_WIDE, CB_WIDE)
    fraction = np.array([cv2.countNonZero(strict) / total, cv2.countNonZero(wide) / total])
    lit = fraction
    if kept < total and kept / total >= MIN_UNCLIPPED:
        lit = np.maximum(fraction, np.array([cv2.countNonZero(cv2.bitwise_and(strict, lit_mask)) / kept,
                                             cv2.countNonZero(cv2.bitwise_and(wide, lit_mask)) / kept]))
    return {"skin_fraction": float(fraction[0]), "chroma_spread": spread, "skin_lit": float(lit[0]),
            "spread_lit": lit_spread, "skin_wide": float(lit[1]), "clipped": float(clipped.sum())}


def _fractions(ycc: np.ndarray, cr_range: tuple[float, float], cb_range: tuple[float, float]) -> np.ndarray:
    """Shares of the pixels (rows of Y, Cr, Cb) in the strict locus and in the wider one."""
    cr, cb = ycc[:, 1], ycc[:, 2]
    strict = (cr >= cr_range[0]) & (cr <= cr_range[1]) & (cb >= cb_range[0]) & (cb <= cb_range[1])
    wide = (cr >= CR_WIDE[0]) & (cr <= CR_WIDE[1]) & (cb >= CB_WIDE[0]) & (cb <= CB_WIDE[1])
    return np.array([strict.mean(), wide.mean()])


def wide(checks: dict[str, float], min_fraction: float) -> bool:
    """The candidate's skin is in the strict locus only short of ``min_fraction`` but in the wider one."""
    return (not checks["grey"] and checks.get("skin_lit", checks["skin_fraction"]) < min_fraction
            and checks.get("skin_wide", 0.0) >= MIN_WIDE_SKIN)


def needs_look(checks: dict[str, float], min_fraction: float, lip_floor: float) -> bool:
    """A candidate that needs the wider locus or whose lips are red only for their shade gets the
    stability test."""
    return wide(checks, min_fraction) or shaded(checks, lip_floor)


def lip_shade(lips: np.ndarray | None, area: np.ndarray | None, patches: np.ndarray) -> dict[str, float]:
    """The lips' redness for their shade: (Cr - 128) / Y of the lips minus that of the skin (the
    patches' mean Y, Cr, Cb in ``patches``), x100, the mean of the lip squares and the lip area
    (``lip_rel``; a gain, a shadow, leaves it as it is); and the lips' luminance over the skin's
    (``lip_y``). Light from above darkens the lower face: the lips' Cr falls with their luminance
    (Grace Hopper under top light: ``lip_cr`` -4.3, ``lip_rel`` 13.7, ``lip_y`` 0.57)."""
    parts = [p for p in (lips, area) if p is not None]
    if not parts or len(patches) == 0:
        return {"lip_rel": 0.0, "lip_y": 1.0}
    skin = verify_squares.median0(patches)
    ref = (skin[1] - 128.0) / max(float(skin[0]), 16.0)
    rel = [((p[1] - 128.0) / max(float(p[0]), 16.0) - ref) * 100.0 for p in parts]
    return {"lip_rel": float(np.mean(rel)), "lip_y": float(np.mean([p[0] for p in parts]) / max(float(skin[0]), 1.0))}


def shaded(checks: dict[str, float], lip_floor: float) -> bool:
    """A colour candidate in the frame whose lips fail the Cr test (``lip_cr`` < ``lip_floor``, below
    which they are no lips: :data:`.verify.MIN_LIP_CR_DOUBT`) but are clearly redder than the skin
    for their shade, and in shade (:func:`lip_shade`)."""
    return (not checks["grey"] and checks.get("inside", 1.0) >= 0.9 and checks.get("lips_inside", 1.0) >= 0.5
            and checks["lip_cr"] < lip_floor and checks.get("lip_rel", 0.0) >= MIN_LIP_REL
            and checks.get("lip_y", 1.0) <= MAX_LIP_Y)


def shaded_fails(checks: dict[str, float], lip_floor: float) -> bool:
    """True when a candidate whose lips pass only for their shade lacks the more it is asked: skin
    all over its patches, irises darker than its skin, a stable mesh."""
    if not shaded(checks, lip_floor):
        return False
    return (checks["skin_fraction"] < MIN_SHADED_SKIN or checks.get("eye_dark", 0.0) < MIN_WIDE_EYE_DARK
            or checks.get("stability", 0.0) > MAX_WIDE_INSTABILITY)


def wide_fails(checks: dict[str, float], min_fraction: float, min_lip_cr: float) -> bool:
    """True when a candidate needing the wider locus lacks the more it is asked."""
    if not wide(checks, min_fraction):
        return False
    return (checks.get("lips_inside", 1.0) >= 0.5 and checks["lip_cr"] < min_lip_cr
            or checks.get("eye_dark", 0.0) < MIN_WIDE_EYE_DARK
            or checks.get("stability", 0.0) > MAX_WIDE_INSTABILITY)
