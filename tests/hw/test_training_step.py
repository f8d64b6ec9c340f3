"""A whole BDWP 2:8 training step of the digits CNN (every FF, BP and WG GEMM of its trace) on the RTL:
each GEMM's Y == the golden GEMM, and the step's RTL cycles == the network model's total."""

import pytest

from nmsat.algo.workload import model_trace
from nmsat.config import load_config
from nmsat.core_params import core_params
from nmsat.hw.driver import memory_bytes
from nmsat.hw.tb.validate import MEMORY_WORDS, run_cases, trace_cases
from nmsat.sim.network import simulate
from nmsat.sim.tiling import cdiv

SMALL = load_config("configs/hw-small.toml")


def _step(batch, build_root):
    trace = model_trace("digits_cnn", "digits", batch, "bdwp", "2:8")
    cases = trace_cases(trace, SMALL, "bdwp", seed=batch)
    p = core_params(SMALL)
    need = max(cdiv(memory_bytes(c["plan"], c["where"]), p.bus_bytes) for c in cases)
    words = MEMORY_WORDS if need <= MEMORY_WORDS else 1 << need.bit_length()
    results = run_cases(SMALL, cases, "verilator", build_root, words)
    assert all(r["results_equal"] and r["cycles_equal"] for r in results), results
    assert {r["mode"] for r in results} == {"dense", "2:8"} and len(results) == len(trace.gemms)
    rtl = sum(r["rtl_cycles"] * c["count"] for r, c in zip(results, cases, strict=True))
    step = simulate(trace, SMALL, "bdwp")  # the step's GEMMs; its update and top-N engines follow in series
    assert rtl == sum(row["cycles"] for row in step.layers)
    assert step.total_cycles == rtl + step.overheads["update_cycles"] + step.overheads["topn_cycles"]


def test_digits_cnn_step_batch_2(hw_build_root):
    _step(2, hw_build_root)


@pytest.mark.slow
def test_digits_cnn_step_batch_32(hw_build_root):
    _step(32, hw_build_root)
