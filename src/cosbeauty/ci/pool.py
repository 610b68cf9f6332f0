"""A bounded pool of processing threads. OpenCV and MediaPipe release the GIL, and the imaging
code keeps one detector per thread, so threads give real parallelism. Admission is counted on
the event loop: at most ``workers + queue`` jobs are running or waiting; the next one gets
503 SlowDown at once instead of piling up."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import Any, Callable

from cosbeauty.api.errors import CosError


class WorkerPool:
    def __init__(self, workers: int, queue: int, name: str = "cosbeauty-ci",
                 busy: str = "Image processing is saturated; please retry later.") -> None:
        self.workers = max(1, workers)
        self.busy = busy
        self.capacity = self.workers + max(0, queue)
        self._executor = concurrent.futures.ThreadPoolExecutor(self.workers, thread_name_prefix=name)
        self._admitted = 0

    @property
    def admitted(self) -> int:
        """Jobs running or queued right now."""
        return self._admitted

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` on a worker; raise SlowDown when the pool and its queue are full."""
        if self._admitted >= self.capacity:
            raise CosError("SlowDown", self.busy)
        self._admitted += 1
        future = self._executor.submit(fn, *args)
        loop = asyncio.get_running_loop()
        # a slot is free only when the thread is done, even if the client went away earlier
        future.add_done_callback(lambda _: loop.call_soon_threadsafe(self._release))
        return await asyncio.wrap_future(future)

    def _release(self) -> None:
        self._admitted -= 1

    async def on_every_thread(self, fn: Callable[[], None], timeout: float = 120.0) -> None:
        """Run ``fn`` once on each worker thread (e.g. to build its detector before traffic)."""
        barrier = threading.Barrier(self.workers, timeout=timeout)

        def job() -> None:
            fn()
            barrier.wait()   # hold this thread so the next job lands on a different one

        futures = [self._executor.submit(job) for _ in range(self.workers)]
        await asyncio.gather(*(asyncio.wrap_future(f) for f in futures))

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
