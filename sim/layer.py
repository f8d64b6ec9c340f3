"""Layer model: one GEMM on the accelerator, and the search for the best way to run it.

By default this is the generated hardware (`nmsat.sim.engine_layer`: the RTL's weight-stationary GEMM
engine, exact cycles). With ``[projection] enabled`` it is the *projected* model below: output-stationary
and the other WS loop orders, a DRAM bandwidth with double buffering, on-chip im2col.

Projected DRAM rule: with double buffering, while tile ``i`` computes, the DRAM loads tile ``i+1``'s operands and
stores tile ``i-1``'s outputs; tile ``i`` stalls by whatever that traffic takes beyond its compute
cycles. The first tile's load and the last tile's store are exposed (each GEMM charges its own
prologue and epilogue). Without double buffering every tile's load, compute and store serialize.
A GEMM with ``count`` repeats runs its tile sequence ``count`` times.
"""

from functools import lru_cache

import numpy as np

from nmsat.errors import NmsatError
from nmsat.sim.energy import tile_energy
from nmsat.sim.engine_layer import best_engine_gemm
from nmsat.sim.gemm_result import GemmResult
from nmsat.sim.tiling import candidates, default_tiling, sequence, tile_arrays
from nmsat.trace import Gemm

DATAFLOW_POLICIES = ("ws", "os", "best")


def dram_bytes_per_cycle(cfg):
    """Memory bytes per array clock cycle: the AXI4 port's beat, or the projected DRAM bandwidth."""
    if not cfg.projection.enabled:
        return float(cfg.memory.bus_bytes)
    return cfg.projection.dram_gbps * 1e9 / (cfg.array.clock_mhz * 1e6)


def policy_dataflows(cfg):
    """Dataflows the model runs: the RTL's GEMM engine is weight-stationary; projected, the config's."""
    return tuple(cfg.array.dataflows) if cfg.projection.enabled else ("ws",)


def _dram_cycles(t, cfg):
    """DRAM cycles of all the traffic of one repeat of the tiles `t`."""
    tot = t["totals"]
    return (tot["w_load"] + tot["a_load"] + tot["psum_load"] + tot["store"]) / dram_bytes_per_cycle(cfg)


def _stall(t, cfg):
    """DRAM stall cycles of one repeat of the tile sequence `t` (see the module docstring)."""
    if not cfg.projection.double_buffer:
        return _dram_cycles(t, cfg)
    bw = dram_bytes_per_cycle(cfg)
    load, store = sequence(t, "load"), sequence(t, "store")
    excess = np.zeros(len(load))
    excess[:-1] = load[1:]
    excess[1:] += store[:-1]
    excess -= sequence(t, "cycles") * bw
    np.maximum(excess, 0, out=excess)
    return float(excess.sum() + load[0] + store[-1]) / bw


def _lower_bound(t, cfg):
    """Cycles no tiling can beat for `t`: compute alone, or all traffic alone (serialized without
    double buffering)."""
    compute, dram = t["totals"]["cycles"], _dram_cycles(t, cfg)
    return compute + dram if not cfg.projection.double_buffer else max(compute, dram)


def _result(gemm, cfg, pattern, tiling, t):
    tot, count = t["totals"], gemm.count
    compute = int(tot["cycles"])
    energy = {c: v * count for c, v in tile_energy(t, cfg, pattern, tiling.dataflow).items()}
    return GemmResult(
        tiling=tiling, pattern=pattern, tiles=int(tot["tiles"]) * count, compute_cycles=compute * count,
        stall_cycles=int(np.ceil(_stall(t, cfg))) * count,
        fill_drain_cycles=(compute - int(tot["steps"])) * count,
        macs=int(tot["macs"]) * count, mults=int(tot["mults"]) * count,
        dram_bytes=_dram_cycles(t, cfg) * dram_bytes_per_cycle(cfg) * count, energy_pj=energy)


def run_gemm(gemm, cfg, pattern, tiling):
    """Simulate `gemm` (B sparse under `pattern`, or dense for None) with `tiling`."""
    return _result(gemm, cfg, pattern, tiling, tile_arrays(gemm, cfg, pattern, tiling))


def check_dataflow(cfg, dataflow):
    """Raise `NmsatError` unless `dataflow` is a policy this array can run."""
    if dataflow not in DATAFLOW_POLICIES:
        raise NmsatError(f"unknown dataflow {dataflow!r} (use {', '.join(DATAFLOW_POLICIES)})")
    if dataflow != "best" and dataflow not in cfg.array.dataflows:
        raise NmsatError(f"dataflow {dataflow!r} is not supported by this array "
                         f"({', '.join(cfg.array.dataflows)})")
    if dataflow != "best" and dataflow not in policy_dataflows(cfg):
        raise NmsatError(f"dataflow {dataflow!r}: the generated hardware's GEMM engine is weight-stationary; "
                         "output-stationary is in the projected model only ([projection] enabled = true)")


def best_gemm(gemm, cfg, pattern, dataflow):
    """The GEMM result for a dataflow policy: the fixed policy's default tiling for 'ws'/'os'; for
    'best', the fewest-cycles result (ties: less energy) over every supported dataflow's candidates,
    for a sparse GEMM also run in dense mode on its pruned weights (`GemmResult.pattern` says which;
    dense mode wins where K is too short for compression to pay, e.g. K < m), evaluated in order of
    a lower bound and stopped once the bound exceeds the best found (exact: no tiling skipped could
    have won). Results are cached by shape, so repeated layers are searched once."""
    check_dataflow(cfg, dataflow)
    shape = Gemm("", "FF", gemm.m, gemm.n, gemm.k, count=gemm.count, im2col=gemm.im2col)
    return _best_shape(shape, cfg, pattern, dataflow)


@lru_cache(maxsize=65536)
def _best_shape(gemm, cfg, pattern, dataflow):
    if not cfg.projection.enabled:
        return best_engine_gemm(gemm, cfg, pattern)
    if dataflow != "best":
        return run_gemm(gemm, cfg, pattern, default_tiling(gemm, cfg, pattern, dataflow))
    tiled = [(p, t, tile_arrays(gemm, cfg, p, t))
             for p in dict.fromkeys((pattern, None)) for d in cfg.array.dataflows
             for t in candidates(gemm, cfg, p, d)]
    tiled.sort(key=lambda x: _lower_bound(x[2], cfg))
    best = None
    for p, tiling, t in tiled:
        if best is not None and _lower_bound(t, cfg) * gemm.count > best.cycles:
            break
        r = _result(gemm, cfg, p, tiling, t)
        if best is None or (r.cycles, r.energy_total_pj) < (best.cycles, best.energy_total_pj):
            best = r
    return best
