"""Property tests of THE N:M definition (nmsat.nm)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nmsat.errors import NmsatError
from nmsat.nm import MAX_M, NMPattern, compress, decompress, is_nm, nm_mask, prune

PATTERNS = st.sampled_from([(1, 2), (1, 4), (2, 4), (3, 4), (2, 8), (1, 8), (4, 8), (3, 5)])
SMALL_INTS = st.integers(-4, 4)  # few distinct magnitudes: plenty of ties


def _groups(x, m):
    """Split the last axis into groups of m, the tail group shorter."""
    return [x[..., i:i + m] for i in range(0, x.shape[-1], m)]


@st.composite
def matrices(draw):
    n, m = draw(PATTERNS)
    shape = draw(st.tuples(st.integers(1, 4), st.integers(1, 19)))
    x = draw(arrays(np.int64, shape, elements=SMALL_INTS))
    return x, NMPattern(n, m)


@given(matrices())
def test_each_group_keeps_at_most_n_and_exactly_min_n_len(case):
    x, p = case
    mask = nm_mask(x, p)
    for g in _groups(mask, p.m):
        assert (g.sum(axis=-1) == min(p.n, g.shape[-1])).all()
    assert (np.count_nonzero(prune(x, p).reshape(x.shape[0], -1), axis=-1) <= mask.sum(axis=-1)).all()


@given(matrices())
def test_kept_are_the_largest_with_lower_index_tie_break(case):
    x, p = case
    mask = nm_mask(x, p)
    for xg, mg in zip(_groups(x, p.m), _groups(mask, p.m), strict=True):
        for row, keep in zip(np.abs(xg), mg, strict=True):
            expected = sorted(range(len(row)), key=lambda i: (-row[i], i))[: min(p.n, len(row))]
            assert set(np.flatnonzero(keep)) == set(expected)


@given(matrices())
def test_mask_is_idempotent(case):
    x, p = case
    once = prune(x, p)
    assert np.array_equal(prune(once, p), once)
    assert np.array_equal(nm_mask(once, p) | (once == 0), np.ones_like(once, dtype=bool))


@given(matrices())
def test_compress_decompress_round_trips(case):
    x, p = case
    c = compress(x, p)
    assert c.values.shape == c.indices.shape == (x.shape[0], -(-x.shape[1] // p.m), p.n)
    assert (np.diff(c.indices.astype(int), axis=-1) > 0).all()
    assert (c.indices < p.m).all()
    assert np.array_equal(decompress(c), prune(x, p))


@settings(max_examples=30)
@given(arrays(np.float32, (3, 5, 6), elements=st.floats(-10, 10, width=32)), st.integers(0, 2), PATTERNS)
def test_any_axis_matches_last_axis(x, axis, nm):
    p = NMPattern(*nm)
    moved = np.moveaxis(x, axis, -1)
    assert np.array_equal(np.moveaxis(nm_mask(x, p, axis), axis, -1), nm_mask(moved, p))
    assert np.array_equal(decompress(compress(x, p, axis)), prune(x, p, axis))


def test_ragged_tail_rule_is_zero_padding():
    x = np.array([[5, 1, 7, 2, 9, -8]])  # 2:4 -> group [5,1,7,2] and tail [9,-8] keeps both
    assert nm_mask(x, "2:4").tolist() == [[True, False, True, False, True, True]]
    assert nm_mask(np.array([[3, -3, 3]]), "1:4").tolist() == [[True, False, False]]


@pytest.mark.parametrize("text", ["4:4", "5:4", "0:4", "2-4", "a:b", "2:4:8", "", "\u00b2:8", "2:\u0668",
                                  "1:" + "9" * 5000, "1:99999999", "2:8" * 1000])
def test_bad_patterns_rejected_with_one_line(text):
    with pytest.raises(NmsatError) as e:
        NMPattern.parse(text)
    assert "\n" not in str(e.value) and str(e.value)


def test_pattern_properties():
    p = NMPattern.parse(" 2:8 ")
    assert (p.n, p.m, str(p), p.ideal_speedup, p.index_bits) == (2, 8, "2:8", 4.0, 3)
    with pytest.raises(NmsatError, match="N:M pattern n = True"):
        NMPattern(True, 4)


def test_bad_axis_rejected():
    with pytest.raises(NmsatError, match="axis 3 out of range"):
        nm_mask(np.zeros((2, 2)), "1:2", axis=3)


@pytest.mark.parametrize("m", [256, 300, 1024, MAX_M])
def test_compress_round_trips_for_large_m(m):
    x = np.random.default_rng(m).standard_normal((3, 2 * m + 5))
    c = compress(x, f"3:{m}")
    assert np.array_equal(decompress(c), prune(x, f"3:{m}"))
    assert is_nm(prune(x, f"3:{m}") != 0, f"3:{m}")


@pytest.mark.parametrize("make, message", [
    (lambda: NMPattern(1, MAX_M + 1), "M must be <= 4096"),
    (lambda: NMPattern(1, 2**62), "M must be <= 4096"),
    (lambda: NMPattern("1", 4), "expected an integer"),
    (lambda: nm_mask(np.ones(8, dtype=complex), "2:4"), "real-valued"),
    (lambda: nm_mask(np.array(["a", "b"]), "2:4"), "real-valued"),
    (lambda: nm_mask(np.ones(8), "2:4", axis=0.5), "axis = 0.5: expected an integer"),
])
def test_bad_api_input_is_one_line_error(make, message):
    with pytest.raises(NmsatError, match=message) as e:
        make()
    assert "\n" not in str(e.value)


def test_is_nm_detects_too_many_kept():
    assert is_nm(np.array([[1, 1, 0, 0, 0, 0, 0, 0]], dtype=bool), "2:8")
    assert not is_nm(np.array([[1, 1, 1, 0, 0, 0, 0, 0]], dtype=bool), "2:8")
    assert not is_nm(np.ones((3, 2), dtype=bool), "1:4", axis=0)
