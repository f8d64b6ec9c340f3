"""Vectorized torch N:M masks, equal to `nmsat.nm.nm_mask` (same selection, tie-break and ragged tail)."""

import math

import torch

from nmsat.nm import NMPattern


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


def ff_mask(weight, pattern, dtype=torch.bool):
    """FF mask of a weight ``W[out, in, ...]``: n:m along the input-channel axis (1)."""
    return nm_mask_torch(weight, pattern, 1, dtype)


def bp_mask(weight, pattern, dtype=torch.bool):
    """BP (BDWP) mask of a weight ``W[out, in, ...]``: n:m along the output-channel axis (0)."""
    return nm_mask_torch(weight, pattern, 0, dtype)
