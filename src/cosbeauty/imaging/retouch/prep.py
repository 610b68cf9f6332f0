"""What the retouch steps after the heal need from the masks and the landmarks alone (not from
the image being retouched): computed once the skin masks and the person segmentation are known,
on the helper thread while the calling thread heals the spots (round 18, speed). Every value is
the one the step would compute itself (same functions, same inputs), so the output bytes do not
depend on where or when it ran.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from . import zones
from .common import FACE_OVAL, nonzero_box, poly, shrink2
from .eyebags import eyebag_band
from .lines import Zones, line_zones
from .neck import inside, tone_mask
from .params import RetouchParams
from .skin import SkinMasks
from .smooth import Weights, smooth_weights
from .tone import rosy_cr

NOSE_TIP = 1             # below it the smoothing's rim is normalised (jaw, see smooth_delta)


@dataclass
class Prep:
    """Inputs of the steps after the heal (None: the step does not run or computes it itself)."""

    smooth_box: tuple[int, int, int, int] | None = None   # the face's skin box (smoothing)
    smooth_oval: np.ndarray | None = None                 # the face oval in that box
    smooth_jaw: tuple[np.ndarray, np.ndarray] | None = None
    smooth_weights: Weights | None = None
    lines: Zones | None = None
    pts_s: np.ndarray | None = None                       # half work scale (eye bags, tone)
    f_s: float = 0.0
    skin_s: np.ndarray | None = None
    eyebag_band: tuple | None = None
    tone_mask: np.ndarray | None = None                   # at half work scale
    limit: np.ndarray | None = None                       # where the eye bags + tone change may apply (x 3)
    rosy_cr: np.ndarray | None = None                     # tone.rosy_cr at half work scale (round 21)


def prepare(shape: tuple[int, int], pts: np.ndarray, f: float, params: RetouchParams, masks: SkinMasks,
            person: np.ndarray | None, out: Prep | None = None) -> Prep:
    """The :class:`Prep` of one face: ``shape`` (H, W) of the work image, its landmarks ``pts`` and
    cheek width ``f``, the amounts, the skin masks and the person probability (None: no neck).
    This part (smoothing, lines) is needed first; :func:`prepare_late` adds the rest."""
    out = Prep() if out is None else out
    prepare_smooth(out, pts, f, params, masks)
    prepare_lines(out, shape, pts, f, params, masks)
    return out


def prepare_smooth(out: Prep, pts: np.ndarray, f: float, params: RetouchParams, masks: SkinMasks) -> Prep:
    """The smoothing's part of :func:`prepare` (the step after the heal), set in ``out``."""
    if params.smoothing > 0:
        skin = masks.skin
        box = nonzero_box(skin > 0, pad=int(0.08 * f) + 2)     # the face only, not the neck band
        if box is not None:
            x0, y0, x1, y1 = box
            out.smooth_box = box
            out.smooth_oval = poly((y1 - y0, x1 - x0), pts[FACE_OVAL] - [x0, y0])
            out.smooth_jaw = (pts[NOSE_TIP] - [x0, y0], zones.down_vector(pts))
            out.smooth_weights = smooth_weights(skin[y0:y1, x0:x1], f, out.smooth_oval, out.smooth_jaw)
    return out


def prepare_lines(out: Prep, shape: tuple[int, int], pts: np.ndarray, f: float, params: RetouchParams,
                  masks: SkinMasks) -> Prep:
    """The lines' part of :func:`prepare` (needed after the smoothing), set in ``out``."""
    if params.lines > 0:
        out.lines = line_zones(shape, masks.loose, masks.region, masks.fold, pts, f)
    return out


def prepare_late(prep: Prep, shape: tuple[int, int], pts: np.ndarray, f: float, params: RetouchParams,
                 masks: SkinMasks, person: np.ndarray | None) -> Prep:
    """``prep`` completed with what the eye bags and the tone need (half work scale), returned."""
    out = prep
    skin = masks.skin
    do_tone = params.tone > 0 or params.whitening > 0 or params.rosy > 0
    if params.eyebags > 0 or do_tone:
        h, w = shape
        small = ((h + 1) // 2, (w + 1) // 2)                    # shrink2's size
        k = np.array([small[1] / w, small[0] / h], np.float32)
        out.pts_s, out.f_s, out.skin_s = pts * k, f * float(k[0]), shrink2(skin)
        if params.eyebags > 0:
            out.eyebag_band = eyebag_band(small, shrink2(masks.loose), out.pts_s, out.f_s)
        if params.rosy > 0:
            out.rosy_cr = rosy_cr(small, out.pts_s, out.f_s, params.rosy)
        if do_tone and masks.small.shape[:2] == small:
            # the neck's colour gate and features at this scale come from the masks: the image is
            # not read (masks.small stands in for it)
            person_s = None if person is None else shrink2(person)
            out.tone_mask = tone_mask(masks.small, out.skin_s, masks.model, out.pts_s, out.f_s, person_s,
                                      masks.neck_gate, masks.features_s)
        limit = inside(shape, pts, person) if person is not None else (poly(shape, pts[FACE_OVAL]) > 0)
        out.limit = cv2.merge([limit.astype(np.float32)] * 3)   # 0/1: the same products as the mask
    return out
