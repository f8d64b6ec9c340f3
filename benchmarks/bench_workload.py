"""Benchmark: wall time of workload extraction (forward + backward through the dispatcher, meta tensors).

Prints the median of ``--repeats`` runs per built-in model at ImageNet size; state the machine load
(``uptime``) with the figures.
"""

import argparse
import statistics
import sys
import time

from nmsat.algo.workload import model_trace


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", nargs="+", default=["resnet18", "resnet50", "vit_small"])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    for name in args.models:
        walls = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            trace = model_trace(name, "imagenet", args.batch)
            walls.append(time.perf_counter() - t0)
        print(f"{name:<10} {len(trace.gemms):>4} GEMMs {len(trace.nongemm):>4} non-GEMM ops: "
              f"median {statistics.median(walls):.3f} s over {args.repeats} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
