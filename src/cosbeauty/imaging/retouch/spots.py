"""Spot healing: small dark or red anomalies on skin (acne, blemishes, spots up to ~2 % of the
face width in radius) are found and replaced by the skin around them with the skin's grain over
them (so no smooth disc is left). Larger compact marks (moles, birthmarks) are only softened.

Detection at work scale (see :func:`spot_weights`): darker or redder than a whole ring around
it, on skin. Connected components are kept if compact (aspect <= 3, fill >= 0.3) and at most
0.05 F across; compact components up to 0.12 F are moles (softened by 40 %); everything else
(lines, frames) is left. Each kept core grows into the spot's soft edge (pixels darker or
redder than a median over 0.1 F, computed around the kept spots only). The heal (see
:func:`heal_delta`): the low-pass under each spot is inpainted (Telea) from around it, and the
grain over it is a neighbouring patch's grain (0.05 F away) blended with the pixel's own so
that the texture's variance is kept at every weight.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import cv2
import numpy as np

from .common import FACE_OVAL, LEFT_EYE, LIPS, RIGHT_EYE, blur, disc, grow_to, luma, nonzero_box, odd, poly

MAX_SPOT = 0.05          # x F: widest healed spot (bounding box side)
MAX_MOLE = 0.12          # x F: widest softened mark
MOLE_SOFTEN = 0.4
DETECT_F = 210.0         # px: detection scale cap (above the work scale F of 200: no resize there)
MAX_COUNT = 40           # healed/softened marks per face, most contrasty (vs the grain) first
DARK_MIN = 9.0           # levels darker than the whole ring
RED_MIN = 4.0            # Cr levels redder than the whole ring
EYE_MARGIN = 0.07        # x F around the eyes: no spot healing (lashes, lens rims)
NOSE_BRIDGE = 168
BRIDGE_R = 0.07          # x F around the nose bridge (glasses' bridge and nose pads)
ALAR_GROOVES = [[134, 131, 129], [363, 360, 358]]   # up the nose's side to the wing's foot
NASOLABIAL_END = {129: 61, 358: 291}                # ... then toward the mouth corner
GROOVE_RUN = 0.15        # x that way: the smile line's first part
GROOVE_MARGIN = 0.035    # x F either side of the groove: no spot healing
OUTLINE_MARGIN = 0.06    # x F inside the face oval: no spot healing
LIP_MARGIN = 0.045       # x F around the lips
STRONG_EDGE = 45.0       # luma levels per pixel: frames and feature edges, never a spot
GRAIN_CAP = 2.0          # x the grain's robust sigma: largest copied grain value
GROW = 0.007            # x F: the found core grown by this (its feather then starts past the edge)
EDGE_MIN = 2.0           # levels darker/redder than the median: still part of a found spot
PIN_Z = 2.5              # pin-point dark spots: centre-surround darkness in robust sigmas of the skin's
PIN_SURROUND = 0.0105    # x F (>= 2 px): the surround's Gaussian
PIN_RED = 0.3            # ... and at most this fraction of the reddening the face's own dark grain shows
PIN_SLOPE_MIN = 0.1      # Cr/Y x 100 per level: below it the face's grain does not redden (path off)
PIN_ISO = 0.3            # smaller / larger Hessian eigenvalue: a blob, not a line
FINE_EXCLUDE_F = 150.0   # px at work scale: from here the exclusions are rasterised at half scale
PIN_MAX = 20             # pin-point spots per face (most contrasty first), beside MAX_COUNT


def _median_reference(work: np.ndarray, f: float) -> np.ndarray:
    """Per-channel median over a ~0.1 F window, computed at quarter scale (k = 5 at F ~ 190:
    OpenCV's fast small-kernel path) and upsampled: spots up to 0.05 F across vanish from it."""
    h, w = work.shape[:2]
    small = cv2.resize(work, ((w + 3) // 4, (h + 3) // 4), interpolation=cv2.INTER_AREA)
    med = cv2.medianBlur(cv2.convertScaleAbs(small, alpha=255.0), odd(0.025 * f))
    return cv2.resize(med, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32) * np.float32(1 / 255)


def _robust_sigma(x: np.ndarray) -> float:
    if x.size < 10:
        return 0.0
    return float(1.4826 * np.median(np.abs(x - np.median(x))))


@functools.lru_cache(maxsize=64)
def _ring(radius: float) -> np.ndarray:
    """A one-to-two pixel wide ring structuring element of the given radius (cached: callers
    pass radii derived from F, a handful of values per process)."""
    k = odd(2 * radius + 3)
    c = k // 2
    yy, xx = np.mgrid[0:k, 0:k]
    d = np.hypot(xx - c, yy - c)
    return ((d >= radius - 0.75) & (d <= radius + 0.75)).astype(np.uint8)


def spot_weights(work: np.ndarray, skin: np.ndarray, f: float, keep: np.ndarray | None = None,
                 submit: Callable | None = None) -> np.ndarray:
    """The heal weight in [0, 1] per pixel (H x W); ``keep`` (optional, 0..1): where healing is
    allowed at all (its zeros still count as skin in the ring test, so a groove left alone does
    not make the skin beside it a "spot").

    A pixel is a spot candidate when it is darker (luma) or redder (Cr) than *every* pixel of a
    ring around it, for a small and a large ring (about 1 % and 3 % of F): a spot is enclosed
    by brighter skin, while a wrinkle or a frame continues through any ring (its own pixels on
    the ring are as dark), so lines do not respond however deep they are. Non-skin pixels
    (brows, hair) never count as the darker/redder part of a ring. (Tried: "darker than three
    of four quarter arcs", which also finds spots touching a wrinkle; on Grace Hopper it healed
    wrinkle texture too, fine-texture retention around spots fell from ~0.7 to ~0.5.)

    ``submit`` (optional, an executor's ``submit``): the pin-point search (:func:`_pin_points`)
    runs there while this thread does the ring test (round 20; the same values either way: a
    task not started by the time it is needed is cancelled and run here).
    """
    g = blur(work, 0.6)
    y = luma(g) * 255
    cr = (g[..., 0] * 255 - y) * 0.713
    if keep is not None:
        skin_ok = skin * keep
        on_skin = skin_ok > 0.5
    else:
        skin_ok = skin
        on_skin = skin > 0.5
    # not next to strong edges (frames, nostrils, the lip line): a spot's own edge is far softer
    gx = cv2.Sobel(y, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(y, cv2.CV_32F, 0, 1, ksize=3)
    strong = cv2.dilate((cv2.magnitude(gx, gy) * 0.125 > STRONG_EDGE).astype(np.uint8), disc(max(1.0, 0.01 * f)))
    flat = on_skin & (strong == 0)
    pin_job = None if submit is None else submit(_pin_points, g, y, cr, flat, f)
    dark = np.zeros_like(y)
    red = np.zeros_like(y)
    # non-skin (brows, hair, frames) never counts as the darker/redder part of a ring
    off = skin < 0.3
    y_ring = np.where(off, np.float32(255), y)
    cr_ring = np.where(off, np.float32(-255), cr)
    for radius in (max(2.0, 0.012 * f), max(3.0, 0.028 * f)):
        ring = _ring(radius)
        np.maximum(dark, cv2.erode(y_ring, ring) - y, out=dark)
        np.maximum(red, cr - cv2.dilate(cr_ring, ring), out=red)
    cand = (((dark > DARK_MIN) | (red > RED_MIN)) & flat).astype(np.uint8)
    cand = cv2.dilate(cand, disc(max(1.0, 0.006 * f)))       # the core -> the whole spot
    n, labels, stats, _ = cv2.connectedComponentsWithStats(cand, connectivity=8)
    weight = np.zeros(n, np.float32)
    if n > 1:
        bw, bh, area = stats[1:, 2], stats[1:, 3], stats[1:, 4]
        side = np.maximum(bw, bh)
        compact = (np.maximum(bw, bh) <= 3 * np.minimum(bw, bh)) & (area >= 0.3 * bw * bh)
        spot = compact & (side <= max(3.0, MAX_SPOT * f))
        mole = compact & ~spot & (side <= MAX_MOLE * f)
        weight[1:] = np.where(spot, 1.0, np.where(mole, MOLE_SOFTEN, 0.0))
        if np.count_nonzero(weight) > MAX_COUNT:      # bounded: the most contrasty ones only
            # ranked by contrast in units of the face's own grain, luma and Cr apart: skin's
            # grain is ~7x stronger in luma than in Cr, so in thresholds' units (DARK_MIN,
            # RED_MIN) a pixel-sized red spot (Cr +4-6 over the ring after the 0.6 px blur) lost
            # to the face's many faint dark marks, and which one was dropped depended on where
            # the spot fell on the pixel grid
            grain = flat
            surround = max(2.0, PIN_SURROUND * f)
            sig_y = max(_robust_sigma((y - blur(y, surround))[grain][::3]), 0.5)
            sig_cr = max(_robust_sigma((cr - blur(cr, surround))[grain][::3]), 0.5)
            peak = np.zeros(n, np.float32)
            sel = cand.astype(bool)
            np.maximum.at(peak, labels[sel], np.maximum(dark[sel] / sig_y, red[sel] / sig_cr))
            peak[weight == 0] = -1
            weight[np.argsort(peak)[:-MAX_COUNT]] = 0
    pin = _pin_points(g, y, cr, flat, f) if pin_job is None or pin_job.cancel() else pin_job.result()
    pins = None if pin is None else cv2.dilate(pin, disc(max(1.0, 0.006 * f)))
    # the rest only around the kept spots (a few % of the box): round 21, their box from the
    # components' own boxes and the pin points' (what nonzero_box(w > 0) of the whole weight
    # image gave), the weight made inside it only
    bb = _kept_box(stats, weight, pins, labels.shape, int(0.02 * f) + 3)
    out = np.zeros(labels.shape, np.float32)
    if bb is None:
        return out
    x0, y0, x1, y1 = bb
    w = weight[labels[y0:y1, x0:x1]]
    if pins is not None:
        w = np.maximum(w, pins[y0:y1, x0:x1].astype(np.float32))
    # the detected core -> the whole spot: grow into the pixels around it that are still darker
    # or redder than the median reference (a spot's soft edge); the median sees 0.06 F around
    pad = int(0.06 * f) + 4
    cx0, cy0 = max(0, x0 - pad), max(0, y0 - pad)
    ref = _median_reference(work[cy0:y1 + pad, cx0:x1 + pad], f)[y0 - cy0:y1 - cy0, x0 - cx0:x1 - cx0]
    y, cr, on_skin = y[y0:y1, x0:x1], cr[y0:y1, x0:x1], on_skin[y0:y1, x0:x1]
    near = cv2.dilate(w, disc(max(1.5, 0.014 * f)))
    ref_y = luma(ref) * 255
    ref_cr = (ref[..., 0] * 255 - ref_y) * 0.713
    edge = (((ref_y - y) > EDGE_MIN) | ((cr - ref_cr) > EDGE_MIN)) & on_skin   # never into hair
    w = np.maximum(cv2.dilate(w, disc(max(1.0, GROW * f))), near * edge)
    out[y0:y1, x0:x1] = blur(w, max(0.7, 0.003 * f)) * np.clip((skin_ok[y0:y1, x0:x1] - 0.3) / 0.3, 0, 1)
    return out


def _kept_box(stats: np.ndarray, weight: np.ndarray, pins: np.ndarray | None, shape: tuple[int, ...],
              pad: int) -> tuple[int, int, int, int] | None:
    """``nonzero_box(max(weight[labels], pins) > 0, pad)`` of an image of ``shape`` from the kept
    components' boxes (``stats`` of cv2.connectedComponentsWithStats: a component's box is its
    pixels' box) and the dilated pin points' box: (x0, y0, x1, y1) or None."""
    kept = np.flatnonzero(weight > 0)
    x0s, y0s = list(stats[kept, 0]), list(stats[kept, 1])
    x1s, y1s = list(stats[kept, 0] + stats[kept, 2]), list(stats[kept, 1] + stats[kept, 3])
    if pins is not None:
        pb = nonzero_box(pins)
        if pb is not None:
            x0s.append(pb[0])
            y0s.append(pb[1])
            x1s.append(pb[2])
            y1s.append(pb[3])
    if not x0s:
        return None
    h, w = shape[:2]
    return (max(0, int(min(x0s)) - pad), max(0, int(min(y0s)) - pad),
            min(w, int(max(x1s)) + pad), min(h, int(max(y1s)) + pad))


def _pin_points(g: np.ndarray, y: np.ndarray, cr: np.ndarray, ok: np.ndarray, f: float) -> np.ndarray | None:
    """Pin-point dark spots (about a pixel across at detection scale) as a uint8 mask of their
    centres, or None. At that size a spot is no darker than the skin's own grain (on coarse,
    wrinkled skin the ring test misses it), so contrast alone cannot tell them apart; colour
    can: skin's own dark grain (pore shadows, crease bottoms) is redder than the skin around it
    (light scattered under the skin is red), in proportion to its depth, while a blackhead or a
    pigment speck darkens without reddening. A candidate is a local maximum of centre-surround
    darkness (blur 0.6 px vs ~0.01 F) at least PIN_Z robust sigmas of that response on the
    face's skin, isotropic (Hessian eigenvalue ratio >= PIN_ISO: a blob, not a line), and at
    most PIN_RED of the reddening that the face's own grain shows at that darkness (the slope of
    Cr/Y against darkness over the skin). Faces whose grain does not redden (slope <
    PIN_SLOPE_MIN) have no pin-point path (the ring test finds their spots: the grain is fine)."""
    sel = ok & (y > 20)
    if np.count_nonzero(sel) < 100:
        return None
    surround = max(2.0, PIN_SURROUND * f)
    dy = blur(y, surround) - y                             # darker than around: positive
    rc = cr / np.maximum(y, 1.0) * 100
    drc = rc - blur(rc, surround)
    a, b = dy[sel][::3], drc[sel][::3]                     # every third skin pixel: enough for two statistics
    sig = _robust_sigma(a)
    var = float(np.var(a))
    if sig <= 0 or var <= 0:
        return None
    slope = float(np.mean((a - a.mean()) * (b - b.mean()))) / var
    if slope < PIN_SLOPE_MIN:
        return None
    peak = (dy == cv2.dilate(dy, np.ones((3, 3), np.uint8))) & sel
    cand = peak & (dy > PIN_Z * sig) & (drc < PIN_RED * slope * dy)
    if not cand.any():
        return None
    h = blur(y, 1.0)                                        # the shape test, where it is needed
    ys, xs = np.nonzero(cand)                               # (its pointwise part at the candidates only)
    dxx = cv2.Sobel(h, cv2.CV_32F, 2, 0)[ys, xs]
    dyy = cv2.Sobel(h, cv2.CV_32F, 0, 2)[ys, xs]
    dxy = cv2.Sobel(h, cv2.CV_32F, 1, 1)[ys, xs]
    tr = dxx + dyy
    root = np.sqrt((dxx - dyy) ** 2 + 4 * dxy ** 2)
    big, small = (tr + root) * 0.5, (tr - root) * 0.5
    blob = (big > 0) & (small > PIN_ISO * big)
    ys, xs = ys[blob], xs[blob]
    if ys.size == 0:
        return None
    if ys.size > PIN_MAX:
        keep = np.argsort(dy[ys, xs])[-PIN_MAX:]
        ys, xs = ys[keep], xs[keep]
    out = np.zeros(y.shape, np.uint8)
    out[ys, xs] = 1
    return out


Exclusions = tuple[np.ndarray, np.ndarray]
"""What :func:`spot_exclusions` returns: (where no spot is healed at all, the grooves' keep)."""


def spot_exclusions(shape: tuple[int, int], pts: np.ndarray, f: float) -> Exclusions:
    """``(cut, keep)`` at ``shape`` (H, W: the work scale), float32: ``cut`` is 1 around the eyes,
    lips, nose bridge and inside the face's outline margin (the skin mask is multiplied by 1 -
    cut), ``keep`` is 0 in the grooves beside the nose wings (see :func:`find_spots`). Landmarks
    only: the retouch computes them beside the skin masks (round 18)."""
    h, w = shape
    # half scale from F = FINE_EXCLUDE_F (one raster pixel = 0.01 F at F 200: a spot next to
    # a margin is kept or dropped by where it is, not by the raster's phase), quarter below
    step = 2 if f >= FINE_EXCLUDE_F else 4
    q = ((h + step - 1) // step, (w + step - 1) // step)
    k = np.array([q[1] / w, q[0] / h], np.float32)
    eyes = poly(q, pts[RIGHT_EYE] * k, hull=True) | poly(q, pts[LEFT_EYE] * k, hull=True)
    near = cv2.dilate(eyes, disc(EYE_MARGIN * f * k[0])) | \
        cv2.dilate(poly(q, pts[LIPS] * k, hull=True), disc(LIP_MARGIN * f * k[0]))
    bridge = pts[NOSE_BRIDGE] * k                      # where glasses rest: their bridge is no spot
    cv2.circle(near, (int(round(bridge[0])), int(round(bridge[1]))), max(1, int(BRIDGE_R * f * k[0])), 1, -1)
    # nor along the face's outline (hair, ears, the jaw's shadow: edges, not spots)
    near |= 1 - cv2.erode(poly(q, pts[FACE_OVAL] * k), disc(OUTLINE_MARGIN * f * k[0]))
    cut = cv2.resize(near.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    groove = np.zeros(q, np.uint8)
    # nor in the grooves beside the nose wings, where the smile lines start: a groove's tip is
    # as round, compact and dark as a spot by every local measure (Hessian isotropy .55 at
    # 0.01 F vs .17-.98 on spots), so it is told apart by where it is
    for ids in ALAR_GROOVES:
        line = pts[ids] * k
        line = np.concatenate([line, line[-1:] + (pts[NASOLABIAL_END[ids[-1]]] * k
                                                  - line[-1:]) * GROOVE_RUN])
        cv2.polylines(groove, [np.round(line * 16).astype(np.int32).reshape(-1, 1, 2)], False, 1,
                      thickness=max(1, int(round(2 * GROOVE_MARGIN * f * k[0]))), lineType=cv2.LINE_8, shift=4)
    keep = 1 - cv2.resize(groove.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    return cut, keep


def find_spots(work: np.ndarray, skin: np.ndarray, f: float,
               pts: np.ndarray | None = None, excluded: Exclusions | None = None,
               submit: Callable | None = None) -> tuple[int, int, np.ndarray] | None:
    """``(x0, y0, weight)``: the heal weight (see :func:`spot_weights`) inside the skin's box
    whose top-left corner is (x0, y0), or None when there is nothing to heal. With ``pts``, the
    eyes' and lips' surroundings (lashes, lens rims, the lip line; 0.07 / 0.045 F) and the nose
    bridge (a glasses bridge looks like a spot) are left alone. Detection runs at a scale where F
    is at most DETECT_F px (spots of 0.5 % F are still ~1 px there); the weight is returned at
    the scale of ``work``. ``excluded``: :func:`spot_exclusions` of ``pts`` when already computed
    (the same values). ``submit``: see :func:`spot_weights`."""
    keep = None
    if pts is not None or excluded is not None:      # exclusions built at a reduced scale (coarse by nature)
        cut, keep = excluded if excluded is not None else spot_exclusions(skin.shape[:2], pts, f)
        skin = skin * (1 - cut)
    box = nonzero_box(skin > 0.3, pad=int(0.06 * f) + 2)
    if box is None:
        return None
    x0, y0, x1, y1 = box
    sub, sub_skin = work[y0:y1, x0:x1], skin[y0:y1, x0:x1]
    sub_keep = None if keep is None else keep[y0:y1, x0:x1]
    h, w = sub.shape[:2]
    ds = min(1.0, DETECT_F / max(f, 1.0))
    if ds < 1.0:
        size = (max(1, round(w * ds)), max(1, round(h * ds)))
        weight = spot_weights(cv2.resize(sub, size, interpolation=cv2.INTER_AREA),
                              cv2.resize(sub_skin, size, interpolation=cv2.INTER_AREA), f * ds,
                              None if sub_keep is None else cv2.resize(sub_keep, size, interpolation=cv2.INTER_AREA),
                              submit)
        if not weight.any():
            return None
        weight = grow_to(weight, (h, w))
    else:
        weight = spot_weights(sub, sub_skin, f, sub_keep, submit)
        if not weight.any():
            return None
    return x0, y0, weight


def heal_pad(f: float) -> int:
    """Pixels around the holes that :func:`heal_region` reads (inpaint radius + low-pass reach)."""
    return int(max(2.0, 0.012 * f) + 3 * max(0.8, 0.004 * f)) + 2


def heal_shift(f: float) -> int:
    """How far to the left of a hole :func:`heal_region` takes its grain (0.05 F)."""
    return max(2, int(round(MAX_SPOT * f)))


def heal_region(sub: np.ndarray, weight: np.ndarray, f: float, amount: float,
                submit: Callable | None = None) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """``((x0, y0, x1, y1), change inside that box of sub)`` healing the holes of ``weight``
    (same size as ``sub``, float32 RGB in [0, 1]), or None. Under each spot the skin's low-pass
    (blur at the pore scale) is inpainted (Telea) from around the spot, and the grain over it is
    the grain of a neighbouring patch (``heal_shift`` to the left), blended with the pixel's own
    grain so that the texture's variance is kept at every weight (cos/sin weights of two
    uncorrelated textures): no smooth disc, no faded ring around it. Outside the feathered hole
    nothing changes. Above F = DETECT_F the low-pass is inpainted at that scale (it is smooth;
    Telea's cost grows with hole pixels x radius^2) and upsampled into the holes. ``submit``
    (optional, an executor's ``submit``): the inpainting runs there while this thread prepares
    the grain (round 20; the same values: a task not started when needed is run here)."""
    sigma = max(0.8, 0.004 * f)
    hole = cv2.dilate((weight > 0.02).astype(np.uint8), disc(1.0))
    radius = max(2.0, 0.012 * f)
    hb = nonzero_box(hole, pad=heal_pad(f))               # all further work inside the holes' box
    if hb is None:
        return None
    hx0, hy0, hx1, hy1 = hb
    shift = heal_shift(f)
    # the box grown by ``shift`` to the left (reflected at the border): the neighbour's grain
    left = min(shift, hx0)
    ext = sub[hy0:hy1, hx0 - left:hx1]
    if left < shift:
        ext = cv2.copyMakeBorder(ext, 0, 0, shift - left, 0, cv2.BORDER_REFLECT)
    low_ext = blur(ext, sigma)
    tex_ext = ext - low_ext
    low, texture = low_ext[:, shift:], tex_ext[:, shift:]
    hole_box = hole[hy0:hy1, hx0:hx1]
    job = None if submit is None else submit(_filled, low, hole_box, radius, f)
    copied = tex_ext[:, :hx1 - hx0]                         # skin grain from a neighbour patch
    # ... as grain only: a crease, a lash or a frame edge in the source patch would be copied
    # as a mark, so the copy is limited to the grain's own robust amplitude
    cap = np.float32(GRAIN_CAP * 1.4826 * max(float(np.median(np.abs(texture[::2, ::2]))), 1e-3))
    copied = np.clip(copied, -cap, cap)
    m = weight[hy0:hy1, hx0:hx1] * np.float32(amount)
    theta = m * np.float32(np.pi / 2)
    own = texture * (np.cos(theta) - 1)[..., None]
    copied *= np.sin(theta)[..., None]
    filled = _filled(low, hole_box, radius, f) if job is None or job.cancel() else job.result()
    change = (filled - low) * m[..., None] + own + copied     # (in this order: the same sums)
    return (hx0, hy0, hx1, hy1), change


def _filled(low: np.ndarray, hole_box: np.ndarray, radius: float, f: float) -> np.ndarray:
    """The low-pass ``low`` with the holes of ``hole_box`` inpainted (Telea; above F = DETECT_F
    at that scale, upsampled into the holes)."""
    low8 = cv2.convertScaleAbs(low, alpha=255.0)
    ds = min(1.0, DETECT_F / max(f, 1.0))
    if ds < 1.0:
        bh, bw = hole_box.shape
        size = (max(1, round(bw * ds)), max(1, round(bh * ds)))
        small_hole = (cv2.resize(hole_box.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0).astype(np.uint8)
        small = cv2.inpaint(cv2.resize(low8, size, interpolation=cv2.INTER_AREA), small_hole,
                            max(2.0, radius * ds), cv2.INPAINT_TELEA)
        filled = cv2.resize(small, (bw, bh), interpolation=cv2.INTER_LINEAR).astype(np.float32) * np.float32(1 / 255)
        return np.where(hole_box[..., None] > 0, filled, low)
    return cv2.inpaint(low8, hole_box, radius, cv2.INPAINT_TELEA).astype(np.float32) * np.float32(1 / 255)


def heal_delta(work: np.ndarray, skin: np.ndarray, f: float, amount: float,
               pts: np.ndarray | None = None, excluded: Exclusions | None = None,
               submit: Callable | None = None) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """``((x0, y0, x1, y1), change inside that box)`` that heals spots, or None when there is
    nothing to heal: :func:`find_spots` then :func:`heal_region`, both on ``work``."""
    found = find_spots(work, skin, f, pts, excluded, submit)
    if found is None:
        return None
    x0, y0, weight = found
    h, w = weight.shape
    healed = heal_region(work[y0:y0 + h, x0:x0 + w], weight, f, amount, submit)
    if healed is None:
        return None
    (hx0, hy0, hx1, hy1), change = healed
    return (x0 + hx0, y0 + hy0, x0 + hx1, y0 + hy1), change

