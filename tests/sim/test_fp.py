"""The bf16 x bf16 -> fp32 MAC reference (`sim.fp`, `golden_gemm_fp`) against an exact rational oracle."""

import itertools

import numpy as np
import pytest
from fp_oracle import exact_step

from nmsat.errors import NmsatError
from nmsat.nm import nm_mask
from nmsat.sim.fp import CANONICAL_NAN, bf16_bits, bf16_value, f32_bits, f32_value, fp_mac, mac_step
from nmsat.sim.fp_cases import BF16_EDGES, F32_EDGES, random_bf16, random_f32
from nmsat.sim.golden import golden_gemm_fp


def _check(acc, a, w):
    got = mac_step(acc, a, w)
    want = np.array([exact_step(*t) for t in zip(acc, a, w, strict=True)], dtype=np.uint32)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, [(hex(acc[i]), hex(a[i]), hex(w[i]), hex(got[i]), hex(want[i])) for i in bad[:5]]


def test_bf16_encoding_rounds_to_nearest_even():
    x = np.array([1.0, 1 + 2**-8, 1 + 3 * 2**-8, 1 + 2**-8 + 2**-20, -0.0, np.inf, 3.4e38, np.nan], np.float32)
    assert bf16_bits(x).tolist() == [0x3F80, 0x3F80, 0x3F82, 0x3F81, 0x8000, 0x7F80, 0x7F80, 0x7FC0]
    assert bf16_value(np.array([0x3F81, 0xC040], np.uint16)).tolist() == [1 + 2**-7, -3.0]
    assert f32_bits(f32_value(np.array([0x80000000, 0x7F800000], np.uint32))).tolist() == [0x80000000, 0x7F800000]


def test_step_on_every_edge_combination():
    acc, a, w = (np.array(v) for v in zip(*itertools.product(F32_EDGES, BF16_EDGES, BF16_EDGES[::3]), strict=True))
    _check(acc.astype(np.uint32), a.astype(np.uint16), w.astype(np.uint16))


@pytest.mark.parametrize(("acc", "a", "w", "want"), [
    (0x4B800000, 0x3F80, 0x3F80, 0x4B800000),  # 2**24 + 1: a tie, rounds to the even 2**24
    (0x4B800001, 0x3F80, 0x3F80, 0x4B800002),  # 2**24 + 3: a tie, rounds up to the even 2**24 + 4
    (0x80000000, 0x8000, 0x3F80, 0x80000000),  # -0 + -0 = -0
    (0x80000000, 0x0000, 0x3F80, 0x00000000),  # -0 + +0 = +0
    (0x3F800000, 0xBF80, 0x3F80, 0x00000000),  # 1 - 1 = +0
    (0x00000000, 0x0100, 0x0100, 0x00000000),  # 2**-252: tiny, flushed to +0
    (0x80800000, 0x0001, 0x3F80, 0x80800000),  # a subnormal input is a zero
    (0x00000000, 0x7F80, 0x0001, CANONICAL_NAN),  # inf * subnormal = inf * 0
    (0x7F800000, 0xFF80, 0x3F80, CANONICAL_NAN),  # inf - inf
    (0xFF7FFFFF, 0x5F80, 0x5F80, 0x73800000),  # the product 2**128 is exact: -max + 2**128 = 2**104
    (0x7F7FFFFF, 0x7F7F, 0x3F80, 0x7F800000),  # overflow to inf
])
def test_step_named_cases(acc, a, w, want):
    assert int(mac_step(np.uint32(acc), np.uint16(a), np.uint16(w))) == want == exact_step(acc, a, w)


def test_step_random():
    rng = np.random.default_rng(0)
    _check(random_f32(rng, 4000), random_bf16(rng, 4000), random_bf16(rng, 4000))


@pytest.mark.slow
def test_step_random_large():
    rng = np.random.default_rng(1)
    _check(random_f32(rng, 200_000), random_bf16(rng, 200_000), random_bf16(rng, 200_000))


def test_mac_adds_left_to_right():
    """(2**24 + 1) + 1 loses both ones one at a time; adding them first would keep them."""
    one = 0x3F80
    got = fp_mac(np.uint32(0x4B800000), np.array([one, one], np.uint16), np.array([one, one], np.uint16))
    assert int(got) == 0x4B800000


def test_golden_fp_order_pattern_and_init():
    rng = np.random.default_rng(2)
    a, b = random_bf16(rng, 5 * 8, 0).reshape(5, 8), random_bf16(rng, 3 * 8, 0).reshape(3, 8)
    init = random_f32(rng, 5 * 3, 0).reshape(5, 3)
    y = golden_gemm_fp(a, b, acc=init).view(np.uint32)
    for i, n in itertools.product(range(5), range(3)):
        assert y[i, n] == fp_mac(init[i, n], a[i], b[n])
    keep = nm_mask(bf16_value(b), "2:4", axis=1)
    y24 = golden_gemm_fp(a, b, "2:4").view(np.uint32)
    for i, n in itertools.product(range(5), range(3)):
        assert keep[n].sum() == 4 and y24[i, n] == fp_mac(np.uint32(0), a[i, keep[n]], b[n, keep[n]])


def test_golden_fp_rejects_bad_shapes():
    with pytest.raises(NmsatError, match="do not match"):
        golden_gemm_fp(np.zeros((2, 3)), np.zeros((2, 4)))
