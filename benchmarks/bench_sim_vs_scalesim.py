"""Benchmark: nmsat vs SCALE-Sim v3 on the same dense ResNet-18 layers, cycles and simulation speed.

Both simulators get the ResNet-18 convolution layers of ``../shared/scalesim/resnet18_topology.csv``
(batch 1, 224x224, no padding: SCALE-Sim's own conv-to-GEMM mapping, M = output pixels, N = filters,
K = kh*kw*channels) on a 32x32 weight-stationary array with one multiplier per PE, dense. Output rows
follow SCALE-Sim's convention ``ceil((H - R + S) / S)`` (PyTorch's unpadded conv has
``(H - R) // S + 1``, one row fewer when ``(H - R) % S != 0``), so both simulate the same GEMMs.

SCALE-Sim runs once through its Python API in its own virtualenv (created here on first use:
``pip install scalesim==3.0.0 "numpy<2.4"``), with ``save_disk_space=True``; its per-layer compute
cycles are column 3 of COMPUTE_REPORT.csv. nmsat's config gives it scratchpads large enough that a WS
fold streams all M rows at once, as SCALE-Sim's folds do, so both count the same folds; nmsat's
compute cycles (no DRAM stalls, as SCALE-Sim's stall-free ``CALC`` bandwidth) are compared.
With ``--scalesim-results FILE`` SCALE-Sim is not run: its per-layer cycles and wall times are taken from
a previous results file of this benchmark (recorded as ``scalesim_source``) and only nmsat is re-run.
Writes ``benchmarks/results/sim_vs_scalesim.json`` atomically.
"""

import argparse
import csv
import json
import statistics
import subprocess
import sys
import time
import venv
from pathlib import Path

from nmsat import atomic
from nmsat.config import default_config
from nmsat.sim import scalesim
from nmsat.sim.layer import run_gemm
from nmsat.sim.tiling import default_tiling

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "scalesim"
RUNNER = """
import sys, time
from scalesim.scale_sim import scalesim
cfg, topo, layout, out = sys.argv[1:5]
s = scalesim(save_disk_space=True, verbose=False, config=cfg, topology=topo, layout=layout,
             input_type_gemm=False)
t0 = time.perf_counter()
s.run_scale(top_path=out)
print("RUN_SECONDS", time.perf_counter() - t0)
"""


def read_topology(path, limit=None):
    """SCALE-Sim topology rows -> list of (name, Gemm) with SCALE-Sim's conv-to-GEMM mapping."""
    return [(g.layer, g) for g in scalesim.read_topology(path)[:limit]]


def ensure_venv(path):
    """The SCALE-Sim virtualenv's python, creating the virtualenv on first use."""
    python = path / "bin" / "python"
    if not python.exists():
        venv.create(path, with_pip=True)
        pip = [str(python), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "scalesim==3.0.0", "numpy<2.4"], check=True)
    return python


def run_scalesim(python, topology, workdir):
    """Run SCALE-Sim once; returns (per-layer compute cycles, wall seconds, run_scale seconds)."""
    workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    out = subprocess.run([str(python), "-c", RUNNER, str(SHARED / "ws32_dense.cfg"), str(topology),
                          str(SHARED / "layout_default.csv"), str(workdir)],
                         check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    run = float(next(line.split()[1] for line in out.stdout.splitlines() if line.startswith("RUN_SECONDS")))
    report = next(workdir.rglob("COMPUTE_REPORT.csv"))
    with open(report) as f:
        cycles = [int(float(r[2])) for r in list(csv.reader(f))[1:] if len(r) > 2]
    return cycles, wall, run


def nmsat_config():
    """32x32 WS, one multiplier per PE, dense, scratchpads holding a whole layer's streamed rows; no WS row
    groups (max_row_groups = 1), as SCALE-Sim's plain array."""
    return default_config().replace(
        array={"rows": 32, "cols": 32, "mults_per_pe": 1, "patterns": [], "dataflows": ["ws"],
               "max_row_groups": 1},
        memory={"act_spad_kib": 65536, "out_spad_kib": 65536})


def run_nmsat(gemms, repeats):
    """Per-layer nmsat WS compute cycles and the median over `repeats` runs of the wall seconds for all layers."""
    cfg = nmsat_config()
    walls = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        cycles = [run_gemm(g, cfg, None, default_tiling(g, cfg, None, "ws")).compute_cycles for _, g in gemms]
        walls.append(time.perf_counter() - t0)
    return cycles, statistics.median(walls)


def stored_scalesim(path, gemms):
    """(per-layer cycles, wall s, run_scale s) of SCALE-Sim from a previous results file of this benchmark."""
    old = json.loads(Path(path).read_text())
    by_layer = {r["layer"]: r["scalesim_cycles"] for r in old["layers"]}
    return [by_layer[name] for name, _ in gemms], old["scalesim_wall_s"], old["scalesim_run_scale_s"]


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", type=int, default=None, help="only the first N layers")
    parser.add_argument("--venv", type=Path, default=HERE / ".scalesim-venv")
    parser.add_argument("--workdir", type=Path, default=HERE / ".scalesim-run")
    parser.add_argument("--repeats", type=int, default=20, help="nmsat timing repeats (median of)")
    parser.add_argument("--scalesim-results", type=Path, default=None,
                        help="reuse SCALE-Sim's cycles and times from this earlier results JSON (no SCALE-Sim run)")
    parser.add_argument("-o", "--output", type=Path, default=HERE / "results" / "sim_vs_scalesim.json")
    args = parser.parse_args()
    if args.scalesim_results is not None and args.layers is not None:
        parser.error("--scalesim-results holds whole-network SCALE-Sim times: do not combine it with --layers")
    gemms = read_topology(SHARED / "resnet18_topology.csv", args.layers)
    topology = SHARED / "resnet18_topology.csv"
    if args.layers is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        topology = args.workdir / "topology.csv"
        with open(SHARED / "resnet18_topology.csv") as f:
            topology.write_text("".join(f.readlines()[: args.layers + 1]))
    if args.scalesim_results is not None:
        ss_cycles, ss_wall, ss_run = stored_scalesim(args.scalesim_results, gemms)
        source = f"cycles and times stored by an earlier run in {args.scalesim_results.name}, not re-run"
    else:
        ss_cycles, ss_wall, ss_run = run_scalesim(ensure_venv(args.venv), topology, args.workdir / "out")
        source = "run with this benchmark"
    nm_cycles, nm_wall = run_nmsat(gemms, args.repeats)
    print(f"{'layer':<10} {'M':>6} {'N':>5} {'K':>5} {'SCALE-Sim':>10} {'nmsat':>10} {'ratio':>7}")
    layers = []
    for (name, g), s, n in zip(gemms, ss_cycles, nm_cycles, strict=True):
        layers.append({"layer": name, "m": g.m, "n": g.n, "k": g.k, "scalesim_cycles": s, "nmsat_cycles": n,
                       "ratio": n / s})
        print(f"{name:<10} {g.m:>6} {g.n:>5} {g.k:>5} {s:>10,} {n:>10,} {n / s:>7.4f}")
    ss_total, nm_total = sum(ss_cycles), sum(nm_cycles)
    ratios = [r["ratio"] for r in layers]
    result = {
        "workload": "ResNet-18 conv+fc layers, batch 1, 224x224 (SCALE-Sim topology)",
        "array": "32x32 WS, P=1",
        "out_rows": "SCALE-Sim's ceil((H - R + S) / S)",
        "scalesim_source": source,
        "layers": layers, "ratio_min": min(ratios), "ratio_max": max(ratios),
        "scalesim_total_cycles": ss_total, "nmsat_total_cycles": nm_total,
        "scalesim_wall_s": ss_wall, "scalesim_run_scale_s": ss_run, "nmsat_wall_s": nm_wall,
        "scalesim_cycles_per_s": ss_total / ss_wall, "nmsat_cycles_per_s": nm_total / nm_wall,
    }
    result["speed_ratio"] = result["nmsat_cycles_per_s"] / result["scalesim_cycles_per_s"]
    print(f"total cycles: SCALE-Sim {ss_total:,}, nmsat {nm_total:,} (ratio {nm_total / ss_total:.4f}); "
          f"per layer {min(ratios):.3f}-{max(ratios):.3f}")
    print(f"wall: SCALE-Sim {ss_wall:.1f} s (run_scale {ss_run:.1f} s), "
          f"nmsat {nm_wall * 1e3:.2f} ms (median of {args.repeats})")
    print(f"simulated cycles/s: SCALE-Sim {result['scalesim_cycles_per_s']:,.0f}, "
          f"nmsat {result['nmsat_cycles_per_s']:,.0f}: {result['speed_ratio']:,.0f}x")
    atomic.write_text(args.output, json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
