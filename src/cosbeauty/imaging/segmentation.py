"""Portrait cut-out: which pixels belong to a person (``ci-process=face-effect&type=face-segmentation``).

MediaPipe's selfie-segmentation model (the *general* 256x256 variant, bundled in the mediapipe
wheel; no download) gives a person probability for an image reduced to at most
``MODEL_SIDE`` px on its long side, a second time on the box around the people when they are
small in the frame. The probability, at ``REFINE_SIDE`` px, has its
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

__all__ = ["person_mask", "cutout", "segmenter", "warm"]

MODEL_SIDE = 512          # the model sees 256x256 anyway: feeding it more only costs time
REFINE_SIDE = 768         # guided-filter resolution (cost grows with pixels: 2000^2 took 1 s)
CROP_MARGIN = 0.25        # second pass: the people's box grown by this much of its size per side
ALPHA_RAMP = (0.35, 0.65)  # refined probability -> alpha: 0 below, 1 above, linear between

_local = threading.local()


def segmenter(model_selection: int = 0) -> Any:
    """This thread's MediaPipe selfie-segmentation graph (0 = general 256x256, 1 = landscape
    144x256), built once per thread and model with MediaPipe's start-up chatter kept off stderr."""
    cache = _local.__dict__.setdefault("graphs", {})
    seg = cache.get(model_selection)
    if seg is None:
        os.environ.setdefault("GLOG_minloglevel", "2")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from mediapipe.python.solutions.selfie_segmentation import SelfieSegmentation

            from cosbeauty.imaging.detection.models import quietly   # MediaPipe's start-up chatter off stderr

            def build() -> Any:
                graph = SelfieSegmentation(model_selection=model_selection)
                graph.process(np.zeros((64, 64, 3), np.uint8))     # opens the calculators
                return graph

            seg = cache[model_selection] = quietly(build)
    return seg


def warm(timeout: float = 5.0) -> None:
    """Build the selfie-segmentation graphs ahead of the first call: both models on the calling
    thread (a CI worker: the portrait cut-out uses the general model, the retouch's neck step
    the landscape one) and the landscape model on every helper thread of
    :func:`cosbeauty.imaging.faces.executor` (the retouch runs its person segmentation there,
    side by side with the skin masks). The helpers are reached one task each through a barrier;
    if they are busy past ``timeout`` the rest build their graph on first use instead."""
    from cosbeauty.imaging.detection.threads import _HELPERS, executor

    segmenter(0)
    segmenter(1)
    barrier = threading.Barrier(_HELPERS)

    def helper() -> None:
        try:
            barrier.wait(timeout)
        except threading.BrokenBarrierError:
            pass
        segmenter(1)

    for job in [executor().submit(helper) for _ in range(_HELPERS)]:
        job.result()


def _resize(img: np.ndarray, side: int) -> np.ndarray:
    h, w = img.shape[:2]
    scale = side / max(h, w)
    if scale >= 1.0:
        return img
    return cv2.resize(img, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


def _run(rgb8: np.ndarray) -> np.ndarray:
    """The model's probability at the size of ``rgb8``."""
    h, w = rgb8.shape[:2]
    prob = segmenter(0).process(np.ascontiguousarray(_resize(rgb8, MODEL_SIDE))).segmentation_mask
    if prob is None:
        return np.zeros((h, w), np.float32)
    return cv2.resize(np.asarray(prob, np.float32), (w, h), interpolation=cv2.INTER_LINEAR)


def _probability(img: np.ndarray) -> np.ndarray:
    """Two passes: the whole picture, then -- when the people found fill less than half of it --
    again on the box around them (grown by ``CROP_MARGIN`` of its size), so that they fill the
    model's 256 px input and thin or dark parts (a dark hat on a dark coat) are not lost. The
    first pass stays the answer outside the box."""
    prob = _run(img)
    ys, xs = np.nonzero(prob > 0.5)
    if ys.size == 0:
        return prob
    h, w = prob.shape
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    if (y1 - y0) * (x1 - x0) >= 0.5 * h * w:
        return prob
    my, mx = int(CROP_MARGIN * (y1 - y0)) + 2, int(CROP_MARGIN * (x1 - x0)) + 2
    y0, y1, x0, x1 = max(0, y0 - my), min(h, y1 + my), max(0, x0 - mx), min(w, x1 + mx)
    prob[y0:y1, x0:x1] = _run(img[y0:y1, x0:x1])
    return prob


def person_mask(rgb8: np.ndarray) -> np.ndarray:
    """Person alpha (H x W float32 in [0, 1]) of an RGB uint8 image: 1 on the person, 0 on the
    background, a soft edge of a few pixels between. Deterministic."""
    if rgb8.ndim != 3 or rgb8.shape[2] != 3 or rgb8.dtype != np.uint8:
        raise ValueError("expected an H x W x 3 uint8 RGB array")
    h, w = rgb8.shape[:2]
    guide = _resize(rgb8, REFINE_SIDE)
    gh, gw = guide.shape[:2]
    prob = _probability(guide)
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
