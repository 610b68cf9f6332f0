"""Typed imaging errors. Each carries the COS/CI error code the HTTP layer answers with."""

from __future__ import annotations


class ImageError(Exception):
    """Base class. ``code`` is the COS-style error code, ``status`` the HTTP status."""

    code = "InvalidImageFormat"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnsupportedFormat(ImageError):
    """The bytes are an image format we do not process (or not an image at all)."""

    code = "InvalidImageFormat"


class ImageTooLarge(ImageError):
    """Input bytes or pixel count exceed the configured limits (checked before full decode)."""

    code = "ImageTooLarge"


class CorruptImage(ImageError):
    """The header parsed but the image data could not be decoded."""

    code = "UndecodableImage"


class InvalidParameter(ImageError):
    """A processing parameter (e.g. strength) is out of range or malformed."""

    code = "InvalidArgument"
