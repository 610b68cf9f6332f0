"""Is a detection really a face? Measures and thresholds applied before any pixel changes.

The detector (BlazeFace) fires on logos, printed graphics and textures now and then; the
landmark model then draws a face-shaped mesh on whatever it is given. Every candidate is
therefore checked on four signals (:func:`face_checks`), thresholds chosen on
data (every candidate reaching verification for the real faces the tests place and for the
no-face corpus and its edge crops; the measured distributions and margins are in docs/faces.md,
"Only faces"):

* **presence**: the landmark model's own face-presence score (sigmoid of its face flag),
  >= 0.85. MediaPipe gates at 0.5; real faces, even 24 px wide, rotated or half cut by the
  frame, score >= 0.99 almost always, while non-faces that pass the detector spread over 0.5-1
  (the rocket's logo scores 0.9999: presence alone is not enough).
* **geometry**: in the face's own frame (eyes horizontal) the mesh must look like a face:
  forehead above the eyes, eyes above the nose tip above the mouth above the chin, eye
  distance and face height in human proportions of the cheek width F (a sanity check: the
  model draws plausible meshes on most non-faces too).
* **skin colour** (colour images): >= 90 % of the pixels of 7 cheek/forehead patches in a wide
  skin locus that holds every human skin tone (Cr in [128, 185], Cb in [70, 132] on the 0-255
  scale; real faces >= 0.96 measured, the rocket's cream fairing 0.78-0.94), the patches
  agreeing with each other (chroma spread <= 25), and the lips redder (Cr) than that skin
  (``lip_cr``: the mean of 8 squares on the lip landmarks and of the whole lip area). By >= 2
  the lips pass; by 0.5..2 they are *doubtful* (:func:`doubtful_lips`: small or JPEG-compressed
  faces, 4:2:0 chroma smears 2-3 px lips into the skin; 30 of 366 real uncut face candidates,
  down to 0.64, and the rocket's logo at JPEG q75, 0.37) and the candidate must pass the
  stability test (real doubtful faces <= 0.084, that logo 0.125) and have skin all over (skin
  fraction >= 0.98; real doubtful faces 1.00, the logo cropped 20 px at the top 0.94 with a
  stable mesh, 0.088 F); below 0.5 they fail (>= 1 for
  a face cut by the frame, whose patches are mirrored). Before, one limit of 2 on the squares
  alone lost 11 real faces of the calibration set (docs/faces.md, "Only faces"). On a
  colourless (grey) face region the colour test is skipped and the stability test below is
  always run instead.
* **grey shading** (grey candidates with >= 80 % of the mesh in the frame,
  :mod:`.verify_grey`): no colour backs them, and the rocket's logo on grey crops passed every
  other check. The eyes must be darker than the bridge of the nose between them and the mouth
  line darker than the skin: (eyes - bridge) + mouth darkness >= 0.12 of the skin's luminance,
  >= 0.30 when the bridge is >= 0.6 as dark as the eyes (one dark band, the logo: <= 0.184; real
  faces >= 0.177, 1 of 395 lost, its mesh on its cheeks).
* **stability** (candidates the detector is unsure of, < 0.8, grey ones, cut ones and those
  with doubtful lips): the
  landmark model is run once more through a window turned by 25 degrees and enlarged 1.15x; a
  real face's mesh stays put (mean shift <= 0.08 F measured), a hallucinated one moves or
  vanishes (<= 0.10 F required, <= 0.16 F for a face cut by the frame).
* **cut by the frame** (tests/imaging/test_faces_edge.py): the no-face corpus cropped so each
  of its detector candidates is 25/50 % outside one side (76 crops) let 3 grey crops (coins,
  cell: stability 0.127-0.150, where real grey cut faces also reach 0.118-0.145) and flat
  painted discs (blobs) through. So a grey cut candidate using the looser stability limit
  (> 0.10 F) with an iris inside the frame must show that iris darker than its skin by
  >= 0.2 (relative luminance; real grey cut faces 0.21-0.87, 5th percentile 0.44 over 48
  candidates: a thin margin at the bottom; those crops 0.01-0.17). A colour candidate's 7 skin
  patches must not be one flat colour (chroma spread >= 0.5; real faces >= 1.85 measured,
  painted discs 0.0), and no candidate's may be textureless (median luminance std inside the
  patches >= 1.0; real faces >= 4.7, the darkest tone-shifted ones lowest; flat paint 0.0).
  Not a presence rule: the one face still missed (Grace Hopper 150 px, half above the top
  edge, presence 0.64) has a wrong mesh (0.42 F off, the detector's box is the face's
  upside-down mirror image in the padded border), so no threshold here can accept it without
  retouching the wrong place.
  Likewise a colour cut candidate using the looser limit needs textured skin that is skin all
  over: patch texture >= 8 and skin fraction >= 0.98 (real cut colour candidates beyond 0.10 F:
  >= 10.6 and >= 0.99, every real cut colour candidate >= 9.5 and >= 0.98; the no-face ones
  this rejects -- the rocket's lettering on the frame's bottom edge, blurred noise, stability
  0.10-0.16 -- texture 1.6-5.8 or skin 0.91-0.97). Measured on a harder no-face set (docs/faces.md,
  "Only faces"); it does not reject every such pattern (tests/imaging/test_faces_verify_cut_skin.py).
* **reflection** (cut between the eyes and the lips, :mod:`.verify_cut`): lettering and its
  reflection passed all of the above; rejected when the visible upper face is not left-right
  symmetric (< 0.45) and is no face without its reflection (flat-filled presence < 0.85).
* **light and colour casts** (:mod:`.verify_light`, round 16): a clipped skin patch (an over-exposed
  forehead) is measured against the path clipping takes to white; skin only in a wider locus (a warm
  cast, saturation, a contrast curve) and lips red only for their shade (light from above) are accepted
  with red lips, dark irises and a stable mesh; a one-hue (sepia) image's faces are judged as grey.
* **second signs** (:mod:`.verify_signs`): skin with fine texture beyond its shading (smiley
  drawings), grey whole candidates still a face in the stability view, grey candidates cut
  through the eyes with textured skin, grey cut ones with no iris in view and a loose mesh
  with a sure presence; round 15: skin patches of one tone (filled drawings in JPEG), grey loose
  meshes without dark irises (a stone, a letter beside real faces), colour candidates with pale
  irises asked for the stability test.

Calibration data: tests/imaging/test_faces_verify.py's corpora (34 no-face images, 0 accepted;
astronaut/Grace Hopper at 18-120 px, every 45 degrees, LFW's real 25 px faces: no real face
lost to verification except 1-2 LFW faces per 40 on stability, and 1 at 25 px to the grey
shading rule: its mesh sits on its cheeks).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from . import verify_cut, verify_cutlips, verify_grey, verify_light, verify_occluded, verify_signs, verify_squares
from .verify_grey import _mirror

__all__ = ["face_checks", "is_face"]

SKIN_SAMPLES = (50, 280, 151, 205, 425, 117, 346)    # cheeks and forehead (FaceMesh indices)
CR_RANGE = (128.0, 185.0)
CB_RANGE = (70.0, 132.0)
GREY_CHROMA = 4.0            # mean |Cr-128| + |Cb-128| below this: a grey/sepia-free face region

# thresholds (chosen on data, see the module docstring)
MIN_PRESENCE = 0.85
MIN_SKIN_FRACTION = 0.9       # of the 7 patches' pixels in the skin locus (real faces >= 0.96 measured)
MAX_CHROMA_SPREAD = 25.0
MAX_CHROMA_SPREAD_CUT = 32.0  # ... cut by the frame: patches read mirrored may land on hair or background
                              # (real cut faces up to 26.1, no-face cut candidates up to 24.5: docs/faces.md)
MIN_CHROMA_SPREAD = 0.5       # colour faces: 7 patches of exactly one colour are paint, not skin
MIN_SKIN_TEXTURE = 1.0        # median luminance std inside the skin patches: flat paint is 0
MIN_LIP_CR = 2.0             # lips redder (Cr) than the median skin patch, colour faces only; between
MIN_LIP_CR_DOUBT = 0.5       # this and MIN_LIP_CR the lips are doubtful: the mesh must then be stable
MIN_LIP_CR_CUT = 1.0         # ... for a face cut by the frame (mirrored skin patches)
CUT_INSIDE = 0.9             # a face with less of its mesh inside the frame is "cut"
EYE_RATIO = (0.35, 1.05)     # outer eye corners distance / F
HEIGHT_RATIO = (0.75, 1.7)
STABLE_DET_SCORE = 0.8       # candidates the detector is less sure of get the stability test
MAX_INSTABILITY_CUT = 0.16   # ... for a face cut by the frame
MAX_INSTABILITY = 0.10       # mean landmark shift / F between two views of the same face
MIN_EYE_DARK_CUT = 0.2       # grey cut candidate beyond MAX_INSTABILITY, an iris in the frame:
                             # iris darker than the skin by this (relative luminance)
MIN_SKIN_TEXTURE_LOOSE = 8.0   # colour cut candidate beyond MAX_INSTABILITY: textured skin (real >= 10.6,
MIN_SKIN_FRACTION_LOOSE = 0.98  # all cut colour faces >= 9.5; no-face <= 5.8) and all of it skin (real >= 0.99,
                                # no-face 0.91-0.97): docs/faces.md, "Only faces"; also asked of doubtful lips
                                # (:func:`doubtful_lips`: real 1.00, the rocket's logo <= 0.94)


def _face_frame(pts: np.ndarray) -> np.ndarray:
    """Landmarks rotated so the eye line (33 -> 263) is horizontal; units of F."""
    eye_r, eye_l = pts[33].astype(np.float64), pts[263].astype(np.float64)
    angle = math.atan2(eye_l[1] - eye_r[1], eye_l[0] - eye_r[0])
    c, s = math.cos(angle), math.sin(angle)
    local = (pts[:468].astype(np.float64) - eye_r) @ np.array([[c, -s], [s, c]])
    f = float(np.linalg.norm(pts[234] - pts[454])) or 1.0
    return local / f


def _geometry(pts: np.ndarray) -> dict[str, float]:
    local = _face_frame(pts)
    y = local[:, 1]
    eye_y = (y[33] + y[263] + y[133] + y[362]) / 4
    order = float(y[10] < eye_y < y[4] < y[13] < y[152])
    return {"order": order,
            "eye_ratio": float(np.linalg.norm(local[263] - local[33])),
            "height_ratio": float(y[152] - y[10]),
            "yaw": float(abs(np.linalg.norm(local[4] - local[234]) - np.linalg.norm(local[4] - local[454])))}


def _skin(rgb: np.ndarray, pts: np.ndarray, f: float, squares: verify_squares.Squares | None = None) -> dict[str, float]:
    """Colour of the 7 skin patches in ``rgb`` (``pts`` in its pixels, F its cheek width); ``squares``: the
    candidate's squares read so far (:mod:`.verify_squares`, shared with the other measures)."""
    sq = squares if squares is not None else verify_squares.Squares(rgb)
    h, w = rgb.shape[:2]
    r = max(1, int(round(0.05 * f)))
    boxes = [b for i in SKIN_SAMPLES                        # cut by the frame: mirrored
             if (b := sq.box(_mirror(pts[i][0], w), _mirror(pts[i][1], h), r)) is not None]
    if not boxes:
        return {"skin_fraction": 0.0, "chroma_spread": 99.0, "grey": 0.0, "patches": 0.0,
                "lip_cr": 0.0, "lip_cr_points": 0.0, "lip_cr_area": 0.0, "eye_dark": 0.0, "skin_texture": 0.0,
                "skin_fine": 0.0, "skin_tones": 1.0}
    ycc = [sq.ycc(b) for b in boxes]
    m = verify_squares.means(ycc)
    texture = [float(v) for v in verify_squares.y_std(ycc)]
    fine = verify_squares.plane_residuals([p[:, :, 0] for p in ycc])
    chroma = m[:, 1:]
    colour = verify_light.skin_colour_squares(ycc, [sq.rgb_of(b) for b in boxes], m, CR_RANGE, CB_RANGE)
    colourfulness = float(np.mean(np.abs(chroma - 128.0).sum(axis=1)))
    lips = _patch_mean(rgb, pts, LIP_SAMPLES, max(1, int(round(0.02 * f))), sq, together=True)
    lip_area = _lip_area_mean(rgb, pts)
    irises = _patch_mean(rgb, pts, (468, 473), max(1, int(round(0.015 * f))), sq)
    skin_y = float(verify_squares.median(m[:, 0]))
    return {**colour, "skin_texture": float(verify_squares.median(texture)),
            "skin_fine": float(verify_squares.median(fine)), "skin_tones": verify_signs.tone_spread(m[:, 0]),
            "grey": float(colourfulness < GREY_CHROMA), "patches": float(len(boxes)),
            **_lip_redness(lips, lip_area, float(verify_squares.median(chroma[:, 0]))),
            **verify_light.lip_shade(lips, lip_area, m),
            "eye_dark": float((skin_y - irises[0]) / max(skin_y, 1.0)) if irises is not None else 0.0}


LIP_SAMPLES = (0, 17, 37, 267, 84, 314, 13, 14)
LIP_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
LIP_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191)


def _lip_redness(points: np.ndarray | None, area: np.ndarray | None, skin_cr: float) -> dict[str, float]:
    """Lips minus skin in Cr, two ways: 8 small squares on the lip landmarks (``lip_cr_points``)
    and the whole lip area (``lip_cr_area``); ``lip_cr``, what :func:`reasons` judges, is their
    mean. The squares sit on the lip borders and swing with a pixel of landmark jitter (the
    half-size astronaut, a 48 px face: 2.39 -> 1.997 for a 0.0003-different detection); the area
    averages tens of pixels, but on faces under ~20 px wide it is mostly boundary pixels, half
    skin (a 24 px astronaut cut at the top: squares 3.1, area 0.4). Measured in docs/faces.md,
    "Only faces"."""
    if points is None and area is None:
        return {"lip_cr": 0.0, "lip_cr_points": 0.0, "lip_cr_area": 0.0}
    p = float(points[1] - skin_cr) if points is not None else float(area[1] - skin_cr)   # type: ignore[index]
    a = float(area[1] - skin_cr) if area is not None else p
    return {"lip_cr": (p + a) / 2, "lip_cr_points": p, "lip_cr_area": a}


def _lip_area_mean(rgb: np.ndarray, pts: np.ndarray) -> np.ndarray | None:
    """Mean (Y, Cr, Cb) over the lips: the outer lip contour minus the mouth opening, drawn 4x
    supersampled (small lips are a few pixels), pixels at least half inside; pixels outside the
    frame are read mirrored like :func:`_patch_mean`'s."""
    h, w = rgb.shape[:2]
    outer, inner = pts[list(LIP_OUTER)].astype(np.float64), pts[list(LIP_INNER)].astype(np.float64)
    x0, y0 = (int(v) - 1 for v in np.floor(outer.min(axis=0)))
    x1, y1 = (int(v) + 2 for v in np.ceil(outer.max(axis=0)))
    bw, bh = x1 - x0, y1 - y0
    if bw <= 0 or bh <= 0 or bw * bh > 4 * h * w + 64:
        return None
    k = max(1, min(4, 256 // max(bw, bh)))
    mask = np.zeros((bh * k, bw * k), np.uint8)
    cv2.fillPoly(mask, [np.round((outer - (x0, y0)) * k).astype(np.int32)], 255)
    cv2.fillPoly(mask, [np.round((inner - (x0, y0)) * k).astype(np.int32)], 0)
    cover = cv2.resize(mask, (bw, bh), interpolation=cv2.INTER_AREA) if k > 1 else mask
    if x0 >= 0 and y0 >= 0 and x1 <= w and y1 <= h:       # in the frame (round 21): masked sums of the box
        inside = cv2.compare(cover, 128, cv2.CMP_GE)
        n = cv2.countNonZero(inside)
        if n == 0:
            return None
        if n <= verify_squares.MAX_EXACT:                   # the float32 mean of integer pixels: exact sums
            ycc = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1, :3]), cv2.COLOR_RGB2YCrCb)
            sums = np.array(cv2.sumElems(cv2.bitwise_and(ycc, ycc, mask=inside))[:3])
            return (sums / n).astype(np.float32)
    ys, xs = np.nonzero(cover >= 128)
    if len(xs) == 0:
        return None
    px = rgb[_mirror_all(ys + y0, h), _mirror_all(xs + x0, w), :3]
    ycc = cv2.cvtColor(np.ascontiguousarray(px.reshape(-1, 1, 3)), cv2.COLOR_RGB2YCrCb)
    return ycc.reshape(-1, 3).astype(np.float32).mean(axis=0)


def _mirror_all(v: np.ndarray, n: int) -> np.ndarray:
    """:func:`_mirror` of an integer array."""
    if n < 2:
        return np.zeros_like(v)
    period = 2 * (n - 1)
    i = np.mod(v, period)
    return np.where(i < n, i, period - i)


def _patch_mean(rgb: np.ndarray, pts: np.ndarray, indices: tuple[int, ...], r: int,
                squares: verify_squares.Squares | None = None, together: bool = False) -> np.ndarray | None:
    """Mean (Y, Cr, Cb) of small squares around ``indices`` (those inside the frame; float32). ``together``:
    squares close to each other and asked for by no other measure (the lips'), converted as one region."""
    sq = squares if squares is not None else verify_squares.Squares(rgb)
    h, w = rgb.shape[:2]
    boxes = [b for i in indices if (b := sq.box(_mirror(pts[i][0], w), _mirror(pts[i][1], h), r)) is not None]
    if not boxes:
        return None
    return verify_squares.pooled_region_mean(rgb, boxes) if together else verify_squares.pooled_mean([sq.ycc(b) for b in boxes])


def face_checks(rgb: np.ndarray, pts: np.ndarray, scale: float, presence: float,
                det_score: float) -> dict[str, float]:
    """Every verification measure of one candidate. ``rgb`` is the image or a copy scaled by
    ``scale``; ``pts`` are the 478 landmarks in image pixels."""
    scaled = pts * np.float32(scale) if scale != 1.0 else pts
    f = float(np.linalg.norm(scaled[234] - scaled[454]))
    h, w = rgb.shape[:2]
    squares = verify_squares.Squares(rgb)     # each landmark square converted once (round 21)
    inside = ((scaled[:, 0] >= 0) & (scaled[:, 0] < w) & (scaled[:, 1] >= 0) & (scaled[:, 1] < h))
    checks = {"presence": float(presence), "det_score": float(det_score),
              "inside": float(inside[:468].mean()), "lips_inside": float(inside[list(LIP_SAMPLES)].mean()),
              "eyes_inside": float(inside[[468, 473]].mean()),
              **_geometry(pts), **_skin(rgb, scaled, f, squares)}
    if not checks["grey"] and checks["inside"] >= CUT_INSIDE and verify_light.tinted(rgb, scaled, f):
        checks["grey"] = checks["tinted"] = 1.0       # sepia, a one-hue filter: judged like grey (not cut)
    if checks["grey"] and checks["inside"] >= verify_grey.MIN_INSIDE:      # a face's shading (verify_grey)
        checks.update(verify_grey.grey_measures(rgb, scaled, f))
    elif not checks["grey"] and checks["eyes_inside"] >= 1.0:      # colour, irises in view: verify_signs' one-band
        checks.update(verify_grey.shading(rgb, scaled, f))
    if verify_cut.in_scope(checks, CUT_INSIDE) and (sym := verify_cut.symmetry(rgb, scaled, f)) is not None:
        checks["symmetry"] = sym            # cut between eyes and lips (verify_cut)
    if not checks["grey"]:                  # the lower face hidden by a mask (verify_occluded)
        checks.update(verify_occluded.measures(rgb, scaled, f, squares))
    return checks


def is_face(checks: dict[str, float]) -> bool:
    """The verdict: all three signals agree."""
    return not reasons(checks)


def needs_stability(checks: dict[str, float]) -> bool:
    """The extra landmark call (:func:`faces._stability`) is spent only on doubtful candidates."""
    return (checks["det_score"] < STABLE_DET_SCORE or bool(checks["grey"])
            or checks.get("inside", 1.0) < CUT_INSIDE or doubtful_lips(checks) or verify_signs.doubtful_eyes(checks)
            or verify_light.needs_look(checks, MIN_SKIN_FRACTION, MIN_LIP_CR_DOUBT)
            or verify_occluded.wanted(checks, _raw_reasons(checks)))


def doubtful_lips(checks: dict[str, float]) -> bool:
    """A colour face, not cut, whose lips are in view but only a little redder than its skin
    (MIN_LIP_CR_DOUBT..MIN_LIP_CR): small or JPEG-compressed faces (4:2:0 chroma smears 2-3 px
    lips into the skin), where the rocket's logo also sits (0.31 at JPEG q75, 0.55 cropped 20 px
    at the top). Accepted only with a stable mesh (:func:`reasons`, MAX_INSTABILITY;
    :func:`needs_stability` asks for the test) and skin all over its patches (skin fraction >=
    MIN_SKIN_FRACTION_LOOSE: real doubtful-lip faces 1.00, every one of 119 measured, real uncut
    colour faces >= 0.994 of 1052; of the logo's 73 candidates over 208 crops, scales, JPEG qualities
    and canvases, the 21 stable ones <= 0.952, the 5 at >= 0.98 all move >= 0.125 F: the two signs
    are never both met; docs/faces.md, "Only faces")."""
    return (not checks["grey"] and checks.get("inside", 1.0) >= CUT_INSIDE
            and checks.get("lips_inside", 1.0) >= 0.5 and MIN_LIP_CR_DOUBT <= checks["lip_cr"] < MIN_LIP_CR)


def reasons(checks: dict[str, float]) -> list[str]:
    """Why a candidate is not a face (empty: it is one)."""
    return verify_occluded.forgive(checks, _raw_reasons(checks))   # the lower face hidden by a mask: judged on the upper face


def _raw_reasons(checks: dict[str, float]) -> list[str]:
    """:func:`reasons` before an occluded face's (mask, hair) forgiveness."""
    why = []
    if checks["presence"] < MIN_PRESENCE:
        why.append("presence")
    if not checks["order"] or not EYE_RATIO[0] <= checks["eye_ratio"] <= EYE_RATIO[1] \
            or not HEIGHT_RATIO[0] <= checks["height_ratio"] <= HEIGHT_RATIO[1]:
        why.append("geometry")
    lips_seen = checks.get("lips_inside", 1.0) >= 0.5
    cut = checks.get("inside", 1.0) < CUT_INSIDE
    if not checks["grey"] and ((checks.get("skin_lit", checks["skin_fraction"]) < MIN_SKIN_FRACTION
                                and not verify_light.wide(checks, MIN_SKIN_FRACTION))
                               or checks["chroma_spread"] < MIN_CHROMA_SPREAD
                               or checks.get("spread_lit", checks["chroma_spread"]) > (MAX_CHROMA_SPREAD_CUT if cut
                                                                                      else MAX_CHROMA_SPREAD)
                               or (lips_seen and checks["lip_cr"] < (MIN_LIP_CR_CUT if cut else MIN_LIP_CR_DOUBT)
                                   and not verify_light.shaded(checks, MIN_LIP_CR_DOUBT)
                                   and not verify_cutlips.doubtful(checks, cut, lips_seen, MIN_LIP_CR_CUT))):
        why.append("skin")
    if verify_cutlips.doubtful(checks, cut, lips_seen, MIN_LIP_CR_CUT) and verify_cutlips.fails(
            checks, MAX_INSTABILITY, MIN_SKIN_TEXTURE_LOOSE, MIN_SKIN_FRACTION_LOOSE):
        why.append("cut-lips")   # a small cut face's lips (a few px): stable, textured skin all over
    if verify_light.wide_fails(checks, MIN_SKIN_FRACTION, MIN_LIP_CR):
        why.append("wide-skin")  # skin only in the wider locus (a cast): red lips, dark irises, a stable mesh
    if verify_light.shaded_fails(checks, MIN_LIP_CR_DOUBT):
        why.append("shaded-lips")  # lips red only for their shade (top light): skin all over, dark irises, stable
    if checks.get("skin_texture", MIN_SKIN_TEXTURE) < MIN_SKIN_TEXTURE:
        why.append("flat")       # a painted, textureless area (real faces >= 4.7 measured)
    why += verify_signs.second_signs(checks, cut)   # drawn, view-presence, eye-cut-texture, eyes-out
    if verify_grey.grey_structure_fails(checks):
        why.append("grey-structure")   # grey, not cut: no eyes-and-bridge / mouth-line shading
    if verify_cut.reflection_fails(checks):
        why.append("reflection")       # cut between eyes and lips: asymmetric, no face without its reflection
    if doubtful_lips(checks) and checks["skin_fraction"] < MIN_SKIN_FRACTION_LOOSE:
        why.append("doubtful-skin")    # doubtful lips need skin that is skin all over (the rocket's logo)
    stability = checks.get("stability", 0.0)
    if stability > (MAX_INSTABILITY_CUT if cut else MAX_INSTABILITY):
        why.append("stability")
    elif (cut and checks["grey"] and stability > MAX_INSTABILITY and checks.get("eyes_inside", 0.0) >= 0.5
          and checks["eye_dark"] < MIN_EYE_DARK_CUT):
        why.append("eyes")       # the cut looseness needs a second sign when no colour backs it
    elif (cut and not checks["grey"] and stability > MAX_INSTABILITY
          and (checks["skin_texture"] < MIN_SKIN_TEXTURE_LOOSE or checks["skin_fraction"] < MIN_SKIN_FRACTION_LOOSE)):
        why.append("cut-skin")   # ... and in colour, skin that looks like skin all over the patches
    return why
