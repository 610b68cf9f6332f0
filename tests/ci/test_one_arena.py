"""The server makes every thread allocate from glibc's main arena (ci.pool.one_malloc_arena,
called by ``cosbeauty serve`` before it starts a thread): mean RSS under mixed-size beauty calls
stays flat from 100 to 1000 calls and ~100 MiB lower than with one arena per worker
(bench/memory.py). Checked in a fresh interpreter, as the server runs it: threads allocating
image-sized buffers after the call share one arena; without it they get arenas of their own."""

from __future__ import annotations

import subprocess
import sys

import pytest

SCRIPT = r"""
import ctypes, os, sys, tempfile, threading
from cosbeauty.ci import pool
if sys.argv[1] == "one":
    assert pool.one_malloc_arena()
assert pool.keep_freed_image_buffers(4)
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
go = threading.Barrier(6)

def work():
    go.wait()                       # all six allocate at once: each would want an arena
    blocks = [libc.malloc(1 << 20) for _ in range(8)]
    go.wait()
    for b in blocks:
        libc.free(b)

threads = [threading.Thread(target=work) for _ in range(6)]
for t in threads:
    t.start()
for t in threads:
    t.join()
fd, path = tempfile.mkstemp()
os.close(fd)
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.fclose.argtypes = [ctypes.c_void_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
f = libc.fopen(path.encode(), b"w")
libc.malloc_info(0, f)
libc.fclose(f)
print(open(path).read().count("<heap nr="))
os.unlink(path)
"""


def arenas(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, timeout=60,
                         env={k: v for k, v in __import__("os").environ.items()
                              if k not in ("COSBEAUTY_MALLOC_ARENAS", "MALLOC_ARENA_MAX")})
    assert out.returncode == 0, out.stderr
    return int(out.stdout.split()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc")
def test_threads_share_the_main_arena_after_one_malloc_arena():
    assert arenas("one") == 1
    assert arenas("capped") > 1         # the pool's own cap alone: one per worker (the test means something)


def test_serve_asks_for_one_arena_before_building_the_app():
    """server.serve calls it first (a later call binds only threads made after it)."""
    import inspect

    from cosbeauty import server

    src = inspect.getsource(server.serve)
    assert src.index("one_malloc_arena()") < src.index("build_app(")
