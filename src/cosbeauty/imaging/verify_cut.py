"""Faces cut between the eyes and the mouth: is what the frame shows a face by itself?
(:mod:`.verify`'s "reflection" rule)

A candidate the frame cuts below its eyes and above its lips (a face cut at the bottom edge, or
upside down at the top) has no lips for :mod:`.verify`'s colour test, and the landmark model
sees the rest of the face in the mirrored border. Painted lettering on the rocket's bottom edge
(12 MP, ``rocket[2852 - d:]``) and its reflection there make such "faces" (presence ~0.99, meshes
stable to 0.09-0.12 F, skin-coloured textured paint): they passed every other check. They are
faces only together with their reflection, and they lack a face's left-right symmetry. So such a
candidate is measured twice more:

* ``symmetry`` (:func:`symmetry`, cheap): the Pearson correlation of the mean luminance (Y)
  of squares (radius 0.03 F, >= 1 px) around the landmarks of 173 left/right pairs
  (:data:`_LEFT`, :data:`_RIGHT`: each >= 0.08 F from the midline, paired with its nearest
  mirror image on the mean mesh of the two test photos), pairs with both points in the frame
  (an offset or gain between the sides -- light from one side -- does not change it);
* when that is < :data:`MIN_SYMMETRY`: ``flat_presence``, the landmark model's presence on the
  same ROI with the part outside the frame filled flat (the mean colour of the ROI's visible
  part) instead of mirrored (:func:`flat_fill`; the landmark call is made in
  :mod:`.detection.finish`).

Rejected when both say "not a face": flat presence < 0.85 (the presence every candidate needs,
:data:`.verify.MIN_PRESENCE`) and symmetry < 0.45. A candidate cut through its eyes (one iris outside the frame) gets the flat view alone:
its visible half and that half's reflection make a symmetric pattern (grey crater and dot
textures, the rocket's lettering, coins: the frame's edge on the "face's" midline), so symmetry
says nothing there, while real faces cut so stay faces with the missing part flat (cut faces
both people 24-150 px, colour and grey: 192 candidates >= 0.996; held out, the two photos cut
30-60 % at the left/right/top, 4 skin tones, 2 scales, grey: 120 >= 0.984; the no-face ones
0.0-0.37, but two grey crater/dot crops 0.95-1.0 that it does not reject).

Chosen on data (docs/faces.md, "Only faces", cut candidates; the calibration test is
tests/imaging/test_faces_verify_reflection.py): candidates with both eyes in the frame and the
lips out. Real faces, both people 24-150 px cut at each side in colour and grey (68 accepted
candidates): symmetry >= 0.46, flat presence >= 0.85 except 2 (0.0 and 0.18, symmetry 0.46 and
0.76). Held out: the two photos cut between eyes and mouth (5 skin tones, 3 scales, JPEG, grey,
turned 90/180 degrees; 211): symmetry >= 0.62, flat presence >= 0.999; LFW's real faces at
48/64/96 px cut at 60/72 % of their height (247): symmetry down to 0.07 (pose, lighting: symmetry
alone is no rule), flat presence >= 0.85 except two (0.67, symmetry 0.83; 0.31, symmetry 0.39, 24 % of its mesh in
the frame: the one real candidate this rule rejects). The rocket's lettering: flat presence
0.06-0.09 (grey 1080p rocket cut 80 px: 0.47), symmetry -0.14..0.39.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["MIN_FLAT_PRESENCE", "MIN_SYMMETRY", "flat_fill", "in_scope", "needs_flat_view", "reflection_fails",
           "symmetry"]

MIN_PAIRS = 10              # symmetry not measured (no verdict) with fewer pairs in the frame
MIN_SYMMETRY = 0.45         # real faces in scope >= 0.46 (held out: LFW down to 0.07), lettering <= 0.39
MIN_FLAT_PRESENCE = 0.85    # real >= 0.85 but 4 of 526 (0.0-0.67), lettering 0.06-0.70 (grey: 0.47)
_LEFT = (7, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 39, 40, 41, 42, 43, 46, 47, 48,
         49, 50, 52, 53, 54, 55, 56, 57, 58, 59, 61, 63, 64, 65, 66, 67, 68, 69, 70, 71, 73, 74, 76, 77,
         79, 81, 88, 89, 90, 91, 92, 95, 96, 98, 100, 101, 103, 104, 105, 106, 107, 108, 109, 110, 111,
         112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 123, 124, 126, 128, 129, 130, 131, 132, 135,
         136, 137, 138, 139, 140, 142, 143, 144, 145, 146, 147, 148, 149, 150, 153, 154, 155, 156, 157,
         158, 159, 160, 161, 162, 163, 165, 166, 169, 170, 171, 172, 173, 176, 177, 178, 179, 180, 181,
         182, 183, 184, 185, 186, 187, 189, 190, 192, 194, 198, 202, 203, 204, 205, 206, 207, 208, 209,
         210, 211, 212, 213, 214, 215, 216, 217, 218, 219, 221, 223, 224, 225, 226, 227, 228, 229, 230,
         231, 232, 233, 235, 243, 244, 246, 247)
_RIGHT = (249, 251, 252, 253, 254, 255, 256, 257, 258, 259, 260, 261, 262, 263, 356, 265, 266, 269, 270,
          271, 310, 273, 276, 277, 278, 279, 280, 282, 283, 284, 285, 286, 287, 288, 305, 306, 293, 294,
          295, 296, 297, 298, 299, 300, 301, 303, 304, 292, 307, 457, 311, 318, 319, 320, 321, 322, 324,
          325, 327, 329, 330, 332, 333, 334, 335, 336, 337, 338, 339, 340, 341, 342, 343, 344, 345, 346,
          347, 348, 349, 350, 352, 353, 355, 357, 331, 359, 360, 361, 364, 365, 366, 367, 368, 369, 371,
          372, 373, 374, 375, 376, 377, 378, 379, 380, 381, 362, 383, 384, 385, 386, 387, 388, 389, 390,
          391, 438, 394, 395, 396, 397, 398, 400, 401, 402, 403, 404, 405, 406, 415, 407, 308, 410, 411,
          413, 414, 416, 418, 420, 422, 423, 424, 425, 426, 427, 428, 429, 430, 431, 432, 433, 434, 435,
          436, 437, 309, 439, 441, 443, 444, 445, 446, 454, 448, 449, 450, 451, 452, 453, 455, 463, 464,
          466, 467)


def symmetry(rgb: np.ndarray, pts: np.ndarray, f: float) -> float | None:
    """Correlation of the luminance at the mirrored landmark pairs inside the frame of ``rgb``
    (``pts``: landmarks in its pixels, ``f`` the cheek width there); None with < MIN_PAIRS pairs."""
    h, w = rgb.shape[:2]
    left, right = pts[list(_LEFT)].astype(np.float64), pts[list(_RIGHT)].astype(np.float64)
    both = np.concatenate([left, right])
    inside = (both[:, 0] >= 0) & (both[:, 0] <= w - 1) & (both[:, 1] >= 0) & (both[:, 1] <= h - 1)
    keep = inside[:len(left)] & inside[len(left):]
    if int(keep.sum()) < MIN_PAIRS:
        return None
    r = max(1, int(round(0.03 * f)))
    xy = np.round(np.concatenate([left[keep], right[keep]])).astype(np.int64)
    x0, y0 = (int(v) for v in np.maximum(xy.min(axis=0) - r, 0))
    x1, y1 = (int(v) for v in np.minimum(xy.max(axis=0) + r + 1, [w, h]))
    region = np.ascontiguousarray(rgb[y0:y1, x0:x1, :3])
    luma = cv2.cvtColor(region, cv2.COLOR_RGB2YCrCb)[:, :, 0] if region.ndim == 3 else region
    s = cv2.integral(luma)          # (rows + 1, cols + 1), float64 sums
    rh, rw = luma.shape
    lx, hx = np.clip(xy[:, 0] - x0 - r, 0, rw), np.clip(xy[:, 0] - x0 + r + 1, 0, rw)
    ly, hy = np.clip(xy[:, 1] - y0 - r, 0, rh), np.clip(xy[:, 1] - y0 + r + 1, 0, rh)
    mean = (s[hy, hx] - s[ly, hx] - s[hy, lx] + s[ly, lx]) / ((hx - lx) * (hy - ly))
    a, b = mean[:len(mean) // 2], mean[len(mean) // 2:]
    if a.std() < 1e-6 or b.std() < 1e-6:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def in_scope(checks: dict[str, float], cut_inside: float) -> bool:
    """Cut by the frame (less than ``cut_inside`` of the mesh in it), both irises in the frame,
    most of the lips out."""
    return (checks.get("inside", 1.0) < cut_inside and checks.get("eyes_inside", 0.0) >= 1.0
            and checks.get("lips_inside", 1.0) < 0.5)


def needs_flat_view(checks: dict[str, float], cut_inside: float) -> bool:
    """The flat-filled landmark call (made once, by :mod:`.detection.finish`) is spent on
    candidates cut by the frame that are either in :func:`in_scope` and asymmetric (``symmetry``
    is measured by :mod:`.verify` only for those) or cut through the eyes (one iris outside: the
    visible half and its reflection make a symmetric pattern, symmetry says nothing)."""
    if "flat_presence" in checks or checks.get("inside", 1.0) >= cut_inside:
        return False
    if "symmetry" in checks:
        return checks["symmetry"] < MIN_SYMMETRY
    return 0.0 < checks.get("eyes_inside", 0.0) < 1.0


def reflection_fails(checks: dict[str, float]) -> bool:
    """No face once its reflection is gone (flat view taken), and not symmetric either."""
    return checks.get("flat_presence", 1.0) < MIN_FLAT_PRESENCE and checks.get("symmetry", 0.0) < MIN_SYMMETRY


def flat_fill(image: np.ndarray, cx: float, cy: float, half: float) -> tuple[np.ndarray, int, int]:
    """The square of ``image`` centred on (cx, cy) with side 2 x ``half`` (image pixels), the part
    outside the frame filled with the mean colour of the part inside; (crop, x0, y0): the crop's
    origin in image pixels."""
    h, w = image.shape[:2]
    x0, y0 = int(np.floor(cx - half)), int(np.floor(cy - half))
    x1, y1 = int(np.ceil(cx + half)), int(np.ceil(cy + half))
    cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    inner = np.ascontiguousarray(image[cy0:cy1, cx0:cx1, :3])
    fill = [float(v) for v in inner.reshape(-1, 3).mean(axis=0)] if inner.size else [0.0, 0.0, 0.0]
    crop = cv2.copyMakeBorder(inner, cy0 - y0, y1 - cy1, cx0 - x0, x1 - cx1, cv2.BORDER_CONSTANT, value=fill)
    return crop, x0, y0
