"""Face detection and 478-point landmarks on the CPU (MediaPipe, models bundled in the wheel).

Two stages:

1. BlazeFace full-range detector on a downscaled copy of the whole image and, when it is
   likely to help (no face, several faces or one small face), on overlapping square windows
   of the image shrunk once to the scale of the classic up-to-3x3 tiles of ~400 px, so faces
   down to ~20 px (in images up to ~1200 px; ~2.5 % of the long side beyond) are found. A
   single large face (a portrait) skips the window pass. Overlapping boxes are merged (IoU
   over the smaller box).
2. For each box, the FaceMesh landmark model (with attention: 478 points incl. irises) runs
   on a rotated region of interest built from the detector's eye keypoints, exactly like
   MediaPipe's own front graph, so faces rolled up to 90 degrees are handled. When the ROI
   derived from the landmarks disagrees with the detector's (small or tilted faces) the
   landmark model runs once more on the refined ROI.

MediaPipe graphs are not thread-safe: one pair per thread (``threading.local``), built lazily
on first use so ``import cosbeauty.imaging`` stays cheap.

Speed: every model call is single-threaded (XNNPACK with 1 thread). On this 2-core machine a
2-thread XNNPACK detector is ~40 % faster on an idle machine but 5-20x slower when another
process holds a core (its threads spin-wait for each other), so the parallelism is ours
instead: tiles and faces are spread over the calling thread plus one helper thread
(:func:`pmap`), and the bytes pipeline runs detection on a DCT-reduced decode while the full
decode runs (:func:`detect_scaled`). Downscales use exact 2x2 ``INTER_AREA`` halvings (OpenCV's
fast path) before the last fractional step.

Code: one module per stage in :mod:`cosbeauty.imaging.detection` (threads, models, types,
imageops, whole, windows, proposals, small, candidates, landmarks, finish); this module holds the
entry points (:func:`detect_faces`, :class:`ScaledDetection`) and re-exports what other code uses.
A test that patches a setting patches it where it is read (e.g. ``detection.small.SMALL_TURNS``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .detection import beside, closeup, corners
from .detection.candidates import _want_tiles, _want_turns
from .detection.finish import Landmarked, _finish
from .detection.imageops import _as_rgb8, _windows, mirror_pad, shared_shrinks, shrink  # noqa: F401 (re-exports)
from .detection.landmarks import _face_from, _lm_scale_ok  # noqa: F401 (re-exports)
from .detection.models import _detect_full, _graphs, quietly  # noqa: F401 (re-exports)
from .detection.small import SMALL_TURNS, _small_face_pass, _turned_followup, later_faces  # noqa: F401 (SMALL_TURNS: re-export)
from .detection.threads import _HELPERS, _INLINE, executor, no_helpers, pmap, release_idle  # noqa: F401 (re-exports)
from .detection.common import _LEVEL_STEP, _PROPOSE_SCORE, _TILE_FACE_PX, Face, _Detection  # noqa: F401 (re-exports)
from .detection.whole import TURNS, _detect_in, _whole_pass, _whole_small  # noqa: F401 (_detect_in: re-export)
from .detection.windows import _levels, min_face

__all__ = ["Face", "detect_faces"]

# At most this many faces per image, largest first (was 10: a 20- or 40-face group photo came back
# with 10 retouched). It also bounds the work: candidates landmarked (3 per face) and the proposal
# pass's confirmation cells (8 per face) scale with it; a 40-face 1080p crowd costs ~+25 % CPU in
# detection over its first 10 faces, the no-face photos nothing (tests/imaging/test_faces_crowd.py).
MAX_FACES = 50

# The names above are re-exported for other modules, tests and benches (as before the split). They
# are bindings, not aliases: patching one here does not reach the module that reads it, so patch it
# there (``detection.small.SMALL_TURNS``, ``detection.models.quietly``); SMALL_TURNS here is only
# the default.


def detect_faces(rgb: np.ndarray, *, max_faces: int = MAX_FACES, min_face_px: int = 20,
                 tiles: bool | None = None, turns: bool | None = None,
                 verify: bool = True) -> list[Face]:
    """Verified faces in an RGB(A)/grey uint8 or uint16 image, largest first.

    ``tiles``: None decides automatically (window pass when nothing, several faces or only a
    small face was found by the whole-image pass), True/False forces it on/off; ``turns``
    likewise for the quarter-turned whole-image passes (faces at any in-plane angle). Faces
    narrower than ``min_face_px`` are ignored; at most ``max_faces`` are returned. ``verify``
    False keeps candidates that fail :func:`.verify.is_face` (for calibration; their
    ``checks`` say why).
    """
    image = _as_rgb8(rgb)
    h, w = image.shape[:2]
    if min(h, w) < 8 or max_faces <= 0:
        return []
    with shared_shrinks(image):        # each shrink of the image made once (.detection.imageops)
        return _detect(image, max_faces, min_face_px, tiles, turns, verify)


def _detect(image: np.ndarray, max_faces: int, min_face_px: int, tiles: bool | None, turns: bool | None,
            verify: bool) -> list[Face]:
    """:func:`detect_faces` on an RGB uint8 image of at least 8 x 8 px."""
    h, w = image.shape[:2]
    whole = _whole_small(image)
    dets = _whole_pass(image, small=whole)
    want_tiles = tiles if tiles is not None else _want_tiles(dets, h, w, min_face_px)
    # small faces beside one big face (.beside): skin blobs outside it, one mosaic call beside its landmarks
    look = ((whole[0], whole[1], [d.box for d in dets])
            if tiles is None and beside.wanted(dets, want_tiles, h, w, min_face_px) else None)
    if turns if turns is not None else _want_turns(dets, want_tiles):
        dets += _whole_pass(image, turns=TURNS, edges=True, small=whole)
        dets += corners.corner_pass(whole[0], whole[1], whole[2], h, w)     # big faces cut at a corner
    later: list[_Detection] = []       # edge candidates landmarked after the faces (detection.small.later_faces)
    if want_tiles:
        dets += _small_face_pass(image, h, w, min_face_px=min_face_px, known=dets, max_faces=max_faces, later=later)
    done = Landmarked(image)           # each candidate landmarked once, however many times it is finished
    faces, extra = _finish_beside(dets, image, look, max_faces, min_face_px, verify, done)
    if want_tiles:
        faces = _turned_followup(faces, dets, image, h, w, None, min_face_px, max_faces, verify, done)
        faces = later_faces(faces, later, image, h, w, min_face_px, max_faces, verify)
    elif tiles is None and not faces and _levels(h, w, min_face_px):
        # the whole-image pass's one large candidate was no face (the coffee photo: 1000 px at
        # 0.56): small faces may be there after all
        dets += _small_face_pass(image, h, w, min_face_px=min_face_px, max_faces=max_faces)
        faces = _finish(dets, image, max_faces, min_face_px, (h, w), done, verify=verify)
    if not faces and tiles is None and (more := closeup.closeup_candidates(image, h, w, small=whole)):
        # a face filling the frame (a close-up cut a little at its edges): the whole image shown smaller
        faces = _finish(more, image, max_faces, min_face_px, (h, w), done, verify=verify)
    return beside.with_extra(faces, extra, image, max_faces, min_face_px, (h, w), verify)


Look = tuple[np.ndarray, float, list[np.ndarray]]
"""The beside look's input: the whole-image pass's copy, its scale, the big face's box."""


def _finish_beside(dets: list[_Detection], image: np.ndarray, look: Look | None, max_faces: int,
                   min_face_px: int, verify: bool, done: Landmarked | None = None,
                   cells: list | None = None) -> tuple[list[Face], list[_Detection]]:
    """The faces of ``dets`` (:func:`_finish`) and, on the other thread meanwhile (the big face's
    landmarks take about as long), the beside look's detections (:mod:`.detection.beside`: its
    cells on ``look``, one mosaic on ``image``); [] when ``look`` is None. ``cells``: those cells
    when already computed (:meth:`ScaledDetection.start`, the same call)."""
    h, w = image.shape[:2]
    if look is None:
        return _finish(dets, image, max_faces, min_face_px, (h, w), done, verify=verify), []
    small, k, big = look

    def beside_look() -> list[_Detection]:
        todo = cells if cells is not None else beside.cells(small, k, h, w, min_face(h, w, min_face_px), big)
        return beside.look(image, None, todo)

    faces, extra = pmap(lambda i: (_finish(dets, image, max_faces, min_face_px, (h, w), done, verify=verify)
                                   if i == 0 else beside_look()), [0, 1])
    return faces, extra


class ScaledDetection:
    """Detection started on a reduced copy (e.g. a DCT-scaled JPEG decode) before the full image
    exists: :meth:`start` runs the whole-image pass and, when no window pass is needed, the
    landmarks of every face big enough to keep full landmark resolution at that scale;
    :meth:`finish` does the rest (window pass, smaller faces) on the full image.

    The result matches :func:`detect_faces` on the full image up to the resampling
    differences between a DCT-scaled decode and ``INTER_AREA`` (sub-pixel landmarks). It
    depends only on the bytes: never on which thread ran :meth:`start`.
    """

    def __init__(self, h: int, w: int, *, max_faces: int = MAX_FACES, min_face_px: int = 20) -> None:
        self.h, self.w = h, w
        self.max_faces, self.min_face_px = max_faces, min_face_px
        self.dets: list[_Detection] = []
        self.tiles = False
        self.scaled: tuple[np.ndarray, float, float] | None = None
        self.beside: Look | None = None        # the beside look's input (.detection.beside)
        self.cells: list | None = None         # its cells, when start() had the time (see pending)
        # Set by the caller: True while the full image is still being decoded elsewhere. start()
        # then computes the beside look's cells (they read only the reduced copy), which finish()
        # would compute beside the landmarks otherwise: the same call, the same cells.
        self.pending: Callable[[], bool] | None = None

    def start(self, small: np.ndarray) -> "ScaledDetection":
        """``small``: RGB uint8, the image reduced by a power of 2 (pixel = image pixel / r)."""
        sx, sy = small.shape[1] / self.w, small.shape[0] / self.h
        self.scaled = (small, sx, sy)
        if min(self.h, self.w) < 8 or self.max_faces <= 0:
            return self
        with shared_shrinks(small):
            return self._start(small, sx, sy)

    def _start(self, small: np.ndarray, sx: float, sy: float) -> "ScaledDetection":
        whole = _whole_small(small)
        self.dets = _whole_pass(small, sx, sy, small=whole)
        self.tiles = _want_tiles(self.dets, self.h, self.w, self.min_face_px)
        if beside.wanted(self.dets, self.tiles, self.h, self.w, self.min_face_px):      # see detect_faces
            self.beside = (whole[0], sx * whole[1], [d.box for d in self.dets])
        if _want_turns(self.dets, self.tiles):
            self.dets += _whole_pass(small, sx, sy, turns=TURNS, edges=True, small=whole)
            self.dets += corners.corner_pass(whole[0], sx * whole[1], sy * whole[2], self.h, self.w)
        # (Until round 20 the faces big enough were landmarked here on the reduced copy; finish()
        # never used those faces -- _select makes new candidates -- and landmarks the full image.)
        if self.beside is not None and self.pending is not None and self.pending():
            small_look, k, big = self.beside
            self.cells = beside.cells(small_look, k, self.h, self.w, min_face(self.h, self.w, self.min_face_px), big)
        return self

    def finish(self, rgb: np.ndarray) -> list[Face]:
        """The faces, given the full image (only read for windows and small faces)."""
        if min(self.h, self.w) < 8 or self.max_faces <= 0:
            return []
        image = _as_rgb8(rgb)
        with shared_shrinks(image, *([self.scaled[0]] if self.scaled is not None else [])):
            return self._finish(image)

    def _finish(self, image: np.ndarray) -> list[Face]:
        dets = list(self.dets)
        later: list[_Detection] = []       # see detect_faces
        if self.tiles:
            dets += _small_face_pass(image, self.h, self.w, self.scaled, self.min_face_px, dets, self.max_faces, later)
        done = Landmarked(image)           # see detect_faces
        faces, extra = _finish_beside(dets, image, self.beside, self.max_faces, self.min_face_px, True, done,
                                      self.cells)
        if self.tiles:
            faces = _turned_followup(faces, dets, image, self.h, self.w, self.scaled, self.min_face_px,
                                     self.max_faces, True, done)
            faces = later_faces(faces, later, image, self.h, self.w, self.min_face_px, self.max_faces, True)
        elif not faces and _levels(self.h, self.w, self.min_face_px):     # see detect_faces
            dets += _small_face_pass(image, self.h, self.w, self.scaled, self.min_face_px, (), self.max_faces)
            faces = _finish(dets, image, self.max_faces, self.min_face_px, (self.h, self.w), done)
        if not faces and self.scaled is not None:       # a close-up (see detect_faces)
            small, sx, sy = self.scaled
            if more := closeup.closeup_candidates(small, self.h, self.w, sx, sy):
                faces = _finish(more, image, self.max_faces, self.min_face_px, (self.h, self.w), done)
        return beside.with_extra(faces, extra, image, self.max_faces, self.min_face_px, (self.h, self.w))
