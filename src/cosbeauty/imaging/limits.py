"""Input limits for image processing (a light module: importing it loads no image library)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 32 * 1024 * 1024      # input size
    max_pixels: int = 50_000_000           # width * height, checked from the header
