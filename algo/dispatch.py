"""Record one training step through torch's dispatcher: every aten op below autograd, forward and backward.

`StepRecorder` is a `TorchDispatchMode` run over meta tensors (no compute) together with a
`torch.utils.module_tracker.ModuleTracker` that says which module each op runs in. Each op becomes:

* a trace `Gemm` (convention ``Y[M, N] = A[M, K] @ B[N, K]^T``) for ``mm``, ``addmm``, ``bmm``,
  ``baddbmm``, ``convolution``, ``convolution_backward`` and the fused scaled-dot-product-attention ops;
* nothing for views and allocations (``t``, ``view``, ``expand``, ``detach``, ``empty_like``, ...), which
  move no data;
* a trace `NonGemm` otherwise (norms, activations, softmax, pooling, adds, copies and their backward).

Passes: a GEMM in the forward is FF; in the backward it is BP when one operand is a parameter (dX = dY W)
or an activation (attention); a backward GEMM with no parameter operand whose result becomes a
parameter's gradient (a hook on every parameter sees it) is WG. The parameter operand is found by
storage (a view of a weight shares its storage), so the GEMM is named after the weight's owner whatever
the calling code (``F.linear`` inside `nn.MultiheadAttention` included). A weight GEMM always has the
weight as B: ``M`` is the other operand's free dimension, ``N`` the weight's, ``K`` the contracted one;
a WG GEMM is ``M = W rows, N = W columns, K = the contracted rows``. A weight used by several GEMMs
(tied weights) gets the sum of their gradients: those backward GEMMs stay dense BP entries, not WG.

Fused attention (``_scaled_dot_product_flash_attention_for_cpu`` and the CUDA variants), per batch x
head, query length L, key length S, head dims E (q, k) and Ev (v): FF ``Q K^T`` (L, S, E) and ``P V``
(L, Ev, S) plus a softmax over L x S; backward ``dP = dO V^T`` (L, S, Ev), ``dV = P^T dO`` (S, Ev, L),
``dQ = dS K`` (L, E, S), ``dK = dS^T Q`` (S, E, L), the flash kernel's recomputation of ``Q K^T``
(L, S, E) and the softmax backward over L x S. The fused op keeps the L x S scores on chip: its
non-GEMM entries move no bytes.
"""

import functools
import math

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten
from torch.utils.module_tracker import ModuleTracker

from nmsat.trace import Gemm, NonGemm

aten = torch.ops.aten
ROOT = "(root)"
# GEMM op -> positions of its two multiplied operands.
MATMULS = {aten.mm.default: (0, 1), aten.addmm.default: (1, 2), aten.bmm.default: (0, 1),
           aten.baddbmm.default: (1, 2)}
_SDPA = ("_scaled_dot_product_flash_attention_for_cpu", "_scaled_dot_product_flash_attention",
         "_scaled_dot_product_efficient_attention", "_scaled_dot_product_cudnn_attention")
SDPA_FORWARD = {getattr(aten, n).default for n in _SDPA if hasattr(aten, n)}
SDPA_BACKWARD = {getattr(aten, f"{n}_backward").default for n in _SDPA if hasattr(aten, f"{n}_backward")}
# Ops that allocate without writing, or alias without copying: no work.
FREE = {aten.detach.default, aten._unsafe_view.default, aten.alias.default, aten.lift_fresh.default,
        aten.empty_like.default, aten.new_empty.default, aten.new_empty_strided.default,
        aten.empty.memory_format, aten.empty_strided.default}


def _storage(t):
    return t.untyped_storage()._cdata


def _tensors(obj):
    return [t for t in tree_flatten(obj)[0] if isinstance(t, torch.Tensor)]


def _bytes(t):
    """Bytes a tensor occupies: its elements, but no more than its storage (an expanded view is cheap)."""
    return min(t.numel() * t.element_size(), t.untyped_storage().nbytes())


class _Tracker(ModuleTracker):
    """`ModuleTracker` that names the one module an op runs in.

    Forward: the innermost running module. Backward: ModuleTracker keeps a module "running" from when the
    gradient of its output is ready until that of its input is, so modules that passed a tensor through
    untouched (a dropout with p=0) or whose input needs no gradient stay listed; of the running modules
    that did work in the forward, the one entered last wins, and then its most recently entered running
    descendant, if any.
    """

    def __init__(self):
        super().__init__()
        self._entered = {}  # module name -> when it was last entered (forward or backward)
        self._clock = 0
        self._worked = set()  # modules an op was attributed to in the forward

    def _get_append_fn(self, name, is_bw):
        append = super()._get_append_fn(name, is_bw)

        def fn(*args):
            append(*args)
            self._clock += 1
            self._entered[name] = self._clock

        return fn

    def innermost(self):
        """Module path (without the root's type name) of the module the current op runs in, or ROOT."""
        live = [n for n in self.parents if n != "Global" and (not self.is_bw or n in self._worked)]
        if not live:
            return ROOT
        name = max(live, key=lambda n: self._entered.get(n, 0))
        inner = [n for n in live if n.startswith(name + ".")]
        while inner:
            name = max(inner, key=lambda n: self._entered.get(n, 0))
            inner = [n for n in inner if n.startswith(name + ".")]
        if not self.is_bw:
            self._worked.add(name)
        return name.partition(".")[2] or ROOT


class StepRecorder(TorchDispatchMode):
    """Records the GEMMs and non-GEMM ops of a forward + backward of ``module`` (see module docstring).

    ``weight_pattern(layer_module, param_name, pass_)`` gives the N:M pattern of a weight's B operand
    (or None); after the step, `entries` is the list of `Gemm` / `NonGemm` in execution order.
    """

    def __init__(self, module, weight_pattern):
        super().__init__()
        self.tracker = _Tracker()
        self.entries = []
        self._pattern = weight_pattern
        self._params = {}
        for fqn, p in module.named_parameters():
            owner, _, pname = fqn.rpartition(".")
            layer = (owner or ROOT) if pname == "weight" else fqn
            self._params[_storage(p)] = (layer, module.get_submodule(owner), pname, p)
        self._pending = {}  # storage of a backward GEMM result -> (entry index, result), until its grad hook
        self._hooks = [rec[3].register_hook(functools.partial(self._grad_ready, rec))
                       for rec in self._params.values() if rec[3].requires_grad]

    def __exit__(self, *args):
        for h in self._hooks:
            h.remove()
        return super().__exit__(*args)

    # -- attribution -------------------------------------------------------------------------------
    def _pass(self):
        return "BP" if self.tracker.is_bw else "FF"

    def _param(self, t):
        return self._params.get(_storage(t)) if isinstance(t, torch.Tensor) else None

    def _sparse(self, param, pass_):
        layer, owner, pname, _ = param
        return self._pattern(layer, owner, pname, pass_)

    def _grad_ready(self, param, grad):
        """Parameter hook: the backward GEMM whose result is this gradient is the parameter's WG."""
        found = self._pending.pop(_storage(grad), None)
        if found is None:
            return
        index, _ = found
        g = self.entries[index]
        rows, cols = param[3].shape[0], param[3][0].numel()
        m, n = (g.n, g.m) if (g.n, g.m) == (rows, cols) else (g.m, g.n)  # dW^T was computed: transpose
        self.entries[index] = Gemm(param[0], "WG", m, n, g.k, None, g.count)

    # -- dispatch ----------------------------------------------------------------------------------
    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if func.is_view or func in FREE or not _tensors(out):
            return out
        where = self.tracker.innermost()
        if func in MATMULS:
            self._matmul(func, args, out, where)
        elif func is aten.convolution.default:
            self._conv_forward(args, out, where)
        elif func is aten.convolution_backward.default:
            self._conv_backward(args, out, where)
        elif func in SDPA_FORWARD:
            self._sdpa_forward(func, args, where)
        elif func in SDPA_BACKWARD:
            self._sdpa_backward(func, args, where)
        else:
            ins, outs = _tensors((args, kwargs)), _tensors(out)
            self.entries.append(NonGemm(where, self._pass(), func.overloadpacket.__name__,
                                        sum(t.numel() for t in ins), sum(t.numel() for t in outs),
                                        sum(_bytes(t) for t in ins + outs)))
        return out

    def _matmul(self, func, args, out, where):
        ia, ib = MATMULS[func]
        a, b = args[ia], args[ib]
        count = a.shape[0] if a.dim() == 3 else 1
        m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
        pass_ = self._pass()
        param = self._param(b) or self._param(a)
        if param is not None:
            if param is not self._param(b):
                m, n = n, m  # the weight is A: transpose so that it is B
            self.entries.append(Gemm(param[0], pass_, m, n, k, self._sparse(param, pass_), count))
            return
        self.entries.append(Gemm(where, pass_, m, n, k, None, count))
        if pass_ == "BP":
            self._pending[_storage(out)] = (len(self.entries) - 1, out)

    def _conv_layer(self, weight, pass_, where):
        param = self._param(weight)
        if param is None:
            return where, None
        return param[0], self._sparse(param, pass_)

    def _conv_forward(self, args, y, where):
        x, w, transposed, groups = args[0], args[1], args[6], args[8]
        layer, sparse = self._conv_layer(w, "FF", where)
        if transposed:  # Y = col2im(X^T W): M = batch*in_pixels, N = cout/g*k, K = cin/g
            rows = x.numel() // x.shape[1]
            n, k = w[0].numel(), w.shape[0] // groups
            col = max(1.0, rows * n * groups / y.numel())
            self.entries.append(Gemm(layer, "FF", rows, n, k, None, groups, (1.0, 1.0, col)))
            return
        out, red = w.shape[0], w[0].numel()
        rows = y.numel() // out
        col = max(1.0, rows * red * groups / x.numel())  # the im2col view of X over the stored X
        self.entries.append(Gemm(layer, "FF", rows, out // groups, red, sparse, groups, (col, 1.0, 1.0)))

    def _conv_backward(self, args, grads, where):
        dy, x, w, transposed, groups, mask = args[0], args[1], args[2], args[7], args[9], args[10]
        layer, sparse = self._conv_layer(w, "BP", where)
        if transposed:  # dX = conv(dY, W); dW[cin, cout/g*k] over batch*in_pixels
            rows, n, k = x.numel() // x.shape[1], w.shape[0] // groups, w[0].numel()
            col = max(1.0, rows * k * groups / dy.numel())
            gemms = [Gemm(layer, "BP", rows, n, k, None, groups, (col, 1.0, 1.0)),
                     Gemm(layer, "WG", n, k, rows, None, groups, (1.0, col, 1.0))]
        else:
            out, red = w.shape[0], w[0].numel()
            rows = dy.numel() // out
            col = max(1.0, rows * red * groups / x.numel())
            gemms = [Gemm(layer, "BP", rows, red, out // groups, sparse, groups, (1.0, 1.0, col)),
                     Gemm(layer, "WG", out // groups, red, rows, None, groups, (1.0, col, 1.0))]
        self.entries += [g for g, want in zip(gemms, mask[:2], strict=True) if want]
        if mask[2]:
            self.entries.append(NonGemm(layer, "BP", "convolution_backward.bias", dy.numel(), grads[2].numel(),
                                        _bytes(dy) + _bytes(grads[2])))

    def _sdpa_dims(self, q, k, v):
        return math.prod(q.shape[:-2]), q.shape[-2], k.shape[-2], q.shape[-1], v.shape[-1]

    def _sdpa_forward(self, func, args, layer):
        count, lq, s, e, ev = self._sdpa_dims(*args[:3])
        name = func.overloadpacket.__name__
        self.entries += [Gemm(layer, "FF", lq, s, e, None, count), Gemm(layer, "FF", lq, ev, s, None, count),
                         NonGemm(layer, "FF", f"{name}.softmax", count * lq * s, count * lq * s, 0)]

    def _sdpa_backward(self, func, args, layer):
        count, lq, s, e, ev = self._sdpa_dims(*args[1:4])
        name = func.overloadpacket.__name__
        shapes = [(lq, s, e), (lq, s, ev), (s, ev, lq), (lq, e, s), (s, e, lq)]  # recompute, dP, dV, dQ, dK
        self.entries += [Gemm(layer, "BP", m, n, k, None, count) for m, n, k in shapes]
        self.entries.append(NonGemm(layer, "BP", f"{name}.softmax_backward", 2 * count * lq * s, count * lq * s, 0))
