"""N:M masks of torch tensors, equal to `nmsat.nm.nm_mask` (same selection, tie-break and ragged tail).

`nm_mask` runs the C++ kernel (`nmsat.algo.kernel`) on CPU float tensors and falls back to
`nm_mask_torch`, the vectorized torch reference, everywhere else (GPU, other dtypes, no g++).
"""

import math

import torch

from nmsat.algo.kernel import library
from nmsat.nm import NMPattern

_KERNEL_DTYPES = {torch.float32: "nm_mask_f32", torch.float64: "nm_mask_f64"}
_APPLY = {torch.float32: "apply_mask_f32", torch.float64: "apply_mask_f64"}


def nm_mask_torch(x, pattern, axis=-1, dtype=torch.bool):
    """Mask keeping the n largest-|x| of every m consecutive elements along `axis` (1 kept, 0 dropped).

    Ties go to the lower index (``max`` returns the first maximum); a ragged tail is padded with
    magnitude -1, so padding is only chosen after every real element of its group. The groups are
    reduced in place (no transposed copies); `dtype` is the mask's dtype.
    """
    p = NMPattern.parse(pattern)
    axis = axis % x.dim()
    pre, length, post = math.prod(x.shape[:axis]), x.shape[axis], math.prod(x.shape[axis + 1:])
    mag = x.detach().abs().reshape(pre, length, post)  # a fresh tensor: safe to overwrite below
    if mag.dtype in (torch.float16, torch.bfloat16):
        mag = mag.float()
    groups = -(-length // p.m)
    pad = groups * p.m - length
    if pad:
        mag = torch.cat([mag, mag.new_full((pre, pad, post), -1.0)], dim=1)
    # Reduce along dim 2 of (pre, groups, m, post); drop post when it is 1 (a last-dim reduction is faster).
    mag = mag.reshape(pre, groups, p.m, post) if post > 1 else mag.reshape(pre, groups, p.m)
    keep = torch.zeros(mag.shape, dtype=dtype, device=mag.device)
    for _ in range(p.n):
        idx = mag.max(dim=2, keepdim=True).indices
        keep.scatter_(2, idx, 1)
        mag.scatter_(2, idx, float("-inf"))
    return keep.reshape(pre, groups * p.m, post)[:, :length].reshape(x.shape)


def _kernel_source(x):
    """(kernel library, contiguous float32/64 view of x) when the C++ kernel can take `x`, else (None, None)."""
    lib = library() if x.device.type == "cpu" and x.dim() > 0 else None
    if lib is None:
        return None, None
    src = x.detach()
    if src.dtype in (torch.float16, torch.bfloat16):
        src = src.float()
    return (lib, src.contiguous()) if src.dtype in _KERNEL_DTYPES else (None, None)


def nm_mask(x, pattern, axis=-1, out=None):
    """Bool mask of `x`'s N:M pattern along `axis`: the C++ kernel where it applies, else `nm_mask_torch`.

    `out`, a bool tensor of x's shape, is filled in place and returned when given.
    """
    p = NMPattern.parse(pattern)
    lib, src = _kernel_source(x) if p.m <= 256 else (None, None)
    if out is None or out.shape != x.shape or out.dtype != torch.bool or not out.is_contiguous():
        out = None
    if lib is None:
        mask = nm_mask_torch(x, p, axis)
        return mask if out is None else out.copy_(mask)
    out = torch.empty(x.shape, dtype=torch.bool) if out is None else out
    axis = axis % x.dim()
    getattr(lib, _KERNEL_DTYPES[src.dtype])(src.data_ptr(), out.data_ptr(), math.prod(x.shape[:axis]),
                                            x.shape[axis], math.prod(x.shape[axis + 1:]), p.n, p.m)
    return out


def apply_mask(x, mask):
    """``x`` where the bool `mask` is set, else 0 (a new tensor; one pass in the C++ kernel)."""
    lib, src = _kernel_source(x)
    if lib is None or src.dtype != x.dtype or mask.dtype != torch.bool or mask.shape != x.shape:
        return x * mask
    out = torch.empty_like(src)
    getattr(lib, _APPLY[src.dtype])(src.data_ptr(), mask.contiguous().data_ptr(), out.data_ptr(), src.numel())
    return out


def ff_mask(weight, pattern, out=None):
    """FF mask (bool) of a weight ``W[out, in, ...]``: n:m along the input-channel axis (1)."""
    return nm_mask(weight, pattern, 1, out)


def bp_mask(weight, pattern, out=None):
    """BP (BDWP) mask (bool) of a weight ``W[out, in, ...]``: n:m along the output-channel axis (0)."""
    return nm_mask(weight, pattern, 0, out)
