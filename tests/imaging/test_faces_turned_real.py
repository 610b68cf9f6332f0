"""Turned faces on real photo backgrounds (issue #12, "any in-plane angle"): a head photo turned in
the plane, pasted with a soft round mask on a scikit-image photo resized to 1920x1080, JPEG q85,
decoded, through :func:`detect_faces` with default settings.

Two classes an angle check on real backgrounds lost (/tmp/s14/turnreal/diag.md; the same faces on
the suite's noise canvases were found):

* a colour face on a grey backdrop (skimage's ``page``, ``grass``, ``brick`` are greyscale): the
  image's mean chroma calls it grey, so only the grey window pass looked (:mod:`.detection.mixed`);
* a face ~45 degrees off every quarter turn whose candidates carry eyes that point the landmark ROI
  wrong (:mod:`.detection.anyangle`: the failed candidates looked at every 45 degrees; tested on
  such a candidate directly: since f261ac1 the proposal pass no longer gives this scene's face one).

The end-to-end cases need the :mod:`.detection.mixed` hook in ``detection/small.py``
(/tmp/s14/turnreal/small.py.patch, applied by the lead; they failed without it); until then they are
skipped. The follow-up of :mod:`.detection.anyangle` is tested on a failed candidate directly.
"""

from __future__ import annotations

import functools
import inspect
import io
import math

import cv2
import numpy as np
import pytest
import skimage.data
from PIL import Image

from cosbeauty.imaging import detect_faces
from cosbeauty.imaging.detection import anyangle, mixed, small
from cosbeauty.imaging.detection.common import _Detection
from cosbeauty.imaging.detection.finish import _finish
from tests.imaging import corpus

HOOKED = "mixed.colour_candidates" in inspect.getsource(small)
needs_hook = pytest.mark.skipif(not HOOKED, reason="detection/small.py without the .mixed hook")


@functools.cache
def background(name: str, w: int = 1920, h: int = 1080) -> np.ndarray:
    """A scikit-image photo resized to cover w x h (centre crop), RGB uint8."""
    img = getattr(skimage.data, name)()
    img = corpus._rgb(img)
    ih, iw = img.shape[:2]
    k = max(w / iw, h / ih)
    r = cv2.resize(img, (int(math.ceil(iw * k)), int(math.ceil(ih * k))), interpolation=cv2.INTER_CUBIC)
    y0, x0 = (r.shape[0] - h) // 2, (r.shape[1] - w) // 2
    return np.ascontiguousarray(r[y0:y0 + h, x0:x0 + w])


def paste(canvas: np.ndarray, head: np.ndarray, face_px: int, cx: int, cy: int, deg: float) -> None:
    """The head turned ``deg`` CCW (its square kept, corners reflected), ~face_px wide, pasted at
    (cx, cy) with a soft round mask (no square seam)."""
    s = max(4, int(round(face_px / 0.55)))
    n = head.shape[0]
    m = cv2.getRotationMatrix2D((n / 2, n / 2), deg, 1.0)
    turned = cv2.warpAffine(head, m, (n, n), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    tile = cv2.resize(turned, (s, s), interpolation=cv2.INTER_AREA if s < n else cv2.INTER_CUBIC).astype(np.float32)
    yy, xx = np.mgrid[0:s, 0:s]
    a = np.clip((1.0 - np.hypot(xx - s / 2 + .5, yy - s / 2 + .5) / (s / 2)) / 0.12, 0, 1)[..., None]
    x0, y0 = cx - s // 2, cy - s // 2
    sub = canvas[y0:y0 + s, x0:x0 + s].astype(np.float32)
    canvas[y0:y0 + s, x0:x0 + s] = np.clip(sub * (1 - a) + tile * a + .5, 0, 255).astype(np.uint8)


def face_centre(person: str, face_px: int, cx: int, cy: int, deg: float) -> tuple[float, float]:
    """Where the pasted face's landmark box centre lands (corpus.HEAD_FACE_BOX, turned with the head)."""
    s = max(4, int(round(face_px / 0.55)))
    x0, y0, x1, y1 = corpus.HEAD_FACE_BOX[person]
    dx, dy = ((x0 + x1) / 2 - 0.5) * s, ((y0 + y1) / 2 - 0.5) * s
    c, sn = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return cx + dx * c + dy * sn, cy - dx * sn + dy * c


def scene(bg: str, person: str, face_px: int, deg: int, cx: int, cy: int, grey: bool = False) -> np.ndarray:
    """The canvas through a JPEG q85 round trip (as a photo would come)."""
    img = background(bg).copy()
    paste(img, corpus.heads()[person], face_px, cx, cy, deg)
    if grey:
        img = np.repeat(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)[:, :, None], 3, axis=2)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=85)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def found(bg: str, person: str, face_px: int, deg: int, cx: int, cy: int, grey: bool = False) -> bool:
    """The face is found where it was pasted (its landmark centre within half a face), rolled as
    turned (+-20 degrees), and nothing else is."""
    img = scene(bg, person, face_px, deg, cx, cy, grey)
    fx, fy = face_centre(person, face_px, cx, cy, deg)
    faces = detect_faces(img)
    hits = [f for f in faces if math.hypot(f.center[0] - fx, f.center[1] - fy) < 0.5 * face_px]
    assert len(faces) == len(hits), f"{len(faces) - len(hits)} other faces"
    # roll: positive clockwise on screen, the head turned deg counter-clockwise
    return any(abs((f.roll + deg + 180) % 360 - 180) < 20 for f in hits)


# (bg, person, face px, degrees, cx, cy): cases of the real-background check the first HEAD missed
COLOUR_ON_GREY = [("page", "astronaut", 40, 150, 670, 530), ("grass", "hopper", 40, 165, 807, 601),
                  ("page", "astronaut", 96, 150, 670, 530), ("page", "astronaut", 300, 150, 670, 530)]
IN_BETWEEN = [("chelsea", "hopper", 96, 195, 1081, 743)]


def test_colour_patches_sees_a_colour_face_on_a_grey_backdrop_only() -> None:
    assert mixed.colour_patches(scene("page", "astronaut", 40, 150, 670, 530))
    assert not mixed.colour_patches(scene("page", "astronaut", 40, 150, 670, 530, grey=True))
    for name in ("page", "grass", "brick", "camera", "moon", "text"):
        assert not mixed.colour_patches(background(name)), name


def test_a_face_turned_in_between_is_seen_at_its_octant() -> None:
    """The 45-degree views of a place around a turned face: the best view's candidate sits on the
    face with eyes turned as the face (the landmark ROI's angle within 30 degrees)."""
    bg, person, px, deg, cx, cy = IN_BETWEEN[0]
    img = scene(bg, person, px, deg, cx, cy)
    fx, fy = face_centre(person, px, cx, cy, deg)
    (score, det), = anyangle.octant_scores(img, None, [(fx + 10, fy - 8, 1.33 * 1.2 * px)])
    assert score >= anyangle._SCORE and det is not None
    assert math.hypot((det.box[0] + det.box[2]) / 2 - fx, (det.box[1] + det.box[3]) / 2 - fy) < 0.3 * px
    (rx, ry), (lx, ly) = det.eyes
    roll = math.degrees(math.atan2(ly - ry, lx - rx))
    assert abs((roll + deg + 180) % 360 - 180) < 30


def test_a_failed_candidate_with_wrong_eyes_gives_the_face_in_the_follow_up() -> None:
    """The candidate a quarter-turn view gave this face (a 102 px box at 0.70 with eyes pointing the
    ROI upright, measured at b61a985): its mesh fails (skin, stability); the follow-up's 45-degree
    views find the face, rolled as turned."""
    bg, person, px, deg, cx, cy = IN_BETWEEN[0]
    img = scene(bg, person, px, deg, cx, cy)
    h, w = img.shape[:2]
    fx, fy = face_centre(person, px, cx, cy, deg)
    box = np.array([1032.0, 683.0, 1134.0, 785.0])
    det = _Detection(box, 0.70, np.array([[1063.0, 722.0], [1103.0, 722.0]]))
    assert not _finish([det], img, 10, 20, (h, w))
    faces = anyangle.followup([], [det], img, h, w, None, 20, 10, True)
    assert len(faces) == 1
    assert math.hypot(faces[0].center[0] - fx, faces[0].center[1] - fy) < 0.3 * px
    assert abs((faces[0].roll + deg + 180) % 360 - 180) < 20


@needs_hook
@pytest.mark.parametrize("case", COLOUR_ON_GREY[:2])
def test_turned_face_on_a_real_background_is_found(case: tuple) -> None:
    assert found(*case)


@pytest.mark.slow
@needs_hook
@pytest.mark.parametrize("case", COLOUR_ON_GREY[2:])
def test_turned_face_on_a_real_background_is_found_more(case: tuple) -> None:
    assert found(*case)
