"""proposer._invoke writes the scaled input straight into the interpreter's buffer (round 19,
detection CPU): the same rows as the float copy given by set_tensor."""

from __future__ import annotations

import numpy as np
import pytest

from cosbeauty.imaging import proposer


def _reference(tile: np.ndarray, model: str) -> tuple[np.ndarray, np.ndarray]:
    """The model's raw outputs as before: ``astype`` copy, scaled in place, ``set_tensor``."""
    h, w = tile.shape[:2]
    x = tile[None, :, :, :3].astype(np.float32)
    x *= np.float32(2 / 255)
    x -= np.float32(1)
    net = proposer._borrow(h, w, model, None)
    try:
        net.it.set_tensor(net.i_in, x)
        net.it.invoke()
        return net.it.get_tensor(net.i_cls)[0, :, 0], net.it.get_tensor(net.i_reg)[0]
    finally:
        proposer._give_back(net)


@pytest.mark.parametrize("model,shape", [("short", (384, 448)), ("short", (192, 192)), ("full", (192, 192))])
def test_same_outputs_as_the_float_copy(model, shape):
    rng = np.random.default_rng(7)
    rgba = rng.integers(0, 256, (*shape, 4), dtype=np.uint8)
    for tile in (rgba[:, :, :3], np.ascontiguousarray(rgba[:, :, :3]), rgba):   # strided views, RGBA
        raw, reg = proposer._invoke(tile, model, None)
        ref_raw, ref_reg = _reference(np.ascontiguousarray(tile[:, :, :3]), model)
        assert np.array_equal(raw, ref_raw) and np.array_equal(reg, ref_reg)
    assert proposer.detect(rgba[:, :, :3], 0.1, model=model).shape[1] == 9


def test_no_float_copy_through_set_tensor(monkeypatch):
    """The input is no longer copied in by ``set_tensor`` (nor made as a float copy first); LiteRT
    refuses to invoke while a numpy view of its buffers is alive: two calls in a row work."""
    from ai_edge_litert.interpreter import Interpreter

    def refused(self, *args, **kwargs):
        raise AssertionError("set_tensor called")

    tile = np.full((192, 192, 3), 128, np.uint8)
    proposer._give_back(proposer._borrow(192, 192, "short", None))      # built before the patch
    monkeypatch.setattr(Interpreter, "set_tensor", refused)
    for _ in range(2):
        proposer._invoke(tile, "short", None)
