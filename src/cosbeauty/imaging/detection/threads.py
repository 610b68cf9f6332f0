"""The helper-thread pool of the imaging code: :func:`pmap` spreads tiles and faces over the
calling thread plus one helper (:func:`executor`); :func:`no_helpers` keeps a thread's work on
itself; :func:`release_idle` gives back the idle model interpreters.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar


_local = threading.local()
_T = TypeVar("_T")
_R = TypeVar("_R")
_HELPERS = max(1, min(2, os.cpu_count() or 1))   # helper threads (2 cores: caller + 1 helper)
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


class _Deferred(Future):
    """A task of the inline executor: never started by anyone else, so ``cancel()`` succeeds
    (every caller then runs the work itself); ``result()`` runs it on the calling thread."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__()
        self._fn = fn

    def result(self, timeout: float | None = None) -> Any:
        if self.set_running_or_notify_cancel() if not self.done() else False:
            try:
                self.set_result(self._fn())
            except BaseException as exc:  # noqa: BLE001 - re-raised by Future.result
                self.set_exception(exc)
        return super().result(timeout)


class _Inline:
    def submit(self, fn: Callable[..., _R], *args: Any, **kwargs: Any) -> "Future[_R]":
        return _Deferred(lambda: fn(*args, **kwargs))


_INLINE = _Inline()


def no_helpers() -> None:
    """From now on this thread's imaging work runs on this thread alone: :func:`executor` hands
    it an executor that never starts a task (callers then do the work themselves, the same
    computation in the same order: output bytes unchanged). For callers that already run one
    file per core (the beautify CLI's worker threads)."""
    _local.inline = True


def release_idle() -> None:
    """Give back what the face models hold between calls and can rebuild: the proposer's idle
    LiteRT interpreters (:func:`.proposer.release_idle`; ~10-35 MB each). Called by the CI worker
    pool once the process has been idle for a few seconds (ci/pool.py); a no-op before the
    proposer was first used."""
    proposer = sys.modules.get(__package__.rpartition(".")[0] + ".proposer")   # imaging.proposer
    if proposer is not None:
        proposer.release_idle()


def executor() -> ThreadPoolExecutor:
    """The shared helper pool (threads named ``cosbeauty-imaging``), created on first use; in a
    thread that called :func:`no_helpers`, an inline executor instead."""
    global _executor
    if getattr(_local, "inline", False):
        return _INLINE  # type: ignore[return-value]
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(_HELPERS, thread_name_prefix="cosbeauty-imaging")
        return _executor


def pmap(fn: Callable[[_T], _R], items: Sequence[_T]) -> list[_R]:
    """``[fn(x) for x in items]`` on the calling thread plus one helper thread, order kept.

    Work is pulled item by item, so nothing waits for a busy helper: if the pool is saturated
    (nested use, concurrent requests) the caller simply does all the items itself. The first
    exception is re-raised after all started items finished.
    """
    n = len(items)
    if n < 2 or (os.cpu_count() or 1) < 2:
        return [fn(x) for x in items]
    results: list[Any] = [None] * n
    errors: list[BaseException] = []
    lock = threading.Lock()
    next_index = [0]

    def run() -> None:
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= n or errors:
                return
            try:
                results[i] = fn(items[i])
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
                errors.append(exc)

    helper = executor().submit(run)
    run()
    if not helper.cancel():          # started: it finishes the item it took
        helper.result()
    if errors:
        raise errors[0]
    return results
