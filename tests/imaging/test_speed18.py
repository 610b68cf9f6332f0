"""Round 18 speed work: the retouch's image-independent parts run beside the heal, with the same bytes.

``retouch.PARALLEL_PREP``: the spots' exclusions are made beside the skin masks (with the person
segmentation), and what the steps after the heal need from the masks alone (``retouch.prep``:
the smoothing's rim weights, the lines' zones, the eye-bag band, the tone mask, the change's
limit) on the helper while the calling thread heals the spots. Off, every step computes them
itself, as before round 18. The output must not change by a single byte.
"""

from __future__ import annotations

import hashlib

import cv2
import numpy as np
import pytest

from tests.imaging import corpus
from tests.imaging.scenes import one_face, six_faces


def _jpeg(rgb: np.ndarray, quality: int = 92) -> bytes:
    return cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()


def _png(rgb: np.ndarray) -> bytes:
    return cv2.imencode(".png", rgb[..., ::-1])[1].tobytes()


def _closeup(w: int, h: int, frac: float) -> np.ndarray:
    canvas = np.full((h, w, 3), 128, np.uint8)
    corpus.place(canvas, corpus.heads()["hopper"], int(frac * min(w, h)), w // 2, h // 2)
    return canvas


CASES = {
    "1080p one face, JPEG": lambda: _jpeg(one_face(1920, 1080)),
    "1080p six faces, PNG": lambda: _png(six_faces(1920, 1080)),
    "640x360 one face (one thread), JPEG": lambda: _jpeg(one_face(640, 360)),
    "1080p one face, grey JPEG": lambda: cv2.imencode(".jpg", cv2.cvtColor(one_face(1920, 1080), cv2.COLOR_RGB2GRAY))[1].tobytes(),
    "close-up 0.95 (heal above work scale), JPEG": lambda: _jpeg(_closeup(1600, 1200, 0.95)),
}


def _digest(data: bytes, strength: float) -> str:
    from cosbeauty.imaging.pipeline import beautify

    result = beautify(data, strength)
    assert result.faces, "no face found: the case tests nothing"
    return hashlib.sha256(result.data).hexdigest()


@pytest.mark.parametrize("name", list(CASES))
def test_prep_beside_the_heal_same_bytes(name: str, monkeypatch) -> None:
    import cosbeauty.imaging.retouch as retouch

    data = CASES[name]()
    for strength in (0.2, 1.0):
        monkeypatch.setattr(retouch, "PARALLEL_PREP", False)
        before = _digest(data, strength)
        monkeypatch.setattr(retouch, "PARALLEL_PREP", True)
        assert _digest(data, strength) == before, (name, strength)
        assert _digest(data, strength) == before, (name, strength, "second call")


def _face_inputs() -> tuple:
    from cosbeauty.imaging.beauty import roi_for
    from cosbeauty.imaging.codec import decode
    from cosbeauty.imaging.faces import detect_faces

    rgb = decode(_jpeg(one_face(1920, 1080))).rgb
    face = detect_faces(rgb)[0]
    roi = roi_for(face, rgb.shape)
    work = rgb[roi.y0:roi.y1, roi.x0:roi.x1].astype(np.float32) / np.float32(255)
    return work, roi.pts, roi.f


def test_heal_and_prep_are_handed_to_pmap_together(monkeypatch) -> None:
    """The heal and ``retouch.prep.prepare`` go to the pool as one pair (so they can overlap),
    and the delta is the one of the sequential path."""
    import cosbeauty.imaging.retouch as retouch
    from cosbeauty.imaging.faces import pmap
    from cosbeauty.imaging.retouch.prep import Prep

    work, pts, f = _face_inputs()
    params = retouch.RetouchParams.for_strength(0.5)
    calls: list[list] = []

    def recording(fn, items):
        out = pmap(fn, items)
        calls.append(out)
        return out

    monkeypatch.setattr(retouch, "PARALLEL_PREP", True)
    monkeypatch.setattr(retouch, "PARALLEL_SPLIT", False)     # round 18's pair (round 21 splits it)
    fast = retouch.face_delta(work, pts, f, params, pmap=recording)
    assert any(len(c) == 2 and isinstance(c[1], Prep) for c in calls), [type(x) for c in calls for x in c]
    monkeypatch.setattr(retouch, "PARALLEL_PREP", False)
    slow = retouch.face_delta(work, pts, f, params)
    assert np.array_equal(fast, slow)


def test_prep_values_are_the_steps_own() -> None:
    """Each prepared input equals what its step computes itself."""
    from cosbeauty.imaging.retouch import RetouchParams, lines, skin_masks, smooth
    from cosbeauty.imaging.retouch.neck import person_probability
    from cosbeauty.imaging.retouch.prep import prepare
    from cosbeauty.imaging.retouch.spots import find_spots, spot_exclusions

    work, pts, f = _face_inputs()
    params = RetouchParams.for_strength(1.0)
    masks = skin_masks(work, pts, f)
    h, w = work.shape[:2]
    half = cv2.resize(work, ((w + 1) // 2, (h + 1) // 2), interpolation=cv2.INTER_AREA)
    person = cv2.resize(person_probability(cv2.convertScaleAbs(half, alpha=255.0)), (w, h),
                        interpolation=cv2.INTER_LINEAR)
    prep = prepare((h, w), pts, f, params, masks, person)
    x0, y0, x1, y1 = prep.smooth_box
    own = smooth.smooth_weights(masks.skin[y0:y1, x0:x1], f, prep.smooth_oval, prep.smooth_jaw)
    assert all(np.array_equal(a, b) for a, b in zip(own, prep.smooth_weights))
    y = cv2.transform(work, np.array([[0.299, 0.587, 0.114]], np.float32))
    assert np.array_equal(lines.lines_delta(y, masks.loose, masks.region, masks.fold, pts, f, 1.0),
                          lines.lines_delta(y, masks.loose, masks.region, masks.fold, pts, f, 1.0, prep.lines))
    a = find_spots(work, masks.spot, f, pts)
    b = find_spots(work, masks.spot, f, pts, spot_exclusions((h, w), pts, f))
    assert a[:2] == b[:2] and np.array_equal(a[2], b[2])


def _smooth_delta_round17(work: np.ndarray, base: np.ndarray, mask: np.ndarray, f: float, s: float,
                          oval: np.ndarray | None = None, jaw: tuple | None = None) -> np.ndarray:
    """Round 17's ``smooth.smooth_delta``, verbatim (one-channel rim gain and mask broadcast)."""
    from cosbeauty.imaging.retouch.common import blur, disc
    from cosbeauty.imaging.retouch.smooth import LOCAL_MEAN, RIM, controls

    smooth, _, _, fine = controls(s)
    residual = work - base
    coarse = blur(residual, max(1.0, 0.004 * f))
    removed = np.subtract(residual, coarse, out=residual)
    removed *= np.float32(fine)
    removed += coarse
    removed *= np.float32(-smooth)
    delta = cv2.multiply(removed, cv2.merge([mask.astype(np.float32, copy=False)] * 3))
    h, w = delta.shape[:2]
    ds = next(d for d in (4, 2, 1) if LOCAL_MEAN * f / d >= 1.0 or d == 1)
    size = ((w + ds - 1) // ds, (h + ds - 1) // ds)
    small = cv2.resize(delta, size, interpolation=cv2.INTER_AREA) if ds > 1 else delta
    region = mask if oval is None else oval.astype(np.float32)
    m = cv2.resize(region, size, interpolation=cv2.INTER_AREA) if ds > 1 else region
    inner = cv2.erode((m > 0.9).astype(np.uint8), disc(RIM * f / ds))
    rim = 1.0 - blur(inner.astype(np.float32), 0.3 * RIM * f / ds)
    ms = cv2.resize(mask, size, interpolation=cv2.INTER_AREA) if ds > 1 else mask
    sigma = LOCAL_MEAN * f / ds
    weight = cv2.GaussianBlur(ms.astype(np.float32, copy=False), (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    low = cv2.GaussianBlur(small, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    gain = 1.0 / np.maximum(weight, 0.05)
    if jaw is not None:
        (px, py), (dx, dy) = jaw[0] / ds, jaw[1]
        gy, gx = np.mgrid[0:size[1], 0:size[0]].astype(np.float32)
        below = np.clip(((gx - px) * dx + (gy - py) * dy) / (0.1 * f / ds) + 0.5, 0, 1)
        gain = 1.0 + (gain - 1.0) * below
    low *= (rim * gain)[..., None]
    if ds > 1:
        low = cv2.resize(low, (w, h), interpolation=cv2.INTER_LINEAR)
    delta -= low * mask[..., None]
    return delta


@pytest.mark.parametrize("strength", [0.2, 1.0])
def test_smoothing_three_channel_weights_same_values(strength: float) -> None:
    """The smoothing's rim gain and mask are multiplied as H x W x 3 arrays (numpy's H x W x 1
    broadcast was ~5x slower on the critical path): the same values as round 17's code."""
    from cosbeauty.imaging.retouch import skin_masks, zones
    from cosbeauty.imaging.retouch.common import FACE_OVAL, nonzero_box, poly
    from cosbeauty.imaging.retouch.smooth import base_layer, smooth_delta, smooth_weights

    work, pts, f = _face_inputs()
    skin = skin_masks(work, pts, f).skin
    x0, y0, x1, y1 = nonzero_box(skin > 0, pad=int(0.08 * f) + 2)
    part, mask = work[y0:y1, x0:x1], skin[y0:y1, x0:x1]
    oval = poly((y1 - y0, x1 - x0), pts[FACE_OVAL] - [x0, y0])
    jaw = (pts[1] - [x0, y0], zones.down_vector(pts))
    weights = smooth_weights(mask, f, oval, jaw)
    assert weights[2].ndim == 3 and weights[0].ndim == 3
    base = base_layer(part, f, strength)
    expected = _smooth_delta_round17(part.copy(), base, mask, f, strength, oval, jaw)
    assert np.array_equal(smooth_delta(part.copy(), base, mask, f, strength, oval, jaw), expected)
    assert np.array_equal(smooth_delta(part.copy(), base, mask, f, strength, oval, jaw, weights), expected)

