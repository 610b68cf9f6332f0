"""Drawn faces (emoji, sewing buttons): a second opinion from a model trained on real people (issue #12,
point 1; docs/faces.md, "Only faces", round 18).

Round 17's drawn no-face set (``bench/nofaces_drawn.py``) leaves emoji and buttons accepted that JPEG or
WebP makes look textured: every hand-made measure of the landmark mesh tried so far overlapped the real
faces. MediaPipe's selfie-segmentation model (the general 256x256 one, bundled in the wheel, already used
by :mod:`.segmentation`) gives a person probability per pixel; on a real head it covers the face, and it
was trained on photos of people, not on drawings. :func:`person` shows it the candidate upright (the eye
line levelled), centred on its mesh, in a window 4 F wide (F: the mesh's cheek width, at most 64 px in
the window, so <= 256 px: the model's input) and returns the probability's mean over the mesh's convex
hull.

Measured (round 18, HEAD 1ae2d16, every candidate :func:`.detection.landmarks._face_try` accepted with
its mesh in the frame (``inside`` >= 0.9) and the stability test run):

* real colour faces >= 0.987: ``bench/faces_real.py`` angles and edges, 40/96/300 px, and the tests'
  small (24-40 px), crowd, skin-tone, masked, turned-small and face-corpus faces (every colour candidate
  in the frame accepted, stability test or not: 1322, 570 of them without the test >= 0.992);
* accepted colour drawn candidates of nofaces_drawn (7 images edited) and its held-out set (17 images
  with a candidate): 0.45-1.0 (median 0.87; 6 of 13 below 0.9).

Limit: < 0.9 is no person (``no-person`` in :func:`.verify_signs.second_signs`). Most drawn candidates
still reach 1.0 (the model takes a skin disc with two dots for a head): the rule removes the ones it
does not. **Colour only**: grey faces without a head around them read 0 -- LFW's 25 px crops pasted
on a grey canvas (80 of 113 candidates < 0.9, most 0.00) and both heads in grey on a flat canvas
(test_faces_verify_grey, 24 of 56) -- and no BlazeFace score tried separates those from the grey
drawn candidates (short-range on the same window: LFW 0.58-0.87, drawn 0.50-0.84).

Cost: one model call (~6-7 ms CPU on this machine under load, plus building the graph once per thread) per
colour candidate that already passed every other check **and** is doubtful (:func:`wanted`: the stability
test was run on it, or its skin is one tone); a sure face (the 1080p portrait) never pays it.

Round 19 (:func:`asked`, :func:`opinions`; the hook in ``landmarks._face_try`` calls these instead of
:func:`wanted` / :func:`measures`): the same window also gets :mod:`.verify_disc`'s disc measure (~2 ms,
colour and grey candidates in the frame that are doubtful), and the selfie model is asked only of colour
candidates the disc does not already reject and the detector is not sure of (:func:`person_wanted`:
``det_score`` < 0.85 or one-tone skin). The 12 MP group of bench/faces.py: 7 -> 2 selfie calls.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

__all__ = ["MIN_PERSON", "SURE_DET", "asked", "measures", "opinions", "person", "upright_framed", "wanted"]

MIN_PERSON = 0.9          # colour candidates: the person probability over the mesh at least this
WINDOW = 4.0              # the window's side in F
MAX_F = 64.0              # F in the window at most this many pixels (window <= 256 px: the model's input)
INSIDE = 0.9              # = verify.CUT_INSIDE: only candidates with their mesh in the frame
DOUBT_TONES = 0.15        # ... and doubtful: the stability test run, or skin patches this close to one tone
MAX_SHARE = 0.5           # ... and F at most this x the image's short side (a close-up: see measures)
SURE_DET = 0.85           # round 19: a detector this sure of a candidate with skin of several tones: no person


def wanted(checks: dict[str, float]) -> bool:
    """Asked only of colour candidates in the frame that are doubtful: the stability test was run on them,
    or their skin patches are nearly one tone (``skin_tones`` < 0.15, real colour faces >= 0.178 unless
    masked: a filled drawing the detector is sure of, test_faces_onlyfaces4's 64 px smiley 0.085)."""
    return (not checks["grey"] and checks.get("inside", 1.0) >= INSIDE
            and ("stability" in checks or checks.get("skin_tones", 1.0) < DOUBT_TONES))


def upright(rgb: np.ndarray, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The window around the mesh, eye line levelled, and the mesh's points in it. ``pts`` in the
    pixels of ``rgb``."""
    window, mesh, _ = upright_framed(rgb, pts)
    return window, mesh


def upright_framed(rgb: np.ndarray, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, tuple[int, int]]]:
    """:func:`upright`, and the frame as :func:`.verify_disc.disc` takes it: the window-to-image affine
    and the image's (h, w) (round 20: which window pixels are the image's mirror beyond the frame)."""
    eye_r, eye_l = pts[33].astype(np.float64), pts[263].astype(np.float64)
    degrees = math.degrees(math.atan2(eye_l[1] - eye_r[1], eye_l[0] - eye_r[0]))
    f = float(np.linalg.norm(pts[234] - pts[454])) or 1.0
    centre = pts[:468].astype(np.float64).mean(axis=0)
    k = min(f, MAX_F) / f
    side = max(8, int(round(WINDOW * f * k)))
    m = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), degrees, k)
    m[:, 2] += (side / 2 - centre[0], side / 2 - centre[1])
    window = cv2.warpAffine(np.ascontiguousarray(rgb[..., :3]), m, (side, side), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REFLECT_101)
    mesh = np.c_[pts[:468].astype(np.float64), np.ones(468)] @ m.T
    return window, mesh, (cv2.invertAffineTransform(m), (int(rgb.shape[0]), int(rgb.shape[1])))


def person(rgb: np.ndarray, pts: np.ndarray) -> float:
    """Mean person probability (selfie segmentation) over the mesh's convex hull, the candidate upright."""
    return _person(*upright(rgb, pts))


def _person(window: np.ndarray, mesh: np.ndarray) -> float:
    from .segmentation import segmenter

    prob = segmenter(0).process(window).segmentation_mask
    if prob is None:
        return 0.0
    prob = np.asarray(prob, np.float32)
    if prob.shape != window.shape[:2]:
        prob = cv2.resize(prob, (window.shape[1], window.shape[0]), interpolation=cv2.INTER_LINEAR)
    hull = np.zeros(prob.shape, np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(np.round(mesh).astype(np.int32)), 1)
    return float(prob[hull > 0].mean()) if hull.any() else 0.0


def measures(rgb: np.ndarray, pts: np.ndarray, scale: float = 1.0) -> dict[str, float]:
    """``{"person": ...}`` for one candidate: ``rgb`` the image or a copy scaled by ``scale``, ``pts``
    the 478 landmarks in image pixels.

    A face wider (F) than half the image's short side is not measured (``{}``): the 4 F window then
    shows a close-up's reflections (or, with a flat border, a head too small and cut to be a person:
    Grace Hopper 1.15x as wide as a 1080x1080 frame reads 0.02 reflected, 0.10 on grey), and
    test_faces_cut_real's close-ups were lost (round 18). The drawn faces this rule rejects in the
    no-face sets stay under it (test_faces_onlyfaces5)."""
    scaled = pts * np.float32(scale) if scale != 1.0 else pts
    f = float(np.linalg.norm(scaled[234].astype(np.float64) - scaled[454].astype(np.float64)))
    if f > MAX_SHARE * min(rgb.shape[:2]):
        return {}
    return {"person": person(rgb, scaled)}


def asked(checks: dict[str, float]) -> bool:
    """Round 19 (:func:`opinions`): candidates in the frame that are doubtful -- the stability test was run
    on them (every grey one in the frame) or their skin is one tone -- colour or grey. Round 20: and every
    candidate cut by the frame (``inside`` < 0.9: each gets the stability test), for the disc measured over
    the rays inside the frame (:mod:`.verify_disc`)."""
    return ("stability" in checks or checks.get("skin_tones", 1.0) < DOUBT_TONES
            or checks.get("inside", 1.0) < INSIDE)


def person_wanted(checks: dict[str, float]) -> bool:
    """The selfie model is asked of a colour candidate :func:`asked` lets through unless the detector is
    sure of it (``det_score`` >= 0.85) and its skin has several tones (>= 0.15): drawn candidates of the
    drawn sets read <= 0.785 (18 colour ones, 1ae2d16's collection), test_faces_onlyfaces4's sure smiley
    (0.93) is one tone (0.085); the 12 MP group's real faces 0.90-0.91 (3 of its 5 measured faces). Only
    candidates in the frame (``no-person`` is a rule for those)."""
    return not checks["grey"] and checks.get("inside", 1.0) >= INSIDE and (checks.get("det_score", 0.0) < SURE_DET
                                   or checks.get("skin_tones", 1.0) < DOUBT_TONES)


def opinions(checks: dict[str, float], rgb: np.ndarray, pts: np.ndarray, scale: float = 1.0) -> dict[str, float]:
    """Round 19's second opinions on a candidate :func:`asked` lets through (``checks`` its checks so far;
    ``rgb``, ``pts``, ``scale`` as :func:`measures`): the disc of :mod:`.verify_disc` (``disc``, ``disc_r``,
    ``disc_off``, ``disc_rays``, ``disc_flat``; colour and grey; round 20: over the rays inside the frame)
    in the upright window, and ``person`` from the same window for a colour
    candidate :func:`person_wanted` asks and the disc does not already reject. A close-up (F > half the
    image's short side) gets neither (``{}``: see :func:`measures`)."""
    from .verify_disc import disc, is_disc

    scaled = pts * np.float32(scale) if scale != 1.0 else pts
    f = float(np.linalg.norm(scaled[234].astype(np.float64) - scaled[454].astype(np.float64)))
    if f > MAX_SHARE * min(rgb.shape[:2]):
        return {}
    window, mesh, frame = upright_framed(rgb, scaled)
    out = disc(window, mesh, frame)
    if not is_disc({**checks, **out}) and person_wanted(checks):
        out["person"] = _person(window, mesh)
    return out
