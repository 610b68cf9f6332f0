"""The CI worker pool (ci/pool.py): at concurrency 1 every job runs on the same thread (the most
recently idle one, whose models are warm) instead of taking turns; jobs beyond the threads queue
and all complete; admission past workers + queue is SlowDown; on_every_thread reaches each thread."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time

import pytest

from cosbeauty.api.errors import CosError
from cosbeauty.ci.pool import WorkerPool


def test_sequential_jobs_stay_on_one_warm_thread():
    async def main() -> list[str]:
        pool = WorkerPool(2, 4)
        try:
            await pool.on_every_thread(lambda: None)       # as the service's warm-up: both threads started
            return [await pool.run(lambda: threading.current_thread().name) for _ in range(12)]
        finally:
            pool.close()

    names = asyncio.run(main())
    assert len(set(names)) == 1, names


def test_queued_jobs_all_run_and_admission_is_bounded():
    async def main() -> None:
        pool = WorkerPool(2, 2)
        gate = threading.Event()
        seen: list[str] = []

        def job(i: int) -> int:
            gate.wait(10)
            seen.append(threading.current_thread().name)
            return i

        tasks = [asyncio.ensure_future(pool.run(job, i)) for i in range(4)]
        await asyncio.sleep(0)
        with pytest.raises(CosError) as err:        # 2 running + 2 queued: the fifth is refused
            await pool.run(job, 99)
        assert err.value.code == "SlowDown"
        gate.set()
        assert await asyncio.gather(*tasks) == [0, 1, 2, 3]
        await asyncio.sleep(0.05)
        assert pool.admitted == 0 and len(set(seen)) == 2
        pool.close()

    asyncio.run(main())


def test_on_every_thread_runs_once_per_thread_even_when_one_is_busy():
    async def main() -> None:
        pool = WorkerPool(3, 0)
        busy = asyncio.ensure_future(pool.run(time.sleep, 0.2))
        await asyncio.sleep(0.05)
        names: list[str] = []
        await pool.on_every_thread(lambda: names.append(threading.current_thread().name))
        await busy
        assert sorted(names) == sorted(w.thread.name for w in pool._threads)
        results = await asyncio.gather(*(pool.run(lambda: 1) for _ in range(3)))    # every thread usable after
        assert results == [1, 1, 1] and len(pool._idle) == 3
        pool.close()

    asyncio.run(main())


FAULTS = """
import resource, sys, threading
import numpy as np
if sys.argv[1] == "tuned":
    from cosbeauty.ci.pool import WorkerPool
    WorkerPool(1, 0).close()            # a pool makes glibc keep freed image buffers
out = []
def call():                             # the shape of a 1080p beauty call: several buffers live at once
    a = np.ones((1080, 1920, 3), np.float32)
    b = np.ones((1080, 1920), np.float32)
    c = np.ones((540, 960, 3), np.float32)
    d = [np.ones((1080, 1920), np.uint8) for _ in range(4)]
    return (np.ones((1080, 1920, 3), np.float32) * a).sum() + b.sum() + c.sum() + len(d)
def work():
    for _ in range(3):                  # warm: thresholds settle, the heaps grow
        call()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        call()
    out.append((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 5)
t = threading.Thread(target=work); t.start(); t.join()
print(int(out[0]))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc")
def test_image_sized_buffers_are_reused_not_faulted_in_again():
    """A worker thread's image buffers freed and allocated again: hundreds of page faults per call
    by default (the memory went back to the kernel and is faulted in again, zeroed), none once the
    pool has tuned malloc."""
    def faults(mode: str) -> int:
        out = subprocess.run([sys.executable, "-c", FAULTS, mode], capture_output=True, text=True, check=True)
        return int(out.stdout.strip())

    default, tuned = faults("default"), faults("tuned")
    assert default > 300, default
    assert tuned < 30, tuned


ARENAS = """
import ctypes, os, sys, threading
import numpy as np
if sys.argv[1] == "tuned":
    from cosbeauty.ci.pool import WorkerPool
    WorkerPool(2, 0).close()            # a pool caps glibc's malloc arenas at its thread count
start = threading.Barrier(12)
def work():                             # each thread holds image-sized buffers at the same time
    start.wait()
    bufs = [np.ones((540, 960), np.uint8) for _ in range(4)]
    start.wait()
    del bufs
threads = [threading.Thread(target=work) for _ in range(12)]
for t in threads: t.start()
for t in threads: t.join()
sys.stderr.flush()
ctypes.CDLL("libc.so.6").malloc_stats()   # one "Arena N:" block per arena, on stderr
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc")
def test_malloc_arenas_are_capped():
    """Every thread that allocates (workers, MediaPipe's and OpenCV's own threads) gets a glibc
    arena of its own, up to 8 per core, and each arena keeps freed image buffers up to the trim
    threshold: the server's RSS grew with the number of arenas in use. The pool caps them."""
    def arenas(mode: str) -> int:
        out = subprocess.run([sys.executable, "-c", ARENAS, mode], capture_output=True, text=True, check=True)
        return out.stderr.count("Arena ")

    default, tuned = arenas("default"), arenas("tuned")
    assert default > 2, default
    assert tuned <= 2, tuned


IDLE_TRIM = """
import time
import numpy as np
from cosbeauty.ci import pool as pool_mod
pool_mod.IDLE_TRIM_S = 0.3
pool = pool_mod.WorkerPool(1, 0)
keep = []
def job():                  # 48 MiB of 1 MiB buffers freed below a small live one: held by malloc
    bufs = [np.ones(1 << 20, np.uint8) for _ in range(48)]
    keep.append(np.ones(1 << 10, np.uint8))
    del bufs
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 >> 20
pool.submit(job).result()
busy = rss()
time.sleep(1.5)
print(busy - rss())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc")
def test_idle_pool_gives_freed_buffers_back():
    """Freed buffers stay with malloc while calls keep coming; once the pool has been idle for
    IDLE_TRIM_S they go back to the kernel (malloc_trim)."""
    out = subprocess.run([sys.executable, "-c", IDLE_TRIM], capture_output=True, text=True, check=True)
    assert int(out.stdout.strip()) >= 32, out.stdout
