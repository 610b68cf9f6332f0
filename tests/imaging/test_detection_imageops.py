"""detection.imageops: the skin-cell integral's window sums stay in bounds for any window."""

from __future__ import annotations

import numpy as np
import pytest

from cosbeauty.imaging.detection.imageops import _SKIN_CELL, _area


@pytest.mark.parametrize("window,expected", [
    ((0, 0, 40, 40), 100),                  # the whole 10x10-cell integral
    ((-500, -500, -300, -300), 0),          # far outside, before the frame (was an IndexError)
    ((-500, 8, -400, 16), 0),
    ((500, 500, 900, 900), 0),              # past the frame
    ((-8, -8, 8, 8), 4),                    # straddling the corner: the 2x2 cells inside
])
def test_area_of_windows_outside_the_integral(window, expected):
    """A proposal centred far outside the frame (a turned view's proposal mapped back, or a
    low proposal threshold) asked the integral for a window with negative corners: numpy
    wrapped them round or raised IndexError. Windows are clipped to the integral now."""
    cells = np.ones((10, 10), np.int64)
    integral = np.zeros((11, 11), np.int64)
    integral[1:, 1:] = cells.cumsum(0).cumsum(1)
    assert _SKIN_CELL == 4
    assert _area(integral, *window) == expected
