"""Workload extraction: the GEMMs of one training step of any `nn.Module`, on meta tensors (no compute).

Per weight layer (``nn.Linear``, ``nn.Conv2d`` with ``groups`` g; trace convention Y[M,N] = A[M,K] B[N,K]^T):

* FF: M = batch*out_pixels (Linear: all leading dims), N = out/g, K = in/g*kh*kw, count = g;
* BP: M = batch*out_pixels, N = in/g*kh*kw, K = out/g; omitted when the layer's input needs no
  gradient (the first layer, fed by the data);
* WG: M = out/g, N = in/g*kh*kw, K = batch*out_pixels; always dense.

``im2col`` (A, B, Y factors) is ``max(1, im2col size / stored size)`` for the operand holding X's
im2col view (FF: A, BP: Y = dX before col2im, WG: B = X^T) and 1 elsewhere; Linear layers give 1.

Sparsity (B operand, along K): ``srste`` makes FF sparse, ``bdwp`` / ``transposable`` / ``bimask`` FF
and BP (`nmsat.methods.SPARSE_BP_METHODS`), for the layers the
filter picks (default `nmsat.algo.layers.default_filter`); ``dense`` has no sparse GEMM.
An `ActMatmul` ``a[..., M, K] @ b[..., K, N]`` (attention scores, context) gives a dense FF GEMM
(M, N, K, count = prod of leading dims), a BP GEMM for ``da = dY b^T`` (M, K, N) and a BP GEMM named
``<layer>.rhs`` for ``db = a^T dY`` (K, N, M), each only when that operand needs a gradient.
"""

import copy

import torch
from torch import nn

from nmsat.algo.layers import default_filter, densify_, nm_layers
from nmsat.algo.matmul import ActMatmul
from nmsat.algo.models import build_model, input_shape
from nmsat.algo.nmconfig import NMConfig
from nmsat.errors import NmsatError
from nmsat.methods import SPARSE_BP_METHODS
from nmsat.trace import PASSES, Gemm, Trace


def _weight_gemms(name, module, x, y, ff, bp):
    g = getattr(module, "groups", 1)
    out, red = module.weight.shape[0] // g, module.weight[0].numel()
    rows = y.numel() // module.weight.shape[0]
    cols = (max(1.0, rows * red * g / x.numel()),)  # im2col view of X (or dX) over the stored tensor
    gemms = [Gemm(name, "FF", rows, out, red, ff, g, cols + (1.0, 1.0))]
    if x.requires_grad:
        gemms.append(Gemm(name, "BP", rows, red, out, bp, g, (1.0, 1.0) + cols))
    return gemms, Gemm(name, "WG", out, red, rows, None, g, (1.0,) + cols + (1.0,))


def _matmul_gemms(name, a, b):
    m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
    count = a.numel() // (m * k)
    back = []
    if a.requires_grad:
        back.append(Gemm(name, "BP", m, k, n, None, count))
    if b.requires_grad:
        back.append(Gemm(f"{name}.rhs", "BP", k, n, m, None, count))
    return [Gemm(name, "FF", m, n, k, None, count)], back


def _config(method, pattern):
    return NMConfig.parse(method, None if method == "dense" else pattern)


def trace_from_module(module, input_shape, batch=32, method="bdwp", pattern="2:8", name="model",
                      filter_fn=None):
    """The `Trace` (no masks) of one training step of `module` on inputs ``[batch, *input_shape]``.

    The module is run on the meta device (a copy, with N:M layers swapped back, if it holds real data).
    """
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise NmsatError(f"batch {batch!r}: must be a positive integer")
    cfg = _config(method, pattern)
    keep = filter_fn or default_filter(cfg)
    if nm_layers(module) or any(not p.is_meta for p in module.parameters()):
        module = densify_(copy.deepcopy(module)).to("meta")
    ff_forward, backward = [], []

    def hook(mod, args, out, name):
        if isinstance(mod, ActMatmul):
            ff, back = _matmul_gemms(name, *args)
        else:
            chosen = cfg.method != "dense" and keep(name, mod)
            ff_p = cfg.pattern if chosen else None
            bp_p = cfg.pattern if chosen and cfg.method in SPARSE_BP_METHODS else None
            ff, wg = _weight_gemms(name, mod, args[0], out, ff_p, bp_p)
            back = [*ff[1:], wg]
            ff = ff[:1]
        ff_forward.extend(ff)
        backward.append(back)

    handles = [m.register_forward_hook(lambda mod, a, o, n=n: hook(mod, a, o, n))
               for n, m in module.named_modules() if isinstance(m, nn.Linear | nn.Conv2d | ActMatmul)]
    try:
        x = torch.empty((batch, *input_shape), device="meta")
        with torch.enable_grad():
            module(x)
    except RuntimeError as e:
        raise NmsatError(f"model {name!r} does not accept input shape {tuple(input_shape)}: "
                         f"{str(e).splitlines()[0]}") from None
    finally:
        for h in handles:
            h.remove()
    gemms = ff_forward + [g for back in reversed(backward) for g in back]
    return Trace(model=name, method=cfg.method, pattern=cfg.pattern, batch=batch, gemms=tuple(gemms))


def model_trace(model: str, input: str = "cifar", batch: int = 32, method: str = "bdwp",
                pattern: str | None = "2:8") -> Trace:
    """The `Trace` of one training step of built-in `model` at input size `input`."""
    shape = input_shape(input)
    with torch.device("meta"):
        module = build_model(model, input)
    return trace_from_module(module, shape, batch, method, pattern, name=model)


def macs_by_pass(trace):
    """{pass: (dense MACs, effective MACs)}; a sparse GEMM's effective MACs are its MACs * n/m."""
    out = {}
    for p in PASSES:
        gemms = [g for g in trace.gemms if g.pass_ == p]
        dense = sum(g.macs for g in gemms)
        eff = sum(g.macs * g.sparse.n // g.sparse.m if g.sparse else g.macs for g in gemms)
        out[p] = (dense, eff)
    return out
