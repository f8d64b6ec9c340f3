"""Time of one N:M training step (SR-STE, BDWP, transposable, Bi-Mask) relative to a dense step, on CPU.

One step = forward, cross-entropy, backward (BP with the second mask for BDWP), SGD update; the masks
are recomputed every step. Methods are timed round-robin (one step each in turn) so that load from
other processes hits them alike; the table shows the median per method and its ratio to dense. The
masks come from the C++ kernel (`nmsat.algo.kernel`) unless ``NMSAT_MASK_KERNEL=torch`` is set; the
1-minute load average before and after is printed (the figures mean little on a busy machine).
Medians leave out Bi-Mask's permutation search (one step in 100); the means include it.
``--out`` writes the table as JSON (the report's CPU-overhead column reads
``benchmarks/results/bdwp_step.json``).

    .venv/bin/python benchmarks/bench_bdwp_step.py [--threads 1] [--repeats 30] [--pattern 2:8] [--interval 1]
        [--out benchmarks/results/bdwp_step.json]
"""

import argparse
import json
import os
import platform
import statistics
import time

import torch
import torch.nn.functional as F

from nmsat import atomic
from nmsat.algo.kernel import library
from nmsat.algo.layers import sparsify_
from nmsat.algo.models import build_model, input_shape
from nmsat.algo.nmconfig import NMConfig

METHODS = ("dense", "srste", "bdwp", "transposable", "bimask")
CASES = (("digits_cnn", "digits", 1.0), ("resnet18", "cifar", 0.2))  # (model, input, repeat scale)


def _stepper(model, input, method, pattern, batch, interval):
    torch.manual_seed(0)
    cfg = NMConfig.parse(method, None if method == "dense" else pattern, interval=interval)
    net = sparsify_(build_model(model, input), cfg)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(batch, *input_shape(input))
    y = torch.randint(0, 10, (batch,))

    def step():
        start = time.perf_counter()
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return time.perf_counter() - start

    return step


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=30, help="steps timed per method (ResNet-18: a fifth)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--pattern", default="2:8")
    ap.add_argument("--interval", type=int, default=1, help="mask update every k steps")
    ap.add_argument("--out", help="also write the results as JSON here")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()[0]
    print(f"torch {torch.__version__}, {args.threads} thread(s), batch {args.batch}, pattern {args.pattern}, "
          f"masks updated every {args.interval} step(s) by the {'C++ kernel' if library() else 'torch path'}; "
          f"load average {load_before:.2f} on {os.cpu_count()} CPUs")
    print(f"{'model':<11} {'input':<7} {'method':<12} {'median ms':>10} {'vs dense':>9} {'mean ms':>9} {'steps':>6}")
    rows = []
    for model, input, scale in CASES:
        steps = {m: _stepper(model, input, m, args.pattern, args.batch, args.interval) for m in METHODS}
        for step in steps.values():  # warm-up
            step()
            step()
        times = {m: [] for m in METHODS}
        for _ in range(max(3, int(args.repeats * scale))):
            for m, step in steps.items():
                times[m].append(step())
        dense = statistics.median(times["dense"])
        for m in METHODS:
            med, mean = statistics.median(times[m]), statistics.fmean(times[m])
            rows.append({"model": model, "input": input, "method": m, "median_ms": med * 1e3,
                         "vs_dense": med / dense, "mean_ms": mean * 1e3, "steps": len(times[m])})
            print(f"{model:<11} {input:<7} {m:<12} {med * 1e3:>10.1f} {med / dense:>8.2f}x {mean * 1e3:>9.1f} "
                  f"{len(times[m]):>6}")
    load_after = os.getloadavg()[0]
    print(f"load average after: {load_after:.2f}")
    if args.out:
        meta = {"torch": torch.__version__, "threads": args.threads, "batch": args.batch, "pattern": args.pattern,
                "interval": args.interval, "masks": "C++ kernel" if library() else "torch path",
                "cpus": os.cpu_count(), "machine": platform.machine(), "load_before": load_before,
                "load_after": load_after}
        atomic.write_text(args.out, json.dumps({**meta, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
