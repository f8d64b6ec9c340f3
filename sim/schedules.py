"""Schedules to compare on one workload: hardware mode x dataflow policy x pre-generation.

Speedups are against dense training with the same dataflow policy and pre-generation setting
(``speedup_vs_dense``) and against the strongest dense schedule, dense + best dataflow + overlapped
update (``speedup_vs_dense_best``).
"""

from itertools import product

from nmsat.sim.engine_layer import plans
from nmsat.sim.layer import best_gemm, policy_dataflows
from nmsat.sim.modes import MODES, trace_pattern
from nmsat.sim.network import simulate
from nmsat.sim.tiling import candidates


def schedule_grid(trace, cfg):
    """(mode, dataflow, pregen) triples runnable on `cfg` for `trace` (sparse modes need a pattern); the
    generated hardware (not projected) has one dataflow and no update unit to pre-generate on."""
    modes = MODES if trace_pattern(trace) is not None else ("dense",)
    if not cfg.projection.enabled:
        return list(product(modes, ("best",), (True,)))
    dataflows = (*cfg.array.dataflows, "best")
    return list(product(modes, dataflows, (True, False)))


def compare(trace, cfg, progress=None):
    """One row per schedule: mode, dataflow, pregen, cycles, seconds, energy_pj, speedups.

    `progress` (optional) is called once per schedule simulated, e.g. a tqdm ``update``.
    """
    results = {}
    for key in schedule_grid(trace, cfg):
        results[key] = simulate(trace, cfg, *key)
        if progress:
            progress()
    best_dense = results[("dense", "best", True)].total_cycles
    rows = []
    for (mode, dataflow, pregen), r in results.items():
        dense = results[("dense", dataflow, pregen)].total_cycles
        rows.append({"mode": mode, "dataflow": dataflow, "pregen": pregen, "pattern": r.pattern,
                     "cycles": r.total_cycles, "seconds": r.seconds, "energy_pj": r.energy_total_pj,
                     "speedup_vs_dense": dense / r.total_cycles,
                     "speedup_vs_dense_best": best_dense / r.total_cycles,
                     "topn_exposed_cycles": r.overheads["topn_exposed_cycles"],
                     "update_exposed_cycles": r.overheads["update_exposed_cycles"]})
    return rows


def best_per_layer(trace, cfg, mode="bdwp"):
    """Per GEMM: the best dataflow and tiling found by the search, with the fixed WS and OS cycles."""
    best = simulate(trace, cfg, mode, "best")
    fixed = {d: simulate(trace, cfg, mode, d).layers for d in policy_dataflows(cfg)}
    rows = []
    for i, row in enumerate(best.layers):
        out = {k: row[k] for k in ("layer", "pass", "m", "n", "k", "sparse", "dataflow", "tiling", "cycles")}
        out.update({f"{d}_cycles": fixed[d][i]["cycles"] for d in fixed})
        rows.append(out)
    return rows


def tilings_tried(gemm, cfg, pattern):
    """Number of tilings the offline search evaluates for one GEMM."""
    best_gemm(gemm, cfg, pattern, "best")
    if not cfg.projection.enabled:
        return sum(len(plans(cfg, gemm, p)) for p in dict.fromkeys((pattern, None)))
    return sum(len(candidates(gemm, cfg, pattern, d)) for d in cfg.array.dataflows)
