"""Occluded faces: a face whose lower part is hidden (a surgical mask, the row in front in a
class photo, a cup) fails :mod:`.verify`'s skin rule only because its cheek and lip patches lie
on the occluder. This module judges such a candidate on its visible upper part.

Measured on the mesh (squares of radius 0.05 F around landmarks, YCrCb, like :mod:`.verify`):

* ``up_skin``: the fraction of skin-locus pixels on the forehead and between the brows
  (:data:`UPPER`), ``up_spread`` their chroma spread, ``up_texture`` their median luminance std;
* ``low_skin``: the same fraction over the nose tip, mouth, chin and lower cheeks (:data:`LOWER`);
* ``up_eye_dark``: the irises' darkness relative to the upper skin's luminance.

:func:`forgive` then drops the skin-family reasons of a candidate when its upper face is skin
all over and its lower face is not skin (hidden): see the thresholds below and docs/faces.md,
"Occluded faces".
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np

from . import verify_hair, verify_squares

__all__ = ["measures", "forgive", "masked", "wanted", "second_views"]

UPPER = (151, 108, 337, 9)                 # forehead centre and sides, between the brows
LOWER = (4, 164, 0, 17, 152, 205, 425, 50, 280)   # nose tip, under the nose, lips, chin, lower cheeks
CR_RANGE = (128.0, 185.0)                  # :mod:`.verify`'s skin locus
CB_RANGE = (70.0, 132.0)

# thresholds (chosen on data: docs/faces.md, "Occluded faces")
MIN_PRESENCE = 0.95
MIN_UP_SKIN = 0.95
MAX_UP_SPREAD = 12.0
MIN_UP_TEXTURE = 8.0             # real masked faces >= 9.0 measured; skin blobs <= 4.1, drawn masked faces with noise <= 6.6
MAX_LOW_MATCH = 0.5           # lower-face pixels of the upper skin's chroma (within MATCH_CHROMA)
MATCH_CHROMA = 10.0
MIN_UP_EYE_DARK = 0.2
MAX_INSTABILITY = 0.10
FORGIVEN = frozenset({"skin", "flat", "one-tone", "doubtful-skin"})
MIN_UP_SKIN_LOOSE = 0.99       # verify_signs.MIN_SKIN_LOOSE, on the visible (upper) patches
SECOND_FROM = 0.07             # a masked face's mesh moving more than this (verify_signs.LOOSE_VIEW) in the
                               # stability view (turned 25 degrees) ...
SECOND_TURNS = (15.0, -15.0)   # ... is looked at through views turned this much both ways instead (both must
                               # hold): with the nose and mouth hidden the landmark model loses a dark-masked
                               # face turned 25 degrees (presence 0.00-0.33 on 12 of 12 black/navy masks),
                               # 10 of 12 not at 15 (docs/faces.md, "Occluded faces")
TIGHT_TURNS = (10.0, -10.0)    # round 18: one of those lost, views turned this much and not enlarged ...
TIGHT_ZOOM = 1.0               # ... (the astronaut's dark-masked face is lost enlarged 1.15x turned +5..+25,
                               # and 1.3x unturned; at 1.0x +-10 it moves 0.016-0.030 F, presence >= 0.98) ...
MAX_TIGHT = 0.06               # ... must both move less than this (the drawn box over a black band: 0.096 F
MIN_TIGHT_VIEW = 0.9           # at +10, presence 0.81) and see a face this sure


def _boxes(sq: verify_squares.Squares, pts: np.ndarray, idx: tuple[int, ...], r: int) -> list[tuple[int, int, int, int]]:
    """The squares around ``idx`` (radius ``r``) that are in the frame (read where they are, not mirrored)."""
    return [b for i in idx if (b := sq.box(int(round(float(pts[i][0]))), int(round(float(pts[i][1]))), r)) is not None]


def measures(rgb: np.ndarray, pts: np.ndarray, f: float, squares: verify_squares.Squares | None = None) -> dict[str, float]:
    """The occlusion measures of one candidate (``pts`` in ``rgb``'s pixels, ``f`` its cheek width; ``squares``:
    the candidate's squares read so far, :mod:`.verify_squares`)."""
    sq = squares if squares is not None else verify_squares.Squares(rgb)
    r = max(1, int(round(0.05 * f)))
    up = [sq.ycc(b) for b in _boxes(sq, pts, UPPER, r)]
    low = [sq.ycc(b) for b in _boxes(sq, pts, LOWER, r)]
    if len(up) < len(UPPER) or len(low) < len(LOWER) // 2:
        return {"up_skin": 0.0, "low_skin": 1.0, "low_match": 1.0, "up_spread": 99.0, "up_texture": 0.0, "up_eye_dark": 0.0}
    means = verify_squares.means(up)
    centre = verify_squares.median0(means[:, 1:])
    irises = [sq.ycc(b) for b in _boxes(sq, pts, (468, 473), max(1, int(round(0.015 * f))))]
    skin_y = float(verify_squares.median(means[:, 0]))
    iris_y = verify_squares.pooled_y_mean(irises) if irises else skin_y
    low_px = verify_squares.pixels(low)
    return {**verify_hair.measures(rgb, pts, f, sq),
            "up_skin": verify_squares.share_in_range(verify_squares.pixels(up), CR_RANGE, CB_RANGE),
            "up_spread": float(np.max(np.linalg.norm(means[:, 1:] - centre, axis=1))),
            "up_texture": float(verify_squares.median(verify_squares.y_std(up))),
            "low_skin": verify_squares.share_in_range(low_px, CR_RANGE, CB_RANGE),
            "low_match": verify_squares.share_near(low_px, centre, MATCH_CHROMA),
            "up_eye_dark": (skin_y - iris_y) / max(skin_y, 1.0)}


def wanted(checks: dict[str, float], why: list[str] | None = None) -> bool:
    """The candidate is judged as occluded (it gets the stability test): one eye hidden
    (:func:`.verify_hair.wanted`), or its lower face hidden (:func:`masked`) and a reason to
    forgive (``why``: :func:`.verify.reasons` before forgiveness; None: not known). A face that
    passes every check as it is needs no forgiving, so no stability view for the mask: Grace
    Hopper's bare face reads as masked (``low_match`` 0.34-0.41, real masks <= 0.05) and paid a
    landmark call and verify_drawn's selfie measure on each of its faces in the 12 MP group."""
    return verify_hair.wanted(checks) or (masked(checks) and (why is None or bool(why)))


def masked(checks: dict[str, float]) -> bool:
    """The candidate is judged as masked: a colour face, not cut, sure presence, its lower
    face not skin and its upper face skin all over."""
    return (not checks.get("grey", 0.0) and checks.get("inside", 1.0) >= 0.9
            and checks["presence"] >= MIN_PRESENCE and "up_skin" in checks
            and checks["low_match"] <= MAX_LOW_MATCH and checks["up_skin"] >= MIN_UP_SKIN
            and checks["up_spread"] <= MAX_UP_SPREAD and checks["up_texture"] >= MIN_UP_TEXTURE
            and checks["up_eye_dark"] >= MIN_UP_EYE_DARK)


def forgive(checks: dict[str, float], why: list[str]) -> list[str]:
    """``why`` (:func:`.verify.reasons`) without the skin-family reasons when the candidate is an
    occluded face (:func:`wanted`) whose mesh holds (stability <= MAX_INSTABILITY once measured).
    :mod:`.verify_signs`' ``loose-skin`` (a mesh moving > 0.08 F on skin patches not all skin)
    is judged on the visible patches: forgiven when they are skin all over (>= MIN_UP_SKIN_LOOSE,
    verify_signs' own 0.99), as a masked face's lower patches are the mask."""
    why = verify_hair.forgive(checks, why)
    forgivable = FORGIVEN | ({"loose-skin"} if checks.get("up_skin", 0.0) >= MIN_UP_SKIN_LOOSE else set())
    if not why or not set(why) <= forgivable or not masked(checks):
        return why
    if checks.get("stability", 0.0) > MAX_INSTABILITY:
        return why
    return [w for w in why if w not in forgivable]


def second_views(checks: dict[str, float], view: Callable[..., tuple[float, float]]) -> None:
    """A candidate judged as occluded (:func:`wanted`) whose mesh moved more than SECOND_FROM in the
    stability view is looked at through ``view(degrees)`` (:func:`.detection.landmarks._stability`
    turned ``degrees``, -> (shift, presence)) at each of SECOND_TURNS: both must hold, so the larger
    shift (with the lesser presence) replaces ``checks``' stability when it is smaller. The
    candidate must still pass every rule on it (a drawn skin box with two dots over a black band,
    noise sigma 10: 0.061 F turned -15 degrees, 0.156 F turned +15; the no-face corpus's two
    candidates judged as occluded, the motorcycle photo cropped: lost at +15).

    When one of those moves more than MAX_INSTABILITY and ``view`` takes a zoom too
    (``view(degrees, zoom)``), the candidate is looked at through views turned TIGHT_TURNS and not
    enlarged: both must move at most MAX_TIGHT with presence >= MIN_TIGHT_VIEW, and then the larger
    shift replaces the stability."""
    if not masked(checks) or checks.get("stability", 0.0) <= SECOND_FROM:
        return
    views = [view(degrees) for degrees in SECOND_TURNS]
    shift, seen = max(v[0] for v in views), min(v[1] for v in views)
    if shift < checks["stability"]:
        checks["stability"], checks["stability_presence"] = shift, seen
    if shift <= MAX_INSTABILITY or len(inspect.signature(view).parameters) < 2:
        return
    views = [view(degrees, TIGHT_ZOOM) for degrees in TIGHT_TURNS]
    shift, seen = max(v[0] for v in views), min(v[1] for v in views)
    if shift <= MAX_TIGHT and seen >= MIN_TIGHT_VIEW and shift < checks["stability"]:
        checks["stability"], checks["stability_presence"] = shift, seen
