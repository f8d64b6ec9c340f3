"""Test-only workloads: ResNet-18 training-step GEMMs built analytically (no torch)."""

from nmsat.nm import NMPattern
from nmsat.trace import Gemm, Trace


def conv_gemms(layer, batch, cin, cout, ksize, stride, hin, pattern, first=False):
    """FF, BP (not for the first layer) and WG GEMMs of a 'same'-padded conv; returns (gemms, hout)."""
    hout = (hin + 2 * (ksize // 2) - ksize) // stride + 1
    m, kk = batch * hout * hout, cin * ksize * ksize
    gemms = [Gemm(layer, "FF", m, cout, kk, pattern)]
    if not first:
        gemms.append(Gemm(layer, "BP", m, kk, cout, pattern))
    gemms.append(Gemm(layer, "WG", cout, kk, m))
    return gemms, hout


def resnet18(batch=32, image=32, pattern="2:8", classes=10):
    """ResNet-18 (CIFAR stem for 32x32 inputs, else ImageNet) as a BDWP trace; conv1 and fc dense."""
    pat = None if pattern is None else NMPattern.parse(pattern)
    cifar = image <= 64
    ksize, stride = (3, 1) if cifar else (7, 2)
    gemms, h = conv_gemms("conv1", batch, 3, 64, ksize, stride, image, None, first=True)
    if not cifar:
        h //= 2  # max pool
    cin = 64
    for stage, cout in enumerate((64, 128, 256, 512), start=1):
        for block in range(2):
            stride = 2 if stage > 1 and block == 0 else 1
            name = f"layer{stage}.{block}"
            g, hmid = conv_gemms(f"{name}.conv1", batch, cin, cout, 3, stride, h, pat)
            gemms += g
            gemms += conv_gemms(f"{name}.conv2", batch, cout, cout, 3, 1, hmid, pat)[0]
            if stride != 1 or cin != cout:
                gemms += conv_gemms(f"{name}.shortcut", batch, cin, cout, 1, stride, h, pat)[0]
            cin, h = cout, hmid
    gemms += [Gemm("fc", "FF", batch, classes, 512), Gemm("fc", "BP", batch, 512, classes),
              Gemm("fc", "WG", classes, 512, batch)]
    return Trace(model="resnet18", method="dense" if pat is None else "bdwp", pattern=pat, batch=batch,
                 gemms=tuple(gemms))
