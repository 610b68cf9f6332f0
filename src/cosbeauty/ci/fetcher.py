"""detect-url downloads on their own bounded threads, with a hard deadline.

A fetch is network waiting, possibly against a hostile server, so it must neither borrow the
threads that serve storage requests (anyio's shared default limiter: 40 stuck fetches used to
make an unrelated upload wait for them) nor outlive its deadline:

* ``workers`` threads of its own; up to ``queue`` more fetches wait for one, beyond that 503
  SlowDown at once;
* the deadline (``FetchPolicy.timeout``) starts when the request asks, so time spent waiting for a
  thread counts; every socket operation is bounded by it, and if the thread is still busy when it
  passes (TLS handshake, DNS), the client is answered anyway and the socket is shut down.
"""

from __future__ import annotations

import asyncio
import time

from cosbeauty.ci.fetch import Abort, Failed, FetchPolicy, fetch
from cosbeauty.ci.pool import WorkerPool

GRACE = 0.5     # the thread's own deadline normally fires first; this is the backstop


class Fetcher:
    def __init__(self, policy: FetchPolicy, workers: int, queue: int) -> None:
        self.policy = policy
        self.pool = WorkerPool(workers, queue, name="cosbeauty-fetch",
                               busy="Too many detect-url downloads in progress; please retry later.")

    async def fetch(self, url: str) -> bytes:
        """The body at ``url``; raises FetchError, or CosError SlowDown when saturated."""
        deadline = time.monotonic() + self.policy.timeout
        abort = Abort()
        job = asyncio.ensure_future(self.pool.run(fetch, url, self.policy, deadline, abort))
        try:
            return await asyncio.wait_for(asyncio.shield(job), self.policy.timeout + GRACE)
        except (asyncio.TimeoutError, asyncio.CancelledError) as exc:
            abort.fire()
            job.add_done_callback(_consume)
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise Failed("detect-url fetch timed out.") from None

    def close(self) -> None:
        self.pool.close()


def _consume(job: asyncio.Future) -> None:
    if not job.cancelled():
        job.exception()
