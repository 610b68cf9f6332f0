"""Continuity: where the tone change (whitening, redness, rosy) applies.

The tone mask is the face skin mask extended to the visible skin connected to the face: the
neck below the jaw, the ears and the sides of the face. A pixel is taken when MediaPipe's
selfie-segmentation model (bundled in the mediapipe wheel; the landscape 144x256 variant, run
on the face ROI) says it belongs to the person *and* its colour matches the person's skin
model, inside a landmark-defined region (the oval grown by 0.08 F plus a band 0.55 F below the
jaw, fading out from 0.25 F below the chin). Because the jaw line is not an edge of this mask,
the tone change has no step there. Background (segmentation < 0.5) never changes.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..segmentation import segmenter
from . import zones
from .common import FACE_OVAL, JAW, blur, disc, features, poly
from .skin import SkinModel

NECK_DEPTH = 0.6         # x F below the jaw covered by the ROI and the region
FADE = (0.25, 0.55)      # x F below the chin: full tone until the first, none from the second


def person_probability(rgb8: np.ndarray) -> np.ndarray:
    """Selfie-segmentation probability (H x W float32) of an RGB uint8 image."""
    result = segmenter(1).process(np.ascontiguousarray(rgb8))
    mask = result.segmentation_mask
    if mask is None:
        return np.zeros(rgb8.shape[:2], np.float32)
    return np.asarray(mask, np.float32)


def region(shape: tuple[int, int], pts: np.ndarray, f: float) -> np.ndarray:
    """Oval grown by 0.08 F plus the neck band under the jaw, with the fade below the chin and
    toward the ROI border (float 0..1)."""
    down = zones.down_vector(pts)
    jaw = pts[JAW]
    neck = np.concatenate([jaw, (jaw + down * NECK_DEPTH * f)[::-1]])
    geo = cv2.dilate(poly(shape, pts[FACE_OVAL]), disc(0.08 * f)) | poly(shape, neck)
    h, w = shape
    # a row and a column of coordinates, broadcast (round 20: the same values per pixel as the
    # full coordinate grids, without making them)
    gx = np.arange(w, dtype=np.float32)[None, :]
    gy = np.arange(h, dtype=np.float32)[:, None]
    t = ((gx - pts[152][0]) * down[0] + (gy - pts[152][1]) * down[1]) / f
    fade = np.clip((FADE[1] - t) / (FADE[1] - FADE[0]), 0, 1)
    edge = max(1.0, 0.04 * f)
    border = (np.clip(np.minimum(gx, w - 1 - gx) / edge, 0, 1)
              * np.clip(np.minimum(gy, h - 1 - gy) / edge, 0, 1))
    return geo * fade * border


def tone_mask(work: np.ndarray, skin: np.ndarray, model: SkinModel, pts: np.ndarray, f: float,
              person: np.ndarray | None, colour: np.ndarray | None = None,
              feats: np.ndarray | None = None) -> np.ndarray:
    """Face skin plus connected visible skin, at the resolution of ``work`` (the driver passes
    half work scale). Without ``person``: the face skin. ``colour`` (the skin model's gate with
    slack 4, floor 0.12) and ``feats`` may be passed when already computed at this scale."""
    if person is None:
        return skin
    shape = skin.shape
    if colour is None:
        colour = model.gate(work, slack=4.0, floor=0.12)
    sure = np.clip((person - 0.4) / 0.3, 0, 1)
    keep = 1.0 - cv2.dilate(features(shape, pts, f) if feats is None else feats, disc(0.02 * f))
    m = colour * sure * region(shape, pts, f) * keep
    m = blur(cv2.morphologyEx(m, cv2.MORPH_CLOSE, disc(0.03 * f)), 0.015 * f)
    return np.maximum(m, skin) * inside(shape, pts, person)


def inside(shape: tuple[int, int], pts: np.ndarray, person: np.ndarray) -> np.ndarray:
    """Hard limit of every tone change: the person (segmentation > 0.5) or the face oval."""
    return ((person > 0.5) | (poly(shape, pts[FACE_OVAL]) > 0)).astype(np.float32)
