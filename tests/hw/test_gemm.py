"""Whole GEMMs from memory on the RTL (cocotb + the deterministic AXI memory model): Y in memory == the golden
GEMM (bit for bit `golden_gemm_fp_array` in bf16) and RTL cycles == `nmsat.sim.engine.gemm_cycles`, over every
mode, chunking, residency, row-group count, ragged edge, padded strides and 4 KiB page crossings, in both
arithmetics."""

import numpy as np
import pytest

from nmsat.config import load_config
from nmsat.core_params import core_params
from nmsat.hw.tb.pysim_gemm import run_gemm_pysim
from nmsat.hw.tb.validate import run_validation
from nmsat.sim.engine import gemm_cycles
from nmsat.sim.fp import f32_bits
from nmsat.sim.gemm_plan import plan_gemm
from nmsat.sim.golden import golden_gemm, golden_gemm_fp_array

SMALL = load_config("configs/hw-small.toml")
BF16 = load_config("configs/hw-small-bf16.toml")
# 2x2 PEs x 2 bf16 MACs: the bf16 default tests' array (a 4x4 bf16 core takes minutes to compile in Verilator)
BF16_TINY = BF16.replace(array={"rows": 2, "cols": 2, "mults_per_pe": 2, "patterns": ["1:2", "2:8"],
                                "max_row_groups": 2})
TINY = SMALL.replace(array={"rows": 2, "cols": 2}, memory={"bus_bytes": 8, "read_latency": 3, "write_latency": 2})


def _check(results, cfg):
    bad = [r for r in results if not (r["cycles_equal"] and r["results_equal"])]
    assert not bad, f"{len(bad)} of {len(results)} GEMMs differ, first: {bad[0]}"
    assert {r["mode"] for r in results} == {"dense", *map(str, cfg.array.patterns)}


def test_verilator_random_gemms(hw_build_root):
    results = run_validation(SMALL, 24, "verilator", seed=12, build_root=hw_build_root)
    _check(results, SMALL)
    assert {r["resident"] for r in results} == {True, False}
    assert max(r["groups"] for r in results) > 1 and max(r["tiles"] for r in results) > 20


def test_verilator_random_bf16_gemms(hw_build_root):
    """bf16 x bf16 -> fp32 with zeros, infinities, subnormals and overflow among the operands."""
    results = run_validation(BF16_TINY, 24, "verilator", seed=13, build_root=hw_build_root, max_dim=24)
    _check(results, BF16_TINY)
    assert max(r["groups"] for r in results) > 1 and max(r["tiles"] for r in results) > 4


def test_amaranth_simulator_bf16_gemm():
    """One bf16 GEMM with several folds and n blocks in Amaranth's own simulator."""
    p = core_params(BF16_TINY)
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((3, 40)), rng.standard_normal((5, 40))
    plan = plan_gemm(BF16_TINY, 3, 5, 40, "2:8", chunk=3)
    y, cycles = run_gemm_pysim(p, plan, a, b, "2:8")
    ref = golden_gemm_fp_array(a, b, "2:8", p.window(plan.mode), p.mults, p.rows // plan.groups)
    assert (y == f32_bits(ref)).all()
    assert cycles == gemm_cycles(plan, BF16_TINY)


def test_icarus_random_gemms(hw_build_root):
    _check(run_validation(TINY, 8, "icarus", seed=11, build_root=hw_build_root, max_dim=12), TINY)


@pytest.mark.parametrize("shape,pattern,chunk", [((5, 6, 40), None, 5), ((9, 5, 20), "2:4", 4),
                                                  ((3, 4, 8), "1:4", 3), ((1, 4, 20), None, 1)])
def test_amaranth_simulator_gemm(shape, pattern, chunk):
    """Multi-fold K, several n blocks, row groups, a one-row chunk: in Amaranth's own simulator."""
    p = core_params(SMALL)
    rng = np.random.default_rng(sum(shape))
    a, b = rng.integers(-128, 128, (shape[0], shape[2])), rng.integers(-128, 128, (shape[1], shape[2]))
    plan = plan_gemm(SMALL, *shape, pattern, chunk=chunk)
    y, cycles = run_gemm_pysim(p, plan, a, b, pattern)
    assert (y == golden_gemm(a, b, pattern, p.acc_width)).all()
    assert cycles == gemm_cycles(plan, SMALL)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(3))
def test_verilator_sweep(seed, hw_build_root):
    results = run_validation(SMALL, 100, "verilator", seed=100 + seed, build_root=hw_build_root)
    _check(results, SMALL)


@pytest.mark.slow
@pytest.mark.parametrize("array,memory", [
    ({"rows": 3, "cols": 5, "mults_per_pe": 2, "data_width": 16, "acc_width": 32, "patterns": ["1:2", "1:4", "2:8"]},
     {"bus_bytes": 4, "weight_spad_kib": 2.0, "act_spad_kib": 4.0, "out_spad_kib": 2.0}),
    ({"rows": 1, "cols": 1, "mults_per_pe": 4, "patterns": ["2:4", "1:4"], "max_row_groups": 1},
     {"bus_bytes": 4, "read_latency": 2, "write_latency": 9}),
    ({"rows": 2, "cols": 3, "mults_per_pe": 2, "patterns": []}, {"bus_bytes": 4, "read_latency": 17}),
], ids=["3x5-P2-16bit", "1x1-P4", "2x3-dense-only"])
def test_verilator_other_arrays(array, memory, hw_build_root):
    cfg = SMALL.replace(array=array, memory=memory)
    _check(run_validation(cfg, 60, "verilator", seed=300, build_root=hw_build_root, max_dim=20), cfg)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(2))
def test_verilator_bf16_sweep(seed, hw_build_root):
    """hw-small-bf16 itself (4x4 PEs x 4 MACs, three patterns, row groups up to 4)."""
    _check(run_validation(BF16, 100, "verilator", seed=400 + seed, build_root=hw_build_root, max_dim=32), BF16)


@pytest.mark.slow
def test_icarus_sweep(hw_build_root):
    _check(run_validation(TINY, 60, "icarus", seed=200, build_root=hw_build_root, max_dim=12), TINY)
