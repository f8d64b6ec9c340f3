"""The C++ mask kernel builds from a clean cache, equals `nmsat.nm.nm_mask` bit for bit, and falls back."""

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nmsat.algo import kernel
from nmsat.algo.masks import apply_mask, bp_mask, ff_mask, nm_mask, nm_mask_torch
from nmsat.nm import NMPattern
from nmsat.nm import nm_mask as reference


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The kernel built into an empty cache folder (as on a clean CI machine)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("NMSAT_CACHE", str(tmp_path_factory.mktemp("cache")))
    mp.delenv("NMSAT_MASK_KERNEL", raising=False)
    kernel.library.cache_clear()
    lib = kernel.library()
    yield lib
    mp.undo()
    kernel.library.cache_clear()


def test_kernel_builds_into_an_empty_cache(built):
    assert built is not None
    assert list(kernel.cache_dir().glob("*")) == [Path(built._name)]  # nothing left over but the library


@st.composite
def cases(draw):
    m = draw(st.sampled_from([2, 3, 4, 5, 8, 9, 16, 17]))  # templated (4, 8, 16) and generic m
    n = draw(st.integers(1, m - 1))
    shape = draw(st.lists(st.integers(1, 19), min_size=1, max_size=4))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    values = np.random.default_rng(draw(st.integers(0, 2**31 - 1))).integers(-3, 4, size=shape)  # many ties
    return values, NMPattern(n, m), axis


@settings(max_examples=400, deadline=None)
@given(cases())
def test_kernel_equals_core_with_ties_and_ragged_tails(built, case):
    values, pattern, axis = case
    want = reference(values, pattern, axis)
    for dtype in (torch.float32, torch.float64, torch.float16):
        assert np.array_equal(nm_mask(torch.tensor(values, dtype=dtype), pattern, axis).numpy(), want)


@pytest.mark.parametrize("shape", [(24, 20, 3, 3), (20, 136, 1, 1), (70, 13, 5, 15), (33, 100)])
@pytest.mark.parametrize("pattern", ["2:8", "1:4", "2:4", "4:16", "3:7"])
def test_kernel_on_weights_both_axes(built, shape, pattern):
    """FF along input channels, BP along output channels: short rows (gathered), long rows (> one block),
    ragged channel counts, Linear and conv weights; ties from rounding."""
    w = torch.from_numpy(np.round(np.random.default_rng(1).normal(size=shape), 1)).float()
    assert np.array_equal(ff_mask(w, pattern).numpy(), reference(w.numpy(), pattern, 1))
    assert np.array_equal(bp_mask(w, pattern).numpy(), reference(w.numpy(), pattern, 0))


def test_kernel_refills_out_in_place_and_applies_masks(built):
    w = torch.randn(16, 24, 3, 3)
    out = torch.zeros(w.shape, dtype=torch.bool)
    assert ff_mask(w, "2:8", out) is out and torch.equal(out, nm_mask_torch(w, "2:8", 1))
    assert torch.equal(apply_mask(w, out), w * out)
    assert torch.equal(apply_mask(w.double(), out), w.double() * out)


def test_failed_build_warns_once_and_falls_back_to_torch(monkeypatch, tmp_path):
    monkeypatch.setenv("NMSAT_CACHE", str(tmp_path))
    monkeypatch.setenv("CXX", str(tmp_path / "no-such-compiler"))
    kernel.library.cache_clear()
    try:
        with pytest.warns(RuntimeWarning, match="mask kernel unavailable"):
            assert kernel.library() is None
        w = torch.randn(8, 16)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no second warning
            assert torch.equal(ff_mask(w, "2:8"), nm_mask_torch(w, "2:8", 1))
    finally:
        kernel.library.cache_clear()


def test_torch_path_can_be_forced(monkeypatch):
    monkeypatch.setenv("NMSAT_MASK_KERNEL", "torch")
    kernel.library.cache_clear()
    try:
        assert kernel.library() is None
    finally:
        kernel.library.cache_clear()
