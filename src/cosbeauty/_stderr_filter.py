"""Drop MediaPipe/TFLite's native start-up chatter from stderr.

MediaPipe 0.10.14 writes lines such as ``W0000 ... inference_feedback_manager.cc:114] Feedback
manager requires a model with a single signature`` from C++ for every graph it builds (one per
worker thread), before absl logging can be configured, and no environment variable silences them.
:func:`install` routes file descriptor 2 through a pipe and a daemon thread that forwards every
other line unchanged. Child processes inherit the filtered descriptor.
"""

from __future__ import annotations

import atexit
import os
import re
import sys
import threading

NOISE = re.compile(
    rb"^(?:W0000 [^\n]*\] Feedback manager requires a model with a single signature"
    rb"|INFO: Created TensorFlow Lite XNNPACK delegate for CPU\."
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR)")

_installed = False


def _pump(read_fd: int, out_fd: int) -> None:
    with os.fdopen(read_fd, "rb", buffering=0) as pipe:
        pending = b""
        while chunk := pipe.read(65536):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            kept = b"".join(line + b"\n" for line in lines if not NOISE.match(line))
            if kept:
                os.write(out_fd, kept)
        if pending and not NOISE.match(pending):
            os.write(out_fd, pending)


def install() -> None:
    """Idempotent; a no-op where stderr has no file descriptor."""
    global _installed
    if _installed:
        return
    try:
        sys.stderr.flush()
        real = os.dup(2)
    except (OSError, ValueError):
        return
    read_fd, write_fd = os.pipe()
    os.dup2(write_fd, 2)
    os.close(write_fd)
    pump = threading.Thread(target=_pump, args=(read_fd, real), name="cosbeauty-stderr", daemon=True)
    pump.start()
    atexit.register(_restore, real, pump)
    _installed = True


def _restore(real: int, pump: threading.Thread) -> None:
    """At exit: put the real stderr back (closing our end of the pipe) and let the pump drain, so
    a last error message is never lost."""
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os.dup2(real, 2)
    pump.join(timeout=2)
