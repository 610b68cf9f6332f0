"""Second signs for candidates the other checks of :mod:`.verify` let through (issue #12, point 1;
docs/faces.md, "Only faces", round 14): each rule is scoped to where a no-face candidate of the
harder sets passed and real faces have a margin.

* ``drawn`` (every candidate): skin has fine texture (pores, hair, sensor noise, JPEG) beyond its
  shading. ``skin_fine`` (:func:`plane_residual`, computed by :func:`.verify._skin`): the median
  over the 7 skin patches of the luminance's std once the best-fitting plane is taken out of each
  patch. Smiley drawings (shaded discs, two eyes, a red smile: ``_smileys`` in
  tests/imaging/corpus.py) pass the colour, lip and stability tests with 0.30-0.45; real faces
  >= 0.91 (1429 accepted candidates of round 13's calibration collections, measured on their
  stored crops: sizes, JPEG, skin tones, turned, cut, grey, LFW; the lowest are dark tone-shifted
  faces 21-29 px wide), held out >= 1.66 (434 faces 21-72 px, other tones, JPEG q50-95, another
  background) and >= 1.02 re-collected (uncut colour 197, LFW 168, LFW cut at a side 251, grey
  148). Limit 0.65.
* ``view-presence`` (grey candidates with the whole mesh in the frame, which always get the
  stability test): the landmark model's presence in the stability view (``stability_presence``,
  :func:`.detection.landmarks._stability`) >= 0.6. The grey motorcycle (scikit-image's stereo
  pair): a stable mesh (0.064 F), but 0.51 there. Real grey faces so: >= 0.95 on the training
  sets (211), but the held-out LFW faces (148) reach 0.70 and 0.75: the limit chosen on training,
  0.85 (= :data:`.verify.MIN_PRESENCE`), lost those two; 0.6 keeps them (a thin margin: 0.51 /
  0.70). Between 0.6 and 0.85 the view is doubtful and :mod:`.verify_grey`'s shading score must be
  >= 0.30 (its band clause's limit): the two real faces there 0.49 / 0.65 (real grey faces' score
  p5 0.31), the moon turned 270 degrees and cut 40 px at the top 0.174 (view 0.826; found on the
  corpus turned, round 14). Not judged: faces at the frame's edge (their view shows the mirrored
  border: real LFW faces 70 % in the frame 0.64-0.83) and colour faces (small JPEG faces down to 0.58).
* ``eye-cut-texture`` (grey, cut through the eyes: one iris outside, where the flat view of
  :mod:`.verify_cut` is blind to a dot and its reflection): skin texture >= 2.4 (real >= 6.1 over
  92, held out LFW faces cut at a side >= 3.43 over 180; the microaneurysms cut 80 px at the right 1.41).
* ``eyes-out`` (grey, cut, no iris in the frame, the mesh moving more than the uncut limit: the
  grey cut rule's iris test has nothing to look at): presence >= 0.95 (real cut faces so, colour
  and grey, >= 0.986 over 36; the grey rocket cut just below its logo 0.923).

Round 15 (docs/faces.md, "Only faces", "Non-faces beside real faces, drawn faces"): round 14's
independent check pasted real faces on the no-face corpus (the small-face passes then look over the
whole image) and drew faces; measured on a with-face no-face set (every image of
``corpus.no_face_images()`` and ``more_no_face_images()`` with one or two real faces pasted,
``corpus.with_faces``, colour and grey, JPEG q90: 544 images, 22 with a non-face accepted) against
real faces on photo backgrounds (both heads 24-300 px at every 15-30 degrees and cut by the frame,
bench/faces_real.py's cases; LFW's 100 faces 24-96 px on the six photos, JPEG q60-95, blurred, noisy,
dimmed; both photos tone-shifted to 8 skin tones at 3 scales and pasted at 24-96 px):

* ``one-tone`` (uncut candidates): ``skin_tones`` (:func:`tone_spread`), the 7 skin patches' mean
  luminances' range over their median, >= 0.08. A face's shading and the features beside the patches
  keep them apart: real faces >= 0.18 (both people, all sizes and angles, 8 tones, dimmed) and
  >= 0.12 (LFW's faces at 24-96 px, held out: 268). Filled drawings give one tone whatever JPEG adds
  to their texture (which lets them past ``drawn``): cartoon faces, skin-toned discs with two dots,
  skin blobs, grey smileys <= 0.04; a pencil line sketch 0.076.
* ``loose-eyes`` (grey, uncut, the mesh moving > 0.09 F: beyond real grey faces' 99th percentile,
  up to the stability limit 0.10): irises darker than the skin by >= 0.3 (``eye_dark``). Real grey
  faces there (3 of ~400) 0.42-0.54; a gravel stone 0.20, the page's letter "g" 0.07 (stability 0.098,
  0.100). Real grey faces' eye darkness reaches 0.07 overall (LFW 24 px, dimmed), so it is no rule
  for a stable mesh.
* ``loose-view`` (colour, uncut, the mesh moving > 0.09 F): the stability view's presence >= 0.85.
  One real colour face of ~150 with a stability view measured is there (the astronaut 24 px turned 300
  degrees: 1.0; real colour faces' view presence p1 0.89, min 0.64 with a stable mesh); a circuit
  board's gold pads (no face in the photo, round 15's check; 1080p/12 MP, JPEG q35/q90: stability
  0.090-0.097) 0.61-0.68.
* colour candidates whose irises are hardly darker than their skin (``eye_dark`` < 0.25,
  :func:`doubtful_eyes`; real colour faces p5 0.42, 6 of 741 below) get the stability test even
  when the detector is sure of them and their lips are red: a motorcycle's headlight (0.19, detector
  0.80, lips 6.7) loses its mesh in the stability view.

Round 16 (round 15's independent check, docs/faces.md, "Only faces"): candidates the stability test
was run on (doubtful ones) whose mesh moved more than most real faces' do, measured on a forced-stability
collection of real colour and grey faces (both heads 20-96 px on 9 photos, turned, cut, 8 skin tones,
JPEG q35-95 and WebP, colour casts, exposure, blur, noise, side and top light; LFW's 100 faces at 24-96
px; 793 real-face candidates accepted on HEAD, none lost):

* ``loose-view`` from 0.07 F (``LOOSE_VIEW``; 0.09 F before): between 0.07 and 0.09 F a view < 0.62
  (``MIN_VIEW_PRESENCE_BAND``) is no face. Real colour faces moving 0.07-0.10 F keep a sure stability
  view (>= 0.93, 32 candidates); the lowest views of real faces with any measured stability are 0.644
  (0.057 F, a 20 px tone-shifted face at JPEG q60) and 0.651 (0.069 F, a blurred 32 px face): the
  limit stays under them. Rejected: the motorcycle's headlight beside a turned face, or with only a
  cat's face in the photo, 0.074-0.081 F with a view of 0.57-0.58.
* ``loose-skin`` (colour, uncut, moving > 0.08 F): every skin patch pixel in the skin locus but < 1 %
  (``skin_all``, the share over all pixels, clipped ones included, else ``skin_fraction``): real colour
  faces moving 0.08-0.10 F 1.0 (20), every uncut one >= 0.999 (431); a circuit board's gold pads (no
  person; JPEG q35 at 1080p and 1600x1200, verify.jpeg 1200x900 q35) 0.905-0.977 moving 0.090-0.097 F;
  a chrome blob in a lossy WebP 0.971.
* ``loose-bridge`` (grey, uncut, moving > 0.09 F): the bridge between the "eyes" no darker than 0.3 of
  the skin (:mod:`.verify_grey`'s ``grey_bridge``): real grey faces moving > 0.09 F <= 0.15, > 0.08 F
  <= 0.25 (15, LFW 24-64 px; LFW's stable ones reach 0.42: no rule for stable meshes); the grey rocket's
  nose beside a turned face 0.39.
* ``cut-texture`` (colour, cut, moving > 0.09 F; :mod:`.verify`'s ``cut-skin`` asks the same texture
  beyond 0.10 F): skin texture >= 8 and fine texture (``skin_fine``) >= 3: real cut colour faces moving
  > 0.09 F >= 8.6 and >= 4.8 (ds 215 + 52 cut candidates); a synthetic wood texture cut at the top
  edge 6.3 (0.095 F) and, tried on another ROI, fine texture 1.1 (0.134 F).
* ``grey-cut-texture`` (round 20; grey, cut, moving > 0.10 F): skin texture >= 7. Real grey faces cut by
  the frame: >= 7.8 (faces_real's edges 120, round 18's collection 97), >= 8.5 when moving > 0.10 F
  (avatars cut by the frame, 116); scikit-image's gravel at 1920x1080 (a mesh with both "eyes" above the
  frame) 4.9 at 0.12 F, its moon at 1280x960 and 4000x3000 5.3-5.4 at 0.12 F, the page photo's
  candidate 5.8 at 0.14 F.
* ``one-band`` (colour, uncut; needs :func:`.verify_grey.shading` measured by :func:`.verify.face_checks`):
  verify_grey's shading read on a colour face: "eyes" darker than the skin whose bridge is at least
  0.8 as dark (one dark band, not two eyes) and (eyes - bridge) + mouth < 0.30 (no mouth line to make up
  for it). Real colour faces: bridge / eyes <= 0.15 (1211 uncut candidates: the two heads at all
  sizes, angles, tones, casts, light, degradations; none in the rule); real grey faces as a proxy for
  other people (1174, LFW's 100 among them): a few with bridge >= eyes (glasses, light), all with a
  mouth line (score >= 0.42). Rejected: a cable loop on the motorcycle in a CMYK JPEG and a chrome part
  under an S-curve (the detector sure of them, 0.81-0.84: no stability test; bridge 1.3-1.4x the eyes,
  the "mouth" lighter than the skin), the circuit board's pads (bridge 1.0-1.3x, score -0.03-0.18; one at
  WebP q40 with skin 1.0 and a sure view, which no other rule rejects).
* ``cut-band`` (colour, cut, both irises in the frame; the same measures): a bridge >= 0.35 darker than
  the skin and >= 1.5x the eyes' darkness. Real faces with both irises in view, cut or not (828 colour,
  894 grey incl. LFW): bridge <= 0.20 in colour, <= 0.42 in grey, never both; the 12 MP rocket cut 40 px
  at the right (lettering on the bottom edge and its reflection; symmetry 0.466, 0.150 F, texture 10.8:
  like real cut faces on every other measure): bridge 0.52, eyes 0.12.

Round 17 (what round 16 left accepted, docs/faces.md, "Only faces"):

* ``half-band`` (colour, uncut, "eyes" darker than the skin): a bridge at least 0.4 as dark as the eyes
  (``HALF_BAND``) with a second sign no real face with such a bridge shows: eyes < 0.57 F apart
  (``MIN_EYE_RATIO_BAND``) or a stability view unsure of a face (< 0.85). Real uncut colour faces: bridge
  / eyes <= 0.11 (730 accepted candidates: round 16's forced-stability collection, round 15's stored
  crops); real grey faces, a proxy for other people (LFW, glasses; 737): up to 1.28, and those beyond 0.4
  (32) have eyes >= 0.597 F apart (any real uncut face >= 0.569) and a view >= 0.883. Rejected: the
  motorcycle's engine badge once a rolled face is found in the photo (a stable mesh, a sure view; bridge
  0.61-0.83 of the eyes, eyes 0.53-0.54 F apart) and a chrome spot in the photo 1.5x over-exposed
  (moving 0.067 F, view 0.60, bridge 0.67 of the eyes).

Round 18 (drawn faces, :mod:`.verify_drawn`):

* ``no-person`` (colour, uncut, doubtful: the stability test run or one-tone skin; needs ``person``,
  measured by :func:`.verify_drawn.measures` once every other check passed): MediaPipe's selfie-segmentation
  model, shown the candidate upright in a window 4 F wide, finds a person over the mesh with
  probability >= 0.9 (``MIN_PERSON``; real colour faces >= 0.987 over 1322 accepted candidates).
  Rejected: colour emoji of round 17's drawn no-face set at 0.45-0.87 (most drawn candidates still
  reach 1.0). Not for grey: faces with no head around them (LFW's crops) read 0.

Round 19 (drawn faces, :mod:`.verify_disc`):

* ``disc`` (candidates in the frame, colour and grey; needs ``disc``/``disc_r``/``disc_off``, measured by
  :func:`.verify_drawn.opinions` on doubtful candidates once every other check passed): the strongest
  luminance edge on >= 0.6 of 72 rays around the mesh lies on one circle of radius 0.45-0.8 F centred
  within 0.15 F of the mesh (an emoji's or a button's rim). Real faces in the frame <= 0.46 (1602 of round
  18's collected candidates, colour <= 0.43, grey <= 0.46: LFW's square crops); drawn ones 0.78-1.0.

Round 20: ``disc`` for candidates cut by the frame too (:func:`.verify_disc.is_disc` with ``cut``): the rays
are looked at inside the frame only, and a circle (of the strongest or of the outermost edges) whose inner
ring is one tone (``disc_flat`` / ``rim_flat``) is a drawn disc whatever the skin patches read: real faces
>= 0.318 there (2,419 collected candidates, avatars cropped to a circle and cut faces included).
"""

from __future__ import annotations

import numpy as np

from .verify_disc import is_disc
from .verify_drawn import MIN_PERSON
from .verify_squares import median, plane_residual

__all__ = ["doubtful_eyes", "plane_residual", "second_signs", "tone_spread"]

MIN_FINE_TEXTURE = 0.65
MIN_VIEW_PRESENCE = 0.6
SURE_VIEW_PRESENCE = 0.85     # (= verify.MIN_PRESENCE) below it, a grey face's shading must be clear:
MIN_GREY_SCORE_DOUBT = 0.30   # verify_grey's score >= this (= its band clause's MIN_GREY_FACE_BAND)
MIN_TEXTURE_EYE_CUT = 2.4
MIN_PRESENCE_LOOSE = 0.95
LOOSE = 0.10          # = verify.MAX_INSTABILITY: beyond it a cut candidate uses the looser cut limit
MIN_TONE_SPREAD = 0.08        # one-tone: the 7 skin patches' luminance spread / the skin's luminance
DOUBT_EYE_DARK = 0.25         # colour, uncut: irises this little darker than the skin get the stability test
LOOSE_WHOLE = 0.09            # grey, uncut: a mesh moving more than real faces' 99th percentile ...
MIN_EYE_DARK_LOOSE = 0.3      # ... needs irises this much darker than the skin
MIN_VIEW_PRESENCE_LOOSE = 0.85  # colour, uncut, beyond LOOSE_VIEW: the stability view still sure of a face
LOOSE_VIEW = 0.07             # round 16: colour, uncut, a mesh moving 0.07-0.09 F: a view hardly sure of a face
MIN_VIEW_PRESENCE_BAND = 0.62   # ... (below this) is no face either
LOOSE_SKIN = 0.08             # ... more than this: skin all over its patches (skin_fraction) ...
MIN_SKIN_LOOSE = 0.99         # ... at least this share in the skin locus
MIN_SHADE_EYES = 0.02         # colour, uncut, "eyes" darker than the skin (verify_grey.shading) ...
SHADE_BAND_RATIO = 0.8        # ... and the bridge between them at least this as dark (one band, not two eyes):
MIN_SHADE_BAND = 0.30         # ... (eyes - bridge) + mouth >= this
MIN_BAND_CUT = 0.35           # colour, cut, irises in the frame: a bridge this dark relative to the skin ...
BAND_CUT_RATIO = 1.5          # ... and this many times as dark as the "eyes" is a band, not a face
LOOSE_CUT = 0.09              # colour, cut, a mesh moving more than this (verify's cut-skin: > 0.10) ...
MIN_TEXTURE_CUT = 8.0         # ... textured skin (= verify.MIN_SKIN_TEXTURE_LOOSE) ...
MIN_FINE_CUT = 3.0            # ... with fine texture beyond its shading (skin_fine)
MIN_TEXTURE_CUT_GREY = 7.0    # round 20: grey, cut, beyond LOOSE: real faces >= 8.5 (>= 7.8 any cut); gravel/moon 4.9-5.4
LOOSE_BRIDGE = 0.09           # grey, uncut, a mesh moving more than this: the bridge between the "eyes" ...
MAX_BRIDGE_LOOSE = 0.3        # ... no darker than this relative to the skin (verify_grey's grey_bridge)
HALF_BAND = 0.4               # round 17: colour, uncut, a bridge this dark relative to the "eyes" ...
MIN_EYE_RATIO_BAND = 0.57     # ... with eyes closer than this (F) or a view < SURE_VIEW_PRESENCE is no face


def tone_spread(patch_y: np.ndarray) -> float:
    """(brightest - darkest) of the skin patches' mean luminances over their median: a face's shading
    and the features beside its patches (brows, eyelids, nostrils) keep them apart; a filled drawing
    gives them one tone whatever its texture (JPEG noise included)."""
    if len(patch_y) == 0:
        return 1.0
    return float((np.max(patch_y) - np.min(patch_y)) / max(float(median(patch_y)), 1.0))


def doubtful_eyes(checks: dict[str, float]) -> bool:
    """A colour candidate in the frame whose irises are hardly darker than its skin: looked at again
    (:func:`.verify.needs_stability`) even when the detector is sure of it and its lips are red."""
    return (not checks["grey"] and checks.get("inside", 1.0) >= 0.9
            and checks.get("eye_dark", 1.0) < DOUBT_EYE_DARK)


def second_signs(checks: dict[str, float], cut: bool) -> list[str]:
    """The rules above that ``checks`` fails (``cut``: less than verify.CUT_INSIDE in the frame)."""
    why = []
    grey = bool(checks["grey"])
    if checks.get("skin_texture", 1.0) >= 1.0 and checks.get("skin_fine", MIN_FINE_TEXTURE) < MIN_FINE_TEXTURE:
        why.append("drawn")        # smooth shading without skin's fine texture (textureless: verify's "flat")
    elif not cut and checks.get("skin_tones", 1.0) < MIN_TONE_SPREAD:
        why.append("one-tone")     # a filled drawing: every skin patch the same tone (JPEG noise passes "drawn")
    view = checks.get("stability_presence", 1.0)
    if grey and checks.get("inside", 1.0) >= 1.0 and (view < MIN_VIEW_PRESENCE or (
            view < SURE_VIEW_PRESENCE and "grey_eyes" in checks
            and checks["grey_eyes"] - checks["grey_bridge"] + checks["grey_mouth"] < MIN_GREY_SCORE_DOUBT)):
        why.append("view-presence")
    if (grey and not cut and checks.get("stability", 0.0) > LOOSE_WHOLE
            and checks.get("eye_dark", 1.0) < MIN_EYE_DARK_LOOSE):
        why.append("loose-eyes")   # a loose mesh on a grey pattern without dark irises (a stone, a letter)
    view, shift = checks.get("stability_presence", 1.0), checks.get("stability", 0.0)
    if not grey and not cut and (shift > LOOSE_WHOLE and view < MIN_VIEW_PRESENCE_LOOSE
                                 or shift > LOOSE_VIEW and view < MIN_VIEW_PRESENCE_BAND):
        why.append("loose-view")   # a loose colour mesh its second view hardly sees (pads, a headlight)
    if (not grey and not cut and checks.get("stability", 0.0) > LOOSE_SKIN
            and checks.get("skin_all", checks.get("skin_fraction", 1.0)) < MIN_SKIN_LOOSE):
        why.append("loose-skin")   # a loose colour mesh on patches not all skin (gold pads, chrome)
    if (not grey and not cut and checks.get("shade_eyes", 0.0) > MIN_SHADE_EYES
            and checks["shade_bridge"] >= SHADE_BAND_RATIO * checks["shade_eyes"]
            and checks["shade_eyes"] - checks["shade_bridge"] + checks["shade_mouth"] < MIN_SHADE_BAND):
        why.append("one-band")     # no two eyes: the "eyes" no darker than the bridge between them, no mouth line
    elif (not grey and not cut and checks.get("shade_eyes", 0.0) > MIN_SHADE_EYES
          and checks["shade_bridge"] >= HALF_BAND * checks["shade_eyes"]
          and (checks["eye_ratio"] < MIN_EYE_RATIO_BAND
               or checks.get("stability_presence", 1.0) < SURE_VIEW_PRESENCE)):
        why.append("half-band")    # a bridge half as dark as the "eyes", eyes too close or a doubtful view
    if (not grey and cut and checks.get("shade_bridge", 0.0) >= MIN_BAND_CUT
            and checks["shade_bridge"] >= BAND_CUT_RATIO * max(checks["shade_eyes"], MIN_SHADE_EYES)):
        why.append("cut-band")     # cut, both irises in view: a dark band across the eye line (lettering)
    if (grey and not cut and checks.get("stability", 0.0) > LOOSE_BRIDGE
            and checks.get("grey_bridge", 0.0) >= MAX_BRIDGE_LOOSE):
        why.append("loose-bridge")  # a loose grey mesh whose "eyes" are one dark band (the rocket's nose)
    if (cut and not grey and checks.get("stability", 0.0) > LOOSE_CUT
            and (checks.get("skin_texture", MIN_TEXTURE_CUT) < MIN_TEXTURE_CUT
                 or checks.get("skin_fine", MIN_FINE_CUT) < MIN_FINE_CUT)):
        why.append("cut-texture")  # a loose cut colour mesh on smooth "skin" (a wood texture at the top edge)
    if (cut and grey and checks.get("stability", 0.0) > LOOSE
            and checks.get("skin_texture", MIN_TEXTURE_CUT_GREY) < MIN_TEXTURE_CUT_GREY):
        why.append("grey-cut-texture")  # round 20: the same in grey (gravel, the moon cut by the top)
    if cut and grey and 0.0 < checks.get("eyes_inside", 1.0) < 1.0 and checks["skin_texture"] < MIN_TEXTURE_EYE_CUT:
        why.append("eye-cut-texture")
    if (cut and grey and checks.get("stability", 0.0) > LOOSE and checks.get("eyes_inside", 0.0) < 0.5
            and checks["presence"] < MIN_PRESENCE_LOOSE):
        why.append("eyes-out")
    if not grey and not cut and checks.get("person", 1.0) < MIN_PERSON:
        why.append("no-person")    # round 18: the selfie model sees no person on the mesh (emoji, buttons)
    if is_disc(checks, cut):
        why.append("disc")         # round 19: the strongest edges around the mesh make one circle (emoji, buttons)
    return why
