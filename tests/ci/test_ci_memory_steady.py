"""Memory under repeated mixed-size AIFaceBeauty calls on the CI worker pool (issue #11 point 6):
no leak. With the pool warmed as the server warms it and one round of the mix run, what malloc
holds in use (mallinfo2: bytes in use in its arenas, bytes in mmapped blocks) with the pool idle
and the idle LiteRT interpreters dropped (as the server drops them after an idle spell) stays flat
over 20 more rounds (measured: +0.7-0.8 MiB over 400 calls, from ~274 MiB), unless a thread's
MediaPipe graph is built late; those are counted (every build goes through faces.quietly) and
allowed for. Measured with the idle interpreters in, the figure depended on thread timing: a tile
shape wanted by more threads at once (2 workers + the imaging helpers) than the pool had idle gets
one more interpreter, 4-15 MiB in the arenas (a fresh-clone CI run failed on +14.3 MiB with one
such build). The RSS under load also moves by 10-25 MiB within and between server runs (free
pages of malloc's arenas touched again: not in use, bench/memory.py); not checked here."""

from __future__ import annotations

import asyncio
import ctypes
import sys
import threading

import cv2
import pytest

from cosbeauty.ci import pool as pool_mod

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallinfo2")


class _MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                "fsmblks", "uordblks", "fordblks", "keepcost")]


def _in_use() -> tuple[float, float]:
    """(bytes in use in malloc's arenas, bytes in mmapped blocks), MiB."""
    libc = ctypes.CDLL("libc.so.6")
    try:
        fn = libc.mallinfo2
    except AttributeError:
        pytest.skip("no mallinfo2 (glibc < 2.33)")
    fn.restype = _MallInfo2
    m = fn()
    return m.uordblks / 2**20, m.hblkhd / 2**20


def _idle_in_use() -> tuple[float, float]:
    """:func:`_in_use` once the idle interpreters are dropped, as the server drops them after an idle
    spell (ci.pool: faces.release_idle). How many interpreters a round ends with idle depends on
    thread timing (a tile shape wanted by more threads at once than were idle gets one more, ~4-15 MiB
    in the arenas): a measure with them in depended on that timing, not on a leak."""
    from cosbeauty.imaging import faces

    faces.release_idle()
    return _in_use()


def test_mixed_beauty_calls_hold_no_more_memory(monkeypatch: pytest.MonkeyPatch):
    from cosbeauty.ci.service import _warm_thread
    from cosbeauty.imaging import faces, proposer
    from cosbeauty.imaging.detection import models
    from cosbeauty.imaging.limits import Limits
    from cosbeauty.imaging.registry import get_processor
    from tests.imaging.scenes import one_face, six_faces

    jpg = [cv2.IMWRITE_JPEG_QUALITY, 92]
    images = [cv2.imencode(".jpg", img[..., ::-1], jpg)[1].tobytes() for img in (
        one_face(512, 512), one_face(1920, 1080), six_faces(1920, 1080), one_face(2400, 1800))]
    images.append(cv2.imencode(".png", one_face(1024, 768)[..., ::-1])[1].tobytes())
    beauty, limits = get_processor("AIFaceBeauty"), Limits()
    late: list[str] = []
    real = models.quietly

    def counted(build):             # a thread's MediaPipe graph built late (an interpreter is not one:
        mine.built = 0              # _idle_in_use drops those before it measures)
        got = real(build)
        if not mine.built:
            late.append(threading.current_thread().name)
        return got

    mine = threading.local()
    model_init = proposer._Model.__init__

    def counted_model(self, *args, **kwargs):
        mine.built = 1
        model_init(self, *args, **kwargs)

    pool = pool_mod.WorkerPool(2, 8, name="memtest")
    try:
        asyncio.run(pool.on_every_thread(_warm_thread))       # as the server does at start

        def rounds(n: int) -> None:
            for _ in range(n):
                futures = [pool.submit(beauty, data, {}, limits) for data in images]
                for f in futures:
                    f.result(120)

        rounds(2)
        monkeypatch.setattr(models, "quietly", counted)      # the face models read it there
        monkeypatch.setattr(faces, "quietly", counted)       # segmentation.py imports it from faces
        monkeypatch.setattr(proposer._Model, "__init__", counted_model)
        before = _idle_in_use()
        rounds(20)
        after = _idle_in_use()
    finally:
        pool.close()
    assert after[0] - before[0] < 2 + 12 * len(late), (before, after, late)
    assert after[1] - before[1] < 2 + 36 * len(late), (before, after, late)
    assert len(late) <= 3, late
