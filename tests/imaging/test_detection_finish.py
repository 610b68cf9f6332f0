"""detection.finish: faces already landmarked are reused only for the very same candidate."""

from __future__ import annotations

import numpy as np
import skimage.data

from cosbeauty.imaging.detection.finish import _finish
from cosbeauty.imaging.detection.whole import _whole_pass


def test_landmarked_faces_are_not_reused_for_another_candidate():
    """``done`` was keyed by ``id()`` of the merged candidates, which each ``_finish`` call
    creates anew and frees: a later call (ScaledDetection.finish after start, the turned
    follow-up after the first finish) could get new candidates at the freed addresses and be
    handed the faces of other candidates (seen in a plain script: the first image's face
    returned for the second image). The entries now hold their candidate, so its id stays
    taken while the entry exists."""
    a = skimage.data.astronaut()
    b = np.ascontiguousarray(a[:, ::-1])          # the mirror image: its face elsewhere
    done: dict = {}
    first = _finish(_whole_pass(a), a, 10, 20, a.shape[:2], done)
    for key, (det, _face) in done.items():
        assert id(det) == key
    shared = _finish(_whole_pass(b), b, 10, 20, b.shape[:2], done)
    fresh = _finish(_whole_pass(b), b, 10, 20, b.shape[:2])
    assert [f.box for f in first] != [f.box for f in fresh]
    assert [f.box for f in shared] == [f.box for f in fresh]
