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


# The calibration tests (slow: the data each verification threshold was chosen on) run a subset in
# the suite, enough to guard the thresholds; COSBEAUTY_FULL_CALIBRATION=1 runs the whole collection
# docs/faces.md quotes (run at the end of a round that touches verification).
FULL_CALIBRATION = os.environ.get("COSBEAUTY_FULL_CALIBRATION") == "1"
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


# ----------------------------------------------------------------------------- more no-face images

# Images shipped by other packages (Debian's /usr/share, other Python packages): used when present,
# skipped when not (another machine). Each was looked at: no person, no face drawn.
_PACKAGE_IMAGES = (
    "/usr/share/icons/hicolor/256x256/apps/display-im6.q16.png",
    "/usr/lib/python3/dist-packages/pecan/scaffolds/base/public/images/logo.png",
    "/usr/lib/python3/dist-packages/paste/cowbell/bell-descending.png",
    "/usr/share/doc/python3-pip/html/topics/deps.png",
    "/usr/share/doc/nodejs/contributing/doc_img/compare-boxplot.png",
    "/usr/share/doc/nodejs/contributing/doc_img/scatter-plot.png",
    "/usr/share/doc/nodejs/contributing/doc_img/youtube-stream-share.png",
    "/usr/share/doc/nodejs/contributing/doc_img/youtube-stream-analytics.png",
    "/usr/share/doc/valgrind/html/images/kcachegrind_xtree.png",
    "/usr/share/doc/valgrind/html/images/dh-tree.png",
    "/usr/share/info/gnupg-module-overview.png",
    "/usr/share/icons/Adwaita/512x512/devices/camera-web.png",
    "/usr/share/icons/Adwaita/512x512/devices/input-gaming.png",
    "/usr/share/icons/Adwaita/512x512/devices/audio-headset.png",
    "/usr/share/icons/Adwaita/512x512/places/folder-pictures.png",
    "/usr/share/icons/Adwaita/512x512/devices/printer-network.png",
)
_PACKAGE_DATA = (    # inside installed Python packages: (module, relative path)
    ("networkx", "drawing/tests/baseline/test_display_complex.png"),
    ("networkx", "drawing/tests/baseline/test_house_with_colors.png"),
    ("skimage", "data/color.png"),
    ("skimage", "data/clock_motion.png"),
    ("skimage", "data/motorcycle_left.png"),
)


def _flatten(img: Image.Image, background: int = 160) -> np.ndarray:
    """RGB uint8 of a PIL image, transparency composited on ``background``."""
    rgba = np.asarray(img.convert("RGBA")).astype(np.float32)
    a = rgba[:, :, 3:] / 255.0
    return np.clip(rgba[:, :, :3] * a + background * (1 - a) + 0.5, 0, 255).astype(np.uint8)


def _package_images() -> Iterator[tuple[str, np.ndarray]]:
    import importlib.util

    paths = list(_PACKAGE_IMAGES)
    for module, rel in _PACKAGE_DATA:
        spec = importlib.util.find_spec(module)
        if spec is not None and spec.origin:
            paths.append(os.path.join(os.path.dirname(spec.origin), rel))
    for path in paths:
        if os.path.exists(path):
            yield "pkg-" + os.path.splitext(os.path.basename(path))[0], _flatten(Image.open(path))


def _colour_mapped(values: np.ndarray, cmap: str, size: tuple[int, int]) -> np.ndarray:
    import matplotlib

    v = np.asarray(values, np.float64)
    v = (v - np.nanmin(v)) / max(float(np.nanmax(v) - np.nanmin(v)), 1e-9)
    rgb = (matplotlib.colormaps[cmap](np.nan_to_num(v))[:, :, :3] * 255).round().astype(np.uint8)
    return cv2.resize(rgb, size, interpolation=cv2.INTER_CUBIC)


def _matplotlib_samples() -> Iterator[tuple[str, np.ndarray]]:
    """matplotlib's mpl-data/sample_data rendered: the DEM as shaded relief, the topography and a
    bivariate normal colour-mapped, the MRI slice (an axial brain slice), the membrane signal plotted."""
    import gzip

    import matplotlib
    from matplotlib.colors import LightSource

    get = matplotlib.cbook.get_sample_data
    dem = np.asarray(get("jacksboro_fault_dem.npz")["elevation"], np.float64)
    shaded = LightSource(azdeg=315, altdeg=45).shade(dem, cmap=matplotlib.colormaps["gist_earth"], vert_exag=0.05,
                                                       blend_mode="overlay")
    yield "mpl-dem-relief", cv2.resize((shaded[:, :, :3] * 255).round().astype(np.uint8), (806, 688),
                                       interpolation=cv2.INTER_CUBIC)
    yield "mpl-topobathy", _colour_mapped(get("topobathy.npz")["topo"], "terrain", (960, 728))
    yield "mpl-bivariate-normal", _colour_mapped(get("axes_grid/bivariate_normal.npy"), "viridis", (480, 480))
    with gzip.open(get("s1045.ima.gz", asfileobj=False)) as f:
        mri = np.frombuffer(f.read(), np.uint16).reshape(256, 256).astype(np.float64)
    mri = (mri / max(float(mri.max()), 1.0) * 255).round().astype(np.uint8)
    yield "mpl-mri-s1045", _rgb(cv2.resize(mri, (512, 512), interpolation=cv2.INTER_CUBIC))
    signal = np.fromfile(get("membrane.dat", asfileobj=False), dtype=np.float32)
    yield "mpl-membrane-plot", _plot(signal)


def _plot(signal: np.ndarray) -> np.ndarray:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 5), dpi=100)
    ax = fig.add_subplot()
    ax.plot(signal[:4000], lw=0.8)
    ax.set_title("membrane.dat")
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.ascontiguousarray(np.asarray(canvas.buffer_rgba())[:, :, :3])


def _mpl_font(name: str) -> str:
    import matplotlib

    return os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "fonts", "ttf", name)


def _text_sheet(rng: np.random.Generator) -> np.ndarray:
    """Printed text in several fonts, sizes and colours (matplotlib's bundled fonts)."""
    from PIL import ImageDraw, ImageFont

    img = Image.new("RGB", (1000, 700), (250, 248, 240))
    draw = ImageDraw.Draw(img)
    fonts = ("DejaVuSans.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSansMono.ttf", "STIXGeneralItalic.ttf",
             "cmr10.ttf", "DejaVuSans-BoldOblique.ttf", "cmss10.ttf", "STIXGeneralBol.ttf")
    y = 10
    for i, name in enumerate(fonts):
        size = (14, 22, 30, 44, 60, 18, 36, 26)[i]
        font = ImageFont.truetype(_mpl_font(name), size)
        colour = tuple(int(v) for v in rng.integers(0, 160, 3))
        draw.text((10 + 7 * i, y), "OO oo 00 :) 8-) Quick brown fox @ 1984", font=font, fill=colour)
        y += size + 22
    return np.asarray(img)


def _smileys(rng: np.random.Generator) -> np.ndarray:
    """Emoji-like smiley drawings: discs with two dark eyes and a smile, 24-200 px, yellow and
    skin-coloured, flat and shaded."""
    img = np.full((800, 1200, 3), 235, np.uint8)
    x = 40
    for i, r in enumerate((12, 18, 26, 40, 60, 100)):
        cx, cy = x + r, 150 + (i % 2) * 260 if r < 100 else 560
        colour = (255, 204, 51) if i % 2 == 0 else (224, 172, 142)
        cv2.circle(img, (cx, cy), r, colour, -1, cv2.LINE_AA)
        if i >= 3:      # shaded: a radial darkening to the rim
            yy, xx = np.mgrid[cy - r:cy + r, cx - r:cx + r]
            d = np.clip(np.hypot(xx - cx, yy - cy) / r, 0, 1)
            sub = img[cy - r:cy + r, cx - r:cx + r].astype(np.float32)
            inside = (d < 1)[:, :, None]
            img[cy - r:cy + r, cx - r:cx + r] = np.where(inside, sub * (1 - 0.25 * d[:, :, None] ** 2), sub).astype(np.uint8)
        e = max(1, r // 7)
        for sx in (-1, 1):
            cv2.ellipse(img, (cx + sx * r * 3 // 8, cy - r // 4), (e, int(e * 1.6)), 0, 0, 360, (40, 30, 20), -1, cv2.LINE_AA)
        cv2.ellipse(img, (cx, cy + r // 8), (r // 2, r // 2), 0, 20, 160, (120, 40, 40), max(1, r // 12), cv2.LINE_AA)
        x += 2 * r + 60
    return img


def _halftone(src: np.ndarray, cell: int = 6) -> np.ndarray:
    """A printed CMYK halftone of ``src`` (dots per ink on rotated screens)."""
    f = src.astype(np.float32) / 255
    k = 1 - f.max(axis=2)
    cmy = (1 - f - k[:, :, None]) / np.maximum(1 - k[:, :, None], 1e-3)
    inks = [cmy[:, :, 0], cmy[:, :, 1], cmy[:, :, 2], k]
    h, w = k.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    paper = np.ones((h, w, 3), np.float32)
    colours = ((0, 1, 1), (1, 0, 1), (1, 1, 0), (1, 1, 1))      # what each ink removes (R, G, B)
    for ink, angle, remove in zip(inks, (15, 75, 0, 45), colours):
        a = math.radians(angle)
        u = (xx * math.cos(a) + yy * math.sin(a)) / cell
        v = (-xx * math.sin(a) + yy * math.cos(a)) / cell
        d = np.hypot(u - np.round(u), v - np.round(v))
        dot = (d < np.sqrt(np.clip(ink, 0, 1) / math.pi)).astype(np.float32)
        paper *= 1 - dot[:, :, None] * 0.9 * np.array(remove, np.float32)
    return (paper * 255).round().astype(np.uint8)


def _gabor(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A sum of oriented Gabor patches on a grey field (a texture of stripes and spots)."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out = np.zeros((h, w), np.float32)
    for _ in range(60):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        sigma, lam, theta = rng.uniform(8, 30), rng.uniform(6, 24), rng.uniform(0, math.pi)
        xr = (xx - cx) * math.cos(theta) + (yy - cy) * math.sin(theta)
        out += np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sigma ** 2)) * np.cos(2 * math.pi * xr / lam)
    g = np.clip(128 + 60 * out, 0, 255).astype(np.uint8)
    return np.dstack([g, cv2.add(g, 10), cv2.subtract(g, 15)])


def _skin_blobs(rng: np.random.Generator) -> np.ndarray:
    """Skin-coloured ellipses (20-160 px) with two dark dots where eyes would be, some with a dark
    bar for a mouth: the colour test's trap, a face's layout without a face's shading."""
    img = np.clip(rng.normal((120, 140, 150), 6, (800, 1200, 3)), 0, 255).astype(np.uint8)
    tones = ((224, 172, 142), (198, 134, 100), (141, 85, 60), (90, 56, 40), (240, 200, 170))
    k = 0
    for row, r in enumerate((14, 26, 45, 80)):
        for col in range(min(7, 1200 // (3 * r + 20))):
            cx, cy = 20 + r + col * (3 * r + 20), (30, 110, 250, 500)[row] + r
            tone = tones[k % len(tones)]
            cv2.ellipse(img, (cx, int(cy)), (r, int(1.3 * r)), 0, 0, 360, tone, -1, cv2.LINE_AA)
            e = max(1, r // 6)
            for sx in (-1, 1):
                cv2.circle(img, (cx + sx * r * 2 // 5, int(cy - 0.2 * r)), e, (35, 25, 20), -1, cv2.LINE_AA)
            if k % 2:
                cv2.line(img, (cx - r // 3, int(cy + 0.6 * r)), (cx + r // 3, int(cy + 0.6 * r)), (110, 50, 50),
                         max(1, r // 10), cv2.LINE_AA)
            k += 1
    return cv2.GaussianBlur(img, (0, 0), 0.8)


def _more_synthetic() -> Iterator[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(21)
    yy, xx = np.mgrid[0:720, 0:960].astype(np.float32)
    rr = np.hypot(xx - 480, yy - 360) / 600
    yield "radial-gradient", np.dstack([255 * (1 - rr), 200 * rr + 30, 120 + 100 * np.cos(rr * 6)]).clip(0, 255).astype(np.uint8)
    rr2 = np.hypot(xx - 300, yy - 250) / 500
    yield "radial-gradient-skin", np.dstack([235 - 90 * rr2, 190 - 100 * rr2, 160 - 100 * rr2]).clip(0, 255).astype(np.uint8)
    yield "text-fonts", _text_sheet(rng)
    yield "smileys", _smileys(rng)
    yield "halftone-coffee", _halftone(skimage.data.coffee())
    yield "halftone-rocket", _halftone(cv2.resize(skimage.data.rocket(), (960, 640), interpolation=cv2.INTER_CUBIC))
    yield "gabor", _gabor((600, 800), rng)
    yield "skin-blobs-two-dots", _skin_blobs(rng)


def more_no_face_images() -> Iterator[tuple[str, np.ndarray]]:
    """(name, RGB uint8) of more images without any face, beyond :func:`no_face_images`: matplotlib's
    sample data rendered, images shipped by other packages on the machine (when present: Debian
    icons and documentation figures, networkx/scikit-image files no_face_images leaves out) and
    more synthetic patterns (radial gradients, text in several fonts, smiley drawings, printed
    halftone, Gabor textures, skin-coloured blobs with two dark dots)."""
    yield from _matplotlib_samples()
    yield from _package_images()
    yield from _more_synthetic()


def cover(name: str, w: int, h: int) -> np.ndarray:
    """The scikit-image photo ``name`` scaled (cubic) to cover ``w`` x ``h`` and centre-cropped
    ("motorcycle": the left of the stereo pair)."""
    photo = _rgb(skimage.data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(skimage.data, name)())
    k = max(w / photo.shape[1], h / photo.shape[0])
    big = cv2.resize(photo, (math.ceil(photo.shape[1] * k), math.ceil(photo.shape[0] * k)), interpolation=cv2.INTER_CUBIC)
    y0, x0 = (big.shape[0] - h) // 2, (big.shape[1] - w) // 2
    return np.ascontiguousarray(big[y0:y0 + h, x0:x0 + w])


REAL_BACKDROPS = ("coffee", "chelsea", "rocket", "brick", "page", "grass")   # bench/faces_real.py's


def grey_jpeg(img: np.ndarray, quality: int = 85) -> np.ndarray:
    """``img`` made grey (three equal channels), saved as a JPEG and decoded."""
    grey = np.repeat(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)[:, :, None], 3, axis=2)
    return decoded(jpeg_pil(grey, quality))


def grey_angle_case(person: str, face_px: int, deg: int, w: int = 1920, h: int = 1080) -> tuple[np.ndarray, int, int]:
    """The grey image of ``bench/faces_real.py --check angles``' case (JPEG q85, decoded) and the face's
    centre."""
    i = deg // 15
    cx, cy = 400 + (i * 137) % 1100, 300 + (i * 71) % 480
    img = cover(REAL_BACKDROPS[i % len(REAL_BACKDROPS)], w, h)
    paste_round(img, heads()[person], face_px, cx, cy, deg)
    return grey_jpeg(img), cx, cy


def paste_round(canvas: np.ndarray, head: np.ndarray, face_px: int, cx: int, cy: int, degrees: float = 0.0) -> None:
    """``head`` (a :func:`heads` crop) turned ``degrees`` counter-clockwise, its face ``face_px`` wide,
    pasted centred at (cx, cy) with a soft round mask (no square seam), in place; the part outside the
    canvas is dropped (as bench/faces_real.py and round 14's independent check paste faces)."""
    s = max(4, round(face_px / 0.55))
    if degrees:
        m = cv2.getRotationMatrix2D((head.shape[1] / 2, head.shape[0] / 2), degrees, 1.0)
        head = cv2.warpAffine(head, m, head.shape[1::-1], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    tile = cv2.resize(head, (s, s), interpolation=cv2.INTER_AREA if s < head.shape[0] else cv2.INTER_CUBIC)
    yy, xx = np.mgrid[0:s, 0:s]
    alpha = np.clip((1.0 - np.hypot(xx - s / 2 + 0.5, yy - s / 2 + 0.5) / (s / 2)) / 0.12, 0, 1)[..., None]
    x0, y0 = cx - s // 2, cy - s // 2
    ax0, ay0, ax1, ay1 = max(0, x0), max(0, y0), min(canvas.shape[1], x0 + s), min(canvas.shape[0], y0 + s)
    if ax1 <= ax0 or ay1 <= ay0:
        return
    sub = canvas[ay0:ay1, ax0:ax1].astype(np.float32)
    t, a = tile[ay0 - y0:ay1 - y0, ax0 - x0:ax1 - x0].astype(np.float32), alpha[ay0 - y0:ay1 - y0, ax0 - x0:ax1 - x0]
    canvas[ay0:ay1, ax0:ax1] = np.clip(sub * (1 - a) + t * a + 0.5, 0, 255).astype(np.uint8)


def jpeg_pil(rgb: np.ndarray, quality: int) -> bytes:
    """JPEG bytes as Pillow writes them by default (4:2:0), the encoder of round 14's independent check."""
    import io

    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=quality)
    return out.getvalue()


def decoded(data: bytes) -> np.ndarray:
    import io

    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def grey3(rgb: np.ndarray) -> np.ndarray:
    """Luminance repeated in three channels (a colourless RGB image)."""
    return np.repeat(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)[..., None], 3, 2)


def _fit_long(img: np.ndarray, long: int) -> np.ndarray:
    h, w = img.shape[:2]
    k = long / max(h, w)
    return cv2.resize(img, (int(w * k), int(h * k)), interpolation=cv2.INTER_CUBIC if k > 1 else cv2.INTER_AREA)


WITH_FACES = ((("hopper", 48, 0.3, 0.3, 0.0), ("astronaut", 110, 0.7, 0.65, 0.0)),
              (("astronaut", 64, 0.2, 0.7, 0.0), ("hopper", 150, 0.75, 0.3, 0.0)),
              (("hopper", 300, 0.5, 0.5, 0.0),),
              (("astronaut", 40, 0.6, 0.2, 30.0), ("hopper", 80, 0.15, 0.25, 200.0)))
"""Placements of real faces on a no-face image (person, face px, x and y as fractions of the image,
degrees): one or two faces, so the small-face passes run over the image as they do on photos of people."""


def with_faces(img: np.ndarray, placement: int = 0, long: int = 1600) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    """``img`` scaled so its long side is ``long`` px with the real faces of ``WITH_FACES[placement]``
    pasted (:func:`paste_round`); returns the image and each face's (centre x, centre y, face px)."""
    im = _fit_long(img, long)
    h, w = im.shape[:2]
    truth = []
    for person, px, fx, fy, degrees in WITH_FACES[placement]:
        cx, cy = int(w * fx), int(h * fy)
        paste_round(im, heads()[person], px, cx, cy, degrees)
        truth.append((cx, cy, px))
    return im, truth


def drawn_faces() -> Iterator[tuple[str, np.ndarray]]:
    """(name, RGB uint8) of drawn faces (round 14's independent check): cartoon faces in skin tones
    (head, hair, eyes with whites and irises, brows, nose line, red lips) on three backdrops, 48-320 px;
    skin-toned discs with two dots (half with a smile) on the coffee photo. A product that retouches
    people must leave them unchanged."""
    for variant in range(3):
        c = np.zeros((1080, 1920, 3), np.uint8)
        c[:] = ((90, 140, 200), (230, 230, 220), (40, 90, 40))[variant]
        for i, s in enumerate((48, 80, 130, 210, 320)):
            cx, cy = 180 + i * 360, 560
            skin = ((233, 190, 160), (200, 150, 110), (140, 95, 70))[i % 3]
            cv2.ellipse(c, (cx, cy - int(s * 0.55)), (int(s * 0.55), int(s * 0.5)), 0, 180, 360, (60, 40, 30), -1, cv2.LINE_AA)
            cv2.ellipse(c, (cx, cy), (s // 2, int(s * 0.62)), 0, 0, 360, skin, -1, cv2.LINE_AA)
            for ex in (-1, 1):
                e = (cx + ex * int(s * 0.2), cy - int(s * 0.1))
                cv2.ellipse(c, e, (max(2, s // 10), max(1, s // 18)), 0, 0, 360, (250, 250, 250), -1, cv2.LINE_AA)
                cv2.circle(c, e, max(1, s // 22), (70, 50, 30), -1, cv2.LINE_AA)
                cv2.line(c, (e[0] - s // 9, e[1] - s // 8), (e[0] + s // 9, e[1] - s // 7), (60, 40, 30), max(1, s // 40), cv2.LINE_AA)
            cv2.line(c, (cx, cy - s // 30), (cx - s // 25, cy + s // 8), (skin[0] - 50, skin[1] - 50, skin[2] - 50),
                     max(1, s // 50), cv2.LINE_AA)
            cv2.ellipse(c, (cx, cy + int(s * 0.3)), (s // 6, max(1, s // 20)), 0, 0, 360, (190, 70, 80), -1, cv2.LINE_AA)
        if variant == 2:
            c = cv2.GaussianBlur(c, (0, 0), 1.2)
        yield f"cartoon-faces-{variant}", c
    c = cover("coffee", 1920, 1080)
    rng = np.random.default_rng(5)
    for i in range(14):
        s = int(rng.integers(30, 200))
        cx, cy = int(rng.integers(100, 1820)), int(rng.integers(100, 980))
        col = ((224, 172, 142), (198, 134, 66), (141, 85, 36), (255, 219, 172))[i % 4]
        cv2.circle(c, (cx, cy), s // 2, col, -1, cv2.LINE_AA)
        for ex in (-1, 1):
            cv2.circle(c, (cx + ex * s // 5, cy - s // 10), max(1, s // 14), (30, 20, 20), -1, cv2.LINE_AA)
        if i % 2:
            cv2.ellipse(c, (cx, cy + s // 6), (s // 6, s // 14), 0, 0, 180, (160, 50, 60), max(1, s // 25), cv2.LINE_AA)
    yield "two-dot-discs-on-coffee", c
    c = np.full((800, 800, 3), 245, np.uint8)       # a pencil-like line sketch of a face
    cv2.ellipse(c, (400, 400), (200, 260), 0, 0, 360, (60, 60, 60), 3, cv2.LINE_AA)
    for ex in (-1, 1):
        cv2.ellipse(c, (400 + ex * 80, 340), (40, 18), 0, 0, 360, (60, 60, 60), 3, cv2.LINE_AA)
        cv2.circle(c, (400 + ex * 80, 340), 12, (40, 40, 40), -1)
        cv2.ellipse(c, (400 + ex * 80, 300), (50, 12), 0, 190, 350, (60, 60, 60), 4, cv2.LINE_AA)
    cv2.line(c, (400, 350), (380, 450), (80, 80, 80), 3)
    cv2.line(c, (380, 450), (410, 455), (80, 80, 80), 3)
    cv2.ellipse(c, (400, 530), (70, 20), 0, 0, 180, (60, 60, 60), 4, cv2.LINE_AA)
    yield "line-sketch", cv2.GaussianBlur(c, (0, 0), 1.0)
