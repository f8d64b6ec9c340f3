"""Benchmark: simulate one ResNet-50 ImageNet training step (FF+BP+WG, batch 32) and time it.

The GEMMs are built analytically here (torchvision ResNet-50 v1.5 shapes), so the benchmark needs no
torch. Prints the wall time of one schedule (cold search cache) and of `schedules.compare`.
"""

import argparse
import time

from nmsat.config import default_config
from nmsat.nm import NMPattern
from nmsat.sim import layer, network, schedules
from nmsat.trace import Gemm, Trace


def conv(name, batch, cin, cout, ksize, stride, hin, pattern, first=False):
    """FF, BP (not for the first layer) and WG GEMMs of a 'same'-padded conv; returns (gemms, hout)."""
    hout = (hin + 2 * (ksize // 2) - ksize) // stride + 1
    m, k = batch * hout * hout, cin * ksize * ksize
    gemms = [Gemm(name, "FF", m, cout, k, pattern)]
    if not first:
        gemms.append(Gemm(name, "BP", m, k, cout, pattern))
    gemms.append(Gemm(name, "WG", cout, k, m))
    return gemms, hout


def resnet50(batch=32, pattern="2:8"):
    """ResNet-50 on 224x224 ImageNet as a BDWP trace (conv1 and fc dense)."""
    pat = NMPattern.parse(pattern)
    gemms, h = conv("conv1", batch, 3, 64, 7, 2, 224, None, first=True)
    h //= 2
    cin = 64
    for stage, (width, blocks) in enumerate(zip((64, 128, 256, 512), (3, 4, 6, 3), strict=True), start=1):
        for b in range(blocks):
            stride = 2 if stage > 1 and b == 0 else 1
            name = f"layer{stage}.{b}"
            g1, _ = conv(f"{name}.conv1", batch, cin, width, 1, 1, h, pat)
            g2, hout = conv(f"{name}.conv2", batch, width, width, 3, stride, h, pat)
            g3, _ = conv(f"{name}.conv3", batch, width, width * 4, 1, 1, hout, pat)
            gemms += g1 + g2 + g3
            if b == 0:
                gemms += conv(f"{name}.downsample", batch, cin, width * 4, 1, stride, h, pat)[0]
            cin, h = width * 4, hout
    gemms += [Gemm("fc", "FF", batch, 1000, 2048), Gemm("fc", "BP", batch, 2048, 1000),
              Gemm("fc", "WG", 1000, 2048, batch)]
    return Trace(model="resnet50", method="bdwp", pattern=pat, batch=batch, gemms=tuple(gemms))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--mode", default="bdwp")
    parser.add_argument("--dataflow", default="best")
    args = parser.parse_args()
    cfg, trace = default_config(), resnet50(args.batch)
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
