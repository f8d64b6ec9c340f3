"""Benchmark: simulate one ResNet-50 ImageNet training step (FF+BP+WG, batch 32) and time it.

The workload comes from `nmsat.algo.workload.model_trace` (meta tensors, im2col factors included);
only the simulation is timed. Prints the wall time of one schedule (cold search cache) and of
`schedules.compare` (every mode x dataflow x pre-generation).
"""

import argparse
import time

from nmsat.algo.workload import model_trace
from nmsat.config import default_config
from nmsat.sim import layer, network, schedules


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--mode", default="bdwp")
    parser.add_argument("--dataflow", default="best")
    parser.add_argument("--pattern", default="2:8")
    args = parser.parse_args()
    cfg = default_config()
    trace = model_trace("resnet50", "imagenet", args.batch, args.mode, None if args.mode == "dense" else args.pattern)
    layer._best_shape.cache_clear()
    t0 = time.perf_counter()
    r = network.simulate(trace, cfg, mode=args.mode, dataflow=args.dataflow)
    one = time.perf_counter() - t0
    print(f"ResNet-50 ImageNet batch {args.batch}: {len(trace.gemms)} GEMMs, "
          f"{sum(x['tiles'] for x in r.layers):,} tiles")
    print(f"one schedule ({args.mode}, {args.dataflow}, pregen): {r.total_cycles:,} cycles "
          f"({r.seconds * 1e3:.1f} ms at {cfg.array.clock_mhz:g} MHz), simulated in {one:.2f} s")
    layer._best_shape.cache_clear()
    t0 = time.perf_counter()
    rows = schedules.compare(trace, cfg)
    print(f"all {len(rows)} schedules (compare, cold cache): {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
