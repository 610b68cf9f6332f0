"""The proposer's memory (imaging/proposer.py, issue #11): an interpreter's buffers (~35 MB for a
448 x 384 tile) must go back to the kernel when the interpreter goes, even in a process whose
malloc keeps freed buffers for the next call (ci/pool.keep_freed_image_buffers: 32 MiB mmap
threshold, 64 MiB trim threshold): else every evicted interpreter leaves its pages in a malloc
arena and the server's RSS grows with the number of tile shapes it has seen; and
:func:`proposer.release_idle` drops the idle interpreters (the CI pool calls it when idle)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

from cosbeauty.imaging import faces, proposer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

_CHURN = r"""
import gc, os, sys
import numpy as np
from cosbeauty.ci.pool import keep_freed_image_buffers
assert keep_freed_image_buffers(2)
from cosbeauty.imaging import proposer

def rss():
    with open(f"/proc/{os.getpid()}/status") as f:
        return next(int(l.split()[1]) // 1024 for l in f if l.startswith("VmRSS"))

tile = np.zeros((384, 448, 3), np.uint8)
proposer.detect(tile, 0.5)                  # LiteRT loaded, one interpreter
proposer.release_idle()
gc.collect()
before = rss()
for _ in range(3):                          # interpreters built and dropped (evicted) in turn
    nets = [proposer._borrow(384, 448, "short", None) for _ in range(3)]
    for net in nets:
        net.it.invoke()
    del nets, net
    gc.collect()
print(rss() - before)
"""


def test_dropped_interpreters_give_their_memory_back():
    out = subprocess.run([sys.executable, "-c", _CHURN], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": os.path.join(ROOT, "src")}, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    grown = int(out.stdout.split()[-1])
    assert grown < 20, f"{grown} MB still held after dropping 9 interpreters of ~35 MB"


def test_release_idle_drops_idle_interpreters_and_detection_is_unchanged():
    tile = np.full((256, 256, 3), 128, np.uint8)
    first = proposer.detect(tile, 0.1)
    assert proposer.idle_count() > 0
    proposer.release_idle()
    assert proposer.idle_count() == 0
    faces.release_idle()                     # the faces-level entry point the CI pool calls
    again = proposer.detect(tile, 0.1)       # a new interpreter: same result
    assert again.tobytes() == first.tobytes()
