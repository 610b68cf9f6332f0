"""The CI worker pool's idle points (ci/pool.py, issue #11): after IDLE_TRIM_S idle, malloc_trim;
once every pool of the process has been idle for MODELS_IDLE_S, the face models' idle LiteRT
interpreters are released too (faces.release_idle), once per idle spell: not sooner (the next call
rebuilds them), and not while another pool still works."""

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
    monkeypatch.setattr(pool_mod, "MODELS_IDLE_S", 0.5)
    monkeypatch.setattr(faces, "release_idle", lambda: calls.append(time.monotonic()))
    return calls


def test_idle_pool_releases_face_models_once(released: list[float]):
    pool = pool_mod.WorkerPool(2, 2)
    try:
        pool.submit(lambda: None).result(5)
        done = time.monotonic()
        time.sleep(1.5)
        assert len(released) == 1 and released[0] - done >= 0.45
        pool.submit(lambda: None).result(5)       # a new idle spell: released again
        time.sleep(1.5)
        assert len(released) == 2
    finally:
        pool.close()


def test_not_released_before_models_idle_time(released: list[float], monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(pool_mod, "MODELS_IDLE_S", 2.0)
    pool = pool_mod.WorkerPool(2, 2)
    try:
        for _ in range(4):                          # calls 0.4 s apart: trimmed, models kept
            pool.submit(lambda: None).result(5)
            time.sleep(0.4)
        assert released == []
        time.sleep(2.5)
        assert len(released) == 1
    finally:
        pool.close()


def test_no_release_while_another_pool_works(released: list[float]):
    a, b = pool_mod.WorkerPool(1, 1), pool_mod.WorkerPool(1, 1, name="other")
    gate = threading.Event()
    try:
        a.submit(lambda: None).result(5)
        busy = b.submit(lambda: gate.wait(10))
        time.sleep(1.5)
        assert released == []
        gate.set()
        busy.result(5)
        time.sleep(1.5)
        assert len(released) == 1
    finally:
        gate.set()
        a.close()
        b.close()
