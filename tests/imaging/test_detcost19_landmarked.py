"""detection.finish.Landmarked(image): a candidate finished again on the same image (the turned
follow-ups finish every candidate once more with their new ones) is not landmarked again (round 19,
detection CPU); the faces are the very same."""

from __future__ import annotations

import pytest

from cosbeauty.imaging import faces
from cosbeauty.imaging.detection import finish, landmarks
from cosbeauty.imaging.detection.finish import Landmarked, _finish
from cosbeauty.imaging.detection.whole import TURNS, _whole_pass
from tests.imaging import corpus


def _views(monkeypatch) -> list[tuple]:
    """Every candidate view :func:`.landmarks._face_from` is asked to landmark."""
    seen: list[tuple] = []
    real = landmarks._face_from

    def recording(det, rgb, *args, **kwargs):
        seen.append((det.box.tobytes(), det.eyes.tobytes(), float(det.score), det.coarse,
                     tuple((a.box.tobytes(), a.eyes.tobytes(), float(a.score)) for a in det.alts)))
        return real(det, rgb, *args, **kwargs)

    monkeypatch.setattr(finish, "_face_from", recording)
    return seen


def _fingerprint(found: list) -> list:
    return [(f.box, round(f.score, 6), f.landmarks.tobytes()) for f in found]


@pytest.mark.parametrize("name,degrees", [("hopper", 200), ("astronaut", 135)])
def test_turned_face_each_view_landmarked_once(monkeypatch, name, degrees):
    """Grace Hopper turned 200 degrees (bench/faces.py's case): the turned follow-up finished her
    candidates again and landmarked one of them twice (6 landmark calls, now 5)."""
    img = corpus.rotate(getattr(corpus, name)(), degrees)
    seen = _views(monkeypatch)
    found = faces.detect_faces(img)
    assert len(found) == 1
    assert len(seen) == len(set(seen))


def test_same_faces_reused_only_on_the_same_image(monkeypatch):
    a = corpus.rotate(corpus.hopper(), 200)
    dets = _whole_pass(a) + _whole_pass(a, turns=TURNS, edges=True)
    fresh = _finish(list(dets), a, 10, 20, a.shape[:2])
    done = Landmarked(a)
    first = _finish(list(dets), a, 10, 20, a.shape[:2], done)
    seen = _views(monkeypatch)
    again = _finish(list(dets), a, 10, 20, a.shape[:2], done)
    assert seen == []                                   # every candidate known: no landmark call
    assert _fingerprint(first) == _fingerprint(again) == _fingerprint(fresh)
    b = a.copy()                                        # the same pixels, another image object
    other = _finish(list(dets), b, 10, 20, b.shape[:2], done)
    assert len(seen) > 0 and _fingerprint(other) == _fingerprint(fresh)
    for key, (det, _face) in done.items():              # the id entries still hold their candidates
        assert id(det) == key

