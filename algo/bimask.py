"""Bi-Mask (Zhang et al., ICML 2023): separate FF and BP masks, the BP one after a row permutation.

For ``W[out, in, ...]`` with FF mask ``Mff`` (n:m along ``in``):

* the output channels (the rows of ``W``, the reduction axis of BP) are permuted by ``perm``;
* in that order the BP mask keeps the n largest ``|W . Mff|`` of every m consecutive output channels
  (`nmsat.nm` rules), and only weights the FF mask also keeps: ``Mbp = Mff & unpermute(nm(|W . Mff|[perm]))``;
* the permutation search draws `CANDIDATES` random permutations every `SEARCH_EVERY` mask updates and
  keeps the first with the highest score, the number of FF-kept weights the BP mask keeps (the
  "most eligible N:M blocks" of the paper, counted as in its reference code: greedy_num = 10 candidates,
  a search every iter = 100 iterations).

So the BP GEMM runs n:m along output channels in the permuted order: its dense operand ``dY`` must be
read with its channels in that order.
"""

import torch

from nmsat.algo.masks import apply_mask, nm_mask
from nmsat.methods import BIMASK_CANDIDATES, BIMASK_SEARCH_EVERY

CANDIDATES = BIMASK_CANDIDATES
SEARCH_EVERY = BIMASK_SEARCH_EVERY


def bp_mask_permuted(weight, mff, perm, pattern):
    """The Bi-Mask BP mask of `weight` for FF mask `mff` and output-channel permutation `perm`."""
    masked = apply_mask(weight.detach(), mff)
    picked = nm_mask(masked[perm], pattern, 0)
    mbp = torch.empty_like(picked)
    mbp[perm] = picked
    return mbp & mff


def best_permutation(weight, mff, candidates, pattern):
    """The candidate permutation (first among equals) whose BP mask keeps the most FF-kept weights."""
    scores = [int(bp_mask_permuted(weight, mff, perm, pattern).sum()) for perm in candidates]
    return candidates[scores.index(max(scores))]


def random_permutations(size, count, generator):
    """`count` random permutations of ``range(size)`` drawn from `generator`."""
    return [torch.randperm(size, generator=generator) for _ in range(count)]
