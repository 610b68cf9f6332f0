"""Drawn faces are discs: the outline of an emoji or a button hugs the landmark mesh as a circle (issue
#12, point 1; docs/faces.md, "Only faces", round 19).

A drawn face (a smiley, an emoji, a sewing button) is a filled disc with its features drawn inside, and
the landmark model fits its mesh to the disc: the disc's rim is where the mesh's oval is. A real face has
no such rim: its outline is a jaw against a neck of the same skin, a forehead running into hair, ears,
a background that changes along it. :func:`disc` looks along 72 rays from the mesh's centre, 0.4-1.3 F
out (F: the cheek width), for the strongest luminance edge on each, fits a circle to those 72 points
(least squares, then again on the points within 0.1 r of the first fit) and returns the share of rays
whose edge lies within 0.06 r of the circle (``disc``), the circle's radius (``disc_r``) and its
centre's distance from the mesh's (``disc_off``), both in F.

Measured (round 19) on round 18's collection (every accepted candidate of 1ae2d16 on the drawn sets,
bench/faces_real.py angles and edges colour/grey 40/96/300 px, the tests' faces: /tmp/s18/drawn/col),
in the same upright window :mod:`.verify_drawn` shows the selfie model (4 F, F <= 64 px):

* real faces with their mesh in the frame: colour <= 0.43 (1350), grey <= 0.46 (252; LFW's crops pasted
  square on a flat canvas are the highest); with a circle of a drawn face's shape (radius 0.45-0.8 F,
  centre within 0.15 F of the mesh's) colour <= 0.36 (707), grey <= 0.46 (179);
* drawn candidates in the frame (29, both drawn sets): 0.78-1.0 for 22; the rest are emoji touching
  another (0.15-0.40, their circles off the mesh) and a button whose holes make a mesh half its size
  (1.0 on a circle 1.04 F wide: beyond the shape, where a real face cropped to a circle could be).

Rule (:func:`.verify_signs.second_signs`, ``disc``): a candidate in the frame with ``disc`` >= 0.6 on a
circle of that shape is drawn **if its fill is drawn too**: skin patches of nearly one tone (``skin_tones``
< 0.3) or "lips" darker than a face's (``lip_y`` < 0.75). Colour and grey alike (the selfie model is blind
in grey). The second clause keeps a real face cropped to a circle (an avatar): Grace Hopper cut to a circle
0.6-0.8 F wide on a flat ground reads disc 0.85-0.94 on a circle 0.62-0.80 F, but her tones >= 0.36 and
lips >= 0.82 (colour and grey, 40-150 px); the drawn ones the disc catches: tones <= 0.35 and lips <= 0.78
but two, each with the other sign (held-emoji-12-q35, tones 0.345 and lips 0.914, is lost to it).
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["MIN_DISC", "disc", "is_disc"]

MIN_DISC = 0.6            # the share of rays whose strongest edge lies on one circle
DISC_R = (0.45, 0.8)      # ... a circle this wide (radius in F): the mesh's own oval
MAX_DISC_OFF = 0.15       # ... centred this close to the mesh (F)
RAYS = 72
STEPS = 40
REACH = (0.4, 1.3)        # each ray from / to (F)
DRAWN_TONES = 0.3         # ... and a drawn fill: skin patches this close to one tone
DRAWN_LIP_Y = 0.75        # ... or "lips" this dark relative to the skin (real faces p5 0.825)
ON_CIRCLE = 0.06          # an edge point within this x r of the circle supports it
REFIT = 0.1               # the second fit: the points within this x r of the first
FRAME_MARGIN = 1.0        # round 20: a window point this close to the frame's edge (image px) counts as beyond it
RING = (0.82, 0.86, 0.9, 0.93)   # ... the fill just inside the circle: these radii (x r) ...
SECTORS = 24              # ... in this many sectors
MAX_FLAT = 0.25           # ... whose medians spread less than this (x their median): a drawn fill
FLAT_R = 1.1              # ... on a circle up to this wide (F: a button whose holes make a mesh smaller than it)
MIN_RAYS = 30             # ... seen on this many rays in the frame (of 72)
RIM_PEAK = 0.5            # the rim: each ray's outermost local maximum of the edge at least this x its strongest
MAX_FLATTER = 0.15        # ... or a ring flatter than this (real faces >= 0.31 there) ...
MIN_DISC_FLATTER = 0.35   # ... on this share of the rays ...
MAX_OFF_FLATTER = 0.5     # ... on a circle centred up to this far off the mesh (F)


def _circle(xy: np.ndarray) -> tuple[float, float, float]:
    """Least-squares circle (algebraic fit): centre x, y and radius."""
    x, y = xy[:, 0], xy[:, 1]
    a = np.c_[2 * x, 2 * y, np.ones(len(x))]
    sol = np.linalg.lstsq(a, x * x + y * y, rcond=None)[0]
    cx, cy = float(sol[0]), float(sol[1])
    return cx, cy, float(np.sqrt(max(float(sol[2]) + cx * cx + cy * cy, 1e-9)))


def _in_frame(xs: np.ndarray, ys: np.ndarray, frame: tuple[np.ndarray, tuple[int, int]] | None) -> np.ndarray:
    """Which window points (``xs``, ``ys``) show the image itself, not its mirror beyond the frame
    (``frame``: the window-to-image affine and the image's height and width; None: all)."""
    if frame is None:
        return np.ones(xs.shape, bool)
    back, (h, w) = frame
    bx = back[0, 0] * xs + back[0, 1] * ys + back[0, 2]
    by = back[1, 0] * xs + back[1, 1] * ys + back[1, 2]
    return (bx >= FRAME_MARGIN) & (by >= FRAME_MARGIN) & (bx <= w - 1 - FRAME_MARGIN) & (by <= h - 1 - FRAME_MARGIN)


def _flat(grey: np.ndarray, cx: float, cy: float, r: float,
          frame: tuple[np.ndarray, tuple[int, int]] | None) -> float:
    """The spread of the fill just inside the circle: 24 sectors of the ring 0.82-0.93 r (the luminance's
    median of each, points in the frame only), (p90 - p10) / median; 9.0 when fewer than 6 sectors show."""
    angles = np.linspace(0, 2 * np.pi, RAYS, endpoint=False)
    radii = r * np.array(RING)
    xs = cx + radii[None, :] * np.cos(angles)[:, None]
    ys = cy + radii[None, :] * np.sin(angles)[:, None]
    h, w = grey.shape
    ok = (xs >= 0) & (ys >= 0) & (xs <= w - 1) & (ys <= h - 1) & _in_frame(xs, ys, frame)
    v = cv2.remap(grey, xs.astype(np.float32), ys.astype(np.float32), cv2.INTER_LINEAR)
    v = np.sort(np.where(ok, v, np.inf).reshape(SECTORS, -1), axis=1)    # each sector's points in the frame first
    n = ok.reshape(SECTORS, -1).sum(axis=1)
    shown = n >= 4
    if shown.sum() < 6:
        return 9.0
    v, n, rows = v[shown], n[shown], np.arange(int(shown.sum()))
    m = (v[rows, (n - 1) // 2] + v[rows, n // 2]) / 2       # each sector's median
    return float((np.percentile(m, 90) - np.percentile(m, 10)) / max(float(np.median(m)), 1.0))


def _fit(xs: np.ndarray, ys: np.ndarray, best: np.ndarray) -> tuple[float, float, float, float]:
    """The circle through each ray's chosen point (``best``: its index on the ray): centre, radius and the
    share of the points within ON_CIRCLE x r of it (least squares, refit on the points within REFIT x r)."""
    pick = np.arange(len(best))
    pts = np.c_[xs[pick, best], ys[pick, best]]
    cx, cy, r = _circle(pts)
    d = np.abs(np.hypot(pts[:, 0] - cx, pts[:, 1] - cy) - r)
    near = d <= REFIT * r
    if near.sum() >= 10:
        cx, cy, r = _circle(pts[near])
        d = np.abs(np.hypot(pts[:, 0] - cx, pts[:, 1] - cy) - r)
    return cx, cy, r, float((d <= ON_CIRCLE * r).mean())


def disc(window: np.ndarray, mesh: np.ndarray,
         frame: tuple[np.ndarray, tuple[int, int]] | None = None) -> dict[str, float]:
    """``{"disc", "disc_r", "disc_off", "disc_rays", "disc_flat", "rim", "rim_r", "rim_off", "rim_flat"}`` for a
    candidate shown upright in ``window`` (RGB) with its 468+ mesh points ``mesh`` in the window's pixels
    (:func:`.verify_drawn.upright`). ``disc*``: the circle through each ray's strongest edge; ``rim*``
    (round 20): through each ray's outermost edge at least RIM_PEAK x its strongest (a button's rim beyond
    its holes, an emoji's beyond its eyes); ``*_flat``: :func:`_flat` of that circle. ``frame`` (round 20):
    the window-to-image affine and the image's (h, w); ray points beyond the frame (the window's mirrored
    border) are not looked at, and a ray needs 5 of its 40 points in the frame (``disc_rays`` of 72)."""
    f = float(np.linalg.norm(mesh[234, :2] - mesh[454, :2])) or 1.0
    grey0 = cv2.cvtColor(np.ascontiguousarray(window[..., :3]), cv2.COLOR_RGB2GRAY).astype(np.float32)
    grey = cv2.GaussianBlur(grey0, (0, 0), max(0.7, f / 64))
    mag = np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
    centre = mesh[:468, :2].astype(np.float64).mean(axis=0)
    angles = np.linspace(0, 2 * np.pi, RAYS, endpoint=False)
    radii = np.linspace(REACH[0] * f, REACH[1] * f, STEPS)
    xs = centre[0] + radii[None, :] * np.cos(angles)[:, None]
    ys = centre[1] + radii[None, :] * np.sin(angles)[:, None]
    h, w = mag.shape
    ok = (xs >= 0) & (ys >= 0) & (xs < w - 1) & (ys < h - 1) & _in_frame(xs, ys, frame)
    v = np.where(ok, cv2.remap(mag, xs.astype(np.float32), ys.astype(np.float32), cv2.INTER_LINEAR), -1.0)
    rays = ok.sum(axis=1) >= 5
    if rays.sum() < 10:
        return {"disc": 0.0, "disc_r": 0.0, "disc_off": 0.0, "disc_rays": float(rays.sum()), "disc_flat": 9.0,
                "rim": 0.0, "rim_r": 0.0, "rim_off": 0.0, "rim_flat": 9.0}
    xs, ys, v = xs[rays], ys[rays], v[rays]
    out = {"disc_rays": float(rays.sum())}
    peak = np.zeros(v.shape, bool)
    peak[:, 1:-1] = (v[:, 1:-1] >= v[:, :-2]) & (v[:, 1:-1] >= v[:, 2:])
    peak[:, -1] = v[:, -1] >= v[:, -2]
    strong = peak & (v >= RIM_PEAK * v.max(axis=1, keepdims=True))
    outer = STEPS - 1 - np.argmax(strong[:, ::-1], axis=1)
    for name, best in (("disc", np.argmax(v, axis=1)), ("rim", outer)):
        cx, cy, r, share = _fit(xs, ys, best)
        out.update({name: share, f"{name}_r": r / f, f"{name}_off": float(np.hypot(cx - centre[0], cy - centre[1])) / f,
                    f"{name}_flat": _flat(grey0, cx, cy, r, frame)})
    return out


def _flat_rim(share: float, r: float, off: float, flat: float) -> bool:
    """A circle whose inner ring is one tone: on most rays and hugging the mesh, or flatter still on fewer
    rays and further off (the mesh of an emoji cut by the frame is fitted to it and its mirror image)."""
    return DISC_R[0] <= r <= FLAT_R and ((share >= MIN_DISC and off <= MAX_DISC_OFF and flat < MAX_FLAT)
                                         or (share >= MIN_DISC_FLATTER and off <= MAX_OFF_FLATTER
                                             and flat < MAX_FLATTER))


def is_disc(checks: dict[str, float], cut: bool = False) -> bool:
    """The candidate's strongest edges around it make one circle of a drawn face's shape, and its fill is
    drawn (one tone, or dark "lips") -- candidates in the frame (not ``cut``); or (round 20, cut or not,
    seen on enough rays in the frame) the ring just inside the circle of its strongest or of its outermost
    edges is one tone (:func:`_flat_rim`)."""
    share, off, r = checks.get("disc", 0.0), checks.get("disc_off", 1.0), checks.get("disc_r", 0.0)
    if (not cut and share >= MIN_DISC and off <= MAX_DISC_OFF and DISC_R[0] <= r <= DISC_R[1]
            and (checks.get("skin_tones", 1.0) < DRAWN_TONES or checks.get("lip_y", 1.0) < DRAWN_LIP_Y)):
        return True
    if checks.get("disc_rays", 0.0) < MIN_RAYS:
        return False
    return any(_flat_rim(checks.get(k, 0.0), checks.get(f"{k}_r", 0.0), checks.get(f"{k}_off", 1.0),
                         checks.get(f"{k}_flat", 9.0)) for k in ("disc", "rim"))
