"""The retouch's first stage as two jobs: the skin masks, and beside them what needs the landmarks
and the work image only (the spot exclusions, the person segmentation). :func:`..face_delta`
runs them side by side; :mod:`cosbeauty.imaging.early` starts the same jobs while detection still
verifies the face (round 19, speed). Same functions on the same inputs wherever they run: the
values (and the output bytes) do not depend on the thread or the moment.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future

import cv2
import numpy as np

from .neck import person_probability
from .params import RetouchParams
from .skin import SkinMasks, skin_masks
from .spots import Exclusions, spot_exclusions

Side = tuple["Exclusions | None", "np.ndarray | None"]
"""What the side job returns: (the spot exclusions or None, the person probability or None)."""


def first_jobs(work: np.ndarray, pts: np.ndarray, f: float, params: RetouchParams, need_person: bool,
               spent: dict[str, float], prep_on: bool) -> tuple[Callable[[], SkinMasks], Callable[[], Side]]:
    """(mask job, side job) of one face (arguments as :func:`..face_delta`'s; ``need_person``:
    :func:`..needs_person`); their times (ms) go to ``spent["retouch.mask"]`` / ``["retouch.segment"]``."""

    def mask_job() -> SkinMasks:
        t = time.perf_counter()
        masks = skin_masks(work, pts, f)
        spent["retouch.mask"] = (time.perf_counter() - t) * 1000
        return masks

    def person_job() -> np.ndarray | None:
        if not need_person:
            return None
        t = time.perf_counter()
        h, w = work.shape[:2]
        small = cv2.resize(work, ((w + 1) // 2, (h + 1) // 2), interpolation=cv2.INTER_AREA)
        prob = person_probability(cv2.convertScaleAbs(small, alpha=255.0))
        spent["retouch.segment"] = (time.perf_counter() - t) * 1000
        return cv2.resize(prob, (w, h), interpolation=cv2.INTER_LINEAR)

    def side_job() -> Side:        # landmarks only: while the skin masks are made
        excluded = spot_exclusions(work.shape[:2], pts, f) if prep_on and params.spots > 0 else None
        return excluded, person_job()

    return mask_job, side_job


class Started:
    """The two jobs already submitted (by :mod:`cosbeauty.imaging.early`) for a face whose
    landmarks, work image and amounts are the ones :func:`..face_delta` is given."""

    def __init__(self, masks: Future, side: Future, spent: dict[str, float]) -> None:
        self.masks, self.side, self.spent = masks, side, spent

    def jobs(self, mask_job: Callable[[], SkinMasks], side_job: Callable[[], Side]) -> list[Callable]:
        """The jobs to run in their place: each waits for its started twin, or (not started yet:
        cancelled) runs the caller's own (the same computation)."""
        return [lambda: _take(self.masks, mask_job, self.spent),
                lambda: _take(self.side, side_job, self.spent)]


def _take(future: Future, own: Callable, spent: dict[str, float]) -> object:
    if future.cancel():
        return own()
    return future.result()
