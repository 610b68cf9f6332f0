"""A bounded pool of processing threads. OpenCV and MediaPipe release the GIL, and the imaging
code keeps one detector per thread, so threads give real parallelism. Admission is counted on
the event loop: at most ``workers + queue`` jobs are running or waiting; the next one gets
503 SlowDown at once instead of piling up.

A job goes to the thread that went idle *last* (a stack, not ThreadPoolExecutor's queue, whose
idle threads take turns): at concurrency 1 every call then runs on the same thread, with that
thread's models and buffers still warm in the CPU caches. Taking turns between two threads, each
with its own face models, made a 1080p beauty call 29 % slower in wall time for 2 % more CPU
(in-process, 6 interleaved rounds, load 6).
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import os
import queue
import sys
import threading
import time
import weakref
from collections.abc import Iterator
from typing import Any, Callable

from cosbeauty.api.errors import CosError

_Job = tuple[concurrent.futures.Future, Callable[..., Any], tuple]

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8     # glibc mallopt() parameters
MMAP_THRESHOLD = 32 << 20       # glibc's ceiling for it (DEFAULT_MMAP_THRESHOLD_MAX on 64-bit)
TRIM_THRESHOLD = 64 << 20
IDLE_TRIM_S = 5.0               # a pool idle this long gives its freed buffers back (malloc_trim)
MODELS_IDLE_S = 30.0            # every pool idle this long: the face models' idle interpreters go too
MAPPED_THRESHOLD = 64 << 10    # mmap threshold while a model's buffers are allocated (big_allocations_mapped)
_malloc_tuned: list[bool] = []
_malloc_trim: list[Callable[[int], int]] = []
_mallopt: list[Callable[[int, int], int]] = []
_mapped_lock = threading.Lock()
_mapped_depth = [0]
_pools: "weakref.WeakSet[WorkerPool]" = weakref.WeakSet()


_one_arena: list[int] = []


def one_malloc_arena() -> bool:
    """Ask glibc for one malloc arena (mallopt M_ARENA_MAX = 1), for the server, before it starts
    any thread: threads made after it share the main arena instead of getting arenas of their own
    (tests/ci/test_one_arena.py; the pool's cap in :func:`keep_freed_image_buffers` then keeps 1).
    In the running server two thread heaps (~120 MiB) still appear by warm-up, from a path not
    found in the time available (no thread exists before the call); ``MALLOC_ARENA_MAX=1`` in the
    environment at start leaves none.

    Measured with bench/memory.py (mixed-size AIFaceBeauty calls, 2 workers, load 1-3.5): with
    one arena (``MALLOC_ARENA_MAX=1`` at start) mean RSS under load 587 -> 590 and 586 -> 589 MiB
    after 100 -> 1000 calls, against 704 -> 686 and 697 -> 700 with the ``max(2, workers)`` cap
    alone (runs alternating; other runs of that cap: +27 and +40 MiB, the arenas' footprint rising
    in 10-28 MiB steps as the two workers' big buffers overlapped in new ways); server CPU per call
    131.5/133.2 against 136.2/131.7 ms (no measurable cost of sharing the lock: image buffers are
    few and big, Python's small objects do not use malloc). With this call in ``serve``: 629 -> 630
    MiB (bench/run_all.sh). Not for the folder CLI, whose threads each run a whole file. False
    where there is no glibc; the ``COSBEAUTY_MALLOC_ARENAS`` environment variable (experiments)
    turns it off."""
    if os.environ.get("COSBEAUTY_MALLOC_ARENAS"):
        return False
    try:
        import ctypes
        ok = bool(ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, 1))
    except (OSError, AttributeError):
        return False
    if ok and not _one_arena:
        _one_arena.append(1)
    return ok


def keep_freed_image_buffers(threads: int | None = None) -> bool:
    """Make glibc keep freed image-sized buffers (up to 32 MiB) for the next call.

    By default a freed buffer above malloc's mmap threshold goes back to the kernel at once (and a
    worker thread's heap is trimmed), so the next call's buffer of the same size is faulted in
    again, page by page, zeroed: 1,300-3,200 minor page faults and about 7 ms of CPU per 1080p
    beauty call in the server, while the in-process engine had ~5 (its threshold had grown).
    A fixed 32 MiB mmap threshold and a 64 MiB trim threshold took the server to 5-9 faults and
    55 ms of CPU per call from 62 (engine: 52).

    The arenas are capped at ``max(2, threads)`` (at 1 when :func:`one_malloc_arena` ran first, as
    the server does): every thread that allocates (the workers, and
    MediaPipe's and OpenCV's own threads: 52 in the server) otherwise gets an arena of its own, up
    to 8 per core, each keeping freed buffers up to the trim threshold and fragmenting on its own;
    the server's RSS grew with the arenas in use (bench/memory.py, mixed sizes, two servers side by
    side: 893 -> 926 MiB after 100 -> 400 calls uncapped, 515 -> 525 after 100 -> 1000 capped; CPU
    per call 168/165 vs 169/167 ms, 1080p alone 51 ms and 10-11 faults per call either way). glibc
    reads the cap when it would make a 9th arena, so it binds if set before that (the server has
    3-7 heaps when the pool is built). Process-wide, once; False where there is no glibc."""
    if _malloc_tuned:
        return _malloc_tuned[0]
    ok = False
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        arenas = _one_arena[0] if _one_arena else max(2, threads or os.cpu_count() or 2)
        if os.environ.get("COSBEAUTY_MALLOC_ARENAS"):       # experiments only (bench/memory.py)
            arenas = int(os.environ["COSBEAUTY_MALLOC_ARENAS"])
        ok = bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
        if arenas > 0:
            ok = bool(libc.mallopt(M_ARENA_MAX, arenas)) and ok
        trim = libc.malloc_trim
        trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
        _malloc_trim.append(trim)
        if ok:
            _mallopt.append(libc.mallopt)
    except (OSError, AttributeError):
        pass
    _malloc_tuned.append(ok)
    return ok


@contextlib.contextmanager
def big_allocations_mapped() -> Iterator[None]:
    """Inside it, allocations of >= 64 KiB get mappings of their own (glibc's mmap threshold
    lowered from keep_freed_image_buffers' 32 MiB, process-wide, restored on the way out): for
    long-lived buffers built once, such as a LiteRT interpreter's (~10-35 MB). Freed, they go
    straight back to the kernel; in a malloc arena they would stay (trim threshold 64 MiB, and
    holes between image buffers that no trim reaches): the server grew ~50 MB for every few
    interpreters dropped and built again (tests/imaging/test_proposer_memory.py). Other threads'
    allocations in the meantime are mapped too (a few extra page faults, nothing else). Nests
    and overlaps across threads; a no-op where keep_freed_image_buffers did not apply."""
    if not _mallopt:
        yield
        return
    with _mapped_lock:
        _mapped_depth[0] += 1
        if _mapped_depth[0] == 1:
            _mallopt[0](M_MMAP_THRESHOLD, MAPPED_THRESHOLD)
    try:
        yield
    finally:
        with _mapped_lock:
            _mapped_depth[0] -= 1
            if _mapped_depth[0] == 0:
                _mallopt[0](M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def _release_models() -> None:
    """The face models' idle interpreters go (imaging/faces.release_idle), if faces was loaded."""
    faces = sys.modules.get("cosbeauty.imaging.faces")
    if faces is not None:
        try:
            faces.release_idle()
        except Exception:       # never the worker thread's end
            pass


def _idle_since(pool: "WorkerPool") -> float | None:
    """When ``pool`` last started or finished a job (time.monotonic), None while it works."""
    with pool._lock:
        if pool._closed:
            return 0.0
        return None if pool._backlog or len(pool._idle) < len(pool._threads) else pool._active_at


class _Worker:
    def __init__(self, pool: "WorkerPool", name: str) -> None:
        self.jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=pool._loop, args=(self,), name=name, daemon=True)


class WorkerPool:
    def __init__(self, workers: int, queue: int, name: str = "cosbeauty-ci",
                 busy: str = "Image processing is saturated; please retry later.") -> None:
        keep_freed_image_buffers(workers)
        self.workers = max(1, workers)
        self.busy = busy
        self.capacity = self.workers + max(0, queue)
        self._admitted = 0
        self._lock = threading.Lock()
        self._backlog: collections.deque[_Job] = collections.deque()
        self._closed = False
        self._trimmed = False
        self._active_at = time.monotonic()
        self._threads = [_Worker(self, f"{name}_{i}") for i in range(self.workers)]
        self._idle = list(reversed(self._threads))      # the last one is taken first: thread _0
        for worker in self._threads:
            worker.thread.start()
        _pools.add(self)

    @property
    def admitted(self) -> int:
        """Jobs running or queued right now."""
        return self._admitted

    def submit(self, fn: Callable[..., Any], *args: Any) -> concurrent.futures.Future:
        """Run ``fn(*args)`` on the most recently idle thread, or queue it when all are busy."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        job = (future, fn, args)
        with self._lock:
            if self._closed:
                raise RuntimeError("the worker pool is closed")
            if not self._idle:
                self._backlog.append(job)
                return future
            worker = self._idle.pop()
            self._trimmed = False
            self._active_at = time.monotonic()
        worker.jobs.put(job)
        return future

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` on a worker; raise SlowDown when the pool and its queue are full."""
        if self._admitted >= self.capacity:
            raise CosError("SlowDown", self.busy)
        self._admitted += 1
        future = self.submit(fn, *args)
        loop = asyncio.get_running_loop()
        # a slot is free only when the thread is done, even if the client went away earlier
        future.add_done_callback(lambda _: loop.call_soon_threadsafe(self._release))
        return await asyncio.wrap_future(future)

    def _release(self) -> None:
        self._admitted -= 1

    def _loop(self, worker: _Worker) -> None:
        job = worker.jobs.get()
        while job is not None:
            future, fn, args = job
            outcome: tuple[bool, Any] | None = None
            if future.set_running_or_notify_cancel():
                try:
                    outcome = (True, fn(*args))
                except BaseException as exc:    # the caller gets it
                    outcome = (False, exc)
            # back on the idle stack before the caller hears of the result, so that its next job
            # finds this (warm) thread free
            with self._lock:
                following = self._backlog.popleft() if self._backlog and not self._closed else None
                if following is None and worker.jobs.empty():   # else on_every_thread gave it a job
                    self._idle.append(worker)
                self._active_at = time.monotonic()
            if outcome is not None:
                if outcome[0]:
                    future.set_result(outcome[1])
                else:
                    future.set_exception(outcome[1])
            del job, future, fn, args, outcome      # hold no reference to the last job's data while idle
            job = following if following is not None else self._next(worker)

    def _next(self, worker: _Worker) -> _Job | None:
        """The worker's next job; the first thread to find the whole pool idle for IDLE_TRIM_S
        hands the freed memory of every malloc arena back to the kernel, once per idle spell (under
        load nothing is trimmed, so back-to-back calls keep reusing their buffers). If every pool
        of the process then stays idle until MODELS_IDLE_S, that thread also drops the face
        models' idle interpreters (faces.release_idle: ~100 MB after 1080p calls) and trims
        again; not sooner, as the next call rebuilds them (~60 ms more for a 1080p call)."""
        try:
            return worker.jobs.get(timeout=IDLE_TRIM_S)
        except queue.Empty:
            pass
        with self._lock:
            trim = (not self._trimmed and not self._closed and not self._backlog
                    and len(self._idle) == len(self._threads) and bool(_malloc_trim))
            if trim:
                self._trimmed = True
        if not trim:
            return worker.jobs.get()
        _malloc_trim[0](0)
        while True:
            since = [_idle_since(p) for p in list(_pools)]
            if any(t is None for t in since):
                return worker.jobs.get()    # another pool works: the thread that trims after it decides
            wait = max(t for t in since if t is not None) + MODELS_IDLE_S - time.monotonic()
            if wait <= 0:
                break
            try:
                return worker.jobs.get(timeout=wait)
            except queue.Empty:
                pass
        _release_models()
        _malloc_trim[0](0)
        return worker.jobs.get()

    async def on_every_thread(self, fn: Callable[[], None], timeout: float = 120.0) -> None:
        """Run ``fn`` once on each worker thread (e.g. to build its detector before traffic); no
        thread takes another job until every thread is done with ``fn``."""
        barrier = threading.Barrier(len(self._threads), timeout=timeout)

        def job() -> None:
            fn()
            barrier.wait()

        with self._lock:
            for worker in self._threads:     # taken out of the idle stack: each runs fn first
                if worker in self._idle:
                    self._idle.remove(worker)
        futures = []
        for worker in self._threads:
            future: concurrent.futures.Future = concurrent.futures.Future()
            worker.jobs.put((future, job, ()))
            futures.append(asyncio.wrap_future(future))
        await asyncio.wait_for(asyncio.gather(*futures), timeout)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            backlog, self._backlog = list(self._backlog), collections.deque()
        for future, _, _ in backlog:
            future.cancel()
        for worker in self._threads:
            worker.jobs.put(None)
