"""Transposable masks (Hubara et al. 2021) and Bi-Mask (Zhang et al. 2023): hand-checked cases, properties
on both axes, and the layers' use of them."""

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nmsat.algo import NMConfig, NMLinear
from nmsat.algo.bimask import best_permutation, bp_mask_permuted
from nmsat.algo.masks import ff_mask
from nmsat.algo.transposable import transposable_mask, transposable_mask_torch
from nmsat.nm import NMPattern


def _at_most_n(mask, pattern, axis):
    """Every m consecutive elements along `axis` (ragged tail included) keep at most n."""
    p = NMPattern.parse(pattern)
    moved = np.moveaxis(np.asarray(mask), axis, -1)
    pad = -moved.shape[-1] % p.m
    moved = np.concatenate([moved, np.zeros((*moved.shape[:-1], pad), bool)], axis=-1)
    return bool((moved.reshape(*moved.shape[:-1], -1, p.m).sum(-1) <= p.n).all())


def _greedy_block(block, n):
    """The paper's 2-approximation on one block, written as a plain loop (the test's reference)."""
    rows, cols = block.shape
    order = sorted(range(rows * cols), key=lambda e: (-abs(block.flat[e]), e))
    keep = np.zeros(block.shape, bool)
    for e in order:
        r, c = divmod(e, cols)
        if keep[r].sum() < n and keep[:, c].sum() < n:
            keep[r, c] = True
    return keep


def test_transposable_hand_checked_block():
    w = torch.tensor([[9.0, 8, 7, 0], [8.5, 1, 1, 1], [7.5, 6, 0, 0], [0, 0, 5, 4]])
    want = [[1, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 1]]  # worked through by hand, 2:4
    assert transposable_mask(w, "2:4").int().tolist() == want
    assert transposable_mask_torch(w, "2:4").int().tolist() == want


@st.composite
def weights(draw):
    m = draw(st.sampled_from([2, 3, 4, 8]))
    n = draw(st.integers(1, m - 1))
    shape = (draw(st.integers(1, 19)), draw(st.integers(1, 19)), *draw(st.sampled_from([(), (1, 1), (3, 3)])))
    values = np.random.default_rng(draw(st.integers(0, 2**31 - 1))).integers(-3, 4, size=shape)  # ties
    return values, NMPattern(n, m)


@settings(max_examples=150, deadline=None)
@given(weights())
def test_transposable_is_nm_on_both_axes_and_equals_the_greedy(case):
    values, pattern = case
    w = torch.tensor(values, dtype=torch.float32)
    mask = transposable_mask(w, pattern).numpy()  # the C++ kernel
    assert np.array_equal(mask, transposable_mask_torch(w, pattern).numpy())
    assert _at_most_n(mask, pattern, 0) and _at_most_n(mask, pattern, 1)
    m = pattern.m
    flat = values.reshape(values.shape[0], values.shape[1], -1)
    kept = mask.reshape(flat.shape)
    for k in range(flat.shape[2]):
        for r in range(0, flat.shape[0], m):
            for c in range(0, flat.shape[1], m):
                want = _greedy_block(flat[r:r + m, c:c + m, k], pattern.n)
                assert np.array_equal(kept[r:r + m, c:c + m, k], want)


def test_bimask_picks_the_first_candidate_with_most_kept_weights():
    w = torch.tensor([[4.0, 1], [3, 2], [1, 5], [2, 6]])  # 1:2 FF keeps column 0 of rows 0, 1; 1 of rows 2, 3
    mff = ff_mask(w, "1:2")
    assert mff.int().tolist() == [[1, 0], [1, 0], [0, 1], [0, 1]]
    identity, pairs_02, pairs_03 = torch.tensor([0, 1, 2, 3]), torch.tensor([0, 2, 1, 3]), torch.tensor([0, 3, 1, 2])
    # identity groups rows {0,1} and {2,3}: each BP group keeps one of its two FF-kept weights
    assert bp_mask_permuted(w, mff, identity, "1:2").int().tolist() == [[1, 0], [0, 0], [0, 0], [0, 1]]
    # {0,2} and {1,3} (and {0,3}, {1,2}) pair rows with complementary FF masks: all 4 weights survive
    assert torch.equal(bp_mask_permuted(w, mff, pairs_02, "1:2"), mff)
    assert best_permutation(w, mff, [identity, pairs_02, pairs_03], "1:2") is pairs_02


@settings(max_examples=60, deadline=None)
@given(weights(), st.integers(0, 2**31 - 1))
def test_bimask_bp_mask_is_nm_in_permuted_order_within_ff(case, seed):
    values, pattern = case
    w = torch.tensor(values, dtype=torch.float32)
    perm = torch.randperm(w.shape[0], generator=torch.Generator().manual_seed(seed))
    mff = ff_mask(w, pattern)
    mbp = bp_mask_permuted(w, mff, perm, pattern)
    assert not (mbp & ~mff).any()
    assert _at_most_n(mbp[perm].numpy(), pattern, 0)


def test_layers_use_one_mask_for_transposable_and_two_for_bimask():
    torch.manual_seed(0)
    x = torch.randn(5, 16, requires_grad=True)
    for method in ("transposable", "bimask"):
        layer = NMLinear(16, 16, config=NMConfig.parse(method, "2:8", 0.0))
        dy = torch.randn(5, 16)
        layer(x).backward(dy)
        w = layer.weight.detach()
        mff, mbp = layer.mask_ff, layer.mask_bp
        assert _at_most_n(mff.numpy(), "2:8", 1)
        if method == "transposable":
            assert mbp is None and _at_most_n(mff.numpy(), "2:8", 0)
            mbp = mff
        else:
            assert mbp is not None and not (mbp & ~mff).any()
        torch.testing.assert_close(x.grad, dy @ (w * mbp))
        x.grad = None
