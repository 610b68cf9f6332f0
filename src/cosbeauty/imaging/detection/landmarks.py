"""Stage 2, one candidate -> a verified :class:`.common.Face`: MediaPipe's ROI from the eye
keypoints, the 478-point landmark model (refined ROI when needed), verification, and the retries
for faces cut by the frame (replicated border, mirror image, upright box); mesh stability.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .cutbox import box_tries
from .cutfollow import follow_tries, follow_wanted
from .onframe import mesh_in_frame
from .imageops import _colourful, shrink
from .models import _graphs
from .common import _ALTERNATES, _LM_CROP_MAX, _PRESENCE_FLOOR, _ROI_SCALE, _UPRIGHT_RETRY, Face, _Detection, _Roi


def _roi_from_points(box: np.ndarray, eye_r: np.ndarray, eye_l: np.ndarray) -> _Roi:
    """MediaPipe's DetectionsToRects + RectTransformation (x1.5, square) in pixel units."""
    angle = -math.atan2(-(eye_l[1] - eye_r[1]), eye_l[0] - eye_r[0])
    angle = (angle + math.pi) % (2 * math.pi) - math.pi
    size = max(box[2] - box[0], box[3] - box[1]) * _ROI_SCALE
    return _Roi((box[0] + box[2]) / 2, (box[1] + box[3]) / 2, size, angle)


def _roi_from_landmarks(pts: np.ndarray) -> _Roi:
    """Refined ROI: the landmark extent measured in the face's own (rotated) frame."""
    eye_r, eye_l = pts[33], pts[263]
    angle = math.atan2(eye_l[1] - eye_r[1], eye_l[0] - eye_r[0])
    c, s = math.cos(angle), math.sin(angle)
    rot = np.array([[c, s], [-s, c]], dtype=np.float64)          # image -> face frame
    local = pts[:468].astype(np.float64) @ rot.T
    lo, hi = local.min(axis=0), local.max(axis=0)
    centre = ((lo + hi) / 2) @ rot                                # back to image frame
    size = float(max(hi - lo)) * _ROI_SCALE
    return _Roi(float(centre[0]), float(centre[1]), size, angle)


def _landmarks(src: np.ndarray, roi: _Roi, scale: float = 1.0,
               border: int = cv2.BORDER_REFLECT_101) -> tuple[np.ndarray, float] | None:
    """(478 landmarks in image pixels, the model's face-presence score) inside ``roi`` (image
    pixels), or None when the ROI has no pixels. ``src`` is the image scaled by ``scale`` (a
    reduced decode) or the image itself."""
    from mediapipe.framework.formats import rect_pb2

    h, w = src.shape[:2]
    cx, cy, size = roi.cx * scale, roi.cy * scale, roi.size * scale
    half = size * (abs(math.cos(roi.angle)) + abs(math.sin(roi.angle))) / 2
    x0, y0 = int(math.floor(cx - half)), int(math.floor(cy - half))
    x1, y1 = int(math.ceil(cx + half)), int(math.ceil(cy + half))
    cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if cx1 - cx0 < 8 or cy1 - cy0 < 8:
        return None
    crop, sx, sy = src[cy0:cy1, cx0:cx1], 1.0, 1.0
    if (cx0, cy0, cx1, cy1) != (x0, y0, x1, y1):     # cut by the frame: mirror the missing part
        crop = cv2.copyMakeBorder(np.ascontiguousarray(crop), cy0 - y0, y1 - cy1, cx0 - x0, x1 - cx1,
                                  border)
    if max(crop.shape[:2]) > _LM_CROP_MAX:
        crop, sx, sy = shrink(crop, _LM_CROP_MAX / max(crop.shape[:2]))
    else:
        crop = np.ascontiguousarray(crop)
    ch, cw = crop.shape[:2]
    rect = rect_pb2.NormalizedRect(
        x_center=(cx - x0) * sx / cw, y_center=(cy - y0) * sy / ch,
        width=size * sx / cw, height=size * sy / ch, rotation=roi.angle)
    _, landmarker = _graphs()
    result = landmarker.process({"image": crop, "roi": rect})
    if result.landmarks is None or result.presence is None:
        return None
    pts = np.array([(p.x * cw, p.y * ch) for p in result.landmarks.landmark], dtype=np.float32)
    pts /= np.array([sx, sy], dtype=np.float32)
    pts += np.array([x0, y0], dtype=np.float32)
    return (pts / np.float32(scale) if scale != 1.0 else pts), float(result.presence)


def _needs_refine(first: _Roi, second: _Roi) -> bool:
    d_angle = abs((first.angle - second.angle + math.pi) % (2 * math.pi) - math.pi)
    shift = math.hypot(first.cx - second.cx, first.cy - second.cy)
    ratio = second.size / max(first.size, 1e-6)
    return d_angle > math.radians(8) or shift > 0.08 * second.size or not 0.8 < ratio < 1.25


def _face_from(det: _Detection, rgb: np.ndarray, scale: float = 1.0,
               shape: tuple[int, int] | None = None, check: bool = True) -> Face | None:
    """Landmarks for one detection, verified (:mod:`.verify`) unless ``check`` is False.
    ``rgb`` is the image, or a copy scaled by ``scale`` (then ``shape`` is the image's h, w).
    When the detector's eye keypoints were off (a rotated face: the landmark model then sees
    no face), the next views of the same face from other passes are tried (at most 2)."""
    for cand in [det, *sorted(det.alts, key=lambda d: -d.score)[:_ALTERNATES]]:
        face = _face_from_one(cand, rgb, scale, shape, check)
        if face is not None:
            face.score = det.score
            return face
    return None


def _face_from_one(det: _Detection, rgb: np.ndarray, scale: float,
                   shape: tuple[int, int] | None, check: bool) -> Face | None:
    """Landmarks and verification of one view. A candidate cut by the frame is seen with the
    missing part mirrored; when that fails, once more with the frame's edge rows/columns
    repeated instead (measured on the cut-face corpus: each border finds faces the other
    misses, mirroring more; the candidate must still pass every check)."""
    face, cut = _face_try(det, rgb, scale, shape, check, cv2.BORDER_REFLECT_101)
    if face is None and cut and check:
        face, _ = _face_try(det, rgb, scale, shape, check, cv2.BORDER_REPLICATE)
    if face is None and cut and check:
        face = _face_from_mirror(det, rgb, scale, shape)
    if face is None and cut and check:
        face = _face_from_upright(det, rgb, scale, shape)
    if face is None and cut and check:
        face = _face_from_enlarged(det, rgb, scale, shape)
    if face is None and cut and check and _BOX_TRIES:
        face = _face_from_box(det, rgb, scale, shape)
    if face is None and cut and check and follow_wanted(det, shape or rgb.shape[:2]):
        roi = _roi_from_points(det.box, det.eyes[0], det.eyes[1])
        face = follow_tries(det, lambda border: _landmarks(rgb, roi, scale, border),
                            lambda seed, border: _face_try(seed, rgb, scale, shape, True, border)[0])
    return face


_BOX_TRIES = True   # cut at the top/bottom: upright ROIs the size of the box (.cutbox)


def _face_from_box(det: _Detection, rgb: np.ndarray, scale: float,
                   shape: tuple[int, int] | None) -> Face | None:
    """:func:`.cutbox.box_tries` for a small candidate cut at the top or bottom."""
    h, w = shape or (int(round(rgb.shape[0] / scale)), int(round(rgb.shape[1] / scale)))
    roi = _roi_from_points(det.box, det.eyes[0], det.eyes[1])
    return box_tries(det, _cut_side(det, h, w), roi.angle, roi.size, h, w,
                     lambda seed, border: _face_try(seed, rgb, scale, shape, True, border)[0])


_ENLARGED = (1.4, 1.8)   # a cut candidate's last tries: its box (and eye spacing) this much larger


def _face_from_enlarged(det: _Detection, rgb: np.ndarray, scale: float,
                        shape: tuple[int, int] | None) -> Face | None:
    """A cut candidate that failed every other try, landmarked on its box enlarged about its
    centre (x _ENLARGED). The detector may box only the part of a small face inside the frame
    (a grey 32 px astronaut face 40 % out at the left: box 15 px, the face's landmark box 22):
    on that ROI the mesh shrinks into the visible part and fails verification (grey structure).
    Measured on the grey small cut faces (docs/faces.md, "Recall"): 60 -> 65/72; the candidate
    must still pass every check. Only in colourless images (the window pass's) and at the left
    and right edges, where those faces were: in colour it found none of the small cut faces and
    accepted a rocket crop cut at the right, at the top a coin crop (no-face corpus, cut by the
    frame)."""
    h, w = shape or (int(round(rgb.shape[0] / scale)), int(round(rgb.shape[1] / scale)))
    if _cut_side(det, h, w) not in ("left", "right") or _colourful(rgb):
        return None
    cx, cy = (det.box[0] + det.box[2]) / 2, (det.box[1] + det.box[3]) / 2
    centre = np.array([cx, cy])
    for k in _ENLARGED:
        half = (det.box[2:4] - det.box[0:2]) * k / 2
        seed = _Detection(box=np.r_[centre - half, centre + half].astype(np.float64), score=det.score,
                          eyes=(centre + (det.eyes - centre) * k).astype(np.float64), coarse=True)
        for border in (cv2.BORDER_REFLECT_101, cv2.BORDER_REPLICATE):
            face, _ = _face_try(seed, rgb, scale, shape, True, border)
            if face is not None:
                return face
    return None


def _face_from_upright(det: _Detection, rgb: np.ndarray, scale: float,
                       shape: tuple[int, int] | None) -> Face | None:
    """A cut candidate that failed every other try, landmarked as an upright face on its box.
    A small face cut at the top (eyes on or past the edge) and its reflection in a mirrored
    border make a symmetric pattern the detector boxes across the edge, with eye keypoints
    that say little (the ROI came out turned); the landmark model given the same box upright
    finds the face on an ROI the size of the box (Grace Hopper 24 px half above the frame: presence 1.0;
    on 1.5x the box, MediaPipe's usual ROI, 0.0-0.7, the face is too small in it)."""
    roi = _roi_from_points(det.box, det.eyes[0], det.eyes[1])
    h, w = shape or rgb.shape[:2]
    cx, cy = (det.box[0] + det.box[2]) / 2, (det.box[1] + det.box[3]) / 2
    outside = det.coarse and not (0 <= cx < w and 0 <= cy < h)
    if (abs(roi.angle) < math.radians(10) and not outside) or roi.size > _UPRIGHT_RETRY * max(h, w):
        return None                                     # tried upright / not small
    if outside:
        # a proposal boxed over face and reflection, centred past the edge (the proposer's box
        # leans to the reflection's side): the face is the reflection of that centre in the frame.
        # Grace Hopper 24 px 25/40 % above the frame, with the proposals' edge slack at 0.4:
        # found, mesh centre within 1 px of the face's; not for other passes' candidates (a grey
        # window-pass candidate so re-centred got a mesh half a face below the face)
        cx = -cx if cx < 0 else 2.0 * (w - 1) - cx if cx >= w else cx
        cy = -cy if cy < 0 else 2.0 * (h - 1) - cy if cy >= h else cy
    r = max(det.box[2] - det.box[0], det.box[3] - det.box[1]) / 3   # the box holds the face and its
    eyes = np.array([[cx - r / 2, cy], [cx + r / 2, cy]])           # reflection: ROI = the box
    seed = _Detection(box=np.array([cx - r, cy - r, cx + r, cy + r]), score=det.score, eyes=eyes, coarse=True)
    for border in (cv2.BORDER_REFLECT_101, cv2.BORDER_REPLICATE):
        face, _ = _face_try(seed, rgb, scale, shape, True, border)
        if face is not None:
            return face
    return None


def _cut_side(det: _Detection, h: int, w: int) -> str:
    """The frame edge ``det``'s ROI (with its rotation margin) reaches furthest past."""
    roi = _roi_from_points(det.box, det.eyes[0], det.eyes[1])
    half = roi.size * (abs(math.cos(roi.angle)) + abs(math.sin(roi.angle))) / 2
    over = {"left": half - roi.cx, "top": half - roi.cy, "right": roi.cx + half - w, "bottom": roi.cy + half - h}
    return max(over, key=lambda k: over[k])


def _reflected(det: _Detection, h: int, w: int) -> _Detection:
    """``det`` reflected about the frame edge its ROI reaches furthest past, eyes swapped (a
    mirror image): the turned whole-image passes see a face cut by the frame together with its
    reflection in the mirrored padding, and may box the reflection (upside down for a face cut
    at the top or bottom) instead of the face."""
    side = _cut_side(det, h, w)
    box, eyes = det.box.astype(np.float64).copy(), det.eyes.astype(np.float64).copy()
    axis = 0 if side in ("left", "right") else 1
    m = 0.0 if side in ("left", "top") else 2.0 * ((w if axis == 0 else h) - 1)   # BORDER_REFLECT_101
    box[[axis, axis + 2]] = m - box[[axis + 2, axis]]
    eyes[:, axis] = m - eyes[:, axis]
    return _Detection(box=box, score=det.score, eyes=eyes[::-1].copy(), coarse=True)


def _face_from_mirror(det: _Detection, rgb: np.ndarray, scale: float,
                      shape: tuple[int, int] | None) -> Face | None:
    """A cut candidate that failed on both borders, tried as the mirror image of a face: the
    reflected ROI is landmarked with the edge replicated (the mirrored border shows the model
    the reflection again), and that mesh seeds an ordinary verified try on each border.
    Measured (faces 25/40/50 % outside each side, both people): 60/150 px 47/48 -> 48/48
    (Grace Hopper 150 px half above the top: mesh 0.08 F from the uncut face's); no-face
    corpus and its 76 edge crops: 0 accepted either way (with verify's texture floor)."""
    h, w = shape or (int(round(rgb.shape[0] / scale)), int(round(rgb.shape[1] / scale)))
    m = _reflected(det, h, w)
    got = _landmarks(rgb, _roi_from_points(m.box, m.eyes[0], m.eyes[1]), scale, cv2.BORDER_REPLICATE)
    if got is None or got[1] < _PRESENCE_FLOOR:
        return None
    pts = got[0][:468]
    seed = _Detection(box=np.r_[pts.min(axis=0), pts.max(axis=0)].astype(np.float64), score=det.score,
                      eyes=np.stack([pts[33], pts[263]]).astype(np.float64), coarse=True)
    for border in (cv2.BORDER_REFLECT_101, cv2.BORDER_REPLICATE):
        face, _ = _face_try(seed, rgb, scale, shape, True, border)
        if face is not None:
            return face
    return None


def _face_try(det: _Detection, rgb: np.ndarray, scale: float, shape: tuple[int, int] | None,
              check: bool, border: int) -> tuple[Face | None, bool]:
    """(the face or None, whether its ROI was cut by the frame)."""
    from ..verify import CUT_INSIDE, face_checks, is_face, needs_stability, reasons
    from .. import verify_drawn
    from ..verify_occluded import second_views

    roi = _roi_from_points(det.box, det.eyes[0], det.eyes[1])
    got = _landmarks(rgb, roi, scale, border)
    cut = _cut(rgb, roi, scale)
    if got is None or got[1] < _PRESENCE_FLOOR:
        return None, cut
    pts, presence = got
    refined = _roi_from_landmarks(pts)
    if det.coarse or _needs_refine(roi, refined):   # a mosaic's box: landmark where the mesh says
        cut = cut or _cut(rgb, refined, scale)
        got = _landmarks(rgb, refined, scale, border) if refined.size > 4 else None
        if got is None or got[1] < _PRESENCE_FLOOR:
            return None, cut
        pts, presence = got
    h, w = shape or rgb.shape[:2]
    if check and cut and not mesh_in_frame(pts, h, w, det):
        return None, cut
    lo = np.clip(np.floor(pts[:468].min(axis=0)), 0, [w - 1, h - 1]).astype(int)
    hi = np.clip(np.ceil(pts[:468].max(axis=0)), 0, [w - 1, h - 1]).astype(int)
    box = (int(lo[0]), int(lo[1]), int(hi[0] - lo[0] + 1), int(hi[1] - lo[1] + 1))
    checks = face_checks(rgb, pts, scale, presence, det.score)
    if check and not is_face(checks):
        return None, cut
    if not check or needs_stability(checks):
        checks["stability"], checks["stability_presence"] = _stability(rgb, pts, scale, border)
        if checks["inside"] < CUT_INSIDE and "stability" in reasons(checks):
            _cut_stability(checks, rgb, pts, scale, border)
        else:       # a masked face: views turned less (.verify_occluded.second_views)
            second_views(checks, lambda degrees, zoom=1.15: _stability(rgb, pts, scale, border, degrees, zoom))
        if check and not is_face(checks):
            return None, cut
    if check and verify_drawn.asked(checks):      # a doubtful candidate that passed: a disc? a person there? (drawn faces)
        checks.update(verify_drawn.opinions(checks, rgb, pts, scale))
        if not is_face(checks):
            return None, cut
    return Face(box=box, score=det.score, landmarks=pts, presence=presence, checks=checks), cut


_UNZOOMED_VIEWS = True   # colour cut candidates lost by both turned views: the same turns, not enlarged


def _cut_stability(checks: dict[str, float], rgb: np.ndarray, pts: np.ndarray, scale: float, border: int) -> None:
    """More stability views for a candidate cut by the frame that failed the first (kept in
    ``checks`` when they move the mesh less): the window turned the other way (the mirrored part
    of a face cut at the top, eyes outside, turns with the window: the mesh is lost one way only);
    and for a colour candidate whose mesh both turned views lost (presence < _PRESENCE_FLOOR),
    the same two turns on a window the size of the mesh's own ROI, not 1.15x it (a small face
    half above the frame: the larger window shows the model more of the face's reflection in
    the mirrored border and it sees no face, Grace Hopper 24 px presence 0.07 / 0.01, 1.0x:
    0.57, shift 0.086 F). Not for grey candidates: the no-face corpus's coins cut 20 px at
    the bottom (colourless, every other check passed) hold their mesh through a 1.0x view."""
    from ..verify import is_face

    first = checks["stability_presence"]
    shift, seen = _stability(rgb, pts, scale, border, -25.0)
    if shift < checks["stability"]:
        checks["stability"], checks["stability_presence"] = shift, seen
    if (not _UNZOOMED_VIEWS or checks["grey"] or max(first, seen) >= _PRESENCE_FLOOR
            or is_face(checks)):
        return
    for degrees in (25.0, -25.0):
        shift, seen = _stability(rgb, pts, scale, border, degrees, 1.0)
        if shift < checks["stability"]:
            checks["stability"], checks["stability_presence"] = shift, seen


def _cut(src: np.ndarray, roi: _Roi, scale: float) -> bool:
    """The ROI (with its rotation margin) reaches outside the frame of ``src``."""
    h, w = src.shape[:2]
    half = roi.size * scale * (abs(math.cos(roi.angle)) + abs(math.sin(roi.angle))) / 2
    cx, cy = roi.cx * scale, roi.cy * scale
    return cx - half < 0 or cy - half < 0 or cx + half > w or cy + half > h


def _stability(rgb: np.ndarray, pts: np.ndarray, scale: float, border: int = cv2.BORDER_REFLECT_101,
               degrees: float = 25.0, zoom: float = 1.15) -> tuple[float, float]:
    """How much the mesh moves when the landmark model sees the same place through a turned
    (+25 degrees, or ``degrees``) and enlarged (x1.15, or ``zoom``) window: mean point distance / F. A real
    face stays put, a face-like pattern's mesh is hallucinated and moves (or loses its presence
    score). Faces cut by the frame that fail it get a second view turned -25 degrees and keep the
    smaller shift (cut candidates of the calibration set, docs/faces.md: real faces 192 -> 194
    of 199 pass, no-face candidates 0 of 49 either way: their smaller shift is still >= 0.066 F
    in colour, 0.118 F grey). Returns (that shift, the view's presence score; 0.0 when the model
    gave none)."""
    roi = _roi_from_landmarks(pts)
    other = _Roi(roi.cx, roi.cy, roi.size * zoom, roi.angle + math.radians(degrees))
    got = _landmarks(rgb, other, scale, border)
    if got is None or got[1] < _PRESENCE_FLOOR:
        return 1.0, (got[1] if got is not None else 0.0)
    f = max(float(np.linalg.norm(pts[234] - pts[454])), 1.0)
    return float(np.linalg.norm(got[0][:468] - pts[:468], axis=1).mean() / f), got[1]


def _lm_scale_ok(det: _Detection, scale: float) -> bool:
    """A copy scaled by ``scale`` gives the landmark model the same input resolution as the
    full image would: the ROI (with its rotation margin) still has >= _LM_CROP_MAX pixels."""
    roi = _roi_from_points(det.box, det.eyes[0], det.eyes[1])
    return roi.size * scale >= _LM_CROP_MAX * 1.05
