"""The exact tile model's numeric result equals the golden GEMM in every mode and dataflow."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nmsat.config import default_config
from nmsat.errors import NmsatError
from nmsat.sim.golden import golden_gemm, wrap
from nmsat.sim.tile import os_cycles, run_tile, ws_cycles

ARRAY = default_config().replace(array={"rows": 4, "cols": 3, "data_width": 8}).array
MODES = [None, "2:4", "1:4", "2:8", "1:8"]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(MODES), st.sampled_from(["ws", "os"]), st.integers(1, 9), st.integers(1, 3),
       st.integers(1, 200), st.integers(0, 2**31 - 1))
def test_tile_equals_golden(mode, dataflow, m, n, k, seed):
    e = ARRAY.reduction_per_cycle(mode)
    k = min(k, ARRAY.rows * e) if dataflow == "ws" else k
    m = min(m, ARRAY.rows) if dataflow == "os" else m
    rng = np.random.default_rng(seed)
    a, b = rng.integers(-128, 128, (m, k)), rng.integers(-128, 128, (n, k))
    res = run_tile(a, b, mode, ARRAY, dataflow)
    assert np.array_equal(res.y, golden_gemm(a, b, mode, ARRAY.acc_width))
    steps = -(-k // e)
    assert res.cycles == (ws_cycles(ARRAY, m) if dataflow == "ws" else os_cycles(ARRAY, steps))


def test_wrap_is_twos_complement():
    assert wrap([2**31, -(2**31) - 1, 5], 32).tolist() == [-(2**31), 2**31 - 1, 5]


def test_tile_rejects_oversize_and_unsupported():
    a = np.ones((2, 100), dtype=int)
    with pytest.raises(NmsatError, match="WS tile reduction 100 exceeds"):
        run_tile(a, a, None, ARRAY, "ws")
    with pytest.raises(NmsatError, match="pattern 3:8 is not supported"):
        run_tile(a, a, "3:8", ARRAY, "os")


def test_bf16_tile_follows_the_array_order():
    """One window per array row, from +0: with no exact zeros that is golden_gemm_fp's order per window, and
    the whole tile is within the recursive-summation bound of the exact product."""
    from nmsat.sim.fp import bf16_bits, bf16_value, f32_bits
    from nmsat.sim.golden import golden_gemm_fp, golden_gemm_fp_array

    array = default_config().replace(array={"rows": 4, "cols": 3, "arithmetic": "bf16"}).array
    rng = np.random.default_rng(7)
    for mode in MODES:
        e = array.reduction_per_cycle(mode)
        a, b = bf16_bits(rng.standard_normal((5, 4 * e))), bf16_bits(rng.standard_normal((3, 4 * e)))
        res = run_tile(a, b, mode, array, "ws")
        assert np.array_equal(f32_bits(res.y), f32_bits(golden_gemm_fp_array(a, b, mode, e, 4, 4)))
        one = golden_gemm_fp_array(a[:, :e], b[:, :e], mode, e, 4, 1)
        assert np.array_equal(f32_bits(one), f32_bits(golden_gemm_fp(a[:, :e], b[:, :e], mode)))
        exact = golden_gemm(bf16_value(a).astype(np.float64), bf16_value(b).astype(np.float64), mode)
        mag = golden_gemm(np.abs(bf16_value(a)).astype(np.float64), np.abs(bf16_value(b)).astype(np.float64), mode)
        u = 2.0 ** -24
        gamma = 8 * u / (1 - 8 * u)  # at most 4 + 3 + 1 rounded adds on any output's path
        assert (np.abs(res.y - exact) <= gamma * mag).all()
