"""The masks each N:M training method uses: a `MaskMaker` per layer, ``maker(weight, need_bp)`` -> (Mff, Mbp).

* ``srste``: FF and BP use ``Mff`` (n:m along input channels); Mbp is None.
* ``bdwp``: FF uses ``Mff``; BP uses ``Mbp``, n:m along output channels.
* ``transposable``: one mask, n:m along input and output channels (`nmsat.algo.transposable`), used by
  FF and BP; Mbp is None.
* ``bimask``: FF uses ``Mff``; BP uses the Bi-Mask ``Mbp`` (`nmsat.algo.bimask`): n:m along output
  channels in a searched channel order, within ``Mff``.

Mbp is made only when the step has a BP GEMM (``need_bp``). Masks are bool tensors in W's shape.
"""

import torch

from nmsat.algo import bimask
from nmsat.algo.masks import bp_mask, ff_mask
from nmsat.algo.transposable import transposable_mask

BP_MASK_METHODS = ("bdwp", "bimask")  # methods whose BP weight has a mask of its own


class MaskMaker:
    """Makes the (Mff, Mbp) masks of one layer for an `NMConfig`; `out` masks are refilled in place."""

    def __init__(self, config, groups=1):
        self.config, self.groups = config, groups  # conv groups: BDWP's Mbp groups out-channels within each
        self.pattern = config.pattern
        self.searches = 0  # Bi-Mask: BP masks made so far (a permutation search every SEARCH_EVERY)
        self.generator = None  # Bi-Mask: candidate permutations, seeded from torch's RNG on first use
        self.perm = None

    def __call__(self, weight, need_bp=True, out=(None, None)):
        method = self.config.method
        if method == "transposable":
            return transposable_mask(weight, self.pattern), None
        mff = ff_mask(weight, self.pattern, out[0])
        if not need_bp or method not in BP_MASK_METHODS:
            return mff, None
        if method == "bdwp" and self.groups > 1:
            # W[out, ...] -> [out/groups, groups, ...]: axis 0 runs within one conv group.
            per_group = weight.unflatten(0, (self.groups, -1)).transpose(0, 1)
            return mff, bp_mask(per_group, self.pattern).transpose(0, 1).flatten(0, 1)
        if method == "bdwp":
            return mff, bp_mask(weight, self.pattern, out[1])
        return mff, self._bimask_bp(weight, mff)

    def _bimask_bp(self, weight, mff):
        if self.searches % bimask.SEARCH_EVERY == 0:
            if self.generator is None:
                self.generator = torch.Generator().manual_seed(int(torch.randint(2**62, ())))
            candidates = bimask.random_permutations(weight.shape[0], bimask.CANDIDATES, self.generator)
            self.perm = bimask.best_permutation(weight, mff, candidates, self.pattern)
        self.searches += 1
        return bimask.bp_mask_permuted(weight, mff, self.perm, self.pattern)
