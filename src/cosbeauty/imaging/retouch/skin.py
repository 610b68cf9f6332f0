"""The person's skin: a chroma model learnt from their own cheeks/forehead and the soft face
skin mask (face oval minus features, times the colour gate, feathered *inside* the oval)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from . import visible
from .common import FACE_OVAL, blur, disc, features, luma, poly


@dataclass(frozen=True)
class SkinModel:
    """Gaussian in (Cr, Cb) plus the median luma of the sampled skin."""

    centre: np.ndarray       # (2,)
    inv: np.ndarray          # (2, 2) inverse covariance
    y_med: float

    @classmethod
    def fit(cls, work: np.ndarray, region: np.ndarray, pts: np.ndarray, f: float) -> "SkinModel":
        y = luma(work)
        samples = visible.samples(work, region, pts, f)     # on the forehead's colour when a mask hides the cheeks
        if samples.sum() < 20:
            samples = region
        sel = samples.astype(bool)
        if not sel.any():
            sel = np.ones(region.shape, bool)
        cr = (work[..., 0][sel] - y[sel]) * 0.713
        cb = (work[..., 2][sel] - y[sel]) * 0.564
        chroma = np.stack([cr, cb], axis=1)
        centre = np.median(chroma, axis=0)
        cov = (np.cov((chroma - centre).T) if len(chroma) > 2 else np.zeros((2, 2))) + np.eye(2) * 0.012 ** 2
        return cls(centre, np.linalg.inv(cov), float(np.median(y[sel])))

    def distance(self, work: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
        """Mahalanobis distance of every pixel's chroma from the skin model."""
        y = luma(work) if y is None else y
        dcr = (work[..., 0] - y) * 0.713 - self.centre[0]
        dcb = (work[..., 2] - y) * 0.564 - self.centre[1]
        inv = self.inv
        # round 21: inv00 dcr^2 + 2 inv01 dcr dcb + inv11 dcb^2 (float64, as the scalars' products)
        # in this order, with two buffers instead of eight temporaries: the same values
        q = np.multiply(inv[0, 0], np.square(dcr))
        cross = np.multiply(2 * inv[0, 1], dcr)
        cross *= dcb
        q += cross
        np.multiply(inv[1, 1], np.square(dcb, out=dcb), out=cross)
        q += cross
        return np.sqrt(np.maximum(q, 0, out=q), out=q)

    def gate(self, work: np.ndarray, slack: float = 2.5, floor: float = 0.3) -> np.ndarray:
        """1 where the colour looks like this skin, soft fall-off elsewhere; very dark pixels
        (hair, frames, nostrils: below ``floor`` x the skin's median luma) are rejected."""
        y = luma(work)
        d = self.distance(work, y)
        gate = np.exp(-0.5 * np.maximum(d - slack, 0) ** 2)
        gate *= np.clip((y / max(self.y_med, 1e-3) - floor) / 0.2, 0, 1)
        return gate.astype(np.float32)


def _soft_mask(work: np.ndarray, pts: np.ndarray, f: float) -> tuple[np.ndarray, SkinModel]:
    shape = work.shape[:2]
    region = poly(shape, pts[FACE_OVAL]) & (1 - features(shape, pts, f))
    model = SkinModel.fit(work, region, pts, f)
    gate = cv2.morphologyEx(model.gate(work), cv2.MORPH_CLOSE, disc(0.04 * f))
    gate = blur(gate, 0.015 * f)
    sigma = 0.02 * f
    core = cv2.erode(region, disc(2.0 * sigma))
    return blur(core.astype(np.float32), sigma) * gate, model


def skin_mask(work: np.ndarray, pts: np.ndarray, f: float) -> tuple[np.ndarray, SkinModel]:
    """(soft skin mask in [0, 1] at work scale, exactly 0 outside the face oval; skin model).

    The mask is smooth, so it is computed at half the work scale (when F allows) and
    upsampled; the hard oval at work scale then zeroes everything outside the face.
    """
    h, w = work.shape[:2]
    oval = poly((h, w), pts[FACE_OVAL])
    if f < 160:
        mask, model = _soft_mask(work, pts, f)
        return mask * oval, model
    half = cv2.resize(work, ((w + 1) // 2, (h + 1) // 2), interpolation=cv2.INTER_AREA)
    scale = np.array([half.shape[1] / w, half.shape[0] / h], np.float32)
    mask, model = _soft_mask(half, pts * scale, f * float(scale.mean()))
    return cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR) * oval, model


class SkinMasks:
    """Every skin mask of one face from one colour model and one distance map (full work
    scale unless noted). ``small``/``pts_s``/``f_s``: the mask scale (half the work scale when
    F >= 160 px); ``neck_gate``/``features_s``: at the mask scale, for the neck step.

    ``spot`` (what the heal needs first) is made by :func:`skin_masks`; the others are made on
    first use from the same distance map, by the same operations (round 20: on the helper thread,
    during the heal, instead of before it; the values do not depend on where they are made)."""

    skin: np.ndarray         # strict: smoothing, tone
    loose: np.ndarray        # lenient colour, higher luma floor: lines, eye bags
    region: np.ndarray       # oval minus features (small margins), no colour gate: under-eye band
    spot: np.ndarray         # where spots may be healed
    fold: np.ndarray         # lenient colour, low luma floor: folds are shadowed
    neck_gate: np.ndarray

    def __init__(self, skin_s: np.ndarray, near: np.ndarray, spot: np.ndarray, model: SkinModel,
                 small: np.ndarray, pts_s: np.ndarray, f_s: float, features_s: np.ndarray,
                 rest: Callable[[], tuple[np.ndarray, ...]], full: Callable[[np.ndarray], np.ndarray]) -> None:
        self.spot, self.model, self.small, self.pts_s, self.f_s, self.features_s = spot, model, small, pts_s, f_s, features_s
        self._skin_s, self._near, self._rest, self._full = skin_s, near, rest, full
        self._lock = threading.Lock()        # this face's own (faces are retouched side by side)
        self._made: tuple[np.ndarray, ...] | None = None

    def _later(self) -> tuple[np.ndarray, ...]:
        with self._lock:
            if self._made is None:
                loose_s, fold_s, neck_gate = self._rest()
                full = self._full
                self._made = full(self._skin_s), full(loose_s), full(self._near), full(fold_s), neck_gate
            return self._made

    skin = property(lambda self: self._later()[0])           # type: ignore[assignment]
    loose = property(lambda self: self._later()[1])          # type: ignore[assignment]
    region = property(lambda self: self._later()[2])         # type: ignore[assignment]
    fold = property(lambda self: self._later()[3])           # type: ignore[assignment]
    neck_gate = property(lambda self: self._later()[4])      # type: ignore[assignment]


def _mask_scale(shape: tuple[int, int], pts: np.ndarray, f: float) -> tuple[tuple[int, int], np.ndarray, float]:
    """(H, W) of the masks' scale (half the work scale from F = 160), the landmarks and F there."""
    h, w = shape
    if f < 160:
        return (h, w), pts * np.array([1.0, 1.0], np.float32), f * 1.0
    size = ((h + 1) // 2, (w + 1) // 2)
    k = np.array([size[1] / w, size[0] / h], np.float32)
    return size, pts * k, f * float(k[0])


def skin_geometry(shape: tuple[int, int], pts: np.ndarray, f: float) -> tuple[np.ndarray, np.ndarray]:
    """What :func:`skin_masks` takes from the landmarks alone (``shape``: the work image's H, W):
    the under-eye band's region at the masks' scale and the face oval at work scale."""
    size, pts_s, f_s = _mask_scale(shape, pts, f)
    # the under-eye band reaches up to the lower lid: lashes excluded with a small margin only
    near = poly(size, pts_s[FACE_OVAL]) & (1 - features(size, pts_s, f_s, grow=0.4))
    near = blur(cv2.erode(near, disc(0.006 * f_s)).astype(np.float32), 0.005 * f_s)
    return near, poly(shape, pts[FACE_OVAL])


def skin_masks(work: np.ndarray, pts: np.ndarray, f: float, geometry: Any = None,
               half: np.ndarray | Callable[[], np.ndarray] | None = None) -> SkinMasks:
    """All masks at once: the skin model is fit and the chroma distance computed once; the
    lenient masks (lines, eye bags; skin seen through tinted lenses and in shadowed creases)
    widen the colour tolerance but raise the luma floor (dark frames and brows stay out).
    ``geometry`` (optional): a future of :func:`skin_geometry` (made on a helper thread meanwhile;
    not started by the time it is needed: cancelled and made here, the same values). ``half``
    (optional): ``work`` resized INTER_AREA to ((W + 1) // 2, (H + 1) // 2), when already made, or
    a function that returns it (asked after the landmark-only masks: round 21, it may be being made
    on a helper meanwhile)."""
    h, w = work.shape[:2]
    size, pts_s, f_s = _mask_scale((h, w), pts, f)
    shape = size                         # (the half-size image's shape: INTER_AREA to this size)
    feats = features(shape, pts_s, f_s)
    region = poly(shape, pts_s[FACE_OVAL]) & (1 - feats)
    if size == (h, w):
        small = work
    elif half is None:
        small = cv2.resize(work, (size[1], size[0]), interpolation=cv2.INTER_AREA)
    else:
        small = half() if callable(half) else half
    model = SkinModel.fit(small, region, pts_s, f_s)
    y = luma(small)
    d = model.distance(small, y)
    ratio = y * np.float32(1.0 / max(model.y_med, 1e-3))

    near_colour: dict[float, np.ndarray] = {}      # per slack: made once, used by two gates

    def gate(slack: float, floor: float) -> np.ndarray:
        if slack not in near_colour:       # exp(-0.5 max(d - slack, 0)^2), in one buffer (round 21)
            e = np.subtract(d, slack)
            np.square(np.maximum(e, 0, out=e), out=e)
            near_colour[slack] = np.exp(np.multiply(-0.5, e, out=e), out=e)
        g = near_colour[slack] * np.clip((ratio - floor) / 0.2, 0, 1)
        return g.astype(np.float32)

    strict = blur(cv2.morphologyEx(gate(2.5, 0.3), cv2.MORPH_CLOSE, disc(0.04 * f_s)), 0.015 * f_s)
    sigma = 0.02 * f_s
    skin_s = blur(cv2.erode(region, disc(2.0 * sigma)).astype(np.float32), sigma) * strict
    near, oval = skin_geometry((h, w), pts, f) if geometry is None or geometry.cancel() else geometry.result()

    def full(m: np.ndarray) -> np.ndarray:
        return (m if m.shape[:2] == (h, w) else cv2.resize(m, (w, h), interpolation=cv2.INTER_LINEAR)) * oval

    def rest() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        core = blur(cv2.erode(region, disc(0.015 * f_s)).astype(np.float32), 0.01 * f_s)
        loose_s = core * blur(gate(4.5, 0.5), 0.006 * f_s)
        fold_s = core * blur(gate(4.5, 0.15), 0.006 * f_s)
        return loose_s, fold_s, gate(4.0, 0.12)

    # spots may sit right next to a brow: the colour gate (luma floor 0.45) keeps brow hairs out
    spot_s = np.maximum(skin_s, near * blur(gate(2.5, 0.45), 0.006 * f_s))
    return SkinMasks(skin_s, near, full(spot_s), model, small, pts_s, f_s, feats, rest, full)
