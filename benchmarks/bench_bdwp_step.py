"""Time of one BDWP (and SR-STE) training step relative to a dense step, on CPU.

One step = forward, cross-entropy, backward (BP with the second mask for BDWP), SGD update; the masks
are recomputed every step. Methods are timed round-robin (one step each in turn) so that load from
other processes hits them alike; the table shows the median per method and its ratio to dense. The
masks come from the C++ kernel (`nmsat.algo.kernel`) unless ``NMSAT_MASK_KERNEL=torch`` is set; the
1-minute load average before and after is printed (the figures mean little on a busy machine).

    .venv/bin/python benchmarks/bench_bdwp_step.py [--threads 1] [--repeats 30] [--pattern 2:8] [--interval 1]
"""

import argparse
import os
import statistics
import time

import torch
import torch.nn.functional as F

from nmsat.algo.kernel import library
from nmsat.algo.layers import sparsify_
from nmsat.algo.models import build_model, input_shape
from nmsat.algo.nmconfig import NMConfig

METHODS = ("dense", "srste", "bdwp")
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
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s), batch {args.batch}, pattern {args.pattern}, "
          f"masks updated every {args.interval} step(s) by the {'C++ kernel' if library() else 'torch path'}; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"{'model':<11} {'input':<7} {'method':<6} {'median ms':>10} {'vs dense':>9} {'steps':>6}")
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
            med = statistics.median(times[m])
            print(f"{model:<11} {input:<7} {m:<6} {med * 1e3:>10.1f} {med / dense:>8.2f}x {len(times[m]):>6}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
