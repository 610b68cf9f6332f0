"""Grey candidates: does the mesh sit on a face's light and shade? (:mod:`.verify`'s grey rule)

On a colourless (grey) face region :mod:`.verify` has no skin colour to test, and a printed
graphic can pass every other check: on grey copies of the no-face corpus cropped 10-80 px at a
side, the rocket's fairing with its logo (a dark oval over a "V" and two side marks, ~20 px wide
at 1080p, ~80 px on the 12 MP resize) got face meshes with presence ~1.0 and stability 0.06-0.10 F
(real faces <= 0.09 F) and was retouched. What the logo lacks is a face's shading: a face's eyes
are two dark spots with lighter skin between them (the bridge of the nose), and the line where
its lips meet is darker than its skin; the logo's "eyes" are one dark band (its bridge >= 0.65
as dark as its eyes) and its "mouth" is light paint.

Measured on the mesh: the mean luminance (Y) of squares (radius 0.03 F, >= 1 px) around the
landmarks of each part, as darkness relative to the skin (the median of the 7 cheek/forehead
landmarks of :data:`.verify.SKIN_SAMPLES`): ``(skin - part) / skin``.

* ``grey_eyes``: both eye contours and the two iris centres;
* ``grey_bridge``: between the brows and the eyes (landmarks 9, 8, 168, 6);
* ``grey_mouth``: the inner lip line.

``score = (grey_eyes - grey_bridge) + grey_mouth`` must be >= 0.12, and >= 0.30 when the bridge is
at least 0.6 as dark as the eyes (or the eyes are not darker than the skin): one dark band rather
than two eyes. Chosen on data (docs/faces.md, "Only faces", grey candidates), candidates not cut
by the frame that pass every other check: real grey faces (both heads 24-300 px on 1080p and
12 MP canvases, flat and noisy, JPEG, turned, photos scaled; LFW's real faces at 25/48/96 px),
395 candidates: bridge lighter 390, score >= 0.177 (5th percentile 0.36); dark bridge 5, >= 0.41
but one at 0.086, the one real face lost: an LFW 25 px face whose mesh sits on its cheeks (its
"eyes" read lighter than its skin). No-face (the corpus in grey, whole, JPEG'd, cropped 20/40/80 px
at each side, its edge crops; also with the detector's threshold lowered to 0.2): 69 candidates,
dark bridge 67, score <= 0.184; bridge lighter: a flat 12 MP fairing patch at 0.086 and, below
the detector's 0.4 gate only, one at 0.55. Held out (other sizes, backgrounds, gamma, JPEG q60,
20 other LFW faces; the corpus cropped 10/30/60 px and scaled 0.8x): 96 real candidates, none
lost (score >= 0.27); 25 no-face, all rejected (dark bridge, <= 0.163).

Only for grey candidates with >= 80 % of the mesh inside the frame: for a face cut further the
parts are read mirrored and the rule would lose real cut faces (16 of 146 measured); those keep
:mod:`.verify`'s own cut rules. Cut a little (80-90 % inside, the parts read mirrored like the
rest), the band clause is dropped and the score must be >= 0.12: real grey faces so cut (both
people 24-150 px cut at each side, 54 candidates) >= 0.164 (with the band clause 2 would fail:
0.22-0.23); held out, LFW faces cut at the bottom (137) >= 0.226 but one at -0.168 (lost); the
grey 1080p rocket's logo 60 px from the bottom edge (12 % outside, accepted before): -0.153 and
-0.047 (docs/faces.md, "Only faces").

:func:`shading` measures the same three darknesses on colour candidates (round 16: judged by
:mod:`.verify_signs`' ``one-band``), faster: one YCrCb conversion and an integral image instead of a
conversion per square (0.2 against 0.5 ms a candidate; identical values).
"""

from __future__ import annotations

import cv2
import numpy as np

from . import verify_squares

__all__ = ["grey_measures", "grey_structure_fails", "shading"]

EYES = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246,
        263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466, 468, 473)
BRIDGE = (9, 8, 168, 6)
MOUTH = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95)
SKIN = (50, 280, 151, 205, 425, 117, 346)      # = verify.SKIN_SAMPLES

MIN_INSIDE = 0.8              # of the mesh inside the frame for the rule to apply ...
UNCUT_INSIDE = 0.9            # ... and from here on not cut (= verify.CUT_INSIDE): the band clause applies
MIN_GREY_FACE = 0.12          # (eyes - bridge) + mouth darkness, relative to the skin
MIN_GREY_FACE_BAND = 0.30     # ... when the bridge is this dark relative to the eyes:
BAND_RATIO = 0.6              # (one dark band, not two eyes)


def _mirror(v: float, n: int) -> int:
    """Pixel index ``v`` reflected into [0, n) like ``BORDER_REFLECT_101`` (the mirrored border
    the landmark model saw for a face cut by the frame; verify.py uses this one too)."""
    i = int(round(float(v)))
    if n < 2:
        return 0
    period = 2 * (n - 1)
    i %= period
    return i if i < n else period - i


def grey_measures(rgb: np.ndarray, pts: np.ndarray, f: float) -> dict[str, float]:
    """Darkness of the eyes, of the bridge between them and of the mouth line relative to the
    skin (``pts``: landmarks in the pixels of ``rgb``, ``f`` the cheek width there). Round 21: read
    like :func:`shading` (one conversion, an integral image; identical values to a conversion per square)."""
    eyes, bridge, mouth = _darkness(rgb, pts, f)
    return {"grey_eyes": eyes, "grey_bridge": bridge, "grey_mouth": mouth}


def grey_structure_fails(checks: dict[str, float]) -> bool:
    """True when the grey measures of :func:`grey_measures` do not show a face's shading."""
    if "grey_eyes" not in checks:
        return False
    eyes, bridge = checks["grey_eyes"], checks["grey_bridge"]
    score = eyes - bridge + checks["grey_mouth"]
    if checks.get("inside", 1.0) < UNCUT_INSIDE:      # cut a little: parts partly read mirrored
        return score < MIN_GREY_FACE
    band = eyes <= 0.02 or bridge >= BAND_RATIO * eyes
    return score < (MIN_GREY_FACE_BAND if band else MIN_GREY_FACE)


def _mirror_v(v: np.ndarray, n: int) -> np.ndarray:
    """:func:`_mirror` of an array of coordinates (rounded half to even like ``round``)."""
    i = np.round(v.astype(np.float64)).astype(np.int64)
    if n < 2:
        return np.zeros_like(i)
    period = 2 * (n - 1)
    i = np.mod(i, period)
    return np.where(i < n, i, period - i)


def shading(rgb: np.ndarray, pts: np.ndarray, f: float) -> dict[str, float]:
    """:func:`grey_measures` for a colour candidate: ``shade_eyes``, ``shade_bridge``, ``shade_mouth``
    (darkness relative to the skin, as ``grey_eyes`` etc.), judged by :mod:`.verify_signs`' ``one-band``."""
    eyes, bridge, mouth = _darkness(rgb, pts, f)
    return {"shade_eyes": eyes, "shade_bridge": bridge, "shade_mouth": mouth}


_SHADED = np.array([i for g in (SKIN, EYES, BRIDGE, MOUTH) for i in g])


def _darkness(rgb: np.ndarray, pts: np.ndarray, f: float) -> tuple[float, float, float]:
    """(eyes, bridge, mouth) darkness relative to the skin, in one pass: one YCrCb conversion of the
    region the squares cover, the squares' means from its integral image (squares outside the frame
    read mirrored; square by square when the region is mostly between them:
    :func:`.verify_squares.luma_sums`)."""
    h, w = rgb.shape[:2]
    r = max(1, int(round(0.03 * f)))
    groups = (SKIN, EYES, BRIDGE, MOUTH)
    near = np.round(pts[_SHADED, :2].astype(np.float64)).astype(np.int64)
    if near.min() >= 0 and near[:, 0].max() < w and near[:, 1].max() < h:
        xy = near                                  # in the frame: nothing to mirror
    else:
        xy = np.stack([_mirror_v(pts[_SHADED, 0], w), _mirror_v(pts[_SHADED, 1], h)], axis=1)
    total, area = verify_squares.luma_sums(rgb, xy, r, cv2.COLOR_RGB2YCrCb)
    mean = total / np.maximum(area, 1)
    n = np.cumsum([0] + [len(g) for g in groups])
    skin = float(verify_squares.median(mean[n[0]:n[1]]))
    k = max(skin, 1.0)
    return (float((skin - mean[n[1]:n[2]].mean()) / k), float((skin - mean[n[2]:n[3]].mean()) / k),
            float((skin - mean[n[3]:n[4]].mean()) / k))
