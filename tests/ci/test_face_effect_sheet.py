"""Contact sheets of face-effect through the server (look at them: numbers alone do not judge a
face): ``test-artifacts/face-effect/beautify.png`` (levels side by side, whole photo and face
zoom) and ``segmentation.png`` (cut-out over a checkerboard, and the mask)."""

from __future__ import annotations

import base64
from pathlib import Path

import cv2
import numpy as np

from tests.ci.conftest import encode
from tests.ci.test_face_effect import composite
from tests.imaging.corpus import astronaut, hopper

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "face-effect"
CELL = 300
VARIANTS = [
    ("original", None),
    ("default 30/10/70/70", {}),
    ("whitening 100", {"whitening": "100", "smoothing": "0", "faceLifting": "0", "eyeEnlarging": "0"}),
    ("smoothing 100", {"whitening": "0", "smoothing": "100", "faceLifting": "0", "eyeEnlarging": "0"}),
    ("lifting+eyes 100", {"whitening": "0", "smoothing": "0", "faceLifting": "100", "eyeEnlarging": "100"}),
    ("all 100", {"whitening": "100", "smoothing": "100", "faceLifting": "100", "eyeEnlarging": "100"}),
]


def _rgba(data: bytes) -> np.ndarray:
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    code = cv2.COLOR_BGRA2RGBA if img.shape[2] == 4 else cv2.COLOR_BGR2RGB
    return cv2.cvtColor(img, code)


def _over_checkerboard(rgba: np.ndarray) -> np.ndarray:
    h, w = rgba.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    board = np.where(((yy // 16 + xx // 16) % 2)[..., None] == 0, 200, 120).astype(np.float32)
    a = rgba[..., 3:4].astype(np.float32) / 255
    return np.rint(rgba[..., :3] * a + board * (1 - a)).astype(np.uint8)


def _sheet(rows: list[list[tuple[str, np.ndarray]]], path: Path) -> None:
    cols = max(len(r) for r in rows)
    sheet = np.full((len(rows) * (CELL + 18), cols * CELL, 3), 255, np.uint8)
    for r, row in enumerate(rows):
        for c, (label, img) in enumerate(row):
            h, w = img.shape[:2]
            k = CELL / max(h, w)
            tile = cv2.resize(img, (int(w * k), int(h * k)), interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_CUBIC)
            y, x = r * (CELL + 18), c * CELL
            sheet[y:y + tile.shape[0], x:x + tile.shape[1]] = tile[..., :3]
            cv2.putText(sheet, label, (x + 4, y + CELL + 13), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))


def _result(cos, bucket: str, key: str, field: str = "ResultImage", **params: str) -> bytes:
    data = cos.ci_process(Bucket=bucket, Key=key, CiProcess="face-effect", Params=params)
    return base64.b64decode(data[field])


def test_contact_sheets(cos, ci_bucket):
    photos = {"hopper": (hopper(), (slice(110, 360), slice(140, 390))),
              "astronaut": (astronaut(), (slice(20, 250), slice(110, 340)))}
    whole, zoom = [], []
    for name, (img, (ys, xs)) in photos.items():
        key = f"sheet/{name}.png"
        cos.put_object(Bucket=ci_bucket, Key=key, Body=encode(img, ".png"))
        row_whole, row_zoom = [], []
        for label, levels in VARIANTS:
            out = img if levels is None else _rgba(_result(cos, ci_bucket, key, type="face-beautify", **levels))
            assert out.shape == img.shape
            row_whole.append((f"{name}: {label}", out))
            row_zoom.append((label, out[ys, xs]))
        whole.append(row_whole)
        zoom.append(row_zoom)
    _sheet(whole, ARTIFACTS / "beautify.png")
    _sheet(zoom, ARTIFACTS / "beautify_zoom.png")

    seg_rows = []
    scene, _ = composite()
    for name, img in (("hopper", hopper()), ("astronaut", astronaut()), ("composite", scene)):
        key = f"sheet/seg-{name}.png"
        cos.put_object(Bucket=ci_bucket, Key=key, Body=encode(img, ".png"))
        cut = _rgba(_result(cos, ci_bucket, key, type="face-segmentation"))
        mask = _rgba(_result(cos, ci_bucket, key, "ResultMask", type="face-segmentation"))
        seg_rows.append([(f"{name}", img), ("cut-out (ResultImage)", _over_checkerboard(cut)),
                         ("mask (ResultMask)", mask)])
    _sheet(seg_rows, ARTIFACTS / "segmentation.png")
    assert (ARTIFACTS / "segmentation.png").stat().st_size > 0
