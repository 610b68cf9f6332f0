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


def _circle(xy: np.ndarray) -> tuple[float, float, float]:
    """Least-squares circle (algebraic fit): centre x, y and radius."""
    x, y = xy[:, 0], xy[:, 1]
    a = np.c_[2 * x, 2 * y, np.ones(len(x))]
    sol = np.linalg.lstsq(a, x * x + y * y, rcond=None)[0]
    cx, cy = float(sol[0]), float(sol[1])
    return cx, cy, float(np.sqrt(max(float(sol[2]) + cx * cx + cy * cy, 1e-9)))


def disc(window: np.ndarray, mesh: np.ndarray) -> dict[str, float]:
    """``{"disc", "disc_r", "disc_off"}`` for a candidate shown upright in ``window`` (RGB) with its 468+
    mesh points ``mesh`` in the window's pixels (:func:`.verify_drawn.upright`)."""
    f = float(np.linalg.norm(mesh[234, :2] - mesh[454, :2])) or 1.0
    grey = cv2.cvtColor(np.ascontiguousarray(window[..., :3]), cv2.COLOR_RGB2GRAY).astype(np.float32)
    grey = cv2.GaussianBlur(grey, (0, 0), max(0.7, f / 64))
    mag = np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
    centre = mesh[:468, :2].astype(np.float64).mean(axis=0)
    angles = np.linspace(0, 2 * np.pi, RAYS, endpoint=False)
    radii = np.linspace(REACH[0] * f, REACH[1] * f, STEPS)
    xs = centre[0] + radii[None, :] * np.cos(angles)[:, None]
    ys = centre[1] + radii[None, :] * np.sin(angles)[:, None]
    h, w = mag.shape
    ok = (xs >= 0) & (ys >= 0) & (xs < w - 1) & (ys < h - 1)
    v = np.where(ok, cv2.remap(mag, xs.astype(np.float32), ys.astype(np.float32), cv2.INTER_LINEAR), -1.0)
    rays = ok.sum(axis=1) >= 5
    if rays.sum() < 10:
        return {"disc": 0.0, "disc_r": 0.0, "disc_off": 0.0}
    best = np.argmax(v, axis=1)[rays]
    pick = np.arange(len(best))
    pts = np.c_[xs[rays][pick, best], ys[rays][pick, best]]
    cx, cy, r = _circle(pts)
    d = np.abs(np.hypot(pts[:, 0] - cx, pts[:, 1] - cy) - r)
    near = d <= REFIT * r
    if near.sum() >= 10:
        cx, cy, r = _circle(pts[near])
        d = np.abs(np.hypot(pts[:, 0] - cx, pts[:, 1] - cy) - r)
    return {"disc": float((d <= ON_CIRCLE * r).mean()), "disc_r": r / f,
            "disc_off": float(np.hypot(cx - centre[0], cy - centre[1])) / f}


def is_disc(checks: dict[str, float]) -> bool:
    """The candidate's strongest edges around it make one circle of a drawn face's shape, and its fill is
    drawn (one tone, or dark "lips")."""
    return (checks.get("disc", 0.0) >= MIN_DISC and DISC_R[0] <= checks.get("disc_r", 0.0) <= DISC_R[1]
            and checks.get("disc_off", 1.0) <= MAX_DISC_OFF
            and (checks.get("skin_tones", 1.0) < DRAWN_TONES or checks.get("lip_y", 1.0) < DRAWN_LIP_Y))
