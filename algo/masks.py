"""Vectorized torch N:M masks, equal to `nmsat.nm.nm_mask` (same selection, tie-break and ragged tail)."""

import torch

from nmsat.nm import NMPattern


def nm_mask_torch(x, pattern, axis=-1):
    """Boolean mask keeping the n largest-|x| of every m consecutive elements along `axis`.

    Ties go to the lower index (``argmax`` returns the first maximum); a ragged tail is padded with
    magnitude -1, so padding is only chosen after every real element of its group.
    """
    p = NMPattern.parse(pattern)
    mag = x.detach().abs().movedim(axis, -1)
    lead, length = mag.shape[:-1], mag.shape[-1]
    groups = -(-length // p.m)
    pad = groups * p.m - length
    if mag.dtype in (torch.float16, torch.bfloat16):
        mag = mag.float()
    if pad:
        mag = torch.cat([mag, mag.new_full((*lead, pad), -1.0)], dim=-1)
    mag = mag.reshape(-1, p.m).contiguous()  # 2-D and contiguous: argmax is far faster
    keep = torch.zeros(mag.shape, dtype=torch.bool, device=mag.device)
    for _ in range(p.n):
        idx = mag.argmax(dim=-1, keepdim=True)
        keep.scatter_(-1, idx, True)
        mag.scatter_(-1, idx, float("-inf"))
    keep = keep.reshape(*lead, groups * p.m)[..., :length]
    return keep.movedim(-1, axis).contiguous()


def ff_mask(weight, pattern):
    """FF mask of a weight ``W[out, in, ...]``: n:m along the input-channel axis (1)."""
    return nm_mask_torch(weight, pattern, axis=1)


def bp_mask(weight, pattern):
    """BP (BDWP) mask of a weight ``W[out, in, ...]``: n:m along the output-channel axis (0)."""
    return nm_mask_torch(weight, pattern, axis=0)
