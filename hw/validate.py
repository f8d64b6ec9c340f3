"""Random tiles through the RTL core (cocotb) against the golden GEMM and the exact tile model."""

from functools import lru_cache
from pathlib import Path

import numpy as np

from nmsat.hw.cocotb_sim import run_cocotb
from nmsat.hw.core import Core
from nmsat.hw.packing import pack_act_row, pack_command, pack_weight_row, unpack_out_row
from nmsat.core_params import core_params
from nmsat.hw.verilog import to_verilog
from nmsat.sim.golden import golden_gemm, wrap
from nmsat.sim.tile import act_rows, os_cycles, weight_rows, window, ws_cycles

TOPLEVEL = "nmsat_core"
DEFAULT_BUILD_ROOT = Path(".cache") / "nmsat-hw-sim"
SHAPE_KINDS = ("unit", "ragged", "narrow", "random")


@lru_cache(maxsize=8)
def core_verilog(params):
    """Verilog of the core for `params` (cached: conversion takes seconds)."""
    return to_verilog(Core(params), TOPLEVEL)


def _shape(rng, kind, p, dataflow, pattern, e, max_steps, groups):
    """(M, N, K) of one tile: 'unit' T=1 / M=1 (and S=1 in OS), 'ragged' K not a multiple of m (P dense),
    'narrow' N < C and M < R, 'random' anything that fits (WS: K <= (R/G)*E, ceil(T/G) <= 12 steps)."""
    group = pattern.m if pattern is not None else p.mults
    n = int(rng.integers(1, p.cols + 1))
    if dataflow == "ws":
        steps = min(p.a_depth, p.o_depth, 12)
        k_max, m_rows = p.rows // groups * e, int(rng.integers(1, steps * groups + 1))
    else:
        k_max, m_rows = max_steps * e, int(rng.integers(1, p.rows + 1))
    k = int(rng.integers(1, k_max + 1))
    if kind == "unit":
        m_rows = 1
        k = k if dataflow == "ws" else int(rng.integers(1, e + 1))
    elif kind == "ragged":  # impossible only when the group is 1 (dense with P = 1)
        ragged = [x for x in range(1, k_max + 1) if x % group]
        k = int(rng.choice(ragged)) if ragged else k
    elif kind == "narrow":
        n = max(1, p.cols - 1 - int(rng.integers(0, p.cols)))
        m_rows = max(1, p.rows - 1) if dataflow == "os" else m_rows
    return m_rows, n, k


def _operand(rng, shape, width):
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    x = rng.integers(lo, hi + 1, size=shape)
    if rng.random() < 0.2:  # extremes stress the wrap-around
        x = rng.choice([lo, hi, lo + 1, 0, -1], size=shape)
    return x


def make_cases(cfg, n_cases, seed):
    """Case descriptions: every (dataflow, mode) pair in turn, shape kinds in turn, WS row groups G in turn from
    a random start (a few cases per mode cover every G, each shape kind meets every G); some cases run a
    second, accumulating tile, half of those on the rows already loaded (its command then follows back to back)."""
    p, arr = core_params(cfg), cfg.array
    rng = np.random.default_rng(seed)
    modes = [None, *p.patterns]
    cases, g_start = [], int(rng.integers(len(p.group_sizes)))
    for i in range(n_cases):
        dataflow, pattern = ("ws", "os")[i % 2], modes[(i // 2) % len(modes)]
        turn = i // (2 * len(modes))
        kind = SHAPE_KINDS[turn % len(SHAPE_KINDS)]
        e = window(arr, pattern)
        turn += g_start + turn // len(SHAPE_KINDS)
        groups = p.group_sizes[turn % len(p.group_sizes)] if dataflow == "ws" else 1
        m_rows, n, k = _shape(rng, kind, p, dataflow, pattern, e, min(p.w_depth, p.a_depth, 6), groups)
        count = 2 if rng.random() < 0.3 else 1
        ops = [(_operand(rng, (m_rows, k), p.data_width), _operand(rng, (n, k), p.data_width))
               for _ in range(count)]
        reuse = count == 2 and rng.random() < 0.5  # the second tile re-runs the loaded rows: no loads
        if reuse:
            ops[1] = ops[0]
        cases.append({"dataflow": dataflow, "pattern": pattern, "kind": kind, "shape": [m_rows, n, k],
                      "groups": groups, "ops": ops, "reuse": reuse})
    return cases


def _tiles(p, arr, case):
    """Tile programs for the testbench, the expected drained rows ``[rows, max_groups, C]`` and the model
    cycles of one case. WS output row t slot g is ``Y[t*G + g]``; OS row r slot 0 is ``Y[r]``."""
    dataflow, pattern, groups, tiles = case["dataflow"], case["pattern"], case["groups"], []
    total = 0
    for j, (a, b) in enumerate(case["ops"]):
        vals, idx = weight_rows(b, pattern, arr)
        acts = act_rows(a, pattern, arr, dataflow, groups)
        last = j == len(case["ops"]) - 1
        count = acts.shape[0]  # WS ceil(T/G) stream steps, OS S reduction steps
        out_rows = count if dataflow == "ws" else p.rows
        cmd = pack_command(p, dataflow, p.mode_of(pattern), count, accumulate=j > 0, drain=last, groups=groups)
        load = j == 0 or not case["reuse"]
        wrows = [pack_weight_row(p, v, i) for v, i in zip(vals, idx, strict=True)]
        tiles.append({"cmd": cmd, "wrows": wrows if load else [],
                      "arows": [pack_act_row(p, w) for w in acts] if load else [],
                      "drain_rows": out_rows if last else 0})
        total = total + golden_gemm(a, b, pattern, p.acc_width)
    used = groups if dataflow == "ws" else 1
    y = np.zeros((out_rows * used, p.cols), dtype=np.int64)
    y[: total.shape[0], : total.shape[1]] = wrap(total, p.acc_width)
    expect = np.zeros((out_rows, p.max_groups, p.cols), dtype=np.int64)
    expect[:, :used] = y.reshape(out_rows, used, p.cols)
    t = case["ops"][0][0].shape[0]
    model = int(ws_cycles(arr, t, groups) if dataflow == "ws" else os_cycles(arr, count))
    return tiles, expect, model


def run_validation(cfg, n_cases, simulator, seed, build_root=DEFAULT_BUILD_ROOT, idle=0.3, stall=0.3):
    """Run `n_cases` random tiles of `cfg` on `simulator`; one dict per case (see keys below)."""
    p, arr = core_params(cfg), cfg.array
    cases = make_cases(cfg, n_cases, seed)
    programs = [_tiles(p, arr, c) for c in cases]
    tiles = [t for prog, _, _ in programs for t in prog]
    max_cycles = 1000 + 20 * sum(model + len(t["wrows"]) + len(t["arows"]) + t["drain_rows"]
                                 for prog, _, model in programs for t in prog)
    params = {"seed": seed, "idle": idle, "stall": stall, "max_cycles": max_cycles, "tiles": tiles}
    run = run_cocotb(core_verilog(p), TOPLEVEL, "nmsat.hw.tb_core", simulator, params, build_root)
    results, pos = [], 0
    for case, (prog, expect, model) in zip(cases, programs, strict=True):
        measured = run.outputs[pos: pos + len(prog)]
        pos += len(prog)
        got = np.array([unpack_out_row(p, w) for w in measured[-1]["rows"]], dtype=np.int64)
        rtl = [m["cycles"] for m in measured]
        results.append({
            "dataflow": case["dataflow"], "mode": str(case["pattern"] or "dense"), "kind": case["kind"],
            "shape": case["shape"], "groups": case["groups"], "tiles": len(prog), "reuse": case["reuse"],
            "back_to_back": any(m["back_to_back"] for m in measured),
            "rtl_cycles": rtl, "model_cycles": model,
            "cycles_equal": all(c == model for c in rtl),
            "results_equal": got.shape == expect.shape and bool((got == expect).all()),
        })
    return results
