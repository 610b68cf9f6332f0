"""Image processing: codec, face detection and the AIFaceBeauty filter.

Importing this package is cheap: OpenCV/numpy load with the filter modules, MediaPipe only on
the first face detection.
"""

from __future__ import annotations

from .beauty import beautify_array
from .codec import Limits
from .errors import CorruptImage, ImageError, ImageTooLarge, InvalidParameter, UnsupportedFormat
from .faces import Face, detect_faces
from .pipeline import FaceBox, Result, beautify
from .registry import get_processor

__all__ = [
    "CorruptImage", "Face", "FaceBox", "ImageError", "ImageTooLarge", "InvalidParameter",
    "Limits", "Result", "UnsupportedFormat", "beautify", "beautify_array", "detect_faces",
    "get_processor",
]
