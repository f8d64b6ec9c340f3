"""Gathers the report's figures: each function returns plain rows for one section."""

import csv
import io
import json
import statistics
from pathlib import Path

from nmsat import measured_clock
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
    """Per model x pattern x method (srste, bdwp): simulated step speedup over dense, the projected model's,
    and the bound. Every schedule uses the best dataflow per GEMM and pre-generation, dense included.
    """
    rows = []
    projected = cfg.replace(projection={"enabled": True})
    for model, size in models:
        dense_trace = workload(model, size, batch, "dense", None)
        dense = simulate(dense_trace, cfg, "dense", "best", True)
        dense_projected = simulate(dense_trace, projected, "dense", "best", True).total_cycles
        for pattern in patterns:
            for method in ("srste", "bdwp"):
                trace = workload(model, size, batch, method, pattern)
                r = simulate(trace, cfg, method, "best", True)
                p = simulate(trace, projected, method, "best", True).total_cycles
                rows.append({"model": model, "input": size, "pattern": pattern, "method": method,
                             "dense_cycles": dense.total_cycles, "cycles": r.total_cycles,
                             "speedup": dense.total_cycles / r.total_cycles, "projected_speedup": dense_projected / p,
                             "bound": speedup_bound(trace),
                             "array_cycles": r.overheads["array_cycles"],
                             "dram_bound_cycles": r.overheads["dram_bound_cycles"],
                             "dense_array_cycles": dense.overheads["array_cycles"]})
            if progress:
                progress()
    return rows


PREVIOUS_SPADS = {"act_spad_kib": 512, "out_spad_kib": 256}  # the default before the GEMM engine
PROJECTION_STEPS = (
    ("projected model, the previous default scratchpads (512 / 256 KiB)", {}),
    ("projected model (every assumption on)", {}),
    ("- on-chip im2col (A read as the GEMM sees it)", {"onchip_im2col": False}),
    ("- DRAM bandwidth: one AXI4 port", {"onchip_im2col": False, "dram_gbps": None}),
    ("- weight-update and top-N units", {"onchip_im2col": False, "dram_gbps": None, "update_topn": False}),
)


def projection_steps(cfg, models=SPEEDUP_MODELS, pattern="2:8", batch=32):
    """BDWP speedup over dense per model as the projected model's assumptions are taken away one at a
    time, ending with the generated hardware (the RTL's GEMM engine): one row per step."""
    traces = {(m, s, meth): workload(m, s, batch, meth, None if meth == "dense" else pattern)
              for m, s in models for meth in ("dense", "bdwp")}
    steps = []
    for i, (label, changes) in enumerate(PROJECTION_STEPS):
        if changes.get("dram_gbps", 0) is None:
            changes = {**changes, "dram_gbps": cfg.memory.gbps(cfg.array.clock_mhz)}
        memory = PREVIOUS_SPADS if i == 0 else {}
        steps.append((label, cfg.replace(projection={"enabled": True, **changes}, memory=memory)))
    steps.append(("= generated hardware (WS GEMM engine, ping-pong banks; update and top-N engines in series; "
                  "exact cycles)", cfg))
    rows = []
    for label, c in steps:
        row = {"step": label}
        for m, s in models:
            dense = simulate(traces[(m, s, "dense")], c, "dense", "best", True).total_cycles
            row[m] = dense / simulate(traces[(m, s, "bdwp")], c, "bdwp", "best", True).total_cycles
        row["mean"] = statistics.fmean(row[m] for m, _ in models)
        rows.append(row)
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


def nongemm(cfg, models=SPEEDUP_MODELS, pattern="2:8", batch=32):
    """Per model: the non-GEMM share of a dense step on the *projected* vector unit and how it caps the
    BDWP speedup (GEMMs only versus GEMMs + non-GEMM work; see `nmsat.sim.vector`)."""
    on = cfg.replace(vector={"enabled": True})
    rows = []
    for model, size in models:
        dense, bdwp = workload(model, size, batch, "dense", None), workload(model, size, batch, "bdwp", pattern)
        d0, b0 = simulate(dense, cfg, "dense", "best", True), simulate(bdwp, cfg, "bdwp", "best", True)
        d1, b1 = simulate(dense, on, "dense", "best", True), simulate(bdwp, on, "bdwp", "best", True)
        share = d1.overheads["nongemm_share"]
        rows.append({"model": model, "input": size, "nongemm_ops": len(dense.nongemm),
                     "vector_cycles": d1.overheads["vector_cycles"], "dense_share": share,
                     "speedup_gemm_only": d0.total_cycles / b0.total_cycles,
                     "speedup_with_nongemm": d1.total_cycles / b1.total_cycles,
                     "cap": d1.overheads["gemm_speedup_cap"]})
    return rows


def sim_speed(path):
    """The SCALE-Sim comparison written by benchmarks/bench_sim_vs_scalesim.py, or None if absent."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise NmsatError(f"benchmark results {str(path)!r}: not valid JSON ({e.msg})") from None


__all__ = ["COMPONENTS", "accuracy", "energy", "nongemm", "pass_breakdown", "projection_steps", "schedules",
           "sim_speed", "speedups", "time_breakdown"]


TIMING_RESULTS = "benchmarks/results/timing_pe_{arith}.json"  # written by benchmarks/bench_timing.py
ARITHMETIC_PATTERN = "2:8"


def _timing(path):
    """A `benchmarks/bench_timing.py` result with both variants: {config, dense, nm: median Fmax MHz, file,
    device, seeds, path: the N:M critical path}, or None."""
    path = Path(path)
    if not path.exists():
        return None
    t = json.loads(path.read_text())
    if "nm" not in t["variants"]:
        return None
    s = measured_clock.summary(t)
    cp = t["variants"]["nm"]["critical_path"]
    return {"config": t["config"], **s["fmax_mhz"], "file": str(path), "device": s["device"], "seeds": s["seeds"],
            "path": f"{cp['from']} -> {cp['to']}"}


def pe_fmax(cfg, arith):
    """Place-and-route of `cfg`'s PE in `arith` (`benchmarks/bench_timing.py`): `_timing`'s fields, or None
    when no result for this config is recorded."""
    t = _timing(TIMING_RESULTS.format(arith=arith))
    return t if t and t["config"] == cfg.name else None


CORE_TIMING_RESULTS = "benchmarks/results/timing_core_{arith}.json"  # whole cores that fit an ECP5-85


def core_fmax(arith):
    """Place-and-route of the whole core that `benchmarks/bench_timing.py` times in `arith` (hw-small in int,
    ecp5-bf16 in bf16: the 32x32 core does not fit an ECP5-85): `_timing`'s fields, or None."""
    return _timing(CORE_TIMING_RESULTS.format(arith=arith))


def arithmetic_rows(cfg, models=SPEEDUP_MODELS, pattern=ARITHMETIC_PATTERN, batch=32):
    """Per model and datapath (int, bf16): dense and BDWP step cycles on the generated hardware and, where the
    PE's Fmax is measured, the step's milliseconds at it (the dense-only PE's Fmax for dense, the N:M PE's for
    BDWP) and the wall-clock speedup that gives."""
    rows = []
    for arith in ("int", "bf16"):
        c = cfg.with_arithmetic(arith)
        fmax = pe_fmax(cfg, arith)
        for model, size in models:
            dense = simulate(workload(model, size, batch, "dense", None), c, "dense", "best", True).total_cycles
            bdwp = simulate(workload(model, size, batch, "bdwp", pattern), c, "bdwp", "best", True).total_cycles
            row = {"model": model, "arithmetic": arith, "dense_cycles": dense, "bdwp_cycles": bdwp,
                   "cycle_speedup": dense / bdwp, "dense_fmax_mhz": None, "nm_fmax_mhz": None, "dense_ms": None,
                   "bdwp_ms": None, "time_speedup": None}
            if fmax:
                row.update(dense_fmax_mhz=fmax["dense"], nm_fmax_mhz=fmax["nm"], dense_ms=dense / fmax["dense"] / 1e3,
                           bdwp_ms=bdwp / fmax["nm"] / 1e3)
                row["time_speedup"] = row["dense_ms"] / row["bdwp_ms"]
            rows.append(row)
    return rows
