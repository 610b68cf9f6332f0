"""One eye hidden (a lock of hair, an eye patch): a face whose eye, bridge and forehead on one side
lie under a dark cover fails :mod:`.verify_signs`' ``one-band`` (the cover darkens the bridge as
much as the "eyes") or :mod:`.verify`'s skin rule (the forehead and under-eye patches lie on the
cover: chroma spread up to 42). This module judges such a candidate on its other side.

Measured on the mesh (squares of radius 0.03 F around landmarks, luminance as darkness relative to
the skin of the visible cheeks, like :func:`.verify_grey.shading`):

* ``hide_eye`` / ``show_eye``: the darker and the lighter eye (contour and iris);
* ``hide_iris`` / ``show_iris``: their iris centres (a visible eye has an iris darker than its
  contour, a covered one does not);
* ``show_skin`` / ``show_spread``: the skin-locus share and chroma spread (radius 0.05 F, like
  :mod:`.verify`) of the five skin patches off the cover (the cheeks, the lower cheeks and the
  visible eye's under-eye patch: :mod:`.verify`'s seven but the forehead and the hidden
  under-eye one).

:func:`wanted`: a colour candidate, uncut, presence >= 0.95, lips in view and red, one eye under a
dark cover without an iris of its own, the other eye a real one (contour darker than the cheeks, iris
darker than the contour but not as a drawn eye's white contour makes it), the patches off the cover
skin of one colour. It makes :func:`.verify.needs_stability` ask for the stability test (through
:func:`.verify_occluded.wanted`). :func:`forgive` then drops ``one-band`` and ``skin`` (nothing else)
when the mesh holds (<= 0.09 F, view >= 0.85).

Measured (round 18, docs/faces.md "Occluded faces"): the hair-over-one-eye cases (both heads 64/128/256
px on the motorcycle, a dark lock from the forehead over one eye and the bridge, JPEG q90): hide_eye
0.73-0.83, hide_iris - hide_eye <= 0.05, show_eye 0.36-0.52, show_iris - show_eye 0.18-0.29, lips
5.6-8.6, show_spread 2.4-4.4, stability 0.040-0.083 F, view 1.0: 6/6 found (0/6 before); a mid-brown lock
over Hopper: hide_eye 0.49-0.51. Round 14's cartoon faces with such a lock and noise (which passes
``drawn``): show_eye -0.64..0.16, show_iris - show_eye 0.47-0.99. No candidate of nofaces_drawn (162 +
60 held out), nofaces_crops or bench/faces_real.py (colour) meets :func:`wanted`.
"""

from __future__ import annotations

import cv2
import numpy as np

from . import verify_squares

__all__ = ["measures", "wanted", "forgive"]

R_EYE = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246, 468)
L_EYE = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466, 473)
CHEEKS = (50, 280, 205, 425)          # verify.SKIN_SAMPLES off the eyes and the forehead
UNDER = (117, 346)                    # ... under the right / left eye
CR_RANGE = (128.0, 185.0)             # :mod:`.verify`'s skin locus
CB_RANGE = (70.0, 132.0)

# thresholds (chosen on data: docs/faces.md, "Occluded faces", round 18)
MIN_PRESENCE = 0.95
MIN_HIDE = 0.45        # the hidden eye this much darker than the cheeks (the cover; a mid-brown lock over Hopper: 0.49-0.51) ...
MAX_HIDE_IRIS = 0.1    # ... with no iris darker than the rest of it (iris - contour) ...
MIN_SHOW_IRIS = 0.12   # ... and the other eye an iris darker than its contour by this ...
MAX_SHOW_IRIS = 0.4    # ... but not by more: a drawn eye's contour is its white (cartoons 0.47-0.99, real 0.18-0.32) ...
MIN_SHOW_EYE = 0.2     # ... its contour (lids, lashes) this much darker than the cheeks (cartoons <= 0.16, real >= 0.36)
MIN_LIP_CR = 2.0       # lips visible and red (= verify.MIN_LIP_CR)
MIN_SHOW_SKIN = 0.95   # the patches off the cover: skin ...
MAX_SHOW_SPREAD = 25.0  # ... of one person's chroma (= verify.MAX_CHROMA_SPREAD)
MAX_INSTABILITY = 0.09  # the stability test always runs: the mesh holds ...
MIN_VIEW = 0.85        # ... and the view is sure of a face
FORGIVEN = frozenset({"one-band", "skin"})


def _luma(rgb: np.ndarray, xy: np.ndarray, r: int) -> np.ndarray:
    """Mean luminance (BT.601, as YCrCb's Y) of the (2r+1)^2 square around each point of ``xy``
    (clipped to the frame; NaN for a square wholly outside), from one integral image of the region
    the squares cover (~0.06 ms for 38 squares on a 190 px face; square by square on a face so large
    that the region is mostly between them: :func:`.verify_squares.luma_sums`)."""
    total, area = verify_squares.luma_sums(rgb, np.rint(xy).astype(np.int64), r, cv2.COLOR_RGB2GRAY)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(area > 0, total / area, np.nan)


def measures(rgb: np.ndarray, pts: np.ndarray, f: float, squares: verify_squares.Squares | None = None) -> dict[str, float]:
    """The one-side measures of a colour candidate with both eyes in the frame (``pts`` in ``rgb``'s
    pixels, ``f`` its cheek width; ``squares``: the candidate's squares read so far, :mod:`.verify_squares`).
    The skin patches are read only when one eye is dark enough (:data:`MIN_HIDE`): ``show_skin`` 0 otherwise."""
    r3 = max(1, int(round(0.03 * f)))
    lumas = _luma(rgb, pts[list(CHEEKS + R_EYE + L_EYE)], r3)
    cheeks, eyes = lumas[:len(CHEEKS)], lumas[len(CHEEKS):]
    if np.isnan(lumas).any():
        return {}                  # a square outside the frame: a cut face, not judged here
    skin = float(verify_squares.median(cheeks))
    dark = (skin - eyes) / max(skin, 1.0)
    sides = (dark[:len(R_EYE)], dark[len(R_EYE):])
    means = [float(e.mean()) for e in sides]
    hide = int(means[1] > means[0])
    show = 1 - hide
    out = {"hide_eye": means[hide], "show_eye": means[show], "hide_iris": float(sides[hide][-1]),
           "show_iris": float(sides[show][-1]), "show_skin": 0.0, "show_spread": 99.0}
    if means[hide] < MIN_HIDE:
        return out
    sq = squares if squares is not None else verify_squares.Squares(rgb)
    r5 = max(1, int(round(0.05 * f)))
    boxes = [b for i in CHEEKS + (UNDER[show],)
             if (b := sq.box(int(round(float(pts[i][0]))), int(round(float(pts[i][1]))), r5)) is not None]
    if len(boxes) < 4:
        return out
    patches = [sq.ycc(b) for b in boxes]
    chroma = verify_squares.means(patches)[:, 1:]
    out.update(show_skin=verify_squares.share_in_range(verify_squares.pixels(patches), CR_RANGE, CB_RANGE),
               show_spread=float(np.max(np.linalg.norm(chroma - verify_squares.median0(chroma), axis=1))))
    return out


def wanted(checks: dict[str, float]) -> bool:
    """The candidate is judged as a face with one eye hidden: a colour face, not cut, sure presence,
    one eye under a dark cover without an iris, the other a dark iris in a lighter eye, red lips
    and skin of one colour off the cover."""
    return (not checks.get("grey", 0.0) and checks.get("inside", 1.0) >= 0.9 and "hide_eye" in checks
            and checks["presence"] >= MIN_PRESENCE and checks.get("lips_inside", 1.0) >= 1.0
            and checks["hide_eye"] >= MIN_HIDE and checks["hide_iris"] - checks["hide_eye"] <= MAX_HIDE_IRIS
            and MIN_SHOW_IRIS <= checks["show_iris"] - checks["show_eye"] <= MAX_SHOW_IRIS
            and MIN_SHOW_EYE <= checks["show_eye"] < checks["hide_eye"]
            and checks["lip_cr"] >= MIN_LIP_CR
            and checks["show_skin"] >= MIN_SHOW_SKIN and checks["show_spread"] <= MAX_SHOW_SPREAD)


def forgive(checks: dict[str, float], why: list[str]) -> list[str]:
    """``why`` without ``one-band`` and ``skin`` for a face with one eye hidden
    (:func:`wanted`) whose mesh holds in the stability test. Before the test is measured the
    reasons are forgiven too: :func:`wanted` makes :func:`.verify.needs_stability` ask for it, and
    the candidate is judged again with it (:func:`.detection.landmarks._face_try`)."""
    if (not why or not set(why) <= FORGIVEN or not wanted(checks)
            or checks.get("stability", 0.0) > MAX_INSTABILITY or checks.get("stability_presence", 1.0) < MIN_VIEW):
        return why
    return []
