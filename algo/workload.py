"""Workload extraction: the GEMMs and non-GEMM work of one training step of any `nn.Module`, on meta tensors.

The step (forward, then backward from a gradient on every output that needs one) runs under
`nmsat.algo.dispatch.StepRecorder`, which turns each aten op into a trace entry (see that module for the
rules). For a weight layer (``nn.Linear``, ``nn.Conv2d`` with ``groups`` g) this gives:

* FF: M = batch*out_pixels (Linear: all leading dims), N = out/g, K = in/g*kh*kw, count = g;
* BP: M = batch*out_pixels, N = in/g*kh*kw, K = out/g; absent when the layer's input needs no
  gradient (the first layer, fed by the data);
* WG: M = out/g, N = in/g*kh*kw, K = batch*out_pixels; always dense.

``im2col`` (A, B, Y factors) is ``max(1, im2col size / stored size)`` for the operand holding X's
im2col view (FF: A, BP: Y = dX before col2im, WG: B = X^T) and 1 elsewhere; matrix products give 1.

Sparsity (B operand, along K): ``srste`` makes FF sparse, ``bdwp`` / ``transposable`` / ``bimask`` FF
and BP (`nmsat.methods.SPARSE_BP_METHODS`), for the weights of the ``nn.Linear`` / ``nn.Conv2d`` layers
the filter picks (default `nmsat.algo.layers.default_filter`), exactly the layers
`nmsat.algo.layers.sparsify_` swaps; every other GEMM (attention scores and context, other parameters
such as `nn.MultiheadAttention`'s in-projection) is dense. Products of two activations (``matmul``,
``einsum``, `ActMatmul`, scaled-dot-product attention) give dense FF GEMMs and, for each operand that
needs a gradient, a dense BP GEMM, named after the module they run in.
"""

import copy

import torch
from torch import nn

from nmsat.algo.dispatch import StepRecorder
from nmsat.algo.layers import default_filter, densify_, nm_layers
from nmsat.algo.models import build_model, input_shape
from nmsat.algo.nmconfig import NMConfig
from nmsat.algo.usermodel import build_user_model, is_factory_spec, parse_input_shape
from nmsat.errors import NmsatError
from nmsat.methods import SPARSE_BP_METHODS
from nmsat.trace import PASSES, Gemm, Trace

SPARSIFIABLE = (nn.Linear, nn.Conv2d)  # exact types, as `sparsify_` swaps them


def _config(method, pattern):
    return NMConfig.parse(method, None if method == "dense" else pattern)


def _weight_pattern(cfg, keep):
    def pattern(layer, owner, pname, pass_):
        chosen = (cfg.method != "dense" and pname == "weight" and type(owner) in SPARSIFIABLE
                  and keep(layer, owner))
        return cfg.pattern if chosen and (pass_ == "FF" or cfg.method in SPARSE_BP_METHODS) else None

    return pattern


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
    recorder = StepRecorder(module, _weight_pattern(cfg, keep))
    try:
        with torch.enable_grad(), recorder.tracker, recorder:
            x = torch.empty((batch, *input_shape), device="meta")
            outs = [t for t in torch.utils._pytree.tree_flatten(module(x))[0]
                    if isinstance(t, torch.Tensor) and t.requires_grad]
            if not outs:
                raise NmsatError(f"model {name!r}: no output needs a gradient (nothing to train)")
            # Start from views of the outputs: ModuleTracker's backward hooks on the outputs themselves only
            # fire when their gradient is computed by a node, not when it is given.
            torch.autograd.backward([t.view_as(t) for t in outs], [torch.empty_like(t) for t in outs])
    except (RuntimeError, TypeError, ValueError, IndexError, AssertionError) as e:  # the model's forward
        raise NmsatError(f"model {name!r} does not accept input shape {tuple(input_shape)}: "
                         f"{type(e).__name__}: {(str(e).splitlines() or [''])[0]}") from None
    gemms = tuple(e for e in recorder.entries if isinstance(e, Gemm))
    nongemm = tuple(e for e in recorder.entries if not isinstance(e, Gemm))
    return Trace(model=name, method=cfg.method, pattern=cfg.pattern, batch=batch, gemms=gemms, nongemm=nongemm)


def model_trace(model: str, input: str = "cifar", batch: int = 32, method: str = "bdwp",
                pattern: str | None = "2:8", shape: str | None = None) -> Trace:
    """The `Trace` of one training step of `model` at input size `input`.

    `model` is a built-in name, or a factory ``package.module:factory`` / ``path/file.py:factory``
    (see `nmsat.algo.usermodel`), which needs `shape` (one sample's shape, e.g. ``"3,32,32"``).
    """
    if not is_factory_spec(model):
        if shape is not None:
            raise NmsatError(f"input shape {shape!r} is for factory models (package.module:factory); "
                             f"built-in {model!r} takes --input")
        with torch.device("meta"):
            module = build_model(model, input)
        return trace_from_module(module, input_shape(input), batch, method, pattern, name=model)
    if shape is None:
        raise NmsatError(f"model {model!r}: give the input shape of one sample (e.g. --input-shape 3,32,32)")
    sample = parse_input_shape(shape)
    _config(method, pattern)  # reject a bad method / pattern before importing the user's code
    try:
        module = build_user_model(model, "meta")
    except NmsatError:
        module = build_user_model(model)  # a factory that needs real tensors: built here, traced on meta
    return trace_from_module(module, sample, batch, method, pattern, name=model)


def nongemm_totals(trace):
    """{pass: (ops, elements, bytes)} of the trace's non-GEMM entries."""
    out = {}
    for o in trace.nongemm:
        ops, elements, moved = out.get(o.pass_, (0, 0, 0))
        out[o.pass_] = (ops + 1, elements + o.elements, moved + o.bytes)
    return out


def macs_by_pass(trace):
    """{pass: (dense MACs, effective MACs)}; a sparse GEMM's effective MACs are its MACs * n/m."""
    out = {}
    for p in PASSES:
        gemms = [g for g in trace.gemms if g.pass_ == p]
        dense = sum(g.macs for g in gemms)
        eff = sum(g.macs * g.sparse.n // g.sparse.m if g.sparse else g.macs for g in gemms)
        out[p] = (dense, eff)
    return out
