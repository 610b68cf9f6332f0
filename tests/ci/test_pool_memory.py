"""The CI worker pool's idle point (ci/pool.py, issue #11): when every pool of the process has
been idle for IDLE_TRIM_S, the face models' idle LiteRT interpreters are released
(faces.release_idle) before malloc_trim, once per idle spell; not while another pool still works."""

from __future__ import annotations

import threading
import time

import pytest

from cosbeauty.ci import pool as pool_mod
from cosbeauty.imaging import faces


@pytest.fixture
def released(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    calls: list[float] = []
    monkeypatch.setattr(pool_mod, "IDLE_TRIM_S", 0.2)
    monkeypatch.setattr(faces, "release_idle", lambda: calls.append(time.monotonic()))
    return calls


def test_idle_pool_releases_face_models_once(released: list[float]):
    pool = pool_mod.WorkerPool(2, 2)
    try:
        pool.submit(lambda: None).result(5)
        time.sleep(1.0)
        assert len(released) == 1
        pool.submit(lambda: None).result(5)       # a new idle spell: released again
        time.sleep(1.0)
        assert len(released) == 2
    finally:
        pool.close()


def test_no_release_while_another_pool_works(released: list[float]):
    a, b = pool_mod.WorkerPool(1, 1), pool_mod.WorkerPool(1, 1, name="other")
    gate = threading.Event()
    try:
        a.submit(lambda: None).result(5)
        busy = b.submit(lambda: gate.wait(10))
        time.sleep(1.0)
        assert released == []
        gate.set()
        busy.result(5)
        time.sleep(1.0)
        assert len(released) == 1
    finally:
        gate.set()
        a.close()
        b.close()
