"""A no-face set the suite has never seen (round 17), run through the bytes path (``beautify(data, 0.5)``).

Usage: python bench/nofaces_drawn.py OUT.jsonl [part nparts] [--list]
       HELD=60 SEED=4242 python bench/nofaces_drawn.py OUT.jsonl   (the held-out drawn set)

Prints every image that comes back edited (it should come back byte-identical) and the count. Figures
and the reading: docs/faces.md, "Only faces" (round 17).

Groups (each image built deterministically from a seed):
  pkg    images shipped on the machine not in tests/imaging/corpus.py (networkx display baselines, sympy
         region plots, libxslt gifs, nodejs doc images, libpng's pngtest, Adwaita 512 px icons), placed on
         a 1280x960 canvas (plain / skin-coloured / photo backdrop), turned, scaled, sometimes cut;
  emoji  smiley discs (yellow / skin tones, two dots or ovals, an arc or open mouth, blush, glasses);
  clock  clock faces (ring, ticks, two hands, a pivot);
  dice   dice (the two, four, five, six faces), dominoes;
  button sewing buttons (2 and 4 holes), power sockets (two slots / two round pins and ground);
  prod   product shots on skin-coloured backdrops: bottles, a mug with two dots, fruit, a round tin;
  tex    textures: wood, fabric weave, skin-tone noise, leather pores, knit, terrazzo;
  text   text renders (Liberation fonts): "o o", ":-)", "OO", words, turned;
  cut    any of the above cut by the frame (30-50 % outside);
then each image grey or colour, and encoded JPEG q35..95 / WebP q50..90 / PNG.

Images shipped on this machine that are missing are skipped (the ``pkg`` group depends on Debian
packages and the venv); every other group is synthetic and the same everywhere.
"""
from __future__ import annotations

import glob
import io
import json
import math
import os
import sys
import sysconfig
import time

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SITE = sysconfig.get_paths()["purelib"]
SKIN = [(224, 172, 138), (241, 194, 160), (198, 134, 96), (141, 85, 52), (255, 219, 172), (232, 190, 172),
        (180, 120, 90), (95, 60, 40)]
FONTS = sorted(glob.glob("/usr/share/fonts/truetype/liberation/*.ttf"))


def _bg(rng, w, h):
    k = rng.integers(0, 4)
    if k == 0:
        return np.full((h, w, 3), rng.integers(20, 240, 3), np.uint8)
    if k == 1:
        c = np.array(SKIN[rng.integers(0, len(SKIN))], np.float32)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        g = 0.85 + 0.3 * (xx / w) * (1 - 0.3 * yy / h)
        return np.clip(c * g[..., None] + rng.normal(0, 3, (h, w, 1)), 0, 255).astype(np.uint8)
    if k == 2:
        import skimage.data
        src = [skimage.data.coffee, skimage.data.chelsea, skimage.data.rocket, skimage.data.retina][rng.integers(0, 4)]()
        return cv2.resize(np.ascontiguousarray(src[..., :3]), (w, h), interpolation=cv2.INTER_CUBIC)
    a, b = rng.integers(0, 255, 3), rng.integers(0, 255, 3)
    t = np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
    return np.broadcast_to((a * (1 - t) + b * t), (h, w, 3)).astype(np.uint8).copy()


def _paste(canvas, tile, cx, cy, deg, alpha=None):
    """Rotate tile by deg, alpha-blend it centred at cx, cy (may go out of the frame)."""
    s = int(math.ceil(math.hypot(*tile.shape[:2])))
    pad = np.zeros((s, s, 3), np.uint8)
    am = np.zeros((s, s), np.float32)
    y0, x0 = (s - tile.shape[0]) // 2, (s - tile.shape[1]) // 2
    pad[y0:y0 + tile.shape[0], x0:x0 + tile.shape[1]] = tile[..., :3]
    am[y0:y0 + tile.shape[0], x0:x0 + tile.shape[1]] = 1.0 if alpha is None else alpha
    m = cv2.getRotationMatrix2D((s / 2, s / 2), deg, 1.0)
    pad = cv2.warpAffine(pad, m, (s, s), flags=cv2.INTER_LINEAR)
    am = cv2.warpAffine(am, m, (s, s), flags=cv2.INTER_LINEAR)[..., None]
    H, W = canvas.shape[:2]
    X0, Y0 = int(cx - s / 2), int(cy - s / 2)
    ax0, ay0, ax1, ay1 = max(0, X0), max(0, Y0), min(W, X0 + s), min(H, Y0 + s)
    if ax1 <= ax0 or ay1 <= ay0:
        return
    sub = canvas[ay0:ay1, ax0:ax1].astype(np.float32)
    t = pad[ay0 - Y0:ay1 - Y0, ax0 - X0:ax1 - X0].astype(np.float32)
    a = am[ay0 - Y0:ay1 - Y0, ax0 - X0:ax1 - X0]
    canvas[ay0:ay1, ax0:ax1] = np.clip(sub * (1 - a) + t * a + .5, 0, 255).astype(np.uint8)


def _disc_alpha(s):
    yy, xx = np.mgrid[0:s, 0:s]
    return np.clip((s / 2 - np.hypot(xx - s / 2 + .5, yy - s / 2 + .5)) / 1.5, 0, 1).astype(np.float32)


# ---------- drawn objects (each a tile of side s, RGB, + alpha) ----------
def emoji(rng, s):
    t = np.zeros((s, s, 3), np.uint8)
    col = [(255, 204, 77), (255, 220, 90)] + SKIN
    c = tuple(int(v) for v in col[rng.integers(0, len(col))])
    cv2.circle(t, (s // 2, s // 2), s // 2 - 1, c, -1, cv2.LINE_AA)
    shade = rng.random() < 0.5
    if shade:   # radial shading like a 3D emoji
        yy, xx = np.mgrid[0:s, 0:s].astype(np.float32)
        g = 1.1 - 0.35 * np.hypot(xx - 0.35 * s, yy - 0.3 * s) / s
        t = np.clip(t * g[..., None], 0, 255).astype(np.uint8)
    eye = (40, 30, 20) if rng.random() < 0.7 else (20, 60, 120)
    ey, ex, er = int(0.38 * s), int(0.17 * s * (0.8 + 0.4 * rng.random())), max(1, int(s * (0.04 + 0.05 * rng.random())))
    for sx in (-1, 1):
        if rng.random() < 0.5:
            cv2.circle(t, (s // 2 + sx * ex, ey), er, eye, -1, cv2.LINE_AA)
        else:
            cv2.ellipse(t, (s // 2 + sx * ex, ey), (er, int(er * 1.6)), 0, 0, 360, eye, -1, cv2.LINE_AA)
    if rng.random() < 0.3:      # glasses
        for sx in (-1, 1):
            cv2.circle(t, (s // 2 + sx * ex, ey), int(er * 2.4), (30, 30, 30), max(1, s // 40), cv2.LINE_AA)
    if rng.random() < 0.4:      # blush
        for sx in (-1, 1):
            cv2.circle(t, (s // 2 + sx * int(0.28 * s), int(0.6 * s)), int(0.07 * s), (240, 120, 120), -1, cv2.LINE_AA)
    m = rng.integers(0, 3)
    if m == 0:
        cv2.ellipse(t, (s // 2, int(0.58 * s)), (int(0.22 * s), int(0.15 * s)), 0, 20, 160, (120, 30, 30), max(1, s // 25), cv2.LINE_AA)
    elif m == 1:
        cv2.ellipse(t, (s // 2, int(0.68 * s)), (int(0.15 * s), int(0.08 * s)), 0, 0, 360, (150, 40, 50), -1, cv2.LINE_AA)
    else:
        cv2.line(t, (int(0.38 * s), int(0.7 * s)), (int(0.62 * s), int(0.7 * s)), (90, 40, 30), max(1, s // 30), cv2.LINE_AA)
    return t, _disc_alpha(s)


def clock(rng, s):
    t = np.zeros((s, s, 3), np.uint8)
    face = tuple(int(v) for v in (rng.integers(200, 256, 3) if rng.random() < 0.6 else SKIN[rng.integers(0, len(SKIN))]))
    cv2.circle(t, (s // 2, s // 2), s // 2 - 1, (60, 60, 60), -1, cv2.LINE_AA)
    cv2.circle(t, (s // 2, s // 2), int(s * 0.45), face, -1, cv2.LINE_AA)
    for k in range(12):
        a = k * math.pi / 6
        r0, r1 = 0.36 * s, 0.42 * s
        cv2.line(t, (int(s / 2 + r0 * math.cos(a)), int(s / 2 + r0 * math.sin(a))),
                 (int(s / 2 + r1 * math.cos(a)), int(s / 2 + r1 * math.sin(a))), (20, 20, 20), max(1, s // 60), cv2.LINE_AA)
    for L, w in ((0.25, s // 35), (0.35, s // 60)):
        a = rng.random() * 2 * math.pi
        tip = (int(s / 2 + L * s * math.cos(a)), int(s / 2 + L * s * math.sin(a)))
        cv2.line(t, (s // 2, s // 2), tip, (10, 10, 10), max(1, w), cv2.LINE_AA)
    cv2.circle(t, (s // 2, s // 2), max(1, s // 40), (150, 20, 20), -1, cv2.LINE_AA)
    return t, _disc_alpha(s)


PIPS = {2: [(.3, .3), (.7, .7)], 4: [(.3, .3), (.7, .3), (.3, .7), (.7, .7)], 5: [(.3, .3), (.7, .3), (.5, .5), (.3, .7), (.7, .7)],
        6: [(.3, .25), (.7, .25), (.3, .5), (.7, .5), (.3, .75), (.7, .75)], 3: [(.3, .3), (.5, .5), (.7, .7)]}


def dice(rng, s):
    t = np.zeros((s, s, 3), np.uint8)
    col = tuple(int(v) for v in (rng.integers(200, 256, 3) if rng.random() < 0.5 else SKIN[rng.integers(0, len(SKIN))]))
    cv2.rectangle(t, (0, 0), (s - 1, s - 1), col, -1)
    n = int(rng.choice([2, 3, 4, 5, 6]))
    pip = (20, 20, 20) if rng.random() < 0.8 else (180, 20, 20)
    for (u, v) in PIPS[n]:
        cv2.circle(t, (int(u * s), int(v * s)), max(1, int(0.08 * s)), pip, -1, cv2.LINE_AA)
    a = np.ones((s, s), np.float32)
    if rng.random() < 0.4:      # a domino: two halves
        t2 = np.concatenate([t, dice(rng, s)[0]], 0)
        cv2.line(t2, (0, s), (s, s), (40, 40, 40), max(1, s // 40))
        return t2, np.ones(t2.shape[:2], np.float32)
    return t, a


def button(rng, s):
    t = np.zeros((s, s, 3), np.uint8)
    kind = rng.integers(0, 3)
    col = tuple(int(v) for v in (SKIN[rng.integers(0, len(SKIN))] if rng.random() < 0.5 else rng.integers(0, 256, 3)))
    if kind < 2:        # a sewing button, 2 or 4 holes
        cv2.circle(t, (s // 2, s // 2), s // 2 - 1, col, -1, cv2.LINE_AA)
        cv2.circle(t, (s // 2, s // 2), int(0.38 * s), tuple(int(v * 0.85) for v in col), max(1, s // 30), cv2.LINE_AA)
        holes = [(.38, .5), (.62, .5)] if kind == 0 else [(.4, .4), (.6, .4), (.4, .6), (.6, .6)]
        for u, v in holes:
            cv2.circle(t, (int(u * s), int(v * s)), max(1, int(0.06 * s)), (25, 20, 15), -1, cv2.LINE_AA)
        return t, _disc_alpha(s)
    # a power socket: plate, two slots or pins, ground
    cv2.rectangle(t, (0, 0), (s - 1, s - 1), (235, 232, 225), -1)
    cv2.circle(t, (s // 2, s // 2), int(0.4 * s), (215, 212, 205), -1, cv2.LINE_AA)
    if rng.random() < 0.5:
        for sx in (-1, 1):
            x = s // 2 + sx * int(0.12 * s)
            cv2.rectangle(t, (x - s // 40, int(0.33 * s)), (x + s // 40, int(0.5 * s)), (30, 30, 30), -1)
        cv2.ellipse(t, (s // 2, int(0.65 * s)), (int(0.05 * s), int(0.06 * s)), 0, 180, 360, (30, 30, 30), -1)
    else:
        for sx in (-1, 1):
            cv2.circle(t, (s // 2 + sx * int(0.14 * s), int(0.45 * s)), int(0.05 * s), (30, 30, 30), -1, cv2.LINE_AA)
        cv2.rectangle(t, (s // 2 - s // 30, int(0.15 * s)), (s // 2 + s // 30, int(0.22 * s)), (120, 120, 120), -1)
    return t, np.ones((s, s), np.float32)


def product(rng, w, h):
    """A product shot: a skin-coloured backdrop with a bottle / a mug with two dots / fruit / a round tin."""
    c = np.array(SKIN[rng.integers(0, len(SKIN))], np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.clip(c * (0.8 + 0.35 * (1 - yy / h))[..., None] + rng.normal(0, 2, (h, w, 1)), 0, 255).astype(np.uint8)
    for _ in range(rng.integers(1, 4)):
        k = rng.integers(0, 4)
        cx, cy = int(rng.integers(w // 5, 4 * w // 5)), int(rng.integers(h // 4, 3 * h // 4))
        r = int(rng.integers(h // 12, h // 4))
        col = tuple(int(v) for v in rng.integers(0, 256, 3))
        if k == 0:      # a bottle
            cv2.rectangle(img, (cx - r // 2, cy - r), (cx + r // 2, cy + r), col, -1)
            cv2.rectangle(img, (cx - r // 6, cy - int(1.6 * r)), (cx + r // 6, cy - r), col, -1)
            cv2.rectangle(img, (cx - r // 2, cy - r // 4), (cx + r // 2, cy + r // 3), (245, 245, 240), -1)
            cv2.putText(img, "LOGO", (cx - r // 2 + 2, cy + r // 8), cv2.FONT_HERSHEY_SIMPLEX, r / 90, (30, 30, 30),
                        max(1, r // 40), cv2.LINE_AA)
        elif k == 1:    # a mug with a cute print: two dots and an arc
            cv2.rectangle(img, (cx - r, cy - r), (cx + r, cy + r), (250, 250, 248), -1)
            cv2.ellipse(img, (cx + r, cy), (r // 2, r // 2), 0, -90, 90, (250, 250, 248), max(2, r // 6))
            for sx in (-1, 1):
                cv2.circle(img, (cx + sx * r // 3, cy - r // 5), max(1, r // 10), (30, 30, 30), -1, cv2.LINE_AA)
            cv2.ellipse(img, (cx, cy + r // 6), (r // 3, r // 5), 0, 20, 160, (30, 30, 30), max(1, r // 15), cv2.LINE_AA)
        elif k == 2:    # fruit (an orange / an apple, shaded)
            cv2.circle(img, (cx, cy), r, col, -1, cv2.LINE_AA)
            cv2.circle(img, (cx - r // 3, cy - r // 3), max(1, r // 5), tuple(min(255, v + 60) for v in col), -1, cv2.LINE_AA)
            cv2.line(img, (cx, cy - r), (cx + r // 8, cy - int(1.3 * r)), (60, 40, 20), max(1, r // 12))
        else:           # a round tin from above, a lid with two rivets
            cv2.circle(img, (cx, cy), r, (190, 190, 195), -1, cv2.LINE_AA)
            cv2.circle(img, (cx, cy), int(0.8 * r), col, -1, cv2.LINE_AA)
            for sx in (-1, 1):
                cv2.circle(img, (cx + sx * r // 3, cy - r // 4), max(1, r // 12), (60, 60, 60), -1, cv2.LINE_AA)
    return cv2.GaussianBlur(img, (0, 0), 0.7)


def texture(rng, w, h):
    k = rng.integers(0, 6)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    def n(d: int) -> np.ndarray:
        noise = rng.normal(size=(max(2, h // d), max(2, w // d))).astype(np.float32)
        return cv2.resize(noise, (w, h), interpolation=cv2.INTER_CUBIC)
    if k == 0:      # wood
        v = np.sin((np.hypot(xx - rng.integers(0, w), (yy - 3 * h) * 0.2) + 25 * n(16)) / rng.uniform(5, 14))
        base = np.array(SKIN[rng.integers(0, 4)], np.float32)
        img = base + 30 * v[..., None] * np.array([1, .8, .6])
    elif k == 1:    # fabric weave
        p = rng.integers(4, 12)
        v = np.sign(np.sin(xx * math.pi / p)) * np.sign(np.sin(yy * math.pi / p))
        img = np.array(rng.integers(60, 230, 3), np.float32) + 25 * v[..., None] + 8 * n(2)[..., None]
    elif k == 2:    # skin-tone noise (pores, blotches)
        img = (np.array(SKIN[rng.integers(0, len(SKIN))], np.float32) + 12 * n(40)[..., None] + 6 * n(3)[..., None]
               + 4 * rng.normal(size=(h, w, 1)))
    elif k == 3:    # leather: cells
        v = np.abs(n(10)) + 0.5 * np.abs(n(4))
        img = np.array(SKIN[rng.integers(0, len(SKIN))], np.float32) * (0.7 + 0.3 * np.clip(v, 0, 1.5))[..., None] / 1.2
    elif k == 4:    # knit: chevrons
        p = rng.integers(8, 20)
        v = np.sin(((xx % (2 * p)) - p) * 0 + (yy + np.abs((xx % (2 * p)) - p)) * math.pi / p)
        img = np.array(rng.integers(80, 240, 3), np.float32) * (0.8 + 0.2 * v)[..., None]
    else:           # terrazzo: random chips on a skin-ish ground
        img = np.array(SKIN[rng.integers(0, len(SKIN))], np.float32) + np.zeros((h, w, 3), np.float32)
        img = img.astype(np.uint8).copy()
        for _ in range(400):
            cv2.circle(img, (int(rng.integers(0, w)), int(rng.integers(0, h))), int(rng.integers(2, 14)),
                       tuple(int(v) for v in rng.integers(0, 256, 3)), -1, cv2.LINE_AA)
        return img
    return np.clip(img, 0, 255).astype(np.uint8)


def text_img(rng, w, h):
    img = Image.fromarray(_bg(rng, w, h))
    d = ImageDraw.Draw(img)
    words = ["o o", ":-)", "OO", "(^_^)", "0 0", "ô", "Q.Q", "@ @", "o_O", "face", "COSBEAUTY", "8-)", "° °", "oo"]
    for _ in range(rng.integers(3, 9)):
        f = ImageFont.truetype(FONTS[rng.integers(0, len(FONTS))], int(rng.integers(20, 220)))
        d.text((int(rng.integers(-50, w - 50)), int(rng.integers(-30, h - 30))), str(rng.choice(words)),
               fill=tuple(int(v) for v in rng.integers(0, 256, 3)), font=f)
    return np.asarray(img)


def pkg_images():
    paths = sorted(glob.glob(SITE + "/networkx/drawing/tests/baseline/test_display_*.png"))
    paths += sorted(glob.glob(SITE + "/sympy/plotting/tests/test_region_*.png"))
    paths += sorted(glob.glob("/usr/share/doc/libxslt1-dev/html/*.gif"))
    paths += ["/usr/share/doc/nodejs/full-white-stripe.jpg", "/usr/share/doc/libpng-dev/examples/pngtest.png"]
    paths += sorted(glob.glob("/usr/share/doc/nodejs/contributing/doc_img/youtube-stream-*.png"))
    used = set(open(os.path.join(ROOT, "tests", "imaging", "corpus.py")).read().split('"'))
    icons = sorted(p for p in glob.glob("/usr/share/icons/Adwaita/512x512/*/*.png") if p not in used)
    paths += icons[::3]
    out = []
    for p in paths:
        if p in used or not os.path.exists(p):
            continue
        im = Image.open(p)
        im = im.convert("RGBA")
        a = np.asarray(im)
        out.append((os.path.basename(p).rsplit(".", 1)[0], a[..., :3].copy(), a[..., 3].astype(np.float32) / 255))
    return out


def images():
    rng = np.random.default_rng(1717)
    W, H = 1280, 960
    for i, (name, rgb, alpha) in enumerate(pkg_images()):
        canvas = _bg(rng, W, H)
        k = rng.uniform(0.5, 1.8) * min(W, H) / max(rgb.shape[:2])
        t = cv2.resize(rgb, (max(8, int(rgb.shape[1] * k)), max(8, int(rgb.shape[0] * k))), interpolation=cv2.INTER_AREA)
        a = cv2.resize(alpha, (t.shape[1], t.shape[0]), interpolation=cv2.INTER_AREA)
        cut = i % 4 == 3
        cx = int(rng.integers(0, W)) if not cut else int(-0.1 * t.shape[1]) if i % 8 == 3 else W
        cy = H // 2 if not cut else int(rng.integers(H // 4, 3 * H // 4))
        _paste(canvas, t, cx if cut else W // 2, cy, float(rng.integers(0, 360)) if i % 2 else 0.0, a)
        yield f"pkg-{name}", canvas
    makers = {"emoji": emoji, "clock": clock, "dice": dice, "button": button}
    for g, mk in makers.items():
        for j in range(16):
            canvas = _bg(rng, W, H)
            n = int(rng.integers(1, 7))
            for _ in range(n):
                s = int(rng.choice([24, 32, 48, 64, 96, 160, 300]))
                t, a = mk(rng, s)
                cut = j % 5 == 4
                cx = int(rng.integers(0, W)) if not cut else int(rng.choice([0, W]))
                _paste(canvas, t, cx, int(rng.integers(0, H)), float(rng.integers(0, 360)), a)
            yield f"{g}-{j}", canvas
    for j in range(14):
        yield f"prod-{j}", product(rng, W, H)
    for j in range(18):
        yield f"tex-{j}", texture(rng, W, H)
    for j in range(10):
        yield f"text-{j}", text_img(rng, W, H)
    # a few big 12 MP and small 640 px ones (the scale passes differ)
    for j in range(4):
        t, a = emoji(rng, int(rng.choice([200, 400, 800])))
        canvas = _bg(rng, 4000, 3000)
        _paste(canvas, t, int(rng.integers(500, 3500)), int(rng.integers(500, 2500)), float(rng.integers(0, 360)), a)
        yield f"big-emoji-{j}", canvas
    for j in range(6):
        canvas = product(rng, 640, 480) if j % 2 else texture(rng, 640, 480)
        yield f"small-{j}", canvas


def encode(rng, tag, img, k):
    mode = k % 6
    if k % 3 == 1:
        g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
        img = np.repeat(g[..., None], 3, 2)
        tag += "-grey"
    b = io.BytesIO()
    if mode in (0, 1, 2, 3):
        q = (35, 60, 85, 95)[mode]
        Image.fromarray(img).save(b, "JPEG", quality=q)
        tag += f"-q{q}"
    elif mode == 4:
        q = int(rng.choice([50, 75, 90]))
        Image.fromarray(img).save(b, "WEBP", quality=q)
        tag += f"-webp{q}"
    else:
        Image.fromarray(img).save(b, "PNG")
        tag += "-png"
    return tag, b.getvalue()


def emoji_images(n=60, seed=4242):
    """A held-out drawn-face set (not the one the rules were chosen on): emoji / buttons / clocks only."""
    rng = np.random.default_rng(seed)
    W, H = 1280, 960
    for j in range(n):
        canvas = _bg(rng, W, H)
        for _ in range(int(rng.integers(2, 8))):
            s = int(rng.choice([24, 32, 48, 64, 96, 160, 300]))
            t, a = (emoji, emoji, button, clock)[j % 4](rng, s)
            _paste(canvas, t, int(rng.integers(0, W)), int(rng.integers(0, H)), float(rng.integers(0, 360)), a)
        yield f"held-{('emoji', 'emoji', 'button', 'clock')[j % 4]}-{j}", canvas


def cases():
    rng = np.random.default_rng(17)
    gen = emoji_images(int(os.environ.get("HELD", "60")), int(os.environ.get("SEED", "4242"))) if os.environ.get("HELD") else images()
    for k, (tag, img) in enumerate(gen):
        yield encode(rng, tag, img, k)


def main():
    if "--list" in sys.argv:
        for tag, data in cases():
            print(tag, len(data))
        return
    from cosbeauty.imaging import beautify
    out = sys.argv[1]
    part, nparts = (int(sys.argv[2]), int(sys.argv[3])) if len(sys.argv) > 3 else (0, 1)
    t0 = time.process_time()
    n = acc = 0
    with open(out, "w") as f:
        for i, (tag, data) in enumerate(cases()):
            if i % nparts != part:
                continue
            t = time.process_time()
            r = beautify(data, 0.5)
            same = r.data == data
            rec = {"tag": tag, "same": same, "faces": [(x.x, x.y, x.width, x.height) for x in r.faces],
                   "cpu": round((time.process_time() - t) * 1000)}
            n += 1
            acc += (not same)
            f.write(json.dumps(rec) + "\n")
            f.flush()
            if not same:
                print("EDITED", rec, flush=True)
    print(f"images {n} edited {acc} cpu {time.process_time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
