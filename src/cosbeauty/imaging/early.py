"""The retouch's first stage started while detection still verifies the face (round 19, speed).

On the bytes path's portrait case (the reduced-image pass found one confident face and no window
pass follows) the landmarks of that face on the full image are known a while before
:func:`.verify.face_checks` and the rest of detection are done (1080p: ~9 ms of checks, the
helper thread idle meanwhile). :func:`mesh_ready`, called by the landmark step with the mesh it is
about to verify, submits the retouch's first stage for it (:mod:`.retouch.first`: skin masks;
spot exclusions and person segmentation) on the helper pool. When detection then returns exactly
that face (the same landmarks, bit for bit), the retouch takes those jobs' results instead of
computing them (:meth:`Early.started_for`); otherwise they are dropped (cancelled if not started).

Output bytes: the same functions on the same inputs (the decoded pixels, untouched until the
retouch writes the face, and the same landmarks and amounts): identical whether the jobs ran early,
late, on which thread, or not at all (tests/imaging/test_speed19.py).

:func:`arm` registers an image (by its buffer: the array detection sees is a view of it) and
:func:`disarm` drops it; only the first mesh of an armed image starts anything, and only at
``scale`` 1 (the full image, not a reduced copy). Thread-safe: several requests arm their own images.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np


# Off by default (round 19's measurement): on this VM the checks it overlaps take ~3 ms when the
# process gets its cores (the ~9 ms of the lead's profile were cProfile's overhead on Python-level
# code), and the two extra pool threads slow them (GIL): 80 interleaved calls in one process
# (load ~22), early / off: wall median ratio 1.009, fastest call 71.2 / 70.8 ms, CPU +1-2 %.
ENABLED = False
MIN_DET_SCORE = 0.75      # detector score of the one candidate from which the first stage starts early

_lock = threading.Lock()
_armed: dict[tuple, "Early"] = {}
STATS = {"started": 0, "used": 0}      # counters (tests)


def _key(image: np.ndarray) -> tuple:
    return image.__array_interface__["data"][0], image.shape[:2], image.strides[:2]


class Early:
    """One armed image: ``tag`` (what the retouch's inputs besides the pixels and the landmarks
    are: its amounts and white level) and ``starter(image, pts)`` (submits the first stage, returns
    what the retouch takes: :class:`.retouch.first.Started`); after the first mesh, ``pts`` (its
    landmarks) and ``started``. Imports nothing of the package: the landmark step imports this module."""

    def __init__(self, image: np.ndarray, tag: Any, starter: Callable[[np.ndarray, np.ndarray], Any]) -> None:
        self.image, self.tag, self.starter = image, tag, starter
        self.pts: np.ndarray | None = None
        self.started: Any = None

    def started_for(self, out: np.ndarray, faces: list, tag: Any) -> Any:
        """The started first stage when it fits the retouch about to run (one face, these very
        landmarks, pixels and ``tag``), else None (and the jobs are dropped)."""
        started, self.started = self.started, None
        if started is None:
            return None
        if (len(faces) == 1 and out is self.image and tag == self.tag
                and self.pts is not None and np.array_equal(faces[0].landmarks, self.pts)):
            STATS["used"] += 1
            return started
        _drop(started)
        return None

    def close(self) -> None:
        started, self.started = self.started, None
        if started is not None:
            _drop(started)


def _drop(started: Any) -> None:
    for future in (started.masks, started.side):
        future.cancel()


def arm(image: np.ndarray, tag: Any, starter: Callable[[np.ndarray, np.ndarray], Any]) -> Early | None:
    """Register ``image`` (the decoded pixels the retouch will write in place) for an early first
    stage (see :class:`Early`); None when switched off. Pair with :func:`disarm`."""
    if not ENABLED:
        return None
    early = Early(image, tag, starter)
    with _lock:
        _armed[_key(image)] = early
    return early


def unregister(early: Early) -> None:
    """No more meshes start anything for ``early``'s image (detection is done); what was started
    stays for :meth:`Early.started_for`."""
    with _lock:
        if _armed.get(_key(early.image)) is early:
            del _armed[_key(early.image)]


def disarm(early: Early | None) -> None:
    """Unregister (and drop what was not used)."""
    if early is None:
        return
    unregister(early)
    early.close()


def mesh_ready(image: np.ndarray, pts: np.ndarray, det_score: float) -> None:
    """The hook (:mod:`.detection.landmarks`): ``pts``, the landmarks of a candidate about to be
    verified on ``image`` (the full image, RGB uint8, possibly a view of the armed array)."""
    if not _armed or det_score < MIN_DET_SCORE:
        return
    with _lock:
        early = _armed.get(_key(image))
        if early is None or early.pts is not None:
            return
        early.pts = pts.copy()
    try:
        early.started = early.starter(early.image, early.pts)
        STATS["started"] += 1
    except Exception:  # noqa: BLE001 - a speculation: detection must not fail for it (the retouch computes it itself)
        early.started = None
