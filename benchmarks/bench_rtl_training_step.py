"""Benchmark: one whole training step of the digits CNN (every FF, BP and WG GEMM of its BDWP 2:8 trace)
run on the generated RTL (Verilator, hw-small, the deterministic AXI4 memory model), each GEMM with the
plan the model's search picked. Checks Y against the golden GEMM and the step's RTL GEMM cycles against the
model's (`nmsat.sim.network.simulate`), and measures the RTL simulation speed: simulated cycles per second
of wall time while GEMMs run (the testbench is idle then), and of the whole run (loading memory included).
Writes benchmarks/results/rtl_training_step.json.
"""

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from nmsat.algo.workload import model_trace
from nmsat.config import load_config
from nmsat.core_params import core_params
from nmsat.hw.driver import memory_bytes
from nmsat.hw.tb.validate import run_cases, trace_cases
from nmsat.sim.network import simulate
from nmsat.sim.tiling import cdiv

OUT = Path("benchmarks/results/rtl_training_step.json")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs (the first also builds)")
    parser.add_argument("--build-root", default=".cache/nmsat-hw-sim")
    args = parser.parse_args()
    cfg = load_config("configs/hw-small.toml")
    p = core_params(cfg)
    trace = model_trace("digits_cnn", "digits", args.batch, "bdwp", "2:8")
    model = simulate(trace, cfg, "bdwp")
    model_gemms = sum(row["cycles"] for row in model.layers)  # the step's GEMMs (the engines are not run here)
    cases = trace_cases(trace, cfg, "bdwp", seed=0)
    words = 1 << max(cdiv(memory_bytes(c["plan"], c["where"]), p.bus_bytes) for c in cases).bit_length()
    walls = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        results = run_cases(cfg, cases, "verilator", args.build_root, words)
        walls.append(time.perf_counter() - t0)
    rtl = sum(r["rtl_cycles"] * c["count"] for r, c in zip(results, cases, strict=True))
    gemm_wall = [r["gemm_wall_s"] for r in results]
    doc = {
        "workload": f"digits_cnn BDWP 2:8 batch {args.batch}, {len(cases)} GEMMs", "config": cfg.name,
        "rtl_cycles": rtl, "model_cycles": model_gemms, "cycles_equal": rtl == model_gemms,
        "model_step_cycles_with_engines": model.total_cycles,
        "results_equal": all(r["results_equal"] for r in results),
        "per_gemm": [{"layer": g.layer, "pass": g.pass_, "shape": r["shape"], "mode": r["mode"],
                      "rtl_cycles": r["rtl_cycles"], "model_cycles": r["model_cycles"]}
                     for g, r in zip(trace.gemms, results, strict=True)],
        "wall_s_runs": walls, "wall_s_median_after_build": statistics.median(walls[1:] or walls),
        "gemm_wall_s": sum(gemm_wall), "gemm_cycles_per_s": rtl / sum(gemm_wall),
        "whole_run_cycles_per_s": rtl / statistics.median(walls[1:] or walls),
        "load_average": os.getloadavg(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(json.dumps({k: v for k, v in doc.items() if k != "per_gemm"}, indent=1))


if __name__ == "__main__":
    main()
