"""N:M layers (`NMLinear`, `NMConv2d`) and `sparsify_` / `densify_` to swap them into a model in place.

Semantics of one training step of an N:M layer with dense master weight ``W[out, in, ...]``:

* FF: ``Y = X (W . Mff)^T`` (conv: ``conv(X, W . Mff)``); ``Mff`` keeps the n largest ``|W|`` of every
  m consecutive weights along the input-channel axis (conv: at each kernel position);
* BP: ``dX`` uses ``W . Mbp`` for ``bdwp`` (``Mbp``: n:m along the *output*-channel axis) and ``bimask``
  (its permuted BP mask), ``W . Mff`` for ``srste`` and ``transposable`` (whose one mask is n:m along
  both axes) and ``W`` for ``dense`` (the masks of each method: `nmsat.algo.mask_maker`);
* WG: ``dW = dY^T X`` (dense, straight-through to ``W``) ``+ decay * (1 - Mff) . W`` when decay > 0
  (every method but dense);
* masks follow `nmsat.nm.nm_mask` (made by `nmsat.algo.mask_maker.MaskMaker`, kept as bools); a grouped
  conv's BDWP ``Mbp`` groups output channels within each conv group (the BP GEMM of conv group g reduces
  over that group's out/groups channels only); no BP mask is made when the layer's input needs no gradient;
* masks are recomputed from ``W`` at the first training forward after optimizer steps 0, k, 2k, ...
  (``k = config.interval``): a step is a change of ``W`` (its in-place version counter), so the
  forwards of an accumulated gradient share one step; an eval-mode forward uses masks of the current ``W``.
"""

import torch
import torch.nn.functional as F
from torch import nn

from nmsat.algo.functions import NMConv2dFn, NMLinearFn
from nmsat.algo.mask_maker import BP_MASK_METHODS, MaskMaker
from nmsat.algo.masks import apply_mask
from nmsat.algo.nmconfig import NMConfig
from nmsat.errors import NmsatError


class _NMMixin:
    """Mask state and per-step mask refresh shared by the N:M layers."""

    def _init_nm(self, config):
        self.nm = config
        self.nm_masks = None if config.method == "dense" else MaskMaker(config, getattr(self, "groups", 1))
        self.nm_step = 0  # optimizer steps (weight updates) seen by training forwards
        self._seen_version = None
        self.register_buffer("mask_ff", None, persistent=False)
        self.register_buffer("mask_bp", None, persistent=False)

    def compute_masks(self, need_bp=True):
        """(Mff, Mbp) bool masks of the current dense weight; Mbp is None unless the method has its own BP
        mask and `need_bp`."""
        return self.nm_masks(self.weight, need_bp)

    def refresh_masks(self, need_bp=True):
        """Recompute and store the masks from the current dense weight (into the old mask tensors)."""
        mff, mbp = self.nm_masks(self.weight, need_bp, (self.mask_ff, self.mask_bp))
        if mff is not self.mask_ff or mbp is not self.mask_bp:
            self.mask_ff, self.mask_bp = mff, mbp

    def _step_masks(self, need_bp):
        if not self.training:
            return self.compute_masks(need_bp)
        version = self.weight._version
        updated = self._seen_version is not None and version != self._seen_version
        self._seen_version = version
        if updated:
            self.nm_step += 1
        stale = self.mask_ff is None or (updated and self.nm_step % self.nm.interval == 0)
        if stale or (need_bp and self.mask_bp is None and self.nm.method in BP_MASK_METHODS):
            self.refresh_masks(need_bp)
        return self.mask_ff, self.mask_bp

    def _nm_operands(self, x):
        """(FF weight, BP weight, decay) for the autograd function of this step with input `x`."""
        mff, mbp = self._step_masks(x.requires_grad and torch.is_grad_enabled())
        w = self.weight.detach()
        w_ff = apply_mask(w, mff)
        return w_ff, (apply_mask(w, mbp) if mbp is not None else w_ff), float(self.nm.decay)

    def extra_repr(self):
        pattern = "" if self.nm.method == "dense" else f", pattern={self.nm.n}:{self.nm.m}"
        return f"{super().extra_repr()}, method={self.nm.method}{pattern}"


class NMLinear(_NMMixin, nn.Linear):
    """`nn.Linear` trained with N:M sparsity (see the module docstring for the exact semantics)."""

    def __init__(self, in_features, out_features, bias=True, config=None, device=None, dtype=None):
        super().__init__(in_features, out_features, bias, device, dtype)
        self._init_nm(config or NMConfig())

    def forward(self, x):
        if self.nm.method == "dense":
            return super().forward(x)
        w_ff, w_bp, decay = self._nm_operands(x)
        return NMLinearFn.apply(x, self.weight, self.bias, w_ff, w_bp, decay)


class NMConv2d(_NMMixin, nn.Conv2d):
    """`nn.Conv2d` trained with N:M sparsity (groups along input channels at each kernel position).

    Any ``padding`` (ints, ``"same"``, ``"valid"``) and ``padding_mode`` of `nn.Conv2d` work: padding
    other than symmetric zeros is applied with ``F.pad`` before an unpadded convolution, as `nn.Conv2d`
    does, so autograd carries dX through the padding.
    """

    def __init__(self, *args, config=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_nm(config or NMConfig())

    def forward(self, x):
        if self.nm.method == "dense":
            return super().forward(x)
        w_ff, w_bp, decay = self._nm_operands(x)
        padding = self.padding
        if self.padding_mode != "zeros" or isinstance(padding, str):
            mode = "constant" if self.padding_mode == "zeros" else self.padding_mode
            x, padding = F.pad(x, self._reversed_padding_repeated_twice, mode=mode), (0, 0)
        return NMConv2dFn.apply(x, self.weight, self.bias, w_ff, w_bp, decay,
                                self.stride, padding, self.dilation, self.groups)


def _clone_linear(cls, old, **extra):
    new = cls(old.in_features, old.out_features, old.bias is not None, device="meta", **extra)
    new.weight, new.bias = old.weight, old.bias
    return new


def _clone_conv(cls, old, **extra):
    new = cls(old.in_channels, old.out_channels, old.kernel_size, old.stride, old.padding, old.dilation,
              old.groups, old.bias is not None, old.padding_mode, device="meta", **extra)
    new.weight, new.bias = old.weight, old.bias
    return new


def default_filter(config):
    """The default layer choice: a layer is N:M when its in-channels per group are a multiple of m.

    So every reduction group is full (image stems with 1 or 3 input channels stay dense).
    """
    return lambda name, module: module.weight.shape[1] % config.m == 0


def _replace(model, name, new):
    parent, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, child, new)


def sparsify_(model, config, filter_fn=None):
    """Swap, in place, the `nn.Linear` / `nn.Conv2d` layers accepted by ``filter_fn(name, module)``
    (default `default_filter`) for `NMLinear` / `NMConv2d` sharing the same parameters; returns model."""
    if not isinstance(config, NMConfig):
        raise NmsatError(f"sparsify_: config must be an NMConfig, got {type(config).__name__}")
    if type(model) in (nn.Linear, nn.Conv2d):
        raise NmsatError(f"sparsify_: cannot swap the model itself ({type(model).__name__}); wrap it in a container")
    keep = filter_fn or default_filter(config)
    for name, module in list(model.named_modules()):
        if type(module) is nn.Linear and keep(name, module):
            _replace(model, name, _clone_linear(NMLinear, module, config=config))
        elif type(module) is nn.Conv2d and keep(name, module):
            _replace(model, name, _clone_conv(NMConv2d, module, config=config))
    return model


def densify_(model, prune=False):
    """Swap N:M layers back to plain `nn.Linear` / `nn.Conv2d` in place (same parameters); returns model.

    With ``prune=True`` the weights are first multiplied by their current FF mask (the deployable model).
    """
    for name, module in list(nm_layers(model).items()):
        if prune and module.nm.method != "dense":
            with torch.no_grad():
                module.weight.mul_(module.compute_masks()[0])
        if isinstance(module, NMLinear):
            _replace(model, name, _clone_linear(nn.Linear, module))
        else:
            _replace(model, name, _clone_conv(nn.Conv2d, module))
    return model


def nm_layers(model):
    """{name: layer} of the N:M layers of `model`, in module order."""
    return {name: m for name, m in model.named_modules() if isinstance(m, _NMMixin)}


def layer_masks(model):
    """The masks of the last training step as numpy bools in W's shape: {layer: {"ff": .., "bp": ..}}."""
    out = {}
    for name, layer in nm_layers(model).items():
        if layer.mask_ff is None:
            continue
        out[name] = {"ff": layer.mask_ff.cpu().numpy() != 0}
        if layer.mask_bp is not None:
            out[name]["bp"] = layer.mask_bp.cpu().numpy() != 0
    return out
