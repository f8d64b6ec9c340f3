"""The RTL core under cocotb: random tiles in every mode, dataflow and WS row-group count, results == golden
GEMM and cycles == sim/tile.py, with random idle cycles and back-pressure on every stream."""

import pytest

from nmsat.config import load_config
from nmsat.core_params import core_params
from nmsat.hw.validate import run_validation

SMALL = load_config("configs/hw-small.toml")
# Icarus is slow on arrays: keep them tiny (2x2: G = 1, 2; 4x2: G = 1, 2, 4)
ICARUS_ARRAYS = [{"rows": 2, "cols": 2}, {"rows": 4, "cols": 2}]


def _check(results, n_cases, cfg=SMALL):
    assert len(results) == n_cases
    bad = [r for r in results if not (r["cycles_equal"] and r["results_equal"])]
    assert not bad, f"{len(bad)} of {n_cases} cases differ, first: {bad[0]}"
    modes = {(r["dataflow"], r["mode"], r["groups"]) for r in results}
    n_modes, n_groups = 1 + len(cfg.array.patterns), len(core_params(cfg).group_sizes)
    assert len(modes) == n_modes * (1 + n_groups), modes  # every dataflow x mode ran, WS with every G
    assert any(r["back_to_back"] for r in results), "no command was accepted back to back"


@pytest.mark.parametrize("array", ICARUS_ARRAYS, ids=lambda a: f"{a['rows']}x{a['cols']}")
def test_icarus_random_tiles(array, hw_build_root):
    cfg = SMALL.replace(array=array)
    _check(run_validation(cfg, 32, "icarus", seed=11, build_root=hw_build_root), 32, cfg)


def test_verilator_random_tiles(hw_build_root):
    _check(run_validation(SMALL, 64, "verilator", seed=12, build_root=hw_build_root), 64)


@pytest.mark.parametrize("idle,stall", [(0.0, 0.0), (0.7, 0.7)])
def test_stream_timing_does_not_change_results(idle, stall, hw_build_root):
    cfg = SMALL.replace(array={"rows": 2, "cols": 2})
    results = run_validation(cfg, 16, "icarus", seed=13, build_root=hw_build_root, idle=idle, stall=stall)
    assert all(r["cycles_equal"] and r["results_equal"] for r in results)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(4))
def test_verilator_sweep(seed, hw_build_root):
    _check(run_validation(SMALL, 1500, "verilator", seed=100 + seed, build_root=hw_build_root), 1500)


@pytest.mark.slow
@pytest.mark.parametrize("array", ICARUS_ARRAYS, ids=lambda a: f"{a['rows']}x{a['cols']}")
def test_icarus_sweep(array, hw_build_root):
    cfg = SMALL.replace(array=array)
    _check(run_validation(cfg, 600, "icarus", seed=200, build_root=hw_build_root), 600, cfg)


def test_icarus_groups_of_three_rows(hw_build_root):
    """R = 6 with G = 2: groups of h = 3 rows (the preload address wraps at a non-power of two)."""
    cfg = SMALL.replace(array={"rows": 6, "cols": 1, "mults_per_pe": 2, "patterns": ["1:2"]})
    _check(run_validation(cfg, 16, "icarus", seed=14, build_root=hw_build_root), 16, cfg)


@pytest.mark.slow
def test_verilator_other_shape(hw_build_root):
    """A non-square array with P=2, 16-bit data and patterns 1:2, 1:4, 2:8 (a second build)."""
    cfg = SMALL.replace(array={"rows": 3, "cols": 5, "mults_per_pe": 2, "data_width": 16, "acc_width": 40,
                               "patterns": ["1:2", "1:4", "2:8"]},
                        memory={"weight_spad_kib": 1.0, "act_spad_kib": 2.0, "out_spad_kib": 1.0})
    _check(run_validation(cfg, 600, "verilator", seed=300, build_root=hw_build_root), 600, cfg)


@pytest.mark.slow
@pytest.mark.parametrize("array", [{"rows": 1, "cols": 1, "mults_per_pe": 1, "patterns": ["1:2", "1:4"]},
                                   {"rows": 2, "cols": 3, "mults_per_pe": 2, "patterns": []}],
                         ids=["1x1-P1", "2x3-dense-only"])
def test_icarus_corner_arrays(array, hw_build_root):
    cfg = SMALL.replace(array=array)
    _check(run_validation(cfg, 200, "icarus", seed=400, build_root=hw_build_root), 200, cfg)
