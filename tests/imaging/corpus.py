"""Face and no-face corpora built only from images shipped by installed packages (offline).

Faces: the astronaut (scikit-image), Grace Hopper (matplotlib), the 100 real 25x25 LFW faces
bundled with scikit-image (``lfw_subset.npy``: first 100 faces, last 100 non-faces).
No faces: every bundled scikit-image sample without a person, matplotlib's product photo and
logos, LFW's non-face patches, synthetic textures/patterns, and canvases built on the rocket.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Iterator

import cv2
import matplotlib.cbook
import numpy as np
import skimage.data
from PIL import Image


@functools.cache
def hopper() -> np.ndarray:
    return np.asarray(Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg")).convert("RGB"))


def astronaut() -> np.ndarray:
    return skimage.data.astronaut()


def heads() -> dict[str, np.ndarray]:
    """Square head crops (face ~55 % of the crop width)."""
    return {"astronaut": astronaut()[20:260, 105:345], "hopper": hopper()[60:420, 80:440]}


@functools.cache
def lfw() -> np.ndarray:
    path = os.path.join(os.path.dirname(skimage.data.__file__), "lfw_subset.npy")
    return (np.load(path) * 255).round().astype(np.uint8)


def lfw_faces() -> np.ndarray:
    """100 real grey faces, 25x25 (the face fills ~the whole patch)."""
    return lfw()[:100]


def lfw_non_faces() -> np.ndarray:
    return lfw()[100:]


def rotate(img: np.ndarray, degrees: float, fill: int = 128) -> np.ndarray:
    """Rotate counter-clockwise by ``degrees`` on an enlarged canvas (nothing cut)."""
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(math.ceil(h * sin + w * cos)), int(math.ceil(h * cos + w * sin))
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(img, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=(fill,) * 3)


def _product() -> np.ndarray:
    return np.asarray(Image.open(matplotlib.cbook.get_sample_data("Minduka_Present_Blue_Pack.png")).convert("RGB"))


def _logo2() -> np.ndarray:
    return np.asarray(Image.open(matplotlib.cbook.get_sample_data("logo2.png")).convert("RGB"))


def _rgb(img: np.ndarray) -> np.ndarray:
    if img.dtype != np.uint8:
        img = (np.clip(img, 0, 1) * 255).round().astype(np.uint8) if img.max() <= 1 else img.astype(np.uint8)
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    return np.ascontiguousarray(img[:, :, :3])


def _synthetic() -> Iterator[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(12)
    yield "noise", rng.integers(0, 256, (600, 800, 3), dtype=np.uint8)
    yield "blurred-noise", cv2.GaussianBlur(rng.integers(0, 256, (600, 800, 3), dtype=np.uint8), (0, 0), 3)
    yy, xx = np.mgrid[0:600, 0:800]
    yield "gradient", np.dstack([xx * 255 // 800, yy * 255 // 600, (xx + yy) * 255 // 1400]).astype(np.uint8)
    yield "checker", (((xx // 40 + yy // 40) % 2) * 255).astype(np.uint8)[:, :, None].repeat(3, axis=2)
    rings = (np.sin(np.hypot(xx - 400, yy - 300) / 6) * 127 + 128).astype(np.uint8)
    yield "rings", np.dstack([rings, rings[::-1], 255 - rings])
    dots = np.full((600, 800, 3), 230, np.uint8)
    for _ in range(120):         # blobs in skin tones: a detector's favourite trap
        c = (int(rng.integers(0, 800)), int(rng.integers(0, 600)))
        cv2.circle(dots, c, int(rng.integers(6, 40)), tuple(int(v) for v in rng.integers(60, 230, 3)), -1)
        cv2.circle(dots, c, int(rng.integers(2, 5)), (30, 30, 30), -1)
    yield "blobs", dots
    skin = np.zeros((600, 800, 3), np.uint8)
    skin[:] = (224, 172, 142)
    yield "skin-tone-flat", cv2.add(skin, rng.integers(0, 12, skin.shape, dtype=np.uint8))


def no_face_images() -> Iterator[tuple[str, np.ndarray]]:
    """(name, RGB uint8) of images without any face."""
    for name in ("rocket", "coffee", "chelsea", "horse", "brick", "grass", "gravel", "coins", "moon",
                 "page", "text", "logo", "hubble_deep_field", "retina", "immunohistochemistry",
                 "colorwheel", "checkerboard", "motorcycle", "clock", "microaneurysms", "cell",
                 "shepp_logan_phantom", "binary_blobs"):
        try:
            img = getattr(skimage.data, name)()
        except Exception:     # a sample that needs a download
            continue
        img = img[0] if isinstance(img, tuple) else img
        yield name, _rgb(img)
    yield "product-minduka", _product()
    yield "matplotlib-logo2", _logo2()
    yield "lfw-non-faces", _rgb(_grid(lfw_non_faces(), 4))
    yield from _synthetic()
    rocket = skimage.data.rocket()
    yield "rocket-1080p", _tile_to(rocket, 1920, 1080)
    yield "rocket-4000x3000", cv2.resize(rocket, (4000, 3000), interpolation=cv2.INTER_CUBIC)


def _grid(patches: np.ndarray, scale: int) -> np.ndarray:
    n = len(patches)
    cols = int(math.ceil(math.sqrt(n)))
    size = patches.shape[1] * scale
    out = np.full((size * int(math.ceil(n / cols)), size * cols), 128, np.uint8)
    for i, p in enumerate(patches):
        r, c = divmod(i, cols)
        out[r * size:(r + 1) * size, c * size:(c + 1) * size] = cv2.resize(p, (size, size), interpolation=cv2.INTER_CUBIC)
    return out


def _tile_to(img: np.ndarray, w: int, h: int) -> np.ndarray:
    reps = (-(-h // img.shape[0]), -(-w // img.shape[1]), 1)
    return np.ascontiguousarray(np.tile(img, reps)[:h, :w])


def place(canvas: np.ndarray, head: np.ndarray, face_px: int, cx: int, cy: int) -> tuple[int, int, int, int]:
    """Paste ``head`` (a square head crop, face ~55 % of its width) so that the face is about
    ``face_px`` wide around (cx, cy); pixels outside the canvas are cut. Returns the pasted
    square (x0, y0, x1, y1), unclipped."""
    s = max(4, int(round(face_px / 0.55)))
    tile = cv2.resize(head, (s, s), interpolation=cv2.INTER_AREA if s < head.shape[0] else cv2.INTER_CUBIC)
    x0, y0 = cx - s // 2, cy - s // 2
    h, w = canvas.shape[:2]
    ax0, ay0, ax1, ay1 = max(0, x0), max(0, y0), min(w, x0 + s), min(h, y0 + s)
    if ax1 > ax0 and ay1 > ay0:
        canvas[ay0:ay1, ax0:ax1] = tile[ay0 - y0:ay1 - y0, ax0 - x0:ax1 - x0]
    return x0, y0, x0 + s, y0 + s


ARTIFACTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test-artifacts", "faces")


def contact_sheet(name: str, crops: list[tuple[str, np.ndarray]], cell: int = 128, cols: int = 8) -> str:
    """Save labelled RGB crops as one PNG in test-artifacts/faces/ (to look at); returns the path."""
    rows = max(1, -(-len(crops) // cols))
    sheet = np.full((rows * (cell + 16), cols * cell, 3), 255, np.uint8)
    for i, (label, crop) in enumerate(crops):
        r, c = divmod(i, cols)
        h, w = crop.shape[:2]
        k = cell / max(h, w, 1)
        tile = cv2.resize(crop, (max(1, int(w * k)), max(1, int(h * k))), interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_NEAREST)
        y, x = r * (cell + 16), c * cell
        sheet[y:y + tile.shape[0], x:x + tile.shape[1]] = tile[:, :, :3]
        cv2.putText(sheet, label[:18], (x + 2, y + cell + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (0, 0, 0), 1, cv2.LINE_AA)
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.join(ARTIFACTS, name + ".png")
    cv2.imwrite(path, sheet[:, :, ::-1])
    return path


def face_crop(img: np.ndarray, face, margin: float = 0.3) -> np.ndarray:
    """The face's box (+ margin) with its landmarks drawn, for contact sheets."""
    x, y, w, h = face.box
    m = int(margin * max(w, h))
    out = np.ascontiguousarray(img.copy())
    for px, py in face.landmarks[:468:4]:
        cv2.circle(out, (int(px), int(py)), max(1, w // 60), (0, 255, 0), -1)
    return out[max(0, y - m):y + h + m, max(0, x - m):x + w + m]


# ----------------------------------------------------------------------------- skin tones

# (L*, b*) of the cheeks along the human skin locus, from very light to dark; the individual
# typology angle ITA = atan((L* - 50) / b*) covers Chardon's classes: very light > 55, light
# 41-55, intermediate 28-41, tan 10-28, brown -30..10, dark < -30 (Del Bino et al. 2006 measured
# L* 27-70 and b* 10-20 over those classes).
SKIN_TONES = ((70, 14), (62, 16), (55, 17), (48, 18), (42, 18), (36, 17), (30, 15), (26, 13))


def ita(l_star: float, b_star: float) -> float:
    return math.degrees(math.atan2(l_star - 50, b_star))


def _lab(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)


def skin_lab(img: np.ndarray, face) -> tuple[float, float, float]:
    """Median (L*, a*, b*) of the verifier's cheek/forehead patches of ``face``."""
    from cosbeauty.imaging import verify

    lab, pts = _lab(img), face.landmarks
    r = max(1, int(0.04 * face.cheek_width))
    patches = [lab[int(pts[i][1]) - r:int(pts[i][1]) + r + 1, int(pts[i][0]) - r:int(pts[i][0]) + r + 1].reshape(-1, 3)
               for i in verify.SKIN_SAMPLES]
    lm, am, bm = np.median(np.concatenate(patches), axis=0)
    return float(lm), float(am), float(bm)


def tone_shift(img: np.ndarray, face, l_star: float, b_star: float) -> np.ndarray:
    """A real photo with the person's skin taken to cheek (L*, b*): L* and b* (a* by the square
    root of b*'s factor) scaled in CIELAB over the face and its surroundings (the landmark hull
    grown by 0.6 F, feathered), so texture, shading and features stay the photo's own. Lips,
    eyes and hair darken by the same factors (real darker skin differs in more than that)."""
    lab = _lab(img)
    lm, _, bm = skin_lab(img, face)
    mask = np.zeros(img.shape[:2], np.float32)
    cv2.fillConvexPoly(mask, cv2.convexHull(face.landmarks[:468].astype(np.int32)), 1.0)
    k = max(3, int(face.cheek_width * 0.6))
    mask = cv2.GaussianBlur(cv2.dilate(mask, np.ones((k, k), np.uint8)), (0, 0), face.cheek_width * 0.1)[:, :, None]
    out = lab.copy()
    out[:, :, 0] *= l_star / lm
    out[:, :, 2] *= b_star / max(bm, 1.0)
    out[:, :, 1] *= math.sqrt(b_star / max(bm, 1.0))
    rgb = cv2.cvtColor((lab * (1 - mask) + out * mask).astype(np.float32), cv2.COLOR_Lab2RGB)
    return np.clip(rgb * 255 + 0.5, 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------- faces cut by the frame

# The face's landmark box (FaceMesh points 0-467: forehead to chin, cheek to cheek) in each head
# crop of :func:`heads`, as fractions of the crop's side (x0, y0, x1, y1); measured with
# detect_faces on the upright head pasted whole at 1x, 0.5x and 2x (within 0.011 of each other).
# The astronaut's face sits high in her crop (box centre at 0.43 of the height, 0.70 x face_px
# wide with :func:`place`'s face_px), Grace Hopper's near the middle (0.48; 0.94 x face_px).
HEAD_FACE_BOX = {"astronaut": (0.309, 0.202, 0.693, 0.659), "hopper": (0.254, 0.200, 0.773, 0.764)}


def place_cut(canvas: np.ndarray, name: str, face_px: int, side: str, out: float,
              head: np.ndarray | None = None) -> tuple[float, float, float, float]:
    """Paste head ``name`` (or ``head``, e.g. a grey copy of it) as :func:`place` does, so that the
    fraction ``out`` of the face's own landmark box (:data:`HEAD_FACE_BOX`) lies outside ``side``
    of the canvas ("left", "right", "top", "bottom"), centred along that side. Returns the face's
    box (x0, y0, x1, y1) in canvas pixels, unclipped (its centre is where the face is)."""
    h, w = canvas.shape[:2]
    s = max(4, int(round(face_px / 0.55)))        # place()'s tile side
    bx0, by0, bx1, by1 = (v * s for v in HEAD_FACE_BOX[name])
    bw, bh = bx1 - bx0, by1 - by0
    if side in ("left", "right"):
        y0 = h / 2 - (by0 + by1) / 2
        x0 = -out * bw - bx0 if side == "left" else w - (1 - out) * bw - bx0
    elif side in ("top", "bottom"):
        x0 = w / 2 - (bx0 + bx1) / 2
        y0 = -out * bh - by0 if side == "top" else h - (1 - out) * bh - by0
    else:
        raise ValueError(side)
    ix, iy = int(round(x0)), int(round(y0))
    place(canvas, heads()[name] if head is None else head, face_px, ix + s // 2, iy + s // 2)
    return ix + bx0, iy + by0, ix + bx1, iy + by1
