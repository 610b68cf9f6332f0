"""Round 21: glibc's malloc keeps freed memory (cosbeauty.imaging.allocator), so that the
retouch's many short-lived arrays are not made of fresh pages every call (minor page faults)."""

from __future__ import annotations

import subprocess
import sys

import pytest

_PROBE = """
import resource, sys
import numpy as np
if sys.argv[1] == "on":
    from cosbeauty.imaging.allocator import keep_freed_memory
    assert keep_freed_memory() and keep_freed_memory()
keep = []
for _ in range(5):
    keep.append(np.ones((401, 251, 3), np.float32))
keep.clear()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(100):     # a few live at once, as in a retouch step, then all freed
    live = [np.ones((401, 251, 3), np.float32) for _ in range(4)]    # 1.2 MB: the 1080p face's work arrays
    live += [np.ones((201, 126), np.float64) for _ in range(4)]      # 0.2 MB: its half-scale masks
    del live
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_freed_memory_reused() -> None:
    assert _faults("off") > 10000         # fresh pages: ~300 per 1.2 MB array
    assert _faults("on") < 100


def test_idempotent_and_values_unchanged() -> None:
    import numpy as np

    from cosbeauty.imaging.allocator import keep_freed_memory

    first = keep_freed_memory()
    assert keep_freed_memory() == first
    assert float(np.ones((401, 251, 3), np.float32).sum()) == 401 * 251 * 3
