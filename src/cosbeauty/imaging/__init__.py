"""Image processing: codec, face detection and the AIFaceBeauty filter.

Importing this package is cheap: the names below load their module (OpenCV, numpy, Pillow) on
first access, and MediaPipe loads on the first face detection. The server imports
``imaging.errors``, ``imaging.limits`` and ``imaging.registry`` at start-up without paying for
the image libraries; its worker threads import the rest while they warm up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY = {
    "beautify_array": ".beauty", "Limits": ".limits", "Face": ".faces", "detect_faces": ".faces",
    "FaceBox": ".pipeline", "Result": ".pipeline", "beautify": ".pipeline", "get_processor": ".registry",
    "CorruptImage": ".errors", "ImageError": ".errors", "ImageTooLarge": ".errors",
    "InvalidParameter": ".errors", "UnsupportedFormat": ".errors",
    "face_effect": ".face_effects", "FaceEffectResult": ".face_effects", "beautify_components": ".components",
    "RetouchParams": ".retouch.params",
}

__all__ = [
    "CorruptImage", "Face", "FaceBox", "ImageError", "ImageTooLarge", "InvalidParameter",
    "Limits", "Result", "UnsupportedFormat", "beautify", "beautify_array", "detect_faces",
    "get_processor", "face_effect", "FaceEffectResult", "beautify_components", "RetouchParams",
]

if TYPE_CHECKING:
    from .beauty import beautify_array
    from .components import beautify_components
    from .face_effects import FaceEffectResult, face_effect
    from .errors import CorruptImage, ImageError, ImageTooLarge, InvalidParameter, UnsupportedFormat
    from .faces import Face, detect_faces
    from .limits import Limits
    from .pipeline import FaceBox, Result, beautify
    from .registry import get_processor
    from .retouch.params import RetouchParams


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
