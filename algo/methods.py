"""The masks each N:M training method uses: `weight_masks(weight, config, need_bp)` -> (Mff, Mbp) bools.

* ``srste``: FF and BP use ``Mff`` (n:m along input channels); Mbp is None.
* ``bdwp``: FF uses ``Mff``; BP uses ``Mbp``, n:m along output channels (made only when needed).
"""

from nmsat.algo.masks import bp_mask, ff_mask

BP_MASK_METHODS = ("bdwp",)  # methods whose BP weight has a mask of its own


def weight_masks(weight, config, need_bp=True, out=(None, None)):
    """(Mff, Mbp) bool masks of `weight` ``W[out, in, ...]`` for `config` (an `NMConfig`, not dense).

    Mbp is None when the BP GEMM uses ``W . Mff`` or when `need_bp` is False (no BP GEMM this step).
    `out`: the previous (Mff, Mbp), refilled in place where shapes allow.
    """
    pattern = config.pattern
    mff = ff_mask(weight, pattern, out[0])
    mbp = bp_mask(weight, pattern, out[1]) if need_bp and config.method in BP_MASK_METHODS else None
    return mff, mbp
