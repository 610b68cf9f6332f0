"""Round 21 speed work on the retouch's calling thread, with the same values and bytes.

* ``retouch.PARALLEL_SPLIT``: the prep's smoothing part (``prep.prepare_smooth``) and lines part
  (``prep.prepare_lines``) run on a helper during the heal and are waited for apart, where each is
  needed; the late part (``prep.prepare_late``) is handed off as soon as the heal is done;
* the half-size ROI is asked by ``skin.skin_masks`` after its landmark-only masks (a helper may be
  making it meanwhile);
* fewer passes and temporaries: ``common.features`` draws and dilates each hull in its own box,
  ``SkinModel.distance`` and the masks' colour gate use buffers, the eye bags blur the rows they
  read (``common.blur_rows``), the tone's rosy Cr is made in the prep (``tone.rosy_cr``) and its
  change merged in one pass, the smoothing's rim product is made in place;
* ``spots.spot_weights`` takes the kept spots' box from the components' boxes (and the pin points')
  and makes the weight inside it only;
* discs of ``common.ROWS_FROM`` px and more are applied by rows (``common.morph_disc``: the
  smoothing rim's erosion, the folds' black-hat).

Sameness: each new function against a verbatim copy of round 20's (below), and the bytes of the
pipeline with the flag off and on.
"""

from __future__ import annotations


import cv2
import numpy as np
import pytest

from tests.imaging.test_speed18 import CASES, _digest, _face_inputs
from tests.imaging.test_speed20_retouch import busy_pool_digest

# --------------------------------------------------------------------------- round 20's code, verbatim


def _features_round20(shape, pts, f, grow=1.0):
    from cosbeauty.imaging.retouch.common import (LEFT_BROW, LEFT_EYE, LEFT_NOSTRIL, LIPS, RIGHT_BROW,
                                                  RIGHT_EYE, RIGHT_NOSTRIL, disc, poly)
    feats = np.zeros(shape, np.uint8)
    for part, margin in ((RIGHT_EYE, 0.035), (LEFT_EYE, 0.035), (RIGHT_BROW, 0.03),
                       (LEFT_BROW, 0.03), (LIPS, 0.025), (RIGHT_NOSTRIL, 0.01),
                       (LEFT_NOSTRIL, 0.01)):
        feats |= cv2.dilate(poly(shape, pts[part], hull=True), disc(margin * grow * f))
    return feats


def _distance_round20(self, work, y=None):
    from cosbeauty.imaging.retouch.common import luma
    y = luma(work) if y is None else y
    dcr = (work[..., 0] - y) * 0.713 - self.centre[0]
    dcb = (work[..., 2] - y) * 0.564 - self.centre[1]
    inv = self.inv
    return np.sqrt(np.maximum(inv[0, 0] * dcr ** 2 + 2 * inv[0, 1] * dcr * dcb + inv[1, 1] * dcb ** 2, 0))


def _gate_round20(d, ratio, slack, floor):
    near = np.exp(-0.5 * np.maximum(d - slack, 0) ** 2)
    g = near * np.clip((ratio - floor) / 0.2, 0, 1)
    return g.astype(np.float32)


def _eyebags_round20(cur, skin, pts, f, amount, band=None):
    from cosbeauty.imaging.retouch.common import blur, luma
    from cosbeauty.imaging.retouch.eyebags import CAP, CHEEKS, GAIN, eyebag_band
    small, pts_s, f_s = cur, pts, f
    band, box = band if band is not None else eyebag_band(small.shape[:2], skin, pts_s, f_s)
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
    gx = np.arange(x0, x1, dtype=np.float32)[None, :]
    gy = np.arange(y0, y1, dtype=np.float32)[:, None]
    mid = 0.5 * (right + left)
    t = np.clip(((gx - mid[0]) * axis[0] + (gy - mid[1]) * axis[1]) / (0.1 * f_s) + 0.5, 0, 1)[..., None]
    target = targets[0] * (1 - t) + targets[1] * t
    base = base_all[y0:y1, x0:x1]
    d = np.clip(target - base, -CAP, CAP)
    lift = np.clip(luma(d) / 0.01, 0, 1)
    part = (d * (lift * band[y0:y1, x0:x1])[..., None]).astype(np.float32)
    part *= np.float32(GAIN * amount)
    out[y0:y1, x0:x1] = part
    return out


def _tone_round20(cur, skin, pts, f, *, tone, whitening, rosy):
    from cosbeauty.imaging.retouch import zones
    from cosbeauty.imaging.retouch.common import blur, grow_to, luma
    from cosbeauty.imaging.retouch.tone import REDNESS_KEEP, ROSY_CR, WHITEN_CB, WHITEN_LEVELS
    base = blur(cur, max(0.8, 0.01 * f))
    y = luma(base)
    cr = (base[..., 0] - y) * 0.713
    d_cr = np.zeros_like(y)
    d_cb = np.zeros_like(y)
    d_y = np.zeros_like(y)
    if tone > 0:
        sel = skin > 0.5
        med = float(np.median(cr[::2, ::2][sel[::2, ::2]])) if sel.any() else float(np.median(cr))
        excess = np.maximum(blur(cr, 0.01 * f) - med, 0)
        d_cr -= excess * np.float32(tone * (1 - REDNESS_KEEP))
    if whitening > 0:
        shoulder = np.clip((0.98 - y) / 0.25, 0, 1) * np.clip((y - 0.06) / 0.15, 0, 1)
        d_y += shoulder * np.float32(whitening * WHITEN_LEVELS)
        d_cb += shoulder * np.float32(whitening * WHITEN_CB)
    if rosy > 0:
        apples = grow_to(zones.Quarter(y.shape, pts, f).cheek_apples(), y.shape)
        d_cr += (0.4 + 0.6 * apples) * np.float32(rosy * ROSY_CR)
    d_r = d_y + 1.403 * d_cr
    d_g = d_y - 0.714 * d_cr - 0.344 * d_cb
    d_b = d_y + 1.773 * d_cb
    return np.stack([d_r, d_g, d_b], axis=-1).astype(np.float32)


def _smooth_round20(work, base, mask, f, s, oval=None, jaw=None, weights=None):
    from cosbeauty.imaging.retouch.common import blur
    from cosbeauty.imaging.retouch.smooth import LOCAL_MEAN, controls, smooth_weights
    smooth, _, _, fine = controls(s)
    mask3, ds, rim_gain = weights if weights is not None else smooth_weights(mask, f, oval, jaw)
    residual = work - base
    coarse = blur(residual, max(1.0, 0.004 * f))
    removed = np.subtract(residual, coarse, out=residual)
    removed *= np.float32(fine)
    removed += coarse
    removed *= np.float32(-smooth)
    delta = cv2.multiply(removed, mask3)
    h, w = delta.shape[:2]
    size = ((w + ds - 1) // ds, (h + ds - 1) // ds)
    small = cv2.resize(delta, size, interpolation=cv2.INTER_AREA) if ds > 1 else delta
    low = cv2.GaussianBlur(small, (0, 0), LOCAL_MEAN * f / ds, borderType=cv2.BORDER_REPLICATE)
    low *= rim_gain
    if ds > 1:
        low = cv2.resize(low, (w, h), interpolation=cv2.INTER_LINEAR)
    delta -= low * mask3
    return delta


def _spot_weights_round20(work, skin, f, keep=None, submit=None):
    from cosbeauty.imaging.retouch.common import blur, disc, luma, nonzero_box
    from cosbeauty.imaging.retouch.spots import (DARK_MIN, MAX_COUNT, MAX_MOLE, MAX_SPOT, MOLE_SOFTEN, PIN_SURROUND,
                                                 RED_MIN, STRONG_EDGE, EDGE_MIN, GROW, _median_reference, _pin_points,
                                                 _ring, _robust_sigma)
    g = blur(work, 0.6)
    y = luma(g) * 255
    cr = (g[..., 0] * 255 - y) * 0.713
    if keep is not None:
        skin_ok = skin * keep
        on_skin = skin_ok > 0.5
    else:
        skin_ok = skin
        on_skin = skin > 0.5
    # not next to strong edges (frames, nostrils, the lip line): a spot's own edge is far softer
    gx = cv2.Sobel(y, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(y, cv2.CV_32F, 0, 1, ksize=3)
    strong = cv2.dilate((cv2.magnitude(gx, gy) * 0.125 > STRONG_EDGE).astype(np.uint8), disc(max(1.0, 0.01 * f)))
    flat = on_skin & (strong == 0)
    pin_job = None if submit is None else submit(_pin_points, g, y, cr, flat, f)
    dark = np.zeros_like(y)
    red = np.zeros_like(y)
    # non-skin (brows, hair, frames) never counts as the darker/redder part of a ring
    off = skin < 0.3
    y_ring = np.where(off, np.float32(255), y)
    cr_ring = np.where(off, np.float32(-255), cr)
    for radius in (max(2.0, 0.012 * f), max(3.0, 0.028 * f)):
        ring = _ring(radius)
        np.maximum(dark, cv2.erode(y_ring, ring) - y, out=dark)
        np.maximum(red, cr - cv2.dilate(cr_ring, ring), out=red)
    cand = (((dark > DARK_MIN) | (red > RED_MIN)) & flat).astype(np.uint8)
    cand = cv2.dilate(cand, disc(max(1.0, 0.006 * f)))       # the core -> the whole spot
    n, labels, stats, _ = cv2.connectedComponentsWithStats(cand, connectivity=8)
    weight = np.zeros(n, np.float32)
    if n > 1:
        bw, bh, area = stats[1:, 2], stats[1:, 3], stats[1:, 4]
        side = np.maximum(bw, bh)
        compact = (np.maximum(bw, bh) <= 3 * np.minimum(bw, bh)) & (area >= 0.3 * bw * bh)
        spot = compact & (side <= max(3.0, MAX_SPOT * f))
        mole = compact & ~spot & (side <= MAX_MOLE * f)
        weight[1:] = np.where(spot, 1.0, np.where(mole, MOLE_SOFTEN, 0.0))
        if np.count_nonzero(weight) > MAX_COUNT:      # bounded: the most contrasty ones only
            # ranked by contrast in units of the face's own grain, luma and Cr apart: skin's
            # grain is ~7x stronger in luma than in Cr, so in thresholds' units (DARK_MIN,
            # RED_MIN) a pixel-sized red spot (Cr +4-6 over the ring after the 0.6 px blur) lost
            # to the face's many faint dark marks, and which one was dropped depended on where
            # the spot fell on the pixel grid
            grain = flat
            surround = max(2.0, PIN_SURROUND * f)
            sig_y = max(_robust_sigma((y - blur(y, surround))[grain][::3]), 0.5)
            sig_cr = max(_robust_sigma((cr - blur(cr, surround))[grain][::3]), 0.5)
            peak = np.zeros(n, np.float32)
            sel = cand.astype(bool)
            np.maximum.at(peak, labels[sel], np.maximum(dark[sel] / sig_y, red[sel] / sig_cr))
            peak[weight == 0] = -1
            weight[np.argsort(peak)[:-MAX_COUNT]] = 0
    w = weight[labels]
    pin = _pin_points(g, y, cr, flat, f) if pin_job is None or pin_job.cancel() else pin_job.result()
    if pin is not None:
        w = np.maximum(w, cv2.dilate(pin, disc(max(1.0, 0.006 * f))).astype(np.float32))
    # the rest only around the kept spots (a few % of the box)
    bb = nonzero_box(w > 0, pad=int(0.02 * f) + 3)
    out = np.zeros(w.shape, np.float32)
    if bb is None:
        return out
    x0, y0, x1, y1 = bb
    # the detected core -> the whole spot: grow into the pixels around it that are still darker
    # or redder than the median reference (a spot's soft edge); the median sees 0.06 F around
    pad = int(0.06 * f) + 4
    cx0, cy0 = max(0, x0 - pad), max(0, y0 - pad)
    ref = _median_reference(work[cy0:y1 + pad, cx0:x1 + pad], f)[y0 - cy0:y1 - cy0, x0 - cx0:x1 - cx0]
    w, y, cr, on_skin = w[y0:y1, x0:x1], y[y0:y1, x0:x1], cr[y0:y1, x0:x1], on_skin[y0:y1, x0:x1]
    near = cv2.dilate(w, disc(max(1.5, 0.014 * f)))
    ref_y = luma(ref) * 255
    ref_cr = (ref[..., 0] * 255 - ref_y) * 0.713
    edge = (((ref_y - y) > EDGE_MIN) | ((cr - ref_cr) > EDGE_MIN)) & on_skin   # never into hair
    w = np.maximum(cv2.dilate(w, disc(max(1.0, GROW * f))), near * edge)
    out[y0:y1, x0:x1] = blur(w, max(0.7, 0.003 * f)) * np.clip((skin_ok[y0:y1, x0:x1] - 0.3) / 0.3, 0, 1)
    return out


def _smooth_weights_round20(mask, f, oval=None, jaw=None):
    from cosbeauty.imaging.retouch.common import blur, disc
    from cosbeauty.imaging.retouch.smooth import LOCAL_MEAN, RIM
    h, w = mask.shape[:2]
    ds = next(d for d in (4, 2, 1) if LOCAL_MEAN * f / d >= 1.0 or d == 1)
    size = ((w + ds - 1) // ds, (h + ds - 1) // ds)
    region = mask if oval is None else oval.astype(np.float32)
    m = cv2.resize(region, size, interpolation=cv2.INTER_AREA) if ds > 1 else region
    inner = cv2.erode((m > 0.9).astype(np.uint8), disc(RIM * f / ds))
    rim = 1.0 - blur(inner.astype(np.float32), 0.3 * RIM * f / ds)
    ms = cv2.resize(mask, size, interpolation=cv2.INTER_AREA) if ds > 1 else mask
    sigma = LOCAL_MEAN * f / ds
    weight = cv2.GaussianBlur(ms.astype(np.float32, copy=False), (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    gain = 1.0 / np.maximum(weight, 0.05)
    if jaw is not None:
        (px, py), (dx, dy) = jaw[0] / ds, jaw[1]
        gx = np.arange(size[0], dtype=np.float32)[None, :]
        gy = np.arange(size[1], dtype=np.float32)[:, None]
        below = np.clip(((gx - px) * dx + (gy - py) * dy) / (0.1 * f / ds) + 0.5, 0, 1)
        gain = 1.0 + (gain - 1.0) * below
    return cv2.merge([mask.astype(np.float32, copy=False)] * 3), ds, cv2.merge([rim * gain] * 3)


# --------------------------------------------------------------------------- the same values


def test_morph_disc_same_as_opencv() -> None:
    from cosbeauty.imaging.retouch.common import disc, morph_disc
    from cosbeauty.imaging.retouch.lines import _blackhat
    rng = np.random.default_rng(19)
    for _ in range(700):
        h, w, r = int(rng.integers(1, 150)), int(rng.integers(1, 150)), float(rng.uniform(0.5, 22))
        if rng.random() < 0.5:
            img = (rng.random((h, w)) > rng.uniform(0.1, 0.9)).astype(np.uint8)
        else:
            img = (rng.random((h, w)) * rng.choice([1.0, -3.0])).astype(np.float32)
        for dilate in (True, False):
            expected = (cv2.dilate if dilate else cv2.erode)(img, disc(r))
            got = morph_disc(img, dilate, r)
            assert got.dtype == expected.dtype and np.array_equal(got, expected), (h, w, r, dilate)
        if img.dtype == np.float32:
            assert np.array_equal(_blackhat(img, r), cv2.morphologyEx(img, cv2.MORPH_BLACKHAT, disc(r)))


def test_spot_weights_same_as_round20(face) -> None:
    """The real face, the same with dark and red specks added (hundreds of candidates: the most
    contrasty MAX_COUNT kept), a face without spots, with and without the pin points' hand-off."""
    from cosbeauty.imaging.detection.threads import executor
    from cosbeauty.imaging.retouch import spots
    from cosbeauty.imaging.retouch.skin import skin_masks
    work, pts, f = face
    masks = skin_masks(work, pts, f)
    cut, keep = spots.spot_exclusions(work.shape[:2], pts, f)
    skin = masks.spot * (1 - cut)
    rng = np.random.default_rng(23)
    speckled = work.copy()          # 1,500 specks: ~145 candidates, the MAX_COUNT ranking runs
    ys, xs = rng.integers(0, work.shape[0], 1500), rng.integers(0, work.shape[1], 1500)
    speckled[ys, xs] *= rng.uniform(0.4, 0.8, (1500, 1)).astype(np.float32) * np.array([1.15, 1.0, 1.0], np.float32)
    smooth = cv2.GaussianBlur(work, (0, 0), 4.0)
    for img in (work, speckled, smooth, np.clip(speckled[::-1] * 1.1, 0, 1)):
        for k in (keep, None):
            old = _spot_weights_round20(img, skin, f, k)
            assert np.array_equal(spots.spot_weights(img, skin, f, k), old)
            assert np.array_equal(spots.spot_weights(img, skin, f, k, executor().submit), old)
    assert np.array_equal(spots.spot_weights(work, np.zeros_like(skin), f), _spot_weights_round20(work, np.zeros_like(skin), f))


def test_spot_box_from_the_components(face, monkeypatch) -> None:
    """``spots._kept_box`` (the kept components' boxes and the pin points') is the box of the whole
    weight image's nonzero pixels, and spot_weights takes its box from it."""
    from cosbeauty.imaging.retouch import spots
    from cosbeauty.imaging.retouch.common import nonzero_box
    from cosbeauty.imaging.retouch.skin import skin_masks
    rng = np.random.default_rng(29)
    for _ in range(300):
        h, w = int(rng.integers(1, 90)), int(rng.integers(1, 90))
        n, labels, stats, _ = cv2.connectedComponentsWithStats((rng.random((h, w)) < rng.uniform(0, 0.3)).astype(np.uint8), connectivity=8)
        weight = np.zeros(n, np.float32)
        weight[1:] = rng.choice([0.0, 0.4, 1.0], n - 1)
        pins = None if rng.random() < 0.3 else cv2.dilate((rng.random((h, w)) < 0.002).astype(np.uint8), np.ones((3, 3), np.uint8))
        whole = weight[labels] if pins is None else np.maximum(weight[labels], pins.astype(np.float32))
        pad = int(rng.integers(0, 8))
        assert spots._kept_box(stats, weight, pins, (h, w), pad) == nonzero_box(whole > 0, pad=pad)
    work, pts, f = face
    calls: list = []
    real = spots._kept_box
    monkeypatch.setattr(spots, "_kept_box", lambda *a: (calls.append(a), real(*a))[1])
    spots.spot_weights(work, skin_masks(work, pts, f).spot, f)
    assert len(calls) == 1


def test_large_discs_by_rows(face, monkeypatch) -> None:
    """The smoothing rim's erosion (a 27 px disc on the 1080p face) goes by rows; its weights are
    round 20's."""
    import cosbeauty.imaging.retouch.smooth as smooth
    from cosbeauty.imaging.retouch.common import FACE_OVAL, ROWS_FROM, disc, nonzero_box, poly
    from cosbeauty.imaging.retouch.prep import NOSE_TIP
    from cosbeauty.imaging.retouch.skin import skin_masks
    from cosbeauty.imaging.retouch.zones import down_vector
    work, pts, f = face
    skin = skin_masks(work, pts, f).skin
    x0, y0, x1, y1 = nonzero_box(skin > 0, pad=int(0.08 * f) + 2)
    mask = skin[y0:y1, x0:x1]
    oval = poly((y1 - y0, x1 - x0), pts[FACE_OVAL] - [x0, y0])
    jaw = (pts[NOSE_TIP] - [x0, y0], down_vector(pts))
    sizes: list[int] = []
    real = smooth.morph_disc
    monkeypatch.setattr(smooth, "morph_disc", lambda img, dilate, r: (sizes.append(disc(r).shape[0]), real(img, dilate, r))[1])
    for size in (f, 0.5 * f, 2.0 * f):
        new, old = smooth.smooth_weights(mask, size, oval, jaw), _smooth_weights_round20(mask, size, oval, jaw)
        assert new[1] == old[1] and np.array_equal(new[0], old[0]) and np.array_equal(new[2], old[2])
    assert sizes[0] >= ROWS_FROM


@pytest.fixture(scope="module")
def face() -> tuple:
    return _face_inputs()


def _moved(pts: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    return pts * rng.uniform(0.3, 1.6) + rng.uniform(-150, 150, 2), float(rng.uniform(8, 320))


def test_features_same_as_round20(face) -> None:
    from cosbeauty.imaging.retouch.common import features
    _, pts, f = face
    rng = np.random.default_rng(21)
    cases = [((251, 401), pts, f, 1.0), ((126, 201), pts * 0.5, f * 0.5, 0.4)]
    for _ in range(400):          # landmarks anywhere, partly or wholly outside the image too
        moved, size = _moved(pts, rng)
        cases.append(((int(rng.integers(8, 300)), int(rng.integers(8, 300))), moved, size, float(rng.choice([1.0, 0.4]))))
    for shape, p, size, grow in cases:
        assert np.array_equal(features(shape, p, size, grow), _features_round20(shape, p, size, grow))


def test_skin_distance_and_gate_same_as_round20(face) -> None:
    from cosbeauty.imaging.retouch.common import luma
    from cosbeauty.imaging.retouch.skin import SkinModel, skin_masks
    work, pts, f = face
    model = skin_masks(work, pts, f).model
    rng = np.random.default_rng(5)
    for img in (work, rng.random((97, 61, 3), dtype=np.float32)):
        y = luma(img)
        for m in (model, SkinModel(np.array([0.04, -0.02], np.float32), np.array([[900.0, -250.0], [-250.0, 1400.0]]), 0.5)):
            new, old = m.distance(img, y), _distance_round20(m, img, y)
            assert new.dtype == old.dtype and np.array_equal(new, old)
            assert np.array_equal(m.distance(img), _distance_round20(m, img))


def test_blur_rows_same_as_blur() -> None:
    from cosbeauty.imaging.retouch.common import blur, blur_rows
    rng = np.random.default_rng(7)
    for _ in range(600):
        h, w = int(rng.integers(3, 220)), int(rng.integers(3, 220))
        img = rng.random((h, w, 3) if rng.random() < 0.5 else (h, w), dtype=np.float32)
        sigma = float(rng.choice([0.2, rng.uniform(0.3, 9)]))
        lo = int(rng.integers(0, h))
        hi = int(rng.integers(lo, h + 1))
        assert np.array_equal(blur_rows(img, sigma, lo, hi), blur(img, sigma)[lo:hi])


def test_eyebags_same_as_round20(face) -> None:
    from cosbeauty.imaging.retouch.common import shrink2
    from cosbeauty.imaging.retouch.eyebags import eyebag_band, eyebags_delta
    from cosbeauty.imaging.retouch.skin import skin_masks
    work, pts, f = face
    small = shrink2(work)
    k = np.array([small.shape[1] / work.shape[1], small.shape[0] / work.shape[0]])
    loose = shrink2(skin_masks(work, pts, f).loose)
    pts_s, f_s = pts * k, f * float(k[0])
    assert np.array_equal(eyebags_delta(small, loose, pts_s, f_s, 0.8), _eyebags_round20(small, loose, pts_s, f_s, 0.8))
    rng = np.random.default_rng(11)
    for _ in range(150):          # the cheeks or the band near, at or beyond the top and bottom rows
        shift = np.array([rng.uniform(-20, 20), rng.uniform(-small.shape[0] * 0.8, small.shape[0] * 0.8)])
        moved = pts_s + shift
        band = eyebag_band(small.shape[:2], np.ones(small.shape[:2], np.float32), moved, f_s)
        new = eyebags_delta(small, None, moved, f_s, 0.7, band)
        assert np.array_equal(new, _eyebags_round20(small, None, moved, f_s, 0.7, band))


def test_tone_same_as_round20(face) -> None:
    from cosbeauty.imaging.retouch.common import shrink2
    from cosbeauty.imaging.retouch.skin import skin_masks
    from cosbeauty.imaging.retouch.tone import rosy_cr, tone_delta
    work, pts, f = face
    small = shrink2(work)
    k = np.array([small.shape[1] / work.shape[1], small.shape[0] / work.shape[0]], np.float32)
    skin_s = shrink2(skin_masks(work, pts, f).skin)
    pts_s, f_s = pts * k, f * float(k[0])
    for tone, whitening, rosy in ((0.83, 0.57, 0.5), (0.0, 1.0, 0.0), (1.0, 0.0, 1.0), (0.2, 0.1, 0.05)):
        old = _tone_round20(small, skin_s, pts_s, f_s, tone=tone, whitening=whitening, rosy=rosy)
        new = tone_delta(small, skin_s, pts_s, f_s, tone=tone, whitening=whitening, rosy=rosy)
        given = tone_delta(small, skin_s, pts_s, f_s, tone=tone, whitening=whitening, rosy=rosy,
                           rosy_change=rosy_cr(small.shape[:2], pts_s, f_s, rosy))
        assert new.dtype == old.dtype == np.float32 and new.shape == old.shape
        assert np.array_equal(new, old) and np.array_equal(given, old)


def test_smooth_delta_same_as_round20(face) -> None:
    from cosbeauty.imaging.retouch.prep import NOSE_TIP
    from cosbeauty.imaging.retouch.common import FACE_OVAL, nonzero_box, poly
    from cosbeauty.imaging.retouch.skin import skin_masks
    from cosbeauty.imaging.retouch.smooth import base_layer, smooth_delta, smooth_weights
    from cosbeauty.imaging.retouch.zones import down_vector
    work, pts, f = face
    skin = skin_masks(work, pts, f).skin
    x0, y0, x1, y1 = nonzero_box(skin > 0, pad=int(0.08 * f) + 2)
    part, mask = work[y0:y1, x0:x1], skin[y0:y1, x0:x1]
    oval = poly((y1 - y0, x1 - x0), pts[FACE_OVAL] - [x0, y0])
    jaw = (pts[NOSE_TIP] - [x0, y0], down_vector(pts))
    for s, size in ((0.5, f), (1.0, f), (0.3, 0.4 * f)):     # ds 2, and 1 (LOCAL_MEAN F < 2)
        base = base_layer(part, size, s)
        weights = smooth_weights(mask, size, oval, jaw)
        expected = _smooth_round20(part, base, mask, size, s, oval, jaw, weights)
        assert np.array_equal(smooth_delta(part, base, mask, size, s, oval, jaw, weights), expected)
        assert np.array_equal(smooth_delta(part, base, mask, size, s, oval, jaw), expected)


# --------------------------------------------------------------------------- the new paths, the same bytes


@pytest.mark.parametrize("name", list(CASES))
def test_split_prep_same_bytes(name: str, monkeypatch) -> None:
    import cosbeauty.imaging.retouch as retouch

    data = CASES[name]()
    for strength in (0.2, 1.0):
        monkeypatch.setattr(retouch, "PARALLEL_SPLIT", False)
        before = _digest(data, strength)
        monkeypatch.setattr(retouch, "PARALLEL_SPLIT", True)
        assert _digest(data, strength) == before, (name, strength)
        assert _digest(data, strength) == before, (name, strength, "second call")


def test_split_prep_is_taken(face, monkeypatch) -> None:
    """With the split the prep's two parts are made apart (and ``prepare`` is not called); off,
    ``prepare`` is; the delta is the same."""
    import cosbeauty.imaging.retouch as retouch
    from cosbeauty.imaging.faces import pmap
    from cosbeauty.imaging.retouch.params import RetouchParams

    work, pts, f = face
    params = RetouchParams.for_strength(0.5)
    calls: list[str] = []
    for name in ("prepare", "prepare_smooth", "prepare_lines"):
        real = getattr(retouch, name)
        monkeypatch.setattr(retouch, name, lambda *a, _real=real, _name=name, **k: (calls.append(_name), _real(*a, **k))[1])
    monkeypatch.setattr(retouch, "PARALLEL_SPLIT", True)
    split = retouch.face_delta(work, pts, f, params, pmap=pmap)
    assert sorted(calls) == ["prepare_lines", "prepare_smooth"]
    calls.clear()
    monkeypatch.setattr(retouch, "PARALLEL_SPLIT", False)
    whole = retouch.face_delta(work, pts, f, params, pmap=pmap)
    assert calls == ["prepare"]
    assert np.array_equal(split, whole)


def test_split_prep_busy_pool_same_bytes() -> None:
    """Both helpers held: the prep's parts and the late part are made by the calling thread."""
    data = CASES["1080p one face, JPEG"]()
    assert busy_pool_digest(data) == _digest(data, 0.5)


def test_half_asked_after_the_landmark_masks(face) -> None:
    """``skin_masks`` takes the half-size ROI as a function and asks it after ``features``."""
    import cosbeauty.imaging.retouch.skin as skin

    work, pts, f = face
    h, w = work.shape[:2]
    order: list[str] = []
    real_features = skin.features

    def spy_features(*a, **k):
        order.append("features")
        return real_features(*a, **k)

    def half() -> np.ndarray:
        order.append("half")
        return cv2.resize(work, ((w + 1) // 2, (h + 1) // 2), interpolation=cv2.INTER_AREA)

    skin.features = spy_features
    try:
        lazy = skin.skin_masks(work, pts, f, None, half)
    finally:
        skin.features = real_features
    assert order[:2] == ["features", "half"] and order.count("half") == 1
    made = skin.skin_masks(work, pts, f)
    for name in ("spot", "skin", "loose", "region", "fold", "neck_gate"):
        assert np.array_equal(getattr(lazy, name), getattr(made, name)), name


def test_rosy_made_in_the_prep(face) -> None:
    import cosbeauty.imaging.retouch as retouch
    from cosbeauty.imaging.retouch.params import RetouchParams

    work, pts, f = face
    seen: list = []
    real = retouch.tone_delta
    retouch.tone_delta = lambda *a, **k: (seen.append(k.get("rosy_change")), real(*a, **k))[1]
    try:
        retouch.face_delta(work, pts, f, RetouchParams.for_strength(0.5))
    finally:
        retouch.tone_delta = real
    assert len(seen) == 1 and seen[0] is not None and seen[0].dtype == np.float32
