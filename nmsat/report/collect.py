"""Gathers the report's figures: each function returns plain rows for one section."""

import csv
import io
import json
import statistics
from pathlib import Path

from nmsat.checks import read_input
from nmsat.errors import NmsatError
from nmsat.nm import NMPattern
from nmsat.report.bounds import speedup_bound
from nmsat.sim.energy import COMPONENTS
from nmsat.sim.network import simulate
from nmsat.sim.schedules import best_per_layer, compare
from nmsat.trace import METHODS

SPEEDUP_MODELS = (("resnet9", "cifar"), ("vgg19", "cifar"), ("resnet18", "cifar"),
                  ("resnet50", "imagenet"), ("vit_small", "imagenet"))
SPEEDUP_PATTERNS = ("2:4", "1:4", "2:8", "1:8")
TIME_PARTS = ("compute", "fill/drain", "DRAM stall")


def workload(model, input_size, batch, method, pattern):
    """The extracted trace of one training step (`model_trace` ignores the pattern for dense)."""
    from nmsat.algo.workload import model_trace  # torch only when a model is asked for

    return model_trace(model, input_size, batch, method, pattern)


def _accuracy_row(r, where):
    """(model, method, pattern) and the test accuracy of one sweep CSV row, checked."""
    try:
        model, method, pattern, value = r["model"], r["method"], r["pattern"], r["test_acc"]
    except KeyError as e:
        raise NmsatError(f"{where}: missing column {e.args[0]!r}") from None
    if method not in METHODS:
        raise NmsatError(f"{where}: unknown method {method!r}")
    if (method == "dense") != (pattern == "dense"):
        raise NmsatError(f"{where}: pattern {pattern!r} with method {method!r} (dense runs have pattern 'dense')")
    if method != "dense":
        try:
            pattern = str(NMPattern.parse(pattern))
        except NmsatError as e:
            raise NmsatError(f"{where}: {e}") from None
    try:
        acc = float(value)
    except (TypeError, ValueError):
        raise NmsatError(f"{where}: test_acc {value!r} is not a number") from None
    if not 0.0 <= acc <= 1.0:  # also refuses NaN
        raise NmsatError(f"{where}: test_acc {value!r} must be between 0 and 1")
    return (model, method, pattern), acc


def accuracy(path):
    """Mean and spread of test accuracy per (model, method, pattern) from a sweep's CSV."""
    path = Path(path)
    text = read_input(path, "accuracy file")
    cells = {}
    try:
        for i, r in enumerate(csv.DictReader(io.StringIO(text)), start=2):
            cell, acc = _accuracy_row(r, f"accuracy file {str(path)!r} line {i}")
            cells.setdefault(cell, []).append(acc)
    except csv.Error as e:
        raise NmsatError(f"accuracy file {str(path)!r}: not CSV ({e})") from None
    if not cells:
        raise NmsatError(f"accuracy file {str(path)!r}: no rows")
    return [{"model": m, "method": meth, "pattern": p, "seeds": len(v), "mean": statistics.fmean(v),
             "std": statistics.stdev(v) if len(v) > 1 else 0.0, "min": min(v), "max": max(v)}
            for (m, meth, p), v in sorted(cells.items())]


def speedups(cfg, models=SPEEDUP_MODELS, patterns=SPEEDUP_PATTERNS, batch=32, progress=None):
    """Per model x pattern x method (srste, bdwp): simulated step speedup over dense and its bound.

    Every schedule uses the best dataflow per GEMM and pre-generation, dense included.
    """
    rows = []
    for model, size in models:
        dense = simulate(workload(model, size, batch, "dense", None), cfg, "dense", "best", True)
        for pattern in patterns:
            for method in ("srste", "bdwp"):
                trace = workload(model, size, batch, method, pattern)
                r = simulate(trace, cfg, method, "best", True)
                rows.append({"model": model, "input": size, "pattern": pattern, "method": method,
                             "dense_cycles": dense.total_cycles, "cycles": r.total_cycles,
                             "speedup": dense.total_cycles / r.total_cycles, "bound": speedup_bound(trace),
                             "array_cycles": r.overheads["array_cycles"],
                             "dram_bound_cycles": r.overheads["dram_bound_cycles"],
                             "dense_array_cycles": dense.overheads["array_cycles"]})
            if progress:
                progress()
    return rows


def pass_breakdown(cfg, trace_by_mode):
    """Cycles, ideal cycles and utilization per pass (FF, BP, WG) for each mode: why the speedup is what it is.

    Ideal cycles are the pass's effective MACs (dense MACs x n/m where sparse) over the array's R*C*P
    multipliers: what the pass would take at full utilization.
    """
    a = cfg.array
    peak = a.rows * a.cols * a.mults_per_pe
    rows = []
    for mode, trace in trace_by_mode.items():
        r = simulate(trace, cfg, mode, "best", True)
        for pass_ in ("FF", "BP", "WG"):
            layers = [x for x in r.layers if x["pass"] == pass_]
            cycles = sum(x["cycles"] for x in layers)
            ideal = sum(x["mults"] for x in layers) / peak
            rows.append({"mode": mode, "pass": pass_, "cycles": cycles, "ideal_cycles": round(ideal),
                         "utilization": ideal / cycles if cycles else 0.0,
                         "fill_drain": sum(x["fill_drain_cycles"] for x in layers),
                         "dram_stall": sum(x["stall_cycles"] for x in layers)})
    return rows


def energy(cfg, trace_by_mode):
    """Energy per component (pJ) of one step per hardware mode: {mode: {component: pJ}}."""
    return {mode: simulate(trace, cfg, mode, "best", True).energy_pj for mode, trace in trace_by_mode.items()}


def schedules(cfg, trace):
    """All schedules of one workload (mode x dataflow x pre-generation) and the best per layer."""
    return compare(trace, cfg), best_per_layer(trace, cfg, mode="bdwp")


def time_breakdown(cfg, trace, mode="bdwp"):
    """Where the time goes per layer (sum over its GEMMs) and for the whole step."""
    r = simulate(trace, cfg, mode, "best", True)
    layers = {}
    for row in r.layers:
        d = layers.setdefault(row["layer"], {"layer": row["layer"], **dict.fromkeys(TIME_PARTS, 0)})
        d["compute"] += row["compute_cycles"] - row["fill_drain_cycles"]
        d["fill/drain"] += row["fill_drain_cycles"]
        d["DRAM stall"] += row["stall_cycles"]
    o = r.overheads
    exposed = o["update_exposed_cycles"] + o["topn_exposed_cycles"]
    total = {"array busy": o["array_cycles"] - exposed, "exposed update / top-N": exposed,
             "DRAM-bound excess": max(0, r.total_cycles - o["array_cycles"]), "total": r.total_cycles}
    return list(layers.values()), total


def sim_speed(path):
    """The SCALE-Sim comparison written by benchmarks/bench_sim_vs_scalesim.py, or None if absent."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise NmsatError(f"benchmark results {str(path)!r}: not valid JSON ({e.msg})") from None


__all__ = ["COMPONENTS", "accuracy", "energy", "pass_breakdown", "schedules", "sim_speed", "speedups", "time_breakdown"]
