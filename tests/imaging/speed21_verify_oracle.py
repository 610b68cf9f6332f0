"""The verification measures as they were before round 21's shared squares: the oracle of
tests/imaging/test_speed21_verify.py, copied verbatim from 1461445 (src/cosbeauty/imaging/verify.py's
face_checks, _skin, _patch_mean, _lip_area_mean, _mirror_all; verify_light._hue_line; verify_occluded.measures
and _patches; verify_hair.measures and _luma; verify_grey.grey_measures, _luma and shading), module references made
explicit. Not used by the code."""
# ruff: noqa

from __future__ import annotations

import cv2
import numpy as np

from cosbeauty.imaging import verify_cut, verify_grey, verify_hair, verify_light, verify_occluded, verify_signs
from cosbeauty.imaging.verify import (CB_RANGE, CR_RANGE, CUT_INSIDE, GREY_CHROMA, LIP_SAMPLES, SKIN_SAMPLES,
                                      LIP_INNER, LIP_OUTER, _geometry, _lip_redness)
from cosbeauty.imaging.verify_grey import EYES, BRIDGE, MOUTH, SKIN, _mirror
from cosbeauty.imaging.verify_occluded import UPPER, LOWER, MATCH_CHROMA
from cosbeauty.imaging.verify_light import TINT_CHROMA
from cosbeauty.imaging.verify_hair import CHEEKS, R_EYE, L_EYE, UNDER, MIN_HIDE


def skin(rgb: np.ndarray, pts: np.ndarray, f: float) -> dict[str, float]:
    """Colour of the 7 skin patches in ``rgb`` (``pts`` in its pixels, F its cheek width)."""
    h, w = rgb.shape[:2]
    r = max(1, int(round(0.05 * f)))
    means, texture, fine, ycc, rgbs = [], [], [], [], []
    for i in SKIN_SAMPLES:
        x, y = _mirror(pts[i][0], w), _mirror(pts[i][1], h)    # cut by the frame: mirrored
        x0, y0, x1, y1 = max(0, x - r), max(0, y - r), min(w, x + r + 1), min(h, y + r + 1)
        if x1 <= x0 or y1 <= y0:
            continue
        patch = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1, :3]), cv2.COLOR_RGB2YCrCb)
        flat = patch.reshape(-1, 3).astype(np.float32)
        means.append(flat.mean(axis=0))
        texture.append(float(flat[:, 0].std()))
        fine.append(verify_signs.plane_residual(patch[:, :, 0]))
        ycc.append(flat)
        rgbs.append(rgb[y0:y1, x0:x1, :3].reshape(-1, 3))
    if not means:
        return {"skin_fraction": 0.0, "chroma_spread": 99.0, "grey": 0.0, "patches": 0.0,
                "lip_cr": 0.0, "lip_cr_points": 0.0, "lip_cr_area": 0.0, "eye_dark": 0.0, "skin_texture": 0.0,
                "skin_fine": 0.0, "skin_tones": 1.0}
    m = np.array(means)
    chroma = m[:, 1:]
    colour = verify_light.skin_colour(ycc, rgbs, CR_RANGE, CB_RANGE)     # clipped patches, the wider locus
    colourfulness = float(np.mean(np.abs(chroma - 128.0).sum(axis=1)))
    lips = _patch_mean(rgb, pts, LIP_SAMPLES, max(1, int(round(0.02 * f))))
    lip_area = _lip_area_mean(rgb, pts)
    irises = _patch_mean(rgb, pts, (468, 473), max(1, int(round(0.015 * f))))
    skin_y = float(np.median(m[:, 0]))
    return {**colour, "skin_texture": float(np.median(texture)),
            "skin_fine": float(np.median(fine)), "skin_tones": verify_signs.tone_spread(m[:, 0]),
            "grey": float(colourfulness < GREY_CHROMA), "patches": float(len(means)),
            **_lip_redness(lips, lip_area, float(np.median(chroma[:, 0]))),
            **verify_light.lip_shade(lips, lip_area, m),
            "eye_dark": float((skin_y - irises[0]) / max(skin_y, 1.0)) if irises is not None else 0.0}


def _patch_mean(rgb: np.ndarray, pts: np.ndarray, indices: tuple[int, ...], r: int) -> np.ndarray | None:
    """Mean (Y, Cr, Cb) of small squares around ``indices`` (those inside the frame)."""
    h, w = rgb.shape[:2]
    parts = []
    for i in indices:
        x, y = _mirror(pts[i][0], w), _mirror(pts[i][1], h)
        x0, y0, x1, y1 = max(0, x - r), max(0, y - r), min(w, x + r + 1), min(h, y + r + 1)
        if x1 > x0 and y1 > y0:
            patch = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1, :3]), cv2.COLOR_RGB2YCrCb)
            parts.append(patch.reshape(-1, 3).astype(np.float32))
    return np.concatenate(parts).mean(axis=0) if parts else None


def face_checks(rgb: np.ndarray, pts: np.ndarray, scale: float, presence: float,
                det_score: float) -> dict[str, float]:
    """Every verification measure of one candidate. ``rgb`` is the image or a copy scaled by
    ``scale``; ``pts`` are the 478 landmarks in image pixels."""
    scaled = pts * np.float32(scale) if scale != 1.0 else pts
    f = float(np.linalg.norm(scaled[234] - scaled[454]))
    h, w = rgb.shape[:2]
    inside = ((scaled[:, 0] >= 0) & (scaled[:, 0] < w) & (scaled[:, 1] >= 0) & (scaled[:, 1] < h))
    checks = {"presence": float(presence), "det_score": float(det_score),
              "inside": float(inside[:468].mean()), "lips_inside": float(inside[list(LIP_SAMPLES)].mean()),
              "eyes_inside": float(inside[[468, 473]].mean()),
              **_geometry(pts), **skin(rgb, scaled, f)}
    if not checks["grey"] and checks["inside"] >= CUT_INSIDE and verify_light.tinted(rgb, scaled, f):
        checks["grey"] = checks["tinted"] = 1.0       # sepia, a one-hue filter: judged like grey (not cut)
    if checks["grey"] and checks["inside"] >= verify_grey.MIN_INSIDE:      # a face's shading (verify_grey)
        checks.update(grey_measures(rgb, scaled, f))
    elif not checks["grey"] and checks["eyes_inside"] >= 1.0:      # colour, irises in view: verify_signs' one-band
        checks.update(shading(rgb, scaled, f))
    if verify_cut.in_scope(checks, CUT_INSIDE) and (sym := verify_cut.symmetry(rgb, scaled, f)) is not None:
        checks["symmetry"] = sym            # cut between eyes and lips (verify_cut)
    if not checks["grey"]:                  # the lower face hidden by a mask (verify_occluded)
        checks.update(occluded_measures(rgb, scaled, f))
    return checks



# verify_occluded
def _occ_patches(rgb: np.ndarray, pts: np.ndarray, idx: tuple[int, ...], r: int) -> list[np.ndarray]:
    h, w = rgb.shape[:2]
    out = []
    for i in idx:
        x, y = int(round(float(pts[i][0]))), int(round(float(pts[i][1])))
        x0, y0, x1, y1 = max(0, x - r), max(0, y - r), min(w, x + r + 1), min(h, y + r + 1)
        if x1 > x0 and y1 > y0:
            p = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1, :3]), cv2.COLOR_RGB2YCrCb)
            out.append(p.reshape(-1, 3).astype(np.float32))
    return out


def _in_locus(flat: np.ndarray) -> np.ndarray:
    return ((flat[:, 1] >= CR_RANGE[0]) & (flat[:, 1] <= CR_RANGE[1])
            & (flat[:, 2] >= CB_RANGE[0]) & (flat[:, 2] <= CB_RANGE[1]))


def occluded_measures(rgb: np.ndarray, pts: np.ndarray, f: float) -> dict[str, float]:
    """The occlusion measures of one candidate (``pts`` in ``rgb``'s pixels, ``f`` its cheek width)."""
    r = max(1, int(round(0.05 * f)))
    up, low = _occ_patches(rgb, pts, UPPER, r), _occ_patches(rgb, pts, LOWER, r)
    if len(up) < len(UPPER) or len(low) < len(LOWER) // 2:
        return {"up_skin": 0.0, "low_skin": 1.0, "low_match": 1.0, "up_spread": 99.0, "up_texture": 0.0, "up_eye_dark": 0.0}
    allup = np.concatenate(up)
    means = np.array([p.mean(axis=0) for p in up])
    centre = np.median(means[:, 1:], axis=0)
    irises = _occ_patches(rgb, pts, (468, 473), max(1, int(round(0.015 * f))))
    skin_y = float(np.median(means[:, 0]))
    iris_y = float(np.concatenate(irises)[:, 0].mean()) if irises else skin_y
    return {**hair_measures(rgb, pts, f), "up_skin": float(_in_locus(allup).mean()),
            "up_spread": float(np.max(np.linalg.norm(means[:, 1:] - centre, axis=1))),
            "up_texture": float(np.median([p[:, 0].std() for p in up])),
            "low_skin": float(_in_locus(np.concatenate(low)).mean()),
            "low_match": float((np.linalg.norm(np.concatenate(low)[:, 1:] - centre, axis=1) <= MATCH_CHROMA).mean()),
            "up_eye_dark": (skin_y - iris_y) / max(skin_y, 1.0)}



# verify_hair
def _hair_luma(rgb: np.ndarray, xy: np.ndarray, r: int) -> np.ndarray:
    """Mean luminance (BT.601, as YCrCb's Y) of the (2r+1)^2 square around each point of ``xy``
    (clipped to the frame; NaN for a square wholly outside), from one integral image of the region
    the squares cover (~0.06 ms for 38 squares on a 190 px face)."""
    h, w = rgb.shape[:2]
    p = np.rint(xy).astype(np.int64)
    x0, y0 = max(int(p[:, 0].min()) - r, 0), max(int(p[:, 1].min()) - r, 0)
    x1, y1 = min(int(p[:, 0].max()) + r + 1, w), min(int(p[:, 1].max()) + r + 1, h)
    if x1 <= x0 or y1 <= y0:
        return np.full(len(p), np.nan)
    s = cv2.integral(cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1, :3]), cv2.COLOR_RGB2GRAY))
    rw, rh = x1 - x0, y1 - y0
    lx, hx = np.clip(p[:, 0] - (r + x0), 0, rw), np.clip(p[:, 0] + (r + 1 - x0), 0, rw)
    ly, hy = np.clip(p[:, 1] - (r + y0), 0, rh), np.clip(p[:, 1] + (r + 1 - y0), 0, rh)
    area = (hx - lx) * (hy - ly)
    total = s[hy, hx] - s[ly, hx] - s[hy, lx] + s[ly, lx]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(area > 0, total / area, np.nan)


def hair_measures(rgb: np.ndarray, pts: np.ndarray, f: float) -> dict[str, float]:
    """The one-side measures of a colour candidate with both eyes in the frame (``pts`` in ``rgb``'s
    pixels, ``f`` its cheek width). The skin patches are read only when one eye is dark enough
    (:data:`MIN_HIDE`): ``show_skin`` 0 otherwise."""
    r3 = max(1, int(round(0.03 * f)))
    squares = _hair_luma(rgb, pts[list(CHEEKS + R_EYE + L_EYE)], r3)
    cheeks, eyes = squares[:len(CHEEKS)], squares[len(CHEEKS):]
    if np.isnan(squares).any():
        return {}                  # a square outside the frame: a cut face, not judged here
    skin = float(np.median(cheeks))
    dark = (skin - eyes) / max(skin, 1.0)
    sides = (dark[:len(R_EYE)], dark[len(R_EYE):])
    means = [float(e.mean()) for e in sides]
    hide = int(means[1] > means[0])
    show = 1 - hide
    out = {"hide_eye": means[hide], "show_eye": means[show], "hide_iris": float(sides[hide][-1]),
           "show_iris": float(sides[show][-1]), "show_skin": 0.0, "show_spread": 99.0}
    if means[hide] < MIN_HIDE:
        return out
    h, w = rgb.shape[:2]
    r5 = max(1, int(round(0.05 * f)))
    patches = []
    for i in CHEEKS + (UNDER[show],):
        x, y = int(round(float(pts[i][0]))), int(round(float(pts[i][1])))
        p = rgb[max(0, y - r5):min(h, y + r5 + 1), max(0, x - r5):min(w, x + r5 + 1), :3]
        if p.size:
            patches.append(cv2.cvtColor(np.ascontiguousarray(p), cv2.COLOR_RGB2YCrCb).reshape(-1, 3).astype(np.float32))
    if len(patches) < 4:
        return out
    allp = np.concatenate(patches)
    chroma = np.array([p[:, 1:].mean(axis=0) for p in patches])
    in_locus = ((allp[:, 1] >= verify_hair.CR_RANGE[0]) & (allp[:, 1] <= verify_hair.CR_RANGE[1])
                & (allp[:, 2] >= verify_hair.CB_RANGE[0]) & (allp[:, 2] <= verify_hair.CB_RANGE[1]))
    out.update(show_skin=float(in_locus.mean()),
               show_spread=float(np.max(np.linalg.norm(chroma - np.median(chroma, axis=0), axis=1))))
    return out



# verify_grey
def _luma(rgb: np.ndarray, pts: np.ndarray, indices: tuple[int, ...], r: int) -> np.ndarray:
    """Mean Y of the (2r+1)^2 square around each landmark (read mirrored outside the frame)."""
    h, w = rgb.shape[:2]
    out = np.empty(len(indices), np.float64)
    for k, i in enumerate(indices):
        x, y = _mirror(pts[i][0], w), _mirror(pts[i][1], h)
        patch = np.ascontiguousarray(rgb[max(0, y - r):min(h, y + r + 1), max(0, x - r):min(w, x + r + 1), :3])
        out[k] = float(cv2.cvtColor(patch, cv2.COLOR_RGB2YCrCb)[:, :, 0].mean())
    return out


def grey_measures(rgb: np.ndarray, pts: np.ndarray, f: float) -> dict[str, float]:
    """Darkness of the eyes, of the bridge between them and of the mouth line relative to the
    skin (``pts``: landmarks in the pixels of ``rgb``, ``f`` the cheek width there)."""
    r = max(1, int(round(0.03 * f)))
    skin = float(np.median(_luma(rgb, pts, SKIN, r)))
    s = max(skin, 1.0)

    def dark(indices: tuple[int, ...]) -> float:
        return float((skin - _luma(rgb, pts, indices, r).mean()) / s)

    return {"grey_eyes": dark(EYES), "grey_bridge": dark(BRIDGE), "grey_mouth": dark(MOUTH)}



# verify_grey.shading
def _mirror_v(v: np.ndarray, n: int) -> np.ndarray:
    """:func:`_mirror` of an array of coordinates (rounded half to even like ``round``)."""
    i = np.round(v.astype(np.float64)).astype(np.int64)
    if n < 2:
        return np.zeros_like(i)
    period = 2 * (n - 1)
    i = np.mod(i, period)
    return np.where(i < n, i, period - i)


def shading(rgb: np.ndarray, pts: np.ndarray, f: float) -> dict[str, float]:
    """:func:`grey_measures` for a colour candidate, computed in one pass (one YCrCb conversion of the
    region the squares cover, the squares' means from its integral image): ``shade_eyes``,
    ``shade_bridge``, ``shade_mouth`` (darkness relative to the skin, as ``grey_eyes`` etc.), judged
    by :mod:`.verify_signs`' ``one-band``. Squares outside the frame are read mirrored."""
    h, w = rgb.shape[:2]
    r = max(1, int(round(0.03 * f)))
    groups = (SKIN, EYES, BRIDGE, MOUTH)
    idx = [i for g in groups for i in g]
    xy = np.stack([_mirror_v(pts[idx, 0], w), _mirror_v(pts[idx, 1], h)], axis=1)
    x0, y0 = (int(v) for v in np.maximum(xy.min(axis=0) - r, 0))
    x1, y1 = (int(v) for v in np.minimum(xy.max(axis=0) + r + 1, [w, h]))
    region = np.ascontiguousarray(rgb[y0:y1, x0:x1, :3])
    s = cv2.integral(cv2.cvtColor(region, cv2.COLOR_RGB2YCrCb)[:, :, 0])
    rh, rw = region.shape[:2]
    lx, hx = np.clip(xy[:, 0] - x0 - r, 0, rw), np.clip(xy[:, 0] - x0 + r + 1, 0, rw)
    ly, hy = np.clip(xy[:, 1] - y0 - r, 0, rh), np.clip(xy[:, 1] - y0 + r + 1, 0, rh)
    mean = (s[hy, hx] - s[ly, hx] - s[hy, lx] + s[ly, lx]) / np.maximum((hx - lx) * (hy - ly), 1)
    n = np.cumsum([0] + [len(g) for g in groups])
    skin = float(np.median(mean[n[0]:n[1]]))
    k = max(skin, 1.0)
    return {"shade_eyes": float((skin - mean[n[1]:n[2]].mean()) / k), "shade_bridge": float((skin - mean[n[2]:n[3]].mean()) / k),
            "shade_mouth": float((skin - mean[n[3]:n[4]].mean()) / k)}


# verify._lip_area_mean
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


# verify_light._hue_line
def _hue_line(rgb: np.ndarray) -> tuple[float, float, float]:
    """(share of pixels with chroma >= :data:`TINT_CHROMA`, the 90th percentile of the chroma's distance
    from the median hue's line through neutral, the median chroma) of ``rgb``'s unclipped pixels."""
    ycc = cv2.cvtColor(np.ascontiguousarray(rgb[:, :, :3]), cv2.COLOR_RGB2YCrCb).reshape(-1, 3).astype(np.float32)
    c = ycc[(ycc[:, 0] > 16) & (ycc[:, 0] < 240), 1:] - 128.0
    if len(c) < 64:
        return 0.0, 99.0, 0.0
    mag = np.linalg.norm(c, axis=1)
    strong = mag >= TINT_CHROMA
    if not strong.any():
        return 0.0, 99.0, 0.0
    d = np.median(c[strong] / mag[strong][:, None], axis=0)
    norm = float(np.linalg.norm(d))
    if norm == 0.0:
        return float(strong.mean()), 99.0, float(np.median(mag))
    perp = np.abs(c @ np.array([-d[1], d[0]]) / norm)
    return float(strong.mean()), float(np.percentile(perp, 90)), float(np.median(mag))
