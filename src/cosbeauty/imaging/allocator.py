"""glibc's malloc told to keep freed memory for reuse (round 21, speed).

The imaging code makes many short-lived numpy and OpenCV arrays of 0.1-30 MB. By default glibc
serves allocations above a (dynamic) mmap threshold with fresh ``mmap`` calls and returns freed
heap tops above ``M_TRIM_THRESHOLD`` to the kernel, so the next array of that size is made of
new pages: one minor page fault (a zeroed 4 KB page) per page touched, and an ``munmap`` (a TLB
shoot-down on every core running one of our threads) per free. The 1080p one-face retouch
(``retouch.face_delta``) took ~4,000-4,900 minor faults per call; with the thresholds below ~10-20.

:func:`keep_freed_memory` sets ``M_MMAP_THRESHOLD`` to :data:`MMAP_THRESHOLD` (arrays up to it are
taken from the heap and reused after they are freed; larger ones, e.g. a 12 MP float image, are
still mapped and returned at once) and ``M_TRIM_THRESHOLD`` to :data:`TRIM_THRESHOLD` (at most
that much freed memory is kept at a heap's top). Process-wide; a no-op (returns False) where the
C library has no ``mallopt`` (musl, macOS). Values are unchanged: only where memory comes from.
"""

from __future__ import annotations

import ctypes
import sys
import threading

M_TRIM_THRESHOLD = -1        # glibc's mallopt parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20    # bytes: glibc's largest accepted value on 64-bit (HEAP_MAX_SIZE / 2)
TRIM_THRESHOLD = 64 << 20    # bytes

_lock = threading.Lock()
_set = False


def keep_freed_memory() -> bool:
    """Set the two thresholds once per process; True when they are set (glibc)."""
    global _set
    with _lock:
        if _set:
            return True
        if not sys.platform.startswith("linux"):
            return False
        try:
            mallopt = ctypes.CDLL(None).mallopt
        except (OSError, AttributeError):
            return False
        mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        mallopt.restype = ctypes.c_int
        _set = (mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
                and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1)
        return _set
