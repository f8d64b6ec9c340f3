"""Benchmark: co-design sweep speed on the ResNet-50 ImageNet batch-32 BDWP 2:8 training step.

Prints (with the machine's load average; other work on the machine slows every figure):
1. simulation time per point in-process (`simulate_point`, distinct configs, cold search cache): median;
2. points per second of a whole `nmsat.explore` sweep in-process and on a local Ray with 2 CPUs (Ray's
   start-up timed apart, a fresh Ray per sweep so that no worker keeps a warm cache): the median over
   ``--sweeps`` runs of the sweep;
3. `nmsat simulate --model resnet50 --input imagenet` as a whole process with its trace cached: median.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nmsat.config import default_config
from nmsat.explore.point import simulate_point
from nmsat.explore.run import run
from nmsat.explore.spec import parse
from nmsat.sim import layer
from nmsat.trace_cache import cached_trace

SWEEP = {"array.rows": [16, 32, 64], "array.cols": [32, 64], "array.mults_per_pe": [2, 4, 8],
         "memory.bus_bytes": [64, 128]}  # 36 configs, most valid


def load():
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def per_point(trace, spec):
    base = default_config().to_dict()
    walls, valid = [], 0
    for hw in spec.hardware():
        t0 = time.perf_counter()
        row = simulate_point(base, hw, trace, "bdwp", "2:8")
        if row["status"] == "ok":
            walls.append(time.perf_counter() - t0)
            valid += 1
    return walls, valid


def sweep(spec, **kw):
    layer._best_shape.cache_clear()  # every point cold, as in a fresh process
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        rows = run(spec, Path(d) / "out.csv", progress=False, **kw)
        return len(rows), time.perf_counter() - t0


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sweeps", type=int, default=3)
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
    trace = cached_trace("resnet50", "imagenet", 32, "bdwp", "2:8")  # fills the cache (torch on a miss)
    spec = parse({"name": "bench", "methods": ["bdwp"], "patterns": ["2:8"], "sweep": SWEEP,
                  "workload": [{"model": "resnet50", "input": "imagenet", "batch": 32}]})
    print(load())
    walls, valid = per_point(trace, spec)
    print(f"per point in-process: median {statistics.median(walls) * 1e3:.1f} ms over {valid} valid configs "
          f"(min {min(walls) * 1e3:.1f}, max {max(walls) * 1e3:.1f} ms)")
    rates = []
    for _ in range(args.sweeps):
        n, wall = sweep(spec)
        rates.append(n / wall)
    print(f"sweep in-process: {n} points, median {statistics.median(rates):.1f} points/s over {args.sweeps} sweeps "
          f"({', '.join(f'{r:.1f}' for r in sorted(rates))})")
    if not args.no_ray:
        import ray

        rates, starts = [], []
        for _ in range(args.sweeps):  # a fresh Ray each time: its workers' search caches start cold too
            t0 = time.perf_counter()
            ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
            starts.append(time.perf_counter() - t0)
            n, wall = sweep(spec, ray=True)
            rates.append(n / wall)
            ray.shutdown()
        print(f"sweep on a fresh local Ray (2 CPUs) each time: start-up median {statistics.median(starts):.1f} s, "
              f"then {n} points, median {statistics.median(rates):.1f} points/s over {args.sweeps} sweeps "
              f"({', '.join(f'{r:.1f}' for r in sorted(rates))})")
    cmd = [str(Path(sys.executable).with_name("nmsat")), "simulate", "--model", "resnet50", "--input", "imagenet"]
    procs = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        procs.append(time.perf_counter() - t0)
    print(f"nmsat simulate resnet50 imagenet, whole process, cached trace: median {statistics.median(procs):.2f} s "
          f"over {args.repeats} runs ({', '.join(f'{x:.2f}' for x in sorted(procs))})")
    print(load())
    return 0


if __name__ == "__main__":
    sys.exit(main())
