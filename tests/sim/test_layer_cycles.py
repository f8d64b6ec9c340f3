"""The projected layer model against hand-derived cycle counts, traffic and stalls on small arrays."""

import pytest
from nets import resnet18

from nmsat.config import default_config
from nmsat.sim.layer import best_gemm, run_gemm
from nmsat.sim.network import simulate
from nmsat.sim.tile import OS_OVERHEAD, WS_OVERHEAD
from nmsat.sim.tiling import Tiling
from nmsat.trace import Gemm


def small(rows=4, cols=4, p=1, patterns=(), double_buffer=True, max_row_groups=8, **memory):
    """A tiny array with 8-bit operands, 16-bit accumulators and 1 DRAM byte per cycle (projected model)."""
    return default_config().replace(
        array={"rows": rows, "cols": cols, "mults_per_pe": p, "patterns": list(patterns),
               "clock_mhz": 1000.0, "data_width": 8, "acc_width": 16, "max_row_groups": max_row_groups},
        memory=memory, projection={"enabled": True, "dram_gbps": 1.0, "double_buffer": double_buffer})


def test_ws_dense_folds():
    # 4x4 array, P=1 so E=1. M=10, N=6, K=7: K folds of R*E=4 -> (4, 3); N folds of C=4 -> (4, 2);
    # one M chunk of T=10. 4 tiles, each R + (T + R + C - 2) + WS_OVERHEAD = 4 + 16 + WS_OVERHEAD
    # (WS time does not depend on the fold's Kt, so the edge folds cost the same).
    r = run_gemm(Gemm("x", "FF", 10, 6, 7), small(), None, Tiling("ws", "nmk", 10))
    assert r.tiles == 4
    assert r.compute_cycles == 4 * (20 + WS_OVERHEAD)
    assert r.fill_drain_cycles == r.compute_cycles - 4 * 10
    assert r.macs == 10 * 6 * 7


def test_os_dense_folds():
    # OS: M folds of R=4 -> (4, 4, 2), N folds of C=4 -> (4, 2), K=7 is one chunk of S=7 steps (E=1).
    # 6 tiles, each (S + R + C - 2) + R + OS_OVERHEAD = 13 + 4 + OS_OVERHEAD.
    r = run_gemm(Gemm("x", "FF", 10, 6, 7), small(), None, Tiling("os", "mnk", 7))
    assert r.tiles == 6
    assert r.compute_cycles == 6 * (17 + OS_OVERHEAD)
    assert r.macs == 10 * 6 * 7


def test_ws_sparse_window_and_multiplies():
    # P=2, 2:4 gives E = P*m/n = 4, so a K fold covers R*E = 16: K=40 -> folds (16, 16, 8); N=4 one fold;
    # M=5 one chunk. The two full folds use all 4 rows: 4 + (5 + 6) + WS_OVERHEAD each. The tail fold
    # needs 8/4 = 2 rows, so it runs in G = 2 row groups: 4 + (ceil(5/2) + 6) + WS_OVERHEAD.
    # Multiplies: 2 kept per group of 4 -> K/2 per output: 5*4*20; dense-equivalent MACs stay 5*4*40.
    r = run_gemm(Gemm("x", "FF", 5, 4, 40), small(p=2, patterns=["2:4"]), "2:4", Tiling("ws", "nmk", 5))
    assert r.tiles == 3
    assert r.compute_cycles == 2 * (15 + WS_OVERHEAD) + (13 + WS_OVERHEAD)
    assert r.mults == 5 * 4 * 20 and r.macs == 5 * 4 * 40


def test_dram_serialized_without_double_buffering():
    # M=N=K=4 on 4x4, 8-bit operands, 16-bit outputs, 1 B/cycle: one tile loads A (16 B) and W (16 B),
    # stores Y (16 * 2 B): 64 cycles of traffic, all serialized with the compute.
    cfg = small(double_buffer=False)
    r = run_gemm(Gemm("x", "FF", 4, 4, 4), cfg, None, Tiling("ws", "nmk", 4))
    c = 4 + (4 + 4 + 4 - 2) + WS_OVERHEAD
    assert r.compute_cycles == c and r.stall_cycles == 64 and r.dram_bytes == 64


def test_dram_overlap_with_double_buffering():
    # M=8 in two chunks of T=4. Tile 0 loads W (16 B, kept: the 4x4 weight slab fits) + A rows 0-3
    # (16 B); tile 1 loads A rows 4-7 (16 B); each stores 32 B. Exposed: tile 0's load (32) and tile 1's
    # store (32); tile 1's load hides behind tile 0 (16 - c), tile 0's store behind tile 1 (32 - c).
    c = 4 + (4 + 4 + 4 - 2) + WS_OVERHEAD
    r = run_gemm(Gemm("x", "FF", 8, 4, 4), small(), None, Tiling("ws", "nmk", 4))
    assert r.compute_cycles == 2 * c
    assert r.stall_cycles == 32 + max(0, 16 - c) + max(0, 32 - c) + 32
    assert r.dram_bytes == 32 + 16 + 64


def test_sparse_weights_move_compressed():
    # 2:4 weights W[4, 16] move as 8 values per row (8-bit) + 8 indices of 2 bits: 4 * (8 + 2) = 40 B,
    # against 64 B dense. A (4x16 B) and Y (4x4x2 B) are the same either way.
    cfg = small(p=2, patterns=["2:4"], double_buffer=False)
    g = Gemm("x", "FF", 4, 4, 16)
    dense = run_gemm(g, cfg, None, Tiling("ws", "nmk", 4))
    sparse = run_gemm(g, cfg, "2:4", Tiling("ws", "nmk", 4))
    assert dense.dram_bytes == 64 + 64 + 32
    assert sparse.dram_bytes == 40 + 64 + 32


def test_count_repeats_everything():
    cfg = small()
    one = run_gemm(Gemm("x", "FF", 10, 6, 7), cfg, None, Tiling("ws", "nmk", 10))
    three = run_gemm(Gemm("x", "FF", 10, 6, 7, count=3), cfg, None, Tiling("ws", "nmk", 10))
    assert (three.cycles, three.tiles, three.macs) == (3 * one.cycles, 3 * one.tiles, 3 * one.macs)
    assert three.dram_bytes == pytest.approx(3 * one.dram_bytes)


def test_best_runs_a_tiny_k_sparse_gemm_in_dense_mode():
    # K=2 under 2:8: the one (tail) group keeps both elements, so compression adds 3-bit indices and
    # saves nothing; the search runs the pruned weights in dense mode instead.
    cfg = default_config().replace(projection={"enabled": True})
    g = Gemm("x", "FF", 5, 1035, 2)
    r = best_gemm(g, cfg, "2:8", "best")
    assert r.pattern is None
    assert r.cycles == best_gemm(g, cfg, None, "best").cycles
    assert best_gemm(Gemm("x", "FF", 512, 512, 4096), cfg, "2:8", "best").pattern == "2:8"


def test_im2col_factors_shrink_dram_traffic_only():
    # As test_dram_serialized_without_double_buffering, but A is a 2x im2col view of the stored input:
    # A moves 16 / 2 = 8 B, so 56 B of traffic; the tile's compute is unchanged.
    cfg = small(double_buffer=False)
    r = run_gemm(Gemm("x", "FF", 4, 4, 4, im2col=(2.0, 1.0, 1.0)), cfg, None, Tiling("ws", "nmk", 4))
    assert r.dram_bytes == 56 and r.stall_cycles == 56
    assert r.compute_cycles == 4 + (4 + 4 + 4 - 2) + WS_OVERHEAD


def test_ws_row_groups():
    # 8x4 array, P=1 so E=1; M=10, N=4, K=10 in one chunk of T=10: K folds (8, 2).
    # Fold 0 needs all 8 rows: G=1, 8 + (10 + 8 + 4 - 2) + WS_OVERHEAD = 28 + WS_OVERHEAD, 10 steps.
    # Fold 1 needs 2 rows: G=4 groups of 2 rows (G=8 would leave 1 row per group), each streaming its
    # own rows of A: 8 + (ceil(10/4) + 8 + 4 - 2) + WS_OVERHEAD = 21 + WS_OVERHEAD, 3 steps.
    # With max_row_groups=2 fold 1 has G=2: 8 + (5 + 10) + WS_OVERHEAD; with 1 it is a plain 28.
    g, tiling = Gemm("x", "FF", 10, 4, 10), Tiling("ws", "nmk", 10)
    runs = {mg: run_gemm(g, small(rows=8, max_row_groups=mg), None, tiling) for mg in (8, 2, 1)}
    assert runs[8].compute_cycles == 49 + 2 * WS_OVERHEAD
    assert runs[8].fill_drain_cycles == runs[8].compute_cycles - (10 + 3)
    assert runs[2].compute_cycles == 51 + 2 * WS_OVERHEAD
    assert runs[1].compute_cycles == 56 + 2 * WS_OVERHEAD
    # The same A, B and Y bytes move and the same multiplies are done, however many groups.
    for r in runs.values():
        assert (r.macs, r.mults, r.dram_bytes) == (400, 400, runs[1].dram_bytes)
        assert r.energy_pj["spad"] == runs[1].energy_pj["spad"]


def test_max_row_groups_one_reproduces_the_plain_array(monkeypatch):
    # Network totals of the model before WS row groups existed (same traces, default config otherwise), which
    # had the unpipelined datapath's WS_OVERHEAD of 2.
    monkeypatch.setattr("nmsat.sim.tile.ws_overhead", lambda array: 2)
    cfg = default_config().replace(array={"max_row_groups": 1}, memory={"act_spad_kib": 512, "out_spad_kib": 256},
                                   projection={"enabled": True})
    cases = {(8, 32, "bdwp", "best"): 3_348_834, (8, 32, "dense", "best"): 4_451_731,
             (8, 32, "srste", "ws"): 4_487_187, (2, 224, "bdwp", "ws"): 3_602_215}
    for (batch, image, mode, policy), cycles in cases.items():
        assert simulate(resnet18(batch, image), cfg, mode, policy, True).total_cycles == cycles
