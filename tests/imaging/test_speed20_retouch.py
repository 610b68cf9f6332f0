"""Round 20 speed work on the retouch: more of it beside the calling thread, with the same bytes.

* ``retouch.PARALLEL_PIN``: the heal's pin-point search (``spots._pin_points``) and its inpainting
  (``spots._filled``) go to a helper while the calling thread does the ring test and the grain;
* ``retouch.PARALLEL_LINES``: the folds (``lines._folds``) beside the fine lines;
* ``retouch.PARALLEL_GEOMETRY``: the skin masks' landmark-only part (``skin.skin_geometry``)
  beside the skin model (and the half-size ROI made once for the masks and the segmentation);
* ``retouch.PARALLEL_TEETH``: the teeth beside the eyes;
* ``retouch.PARALLEL_PERSON``: the person segmentation (needed after the heal only) on a helper
  without holding up the heal;
* the skin masks other than the spots' are made on first use (on the helper, in ``prep``).

A task not started when its result is needed is cancelled and run by the caller: the values never
depend on the thread timing. Off, or with the pool busy, the output must not change by a byte.
"""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import Future

import cv2
import numpy as np
import pytest

from tests.imaging.test_speed18 import CASES, _face_inputs

FLAGS = ("PARALLEL_PIN", "PARALLEL_LINES", "PARALLEL_GEOMETRY", "PARALLEL_TEETH", "PARALLEL_PERSON")


def _digest(data: bytes, strength: float) -> str:
    from cosbeauty.imaging.pipeline import beautify

    result = beautify(data, strength)
    assert result.faces, "no face found: the case tests nothing"
    return hashlib.sha256(result.data).hexdigest()


@pytest.mark.parametrize("name", list(CASES))
def test_hand_offs_same_bytes(name: str, monkeypatch) -> None:
    import cosbeauty.imaging.retouch as retouch

    data = CASES[name]()
    for strength in (0.2, 1.0):
        for flag in FLAGS:
            monkeypatch.setattr(retouch, flag, False)
        before = _digest(data, strength)
        for flag in FLAGS:
            monkeypatch.setattr(retouch, flag, True)
        assert _digest(data, strength) == before, (name, strength)
        assert _digest(data, strength) == before, (name, strength, "second call")


def busy_pool_digest(data: bytes, strength: float = 0.5) -> str:
    """:func:`_digest` while both helpers are held by other work (every hand-off is then
    cancelled and run by the caller)."""
    from cosbeauty.imaging.detection.threads import _HELPERS, executor

    gate = threading.Event()
    started = threading.Barrier(_HELPERS + 1)

    def hold() -> None:
        started.wait(5)
        gate.wait(30)

    held = [executor().submit(hold) for _ in range(_HELPERS)]
    try:
        started.wait(5)
        return _digest(data, strength)
    finally:
        gate.set()
        for job in held:
            job.result()


def test_busy_pool_same_bytes() -> None:
    """Both helpers held by other work: every hand-off is cancelled and run by the caller."""
    data = CASES["1080p one face, JPEG"]()
    assert busy_pool_digest(data) == _digest(data, 0.5)


class _Recorder:
    """An executor stand-in that runs each task at once and remembers its function's name."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def submit(self, fn, *args, **kwargs) -> Future:
        self.names.append(fn.__name__)
        job: Future = Future()
        job.set_result(fn(*args, **kwargs))
        return job


def test_steps_are_handed_to_the_pool(monkeypatch) -> None:
    """The pin points, the inpainting (work-scale heal), the folds, the masks' geometry and the teeth
    are submitted, and the delta equals the one computed without a pool."""
    import cosbeauty.imaging.retouch as retouch
    from cosbeauty.imaging.faces import pmap

    work, pts, f = _face_inputs()
    params = retouch.RetouchParams.for_strength(1.0)
    recorder = _Recorder()
    monkeypatch.setattr(retouch, "executor", lambda: recorder)
    fast = retouch.face_delta(work, pts, f, params, pmap=pmap)
    assert {"_pin_points", "_filled", "_folds", "skin_geometry", "teeth_delta", "person_job"} <= set(recorder.names), \
        recorder.names
    slow = retouch.face_delta(work, pts, f, params)
    assert np.array_equal(fast, slow)


def _skin_masks_round19(work: np.ndarray, pts: np.ndarray, f: float) -> tuple:
    """Round 19's ``skin.skin_masks``, verbatim but for the return (every mask made at once)."""
    from cosbeauty.imaging.retouch.common import FACE_OVAL, blur, disc, features, luma, poly
    from cosbeauty.imaging.retouch.skin import SkinModel

    h, w = work.shape[:2]
    if f < 160:
        small, k = work, np.array([1.0, 1.0], np.float32)
    else:
        small = cv2.resize(work, ((w + 1) // 2, (h + 1) // 2), interpolation=cv2.INTER_AREA)
        k = np.array([small.shape[1] / w, small.shape[0] / h], np.float32)
    pts_s, f_s = pts * k, f * float(k[0])
    shape = small.shape[:2]
    feats = features(shape, pts_s, f_s)
    region = poly(shape, pts_s[FACE_OVAL]) & (1 - feats)
    model = SkinModel.fit(small, region, pts_s, f_s)
    y = luma(small)
    d = model.distance(small, y)
    ratio = y * np.float32(1.0 / max(model.y_med, 1e-3))

    def gate(slack: float, floor: float) -> np.ndarray:
        g = np.exp(-0.5 * np.maximum(d - slack, 0) ** 2) * np.clip((ratio - floor) / 0.2, 0, 1)
        return g.astype(np.float32)

    strict = blur(cv2.morphologyEx(gate(2.5, 0.3), cv2.MORPH_CLOSE, disc(0.04 * f_s)), 0.015 * f_s)
    sigma = 0.02 * f_s
    skin_s = blur(cv2.erode(region, disc(2.0 * sigma)).astype(np.float32), sigma) * strict
    core = blur(cv2.erode(region, disc(0.015 * f_s)).astype(np.float32), 0.01 * f_s)
    loose_s = core * blur(gate(4.5, 0.5), 0.006 * f_s)
    oval = poly((h, w), pts[FACE_OVAL])

    def full(m: np.ndarray) -> np.ndarray:
        return (m if m.shape[:2] == (h, w) else cv2.resize(m, (w, h), interpolation=cv2.INTER_LINEAR)) * oval

    fold_s = core * blur(gate(4.5, 0.15), 0.006 * f_s)
    near = poly(shape, pts_s[FACE_OVAL]) & (1 - features(shape, pts_s, f_s, grow=0.4))
    near = blur(cv2.erode(near, disc(0.006 * f_s)).astype(np.float32), 0.005 * f_s)
    spot_s = np.maximum(skin_s, near * blur(gate(2.5, 0.45), 0.006 * f_s))
    return (full(skin_s), full(loose_s), full(near), full(spot_s), full(fold_s), model, small, pts_s, f_s,
            gate(4.0, 0.12), feats)


@pytest.mark.parametrize("scale", [1.0, 0.7])    # F >= 160 (masks at half scale) and below
def test_skin_masks_same_values_as_round19(scale: float) -> None:
    from cosbeauty.imaging.retouch.skin import skin_geometry, skin_masks

    work, pts, f = _face_inputs()
    if scale != 1.0:
        h, w = work.shape[:2]
        work = cv2.resize(work, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        pts, f = pts * np.float32(scale), f * scale
    ref = _skin_masks_round19(work, pts, f)
    h, w = work.shape[:2]
    half = cv2.resize(work, ((w + 1) // 2, (h + 1) // 2), interpolation=cv2.INTER_AREA)
    for geometry, given in ((None, None), (_Recorder().submit(skin_geometry, work.shape[:2], pts, f), half)):
        masks = skin_masks(work, pts, f, geometry, given)
        assert masks._made is None                  # the later masks are not made yet
        got = (masks.skin, masks.loose, masks.region, masks.spot, masks.fold, masks.model, masks.small,
               masks.pts_s, masks.f_s, masks.neck_gate, masks.features_s)
        for i, (a, b) in enumerate(zip(got, ref)):
            if isinstance(a, np.ndarray):
                assert a.dtype == b.dtype and np.array_equal(a, b), i
            elif isinstance(a, float):
                assert a == b, i
        assert np.array_equal(got[5].centre, ref[5].centre) and np.array_equal(got[5].inv, ref[5].inv)


def _two_big_faces() -> bytes:
    """Two large faces side by side: the faces are retouched in parallel (mean work size over
    40,000 px) and each one's retouch hands steps off to the same pool (nested use)."""
    from tests.imaging import corpus

    canvas = np.full((1200, 2400, 3), 128, np.uint8)
    heads = corpus.heads()
    corpus.place(canvas, heads["astronaut"], 420, 600, 600)
    corpus.place(canvas, heads["hopper"], 420, 1800, 600)
    return cv2.imencode(".jpg", canvas[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()


def test_two_faces_side_by_side_same_bytes(monkeypatch) -> None:
    import cosbeauty.imaging.retouch as retouch
    from cosbeauty.imaging.beauty import PARALLEL_MIN_WORK_PX, roi_for
    from cosbeauty.imaging.codec import decode
    from cosbeauty.imaging.faces import detect_faces

    data = _two_big_faces()
    rgb = decode(data).rgb
    found = detect_faces(rgb)
    assert len(found) == 2
    rois = [roi_for(face, rgb.shape) for face in found]
    assert min((r.x1 - r.x0) * (r.y1 - r.y0) * r.scale ** 2 for r in rois) >= PARALLEL_MIN_WORK_PX
    for flag in FLAGS:
        monkeypatch.setattr(retouch, flag, False)
    before = _digest(data, 0.5)
    for flag in FLAGS:
        monkeypatch.setattr(retouch, flag, True)
    assert {_digest(data, 0.5) for _ in range(3)} == {before}


def _pin_points_round19(g: np.ndarray, y: np.ndarray, cr: np.ndarray, ok: np.ndarray, f: float) -> np.ndarray | None:
    """Round 19's ``spots._pin_points``, verbatim (the Hessian test on the whole box)."""
    from cosbeauty.imaging.retouch.common import blur
    from cosbeauty.imaging.retouch.spots import (PIN_ISO, PIN_MAX, PIN_RED, PIN_SLOPE_MIN, PIN_SURROUND, PIN_Z,
                                                 _robust_sigma)

    sel = ok & (y > 20)
    if np.count_nonzero(sel) < 100:
        return None
    surround = max(2.0, PIN_SURROUND * f)
    dy = blur(y, surround) - y
    rc = cr / np.maximum(y, 1.0) * 100
    drc = rc - blur(rc, surround)
    a, b = dy[sel][::3], drc[sel][::3]
    sig = _robust_sigma(a)
    var = float(np.var(a))
    if sig <= 0 or var <= 0:
        return None
    slope = float(np.mean((a - a.mean()) * (b - b.mean()))) / var
    if slope < PIN_SLOPE_MIN:
        return None
    peak = (dy == cv2.dilate(dy, np.ones((3, 3), np.uint8))) & sel
    cand = peak & (dy > PIN_Z * sig) & (drc < PIN_RED * slope * dy)
    if not cand.any():
        return None
    h = blur(y, 1.0)
    dxx = cv2.Sobel(h, cv2.CV_32F, 2, 0)
    dyy = cv2.Sobel(h, cv2.CV_32F, 0, 2)
    dxy = cv2.Sobel(h, cv2.CV_32F, 1, 1)
    tr = dxx + dyy
    root = np.sqrt((dxx - dyy) ** 2 + 4 * dxy ** 2)
    big, small = (tr + root) * 0.5, (tr - root) * 0.5
    cand &= (big > 0) & (small > PIN_ISO * big)
    ys, xs = np.nonzero(cand)
    if ys.size == 0:
        return None
    if ys.size > PIN_MAX:
        keep = np.argsort(dy[ys, xs])[-PIN_MAX:]
        ys, xs = ys[keep], xs[keep]
    out = np.zeros(y.shape, np.uint8)
    out[ys, xs] = 1
    return out


@pytest.mark.parametrize("seed", [None, 1, 2, 3])
def test_pin_points_same_as_round19(seed: int | None) -> None:
    """The pin points' shape test runs at the candidates only: the same points as round 19's
    whole-box test (the face as it is, and with random specks added)."""
    from cosbeauty.imaging.retouch.common import blur, luma
    from cosbeauty.imaging.retouch.spots import _pin_points

    work, pts, f = _face_inputs()
    if seed is not None:
        rng = np.random.default_rng(seed)
        work = work.copy()
        for _ in range(60):
            yy, xx = int(rng.integers(0, work.shape[0] - 2)), int(rng.integers(0, work.shape[1] - 2))
            work[yy:yy + 2, xx:xx + 2] *= np.float32(rng.uniform(0.6, 0.95))
    g = blur(work, 0.6)
    y = luma(g) * 255
    cr = (g[..., 0] * 255 - y) * 0.713
    ok = np.ones(y.shape, bool)
    ok[:, :5] = False
    ref = _pin_points_round19(g, y, cr, ok, f)
    got = _pin_points(g, y, cr, ok, f)
    assert (ref is None) == (got is None)
    if ref is not None:
        assert np.array_equal(ref, got) and ref.any()


def _region_round19(shape: tuple[int, int], pts: np.ndarray, f: float) -> np.ndarray:
    """Round 19's ``neck.region``, verbatim (full coordinate grids)."""
    from cosbeauty.imaging.retouch import zones
    from cosbeauty.imaging.retouch.common import FACE_OVAL, JAW, disc, poly
    from cosbeauty.imaging.retouch.neck import FADE, NECK_DEPTH

    down = zones.down_vector(pts)
    jaw = pts[JAW]
    neck = np.concatenate([jaw, (jaw + down * NECK_DEPTH * f)[::-1]])
    geo = cv2.dilate(poly(shape, pts[FACE_OVAL]), disc(0.08 * f)) | poly(shape, neck)
    h, w = shape
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = ((gx - pts[152][0]) * down[0] + (gy - pts[152][1]) * down[1]) / f
    fade = np.clip((FADE[1] - t) / (FADE[1] - FADE[0]), 0, 1)
    edge = max(1.0, 0.04 * f)
    border = (np.clip(np.minimum(gx, w - 1 - gx) / edge, 0, 1)
              * np.clip(np.minimum(gy, h - 1 - gy) / edge, 0, 1))
    return geo * fade * border


@pytest.mark.parametrize("k", [1.0, 0.5])
def test_neck_region_same_as_round19(k: float) -> None:
    """The neck region's coordinates as a broadcast row and column: the same values."""
    from cosbeauty.imaging.retouch.neck import region

    work, pts, f = _face_inputs()
    h, w = work.shape[:2]
    shape = (int(h * k), int(w * k))
    for p in (pts * k, (pts * k).astype(np.float32)):
        a, b = _region_round19(shape, p, f * k), region(shape, p, f * k)
        assert a.dtype == b.dtype and np.array_equal(a, b)


def _eyebags_round19(cur: np.ndarray, pts: np.ndarray, f: float, amount: float, band: tuple) -> np.ndarray:
    """Round 19's ``eyebags.eyebags_delta`` with its band given, verbatim (full grids, the gain on
    the whole image)."""
    from cosbeauty.imaging.retouch.common import blur, luma
    from cosbeauty.imaging.retouch.eyebags import CAP, CHEEKS, GAIN

    small, pts_s, f_s = cur, pts, f
    band, box = band
    out = np.zeros_like(small)
    if box is None:
        return out
    r = max(1, int(0.06 * f_s))
    base_all = blur(small, 0.02 * f_s)
    targets = []
    for idx in CHEEKS:
        cx, cy = int(round(pts_s[idx][0])), int(round(pts_s[idx][1]))
        patch = base_all[max(0, cy - r):cy + r + 1, max(0, cx - r):cx + r + 1].reshape(-1, 3)
        if patch.size == 0:
            return out
        targets.append(np.median(patch, axis=0).astype(np.float32))
    x0, y0, x1, y1 = box
    right, left = pts_s[CHEEKS[0]], pts_s[CHEEKS[1]]
    axis = (left - right) / max(float(np.linalg.norm(left - right)), 1e-6)
    gy, gx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    mid = 0.5 * (right + left)
    t = np.clip(((gx - mid[0]) * axis[0] + (gy - mid[1]) * axis[1]) / (0.1 * f_s) + 0.5, 0, 1)[..., None]
    target = targets[0] * (1 - t) + targets[1] * t
    base = base_all[y0:y1, x0:x1]
    d = np.clip(target - base, -CAP, CAP)
    lift = np.clip(luma(d) / 0.01, 0, 1)
    out[y0:y1, x0:x1] = d * (lift * band[y0:y1, x0:x1])[..., None]
    out *= np.float32(GAIN * amount)
    return out


@pytest.mark.parametrize("amount", [0.3, 1.0])
def test_eyebags_same_as_round19(amount: float) -> None:
    """The eye bags' gain applied inside the band's box only, the coordinates broadcast: the
    same values and signs as round 19's code (landmarks in float64 as the retouch passes them,
    and in float32)."""
    from cosbeauty.imaging.retouch.common import shrink2
    from cosbeauty.imaging.retouch.eyebags import eyebag_band, eyebags_delta
    from cosbeauty.imaging.retouch.skin import skin_masks

    work, pts, f = _face_inputs()
    masks = skin_masks(work, pts, f)
    small = shrink2(work)
    h, w = work.shape[:2]
    for p in (pts.astype(np.float64), pts.astype(np.float32)):
        k = np.array([small.shape[1] / w, small.shape[0] / h], np.float32)
        pts_s, f_s = p * k, f * float(k[0])
        band = eyebag_band(small.shape[:2], shrink2(masks.loose), pts_s, f_s)
        assert band[1] is not None
        a = _eyebags_round19(small, pts_s, f_s, amount, band)
        b = eyebags_delta(small, None, pts_s, f_s, amount, band)
        assert a.dtype == b.dtype and np.array_equal(a, b) and np.array_equal(np.signbit(a), np.signbit(b))
