"""Only faces are edited (issue #12, point 1), on a broader no-face corpus than test_faces_verify's:
:func:`corpus.more_no_face_images` (matplotlib's sample data rendered -- shaded relief, colour
maps, an MRI slice, a plotted signal --, images other packages ship on the machine -- icons,
documentation figures, logos --, and synthetic patterns: radial gradients, text in several fonts,
smiley drawings, printed halftone, Gabor textures, skin-coloured blobs with two dark dots). Each
comes back byte-identical through ``beautify``, in colour and as a grey image (PNG).
"""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from cosbeauty.imaging import beautify
from tests.imaging import corpus

MORE = list(corpus.more_no_face_images())


def png(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "PNG", compress_level=1)
    return out.getvalue()


def grey(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))


def test_more_no_face_corpus_is_big_enough():
    names = [n for n, _ in MORE]
    assert len(names) == len(set(names))
    assert sum(not n.startswith("pkg-") for n in names) >= 13      # rendered and synthetic: on every machine


@pytest.mark.slow
@pytest.mark.parametrize("name,img", MORE, ids=[n for n, _ in MORE])
def test_more_no_face_image_comes_back_byte_identical(name, img):
    for label, data in (("colour", png(img)), ("grey", png(grey(img)))):
        result = beautify(data, 1.0)
        assert result.faces == [] and result.data == data, f"{name} ({label}): {result.faces}"
