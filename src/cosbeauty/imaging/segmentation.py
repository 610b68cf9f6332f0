"""Portrait cut-out: which pixels belong to a person (``ci-process=face-effect&type=face-segmentation``).

MediaPipe's selfie-segmentation model (the *general* 256x256 variant, bundled in the mediapipe
wheel; no download) gives a person probability for an image reduced to at most
``MODEL_SIDE`` px on its long side. The probability is upsampled to ``REFINE_SIDE`` px, its
edges snapped to the image's own edges with a guided filter (hair and shoulder outlines follow
the photo, not the model's coarse grid), then upsampled to full size. One model instance per
thread (MediaPipe graphs are not thread-safe; the CI workers each build theirs on first use).
"""

from __future__ import annotations

import os
import threading
import warnings
from typing import Any

import cv2
import numpy as np

__all__ = ["person_mask", "cutout"]

MODEL_SIDE = 512          # the model sees 256x256 anyway: feeding it more only costs time
REFINE_SIDE = 768         # guided-filter resolution (cost grows with pixels: 2000^2 took 1 s)
ALPHA_RAMP = (0.35, 0.65)  # refined probability -> alpha: 0 below, 1 above, linear between

_local = threading.local()


def _segmenter() -> Any:
    seg = getattr(_local, "seg", None)
    if seg is None:
        os.environ.setdefault("GLOG_minloglevel", "2")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from mediapipe.python.solutions.selfie_segmentation import SelfieSegmentation

            seg = _local.seg = SelfieSegmentation(model_selection=0)
    return seg


def _resize(img: np.ndarray, side: int) -> np.ndarray:
    h, w = img.shape[:2]
    scale = side / max(h, w)
    if scale >= 1.0:
        return img
    return cv2.resize(img, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


def person_mask(rgb8: np.ndarray) -> np.ndarray:
    """Person alpha (H x W float32 in [0, 1]) of an RGB uint8 image: 1 on the person, 0 on the
    background, a soft edge of a few pixels between. Deterministic."""
    if rgb8.ndim != 3 or rgb8.shape[2] != 3 or rgb8.dtype != np.uint8:
        raise ValueError("expected an H x W x 3 uint8 RGB array")
    h, w = rgb8.shape[:2]
    small = np.ascontiguousarray(_resize(rgb8, MODEL_SIDE))
    prob = _segmenter().process(small).segmentation_mask
    if prob is None:
        return np.zeros((h, w), np.float32)
    guide = _resize(rgb8, REFINE_SIDE)
    gh, gw = guide.shape[:2]
    prob = cv2.resize(np.asarray(prob, np.float32), (gw, gh), interpolation=cv2.INTER_LINEAR)
    radius = max(2, round(max(gh, gw) / 150))
    refined = cv2.ximgproc.guidedFilter(guide, prob, radius, 50.0)
    lo, hi = ALPHA_RAMP
    alpha = np.clip((refined - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)
    if (gh, gw) != (h, w):
        alpha = np.clip(cv2.resize(alpha, (w, h), interpolation=cv2.INTER_LINEAR), 0.0, 1.0)
    return alpha


def cutout(rgb8: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """RGBA uint8: the person over a transparent background. Fully transparent pixels are also
    black (nothing of the background survives, even for a reader that drops the alpha)."""
    a8 = np.rint(alpha * 255.0).astype(np.uint8)
    rgb = np.where(a8[..., None] > 0, rgb8, 0).astype(np.uint8)
    return np.dstack([rgb, a8])
