"""bench/beauty_at_filing.py's "filter at filing" arm: 25ed645's beauty.py (the retouch the day issue
#12 was filed) imported against this tree's faces, swapped into today's bytes path. It must be that
filter (no issue #9 retouch steps), retouch the face with today's detection and lossless splice,
and leave today's filter in place afterwards."""

from __future__ import annotations

import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.path.insert(0, ROOT)


def _has_history(ref: str) -> bool:
    return subprocess.run(["git", "cat-file", "-e", f"{ref}^{{commit}}"], cwd=ROOT, capture_output=True).returncode == 0


@pytest.mark.skipif(not _has_history("25ed645"), reason="needs the git history (a clone, not an export)")
def test_the_filter_at_filing_runs_in_todays_bytes_path():
    import beauty_at_filing

    from cosbeauty.imaging import beauty as today
    from cosbeauty.imaging.pipeline import beautify
    from tests.imaging.scenes import one_face

    old = beauty_at_filing.filter_at(beauty_at_filing.FILED_AT)
    assert hasattr(old, "Amounts") and not hasattr(old, "RetouchParams")      # the first retouch, not issue 9's
    assert old.detect_faces is today.detect_faces                              # today's detection
    data = cv2.imencode(".jpg", one_face(640, 360)[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()
    now = beautify(data, 0.5)
    saved = today.apply_faces, today.roi_for
    today.apply_faces, today.roi_for = old.apply_faces, old.roi_for
    try:
        then = beautify(data, 0.5)
    finally:
        today.apply_faces, today.roi_for = saved
    assert len(then.faces) == len(now.faces) == 1
    assert then.data != now.data != data and then.data != data
    src = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    out = cv2.imdecode(np.frombuffer(then.data, np.uint8), cv2.IMREAD_COLOR)
    changed = np.argwhere(np.any(src != out, axis=2))
    x, y, w, h = now.faces[0].x, now.faces[0].y, now.faces[0].width, now.faces[0].height
    # lossless outside the old filter's ROI (the face oval and a margin): MCUs around the face only
    assert changed[:, 0].min() >= y - h and changed[:, 0].max() <= y + 2 * h
    assert changed[:, 1].min() >= x - w and changed[:, 1].max() <= x + 2 * w
    assert beautify(data, 0.5).data == now.data                                # today's filter is back
