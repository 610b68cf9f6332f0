"""The face retouch, one module per step (imgproxy style), all at work scale inside a face ROI.

Order (each step sees the result of the previous ones, so no two steps fix the same flaw
twice): skin mask and person segmentation -> spots healed -> smoothing (pores kept) -> lines
and folds filled -> eye bags lifted -> tone (redness, whitening, rosy; continued onto the neck)
-> eyes and teeth. :func:`face_delta` returns the total change; the caller upsamples it to the
ROI's full resolution and adds it, so texture finer than a work pixel is never touched.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from . import zones
from ..detection.threads import executor
from .common import FACE_OVAL, grow_to, luma, nonzero_box, poly, shrink2
from .eyebags import eyebags_delta
from .eyes import eyes_delta
from .lines import lines_delta
from .neck import inside, person_probability, tone_mask
from .params import RetouchParams
from .skin import SkinMasks, SkinModel, skin_geometry, skin_mask, skin_masks
from .smooth import base_layer, smooth_delta
from .heal import heal_full
from .prep import NOSE_TIP, Prep, prepare, prepare_late, prepare_lines, prepare_smooth
from .spots import find_spots, heal_delta, spot_exclusions
from .teeth import teeth_delta
from .tone import tone_delta

__all__ = ["RetouchParams", "SkinMasks", "SkinModel", "face_delta", "skin_mask", "skin_masks"]

PARALLEL_MIN_WORK_PX = 40_000
PARALLEL_TONE = True     # eye bags and tone side by side (same output: test_speed17)
# round 18: the spots' exclusions beside the skin masks, and what the steps after the heal need from
# the masks alone (retouch.prep) on the helper during the heal (same output: test_speed18)
PARALLEL_PREP = True
# round 20: the heal's pin-point search on a helper beside its ring test (same output: test_speed20_retouch)
PARALLEL_PIN = True
PARALLEL_LINES = True    # ... and the folds beside the fine lines
PARALLEL_GEOMETRY = True  # ... and the skin masks' landmark-only part beside the skin model
PARALLEL_TEETH = True     # ... and the teeth beside the eyes
PARALLEL_PERSON = True    # ... and the person segmentation beside the heal (not before it)
# round 21: the prep's smoothing and lines parts waited for apart, the late part from the heal's end
PARALLEL_SPLIT = True
NECK_MIN_F = 120.0       # image px of cheek width below which the tone stays on the face


class _Clock:
    def __init__(self, timings: dict | None) -> None:
        self.timings = timings
        self.t = time.perf_counter()

    def tick(self, key: str) -> None:
        now = time.perf_counter()
        if self.timings is not None:
            self.timings[key] = self.timings.get(key, 0.0) + (now - self.t) * 1000
        self.t = now


def face_delta(work: np.ndarray, pts: np.ndarray, f: float, params: RetouchParams, *,
               scale: float = 1.0, pmap: Callable | None = None, timings: dict | None = None,
               full: np.ndarray | None = None, peak: float = 255.0, heals: list | None = None) -> np.ndarray:
    """The retouch change (H x W x 3 float32, image units 0..1) for one face.

    ``work``: the face ROI at work scale, float32 RGB in [0, 1]; ``pts``: its 478 landmarks in
    work pixels; ``f``: cheek width in work pixels; ``scale``: work pixels per image pixel
    (faces under NECK_MIN_F image pixels get no neck continuation: the segmentation is not
    reliable there and a seam is not visible at that size). ``pmap`` (optional) runs the skin mask and
    the person segmentation side by side. Timings (ms) go to ``retouch.<step>`` keys.

    ``full`` (the ROI at full resolution, uint8/uint16 with white ``peak``, ``scale`` < 1) and a
    list ``heals``: spots are found at work scale but healed on the image's pixels, only in the
    boxes around them (:func:`heal.heal_full`: at full resolution up to ``heal.HEAL_F`` px of
    cheek width, at that scale above it); their changes ``(full box, change in levels)`` are
    appended to ``heals`` for the caller to add, the later steps see the healed skin, and the
    returned delta leaves the heal out (upsampling it would soften a spot's sharp edge).
    """
    clock = _Clock(timings)
    need_person = (params.neck and f / scale >= NECK_MIN_F
                   and (params.whitening > 0 or params.tone > 0 or params.rosy > 0))
    spent: dict[str, float] = {}
    # the half-size ROI: the person segmentation's input and (from F = 160) the skin masks' scale,
    # made once by whichever of the two needs it first (the other waits for it)
    h, w = work.shape[:2]
    half = _Once(lambda: cv2.resize(work, ((w + 1) // 2, (h + 1) // 2), interpolation=cv2.INTER_AREA))

    def mask_job() -> SkinMasks:
        t = time.perf_counter()
        masks = skin_masks(work, pts, f, geometry, half.get if f >= 160 else None)   # (asked once needed)
        spent["retouch.mask"] = (time.perf_counter() - t) * 1000
        return masks

    def person_job() -> np.ndarray | None:
        if not need_person:
            return None
        t = time.perf_counter()
        prob = person_probability(cv2.convertScaleAbs(half.get(), alpha=255.0))
        spent["retouch.segment"] = (time.perf_counter() - t) * 1000
        return cv2.resize(prob, (w, h), interpolation=cv2.INTER_LINEAR)

    prep_on = PARALLEL_PREP
    excluded = None
    parallel = pmap is not None and work.shape[0] * work.shape[1] >= PARALLEL_MIN_WORK_PX
    # round 20: the masks' landmark-only part on a helper meanwhile
    geometry = executor().submit(skin_geometry, work.shape[:2], pts, f) if parallel and PARALLEL_GEOMETRY else None
    # round 20: the person segmentation is only needed by prep.prepare_late (after the heal): with
    # the prep beside the heal it runs on a helper without holding up the heal
    later = executor().submit(person_job) if parallel and prep_on and need_person and PARALLEL_PERSON else None
    person_once = _Once(lambda: person_job() if later is None or later.cancel() else later.result())

    def side_job() -> np.ndarray | None:        # landmarks only: while the skin masks are made
        nonlocal excluded
        if prep_on and params.spots > 0:
            excluded = spot_exclusions(work.shape[:2], pts, f)
        return person_job() if later is None else None

    jobs = [mask_job, side_job]
    if parallel and (need_person or (prep_on and params.spots > 0)):
        masks, person = pmap(lambda job: job(), jobs)
    else:
        masks, person = mask_job(), side_job()
    if timings is not None:
        for key, value in list(spent.items()):
            if later is None or key != "retouch.segment":      # (that one once it is known, below)
                timings[key] = timings.get(key, 0.0) + value
    clock.t = time.perf_counter()

    def the_person() -> np.ndarray | None:
        return person if later is None else person_once.get()

    cur = work.copy()                    # every step adds its change in place
    at_full = []                         # (work box, work-scale image of a full-resolution heal)

    submit = executor().submit if parallel and PARALLEL_PIN else None

    def spots_job() -> None:
        if params.spots > 0 and full is not None and heals is not None and scale < 1.0:
            found = find_spots(work, masks.spot, f, pts, excluded, submit)
            if found is not None:
                for fbox, d, wbox, small in heal_full(full, peak, found, f, scale, work.shape[:2], params.spots):
                    heals.append((fbox, d))
                    x0, y0, x1, y1 = wbox
                    cur[y0:y1, x0:x1] += small
                    at_full.append((wbox, small))
        elif params.spots > 0:
            healed = heal_delta(work, masks.spot, f, params.spots, pts, excluded, submit)
            if healed is not None:
                (x0, y0, x1, y1), d = healed
                cur[y0:y1, x0:x1] += d

    def prep_job() -> Prep:               # (prepare does not read the person probability)
        return prepare(work.shape[:2], pts, f, params, masks, person)

    def late_job() -> Prep:
        return prepare_late(prep, work.shape[:2], pts, f, params, masks, the_person())

    prep = Prep()
    late = None
    lines_once = None
    if prep_on and parallel and PARALLEL_SPLIT:
        # round 21: the smoothing's part of the prep, then the lines' part, on a helper during the
        # heal; the calling thread waits for each only where it is needed (made once, by the helper
        # or by whoever needs it first: the same values), and the late part is handed off as soon
        # as the heal is done (it does not read the other parts)
        smooth_once = _Once(lambda: prepare_smooth(prep, pts, f, params, masks))
        lines_once = _Once(lambda: prepare_lines(prep, work.shape[:2], pts, f, params, masks))
        ahead = executor().submit(lambda: (smooth_once.get(), lines_once.get()))
        spots_job()
        late = executor().submit(late_job)
        smooth_once.get()
        ahead.cancel()                   # not started: its parts are made here when needed
    elif prep_on and parallel:           # the heal here, the masks' other uses on the helper
        _, prep = pmap(lambda job: job(), [spots_job, prep_job])
        late = executor().submit(late_job)   # on the helper while the smoothing and lines run here
    else:
        spots_job()
        prep = prepare_late(prep_job(), work.shape[:2], pts, f, params, masks, the_person()) if prep_on else prep
    clock.tick("retouch.spots")
    if params.smoothing > 0:
        skin = masks.skin
        box = prep.smooth_box if prep_on else nonzero_box(skin > 0, pad=int(0.08 * f) + 2)  # the face, not the neck
        if box is not None:
            x0, y0, x1, y1 = box
            part = cur[y0:y1, x0:x1]
            oval = prep.smooth_oval if prep_on else poly((y1 - y0, x1 - x0), pts[FACE_OVAL] - [x0, y0])
            jaw = prep.smooth_jaw if prep_on else (pts[NOSE_TIP] - [x0, y0], zones.down_vector(pts))
            d = smooth_delta(part, base_layer(part, f, params.smoothing), skin[y0:y1, x0:x1], f,
                             params.smoothing, oval, jaw=jaw, weights=prep.smooth_weights)
            cur[y0:y1, x0:x1] += d
    clock.tick("retouch.smooth")
    if lines_once is not None:
        lines_once.get()
    if params.lines > 0 and _union(prep.lines, cur.shape[:2])[2] > 0:
        # the change is exactly 0 outside the zones' boxes: the luma is read and the change added
        # inside their union only (round 20; the same values)
        x0, y0, x1, y1 = _union(prep.lines, cur.shape[:2]) if PARALLEL_LINES else (0, 0, cur.shape[1], cur.shape[0])
        y = np.zeros(cur.shape[:2], np.float32)
        y[y0:y1, x0:x1] = luma(cur[y0:y1, x0:x1])
        d = lines_delta(y, masks.loose, masks.region, masks.fold, pts, f, params.lines, prep.lines,
                        submit if PARALLEL_LINES else None)[y0:y1, x0:x1]
        cur[y0:y1, x0:x1] += cv2.merge([d, d, d])      # the same sums as cur += d[..., None], ~3x faster
    clock.tick("retouch.lines")
    if late is not None:                 # not started yet: done here (the same values)
        prep = late_job() if late.cancel() else late.result()
    person = the_person()
    if later is not None and timings is not None and "retouch.segment" in spent:
        timings["retouch.segment"] = timings.get("retouch.segment", 0.0) + spent["retouch.segment"]
    # eye bags and tone are smooth: both at half work scale, upsampled once
    do_tone = params.tone > 0 or params.whitening > 0 or params.rosy > 0
    change = None
    if params.eyebags > 0 or do_tone:
        shape = work.shape[:2]
        small = shrink2(cur)
        if prep.pts_s is not None:
            pts_s, f_s, skin_s = prep.pts_s, prep.f_s, prep.skin_s
        else:
            k = np.array([small.shape[1] / shape[1], small.shape[0] / shape[0]], np.float32)
            pts_s, f_s, skin_s = pts * k, f * float(k[0]), shrink2(masks.skin)

        def eyebags_job() -> np.ndarray | None:
            t = time.perf_counter()
            out = None
            if params.eyebags > 0:
                loose_s = None if prep.eyebag_band is not None else shrink2(masks.loose)
                out = eyebags_delta(small, loose_s, pts_s, f_s, params.eyebags, prep.eyebag_band)
            spent["retouch.eyebags"] = (time.perf_counter() - t) * 1000
            return out

        def tone_job() -> np.ndarray | None:
            if not do_tone:
                return None
            mask = prep.tone_mask
            if mask is None:
                person_s = None if person is None else shrink2(person)
                same = masks.small.shape[:2] == small.shape[:2]
                mask = tone_mask(small, skin_s, masks.model, pts_s, f_s, person_s,
                                 masks.neck_gate if same else None, masks.features_s if same else None)
            tone = tone_delta(small, skin_s, pts_s, f_s, tone=params.tone, whitening=params.whitening,
                              rosy=params.rosy, rosy_change=prep.rosy_cr)
            tone *= cv2.merge([mask] * 3)    # the same products as mask[..., None], faster
            return tone

        # independent (both read the same half-scale image): side by side, the same sum after
        if pmap is not None and params.eyebags > 0 and do_tone and PARALLEL_TONE:
            change, tone = pmap(lambda job: job(), [eyebags_job, tone_job])
        else:
            change = eyebags_job()
            tone = tone_job()
        if timings is not None:          # the eye bags' own time; the rest of the wall time is the tone's
            timings["retouch.eyebags"] = timings.get("retouch.eyebags", 0.0) + spent.get("retouch.eyebags", 0.0)
            clock.t += spent.get("retouch.eyebags", 0.0) / 1000 if not (pmap is not None and PARALLEL_TONE) else 0.0
        if tone is not None:
            change = tone if change is None else change + tone
        change = grow_to(change, shape)
        if prep.limit is not None:       # exact zero outside the person (or oval) at work scale
            change *= prep.limit
        elif person is not None:
            change *= inside(shape, pts, person)[..., None]
        else:
            change *= (poly(shape, pts[FACE_OVAL]) > 0)[..., None]
        cur += change
    clock.tick("retouch.tone")
    if params.eyes > 0 or params.teeth > 0:
        # the teeth on a helper while the eyes are done here (both read cur; added in this order)
        teeth = submit(teeth_delta, cur, pts, f, params.teeth) if params.teeth > 0 and params.eyes > 0 \
            and submit is not None and PARALLEL_TEETH else None
        local = eyes_delta(cur, pts, f, params.eyes) if params.eyes > 0 else []
        if params.teeth > 0:
            local += teeth_delta(cur, pts, f, params.teeth) if teeth is None or teeth.cancel() else teeth.result()
        for (x0, y0, x1, y1), d in local:
            cur[y0:y1, x0:x1] += d
    clock.tick("retouch.eyes")
    delta = np.subtract(cur, work, out=cur)
    for (x0, y0, x1, y1), small in at_full:     # healed at full resolution: not in the delta
        delta[y0:y1, x0:x1] -= small
    if _grey(work):                      # a grey photo stays grey: luma change only
        delta = cv2.merge([luma(delta)] * 3)
    return delta


class _Once:
    """A value made once, by the first thread that asks for it; the others wait for it."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make, self._lock, self._done, self._value = make, threading.Lock(), False, None

    def get(self) -> Any:
        with self._lock:
            if not self._done:
                self._value, self._done = self._make(), True
            return self._value


def _union(where: tuple | None, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """The box around the lines' two zone boxes (``prep.lines``; the whole image when not known)."""
    h, w = shape
    if where is None:
        return 0, 0, w, h
    boxes = [b for b in (where[1], where[4]) if b is not None]
    if not boxes:
        return 0, 0, 0, 0
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _grey(work: np.ndarray) -> bool:
    sample = work[::3, ::3]
    return bool(np.abs(sample[..., 0] - sample[..., 1]).max() < 1e-3
                and np.abs(sample[..., 1] - sample[..., 2]).max() < 1e-3)
