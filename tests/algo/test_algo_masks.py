"""The torch N:M masks equal the core's `nm_mask` (ties, ragged tails) and sit on the right axes."""

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nmsat.algo.masks import bp_mask, ff_mask, nm_mask_torch
from nmsat.nm import NMPattern, nm_mask


@st.composite
def cases(draw):
    m = draw(st.integers(2, 9))
    n = draw(st.integers(1, m - 1))
    shape = draw(st.lists(st.integers(1, 11), min_size=1, max_size=4))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    seed = draw(st.integers(0, 2**31 - 1))
    values = np.random.default_rng(seed).integers(-3, 4, size=shape)  # small ints: many ties
    return values, NMPattern(n, m), axis


@settings(max_examples=300, deadline=None)
@given(cases())
def test_torch_mask_equals_core(case):
    values, pattern, axis = case
    for dtype in (torch.float32, torch.float64):
        got = nm_mask_torch(torch.tensor(values, dtype=dtype), pattern, axis).numpy()
        assert np.array_equal(got, nm_mask(values, pattern, axis))


def test_ties_go_to_lower_index_and_tail_keeps_min_n_r():
    x = torch.tensor([1.0, -1.0, 1.0, 1.0, 5.0])
    assert nm_mask_torch(x, "2:4").tolist() == [True, True, False, False, True]
    assert nm_mask_torch(torch.tensor([0.0, 0.0, 0.0]), "2:8").tolist() == [True, True, False]


def _group_counts(mask, m, axis):
    """Kept elements per group of m along `axis` (tail groups padded with False)."""
    moved = np.moveaxis(mask, axis, -1)
    pad = -moved.shape[-1] % m
    moved = np.concatenate([moved, np.zeros((*moved.shape[:-1], pad), bool)], axis=-1)
    return moved.reshape(*moved.shape[:-1], -1, m).sum(-1)


def test_ff_mask_groups_input_channels_and_bp_mask_groups_output_channels():
    w = torch.randn(12, 20, 3, 3)
    ff, bp = ff_mask(w, "2:8").numpy(), bp_mask(w, "2:8").numpy()
    counts_ff = _group_counts(ff, 8, 1)
    assert (counts_ff[..., :2] == 2).all() and (counts_ff[..., 2] == 2).all()  # 20 = 8 + 8 + 4 (tail)
    counts_bp = _group_counts(bp, 8, 0)
    assert (counts_bp == 2).all()
    assert np.array_equal(ff, nm_mask(w.numpy(), "2:8", 1)) and np.array_equal(bp, nm_mask(w.numpy(), "2:8", 0))
    assert not np.array_equal(ff, bp)
