"""`nmsat.sim.fp32` (the training engines' fp32 multiply and add) against an exact rational oracle."""

import itertools
import math
from fractions import Fraction

import numpy as np
from fp_oracle import NAN, _decode

from nmsat.sim.fp32 import fp32_add, fp32_mul
from nmsat.sim.fp_cases import F32_EDGES, random_f32


def _round(s, zero_sign):
    """fp32 bits of the exact rational `s`: RNE, flush below 2**-126, overflow to inf."""
    if s == 0:
        return zero_sign << 31
    sign = int(s < 0) << 31
    mag = abs(s)
    if mag < Fraction(2) ** -126:
        return sign
    e = mag.numerator.bit_length() - mag.denominator.bit_length()
    if mag < Fraction(2) ** e:
        e -= 1
    q = mag / Fraction(2) ** (e - 23)
    n = math.floor(q)
    rem = q - n
    if rem > Fraction(1, 2) or (rem == Fraction(1, 2) and n % 2):
        n += 1
    if n == 1 << 24:
        n, e = n >> 1, e + 1
    return sign | 0x7F800000 if e > 127 else sign | ((e + 127) << 23) | (n - (1 << 23))


def _exact(a, b, op):
    sa, va = _decode(int(a), 8, 23)
    sb, vb = _decode(int(b), 8, 23)
    if "nan" in (va, vb):
        return NAN
    if op == "mul":
        if "inf" in (va, vb):
            return NAN if 0 in (va, vb) else ((sa ^ sb) << 31) | 0x7F800000
        return _round(va * vb * (-1) ** (sa ^ sb), sa ^ sb)
    if "inf" in (va, vb):
        if va == vb == "inf" and sa != sb:
            return NAN
        return ((sa if va == "inf" else sb) << 31) | 0x7F800000
    return _round((-va if sa else va) + (-vb if sb else vb), sa & sb)


def test_fp32_ops_equal_exact_oracle():
    edges = np.array(F32_EDGES, dtype=np.uint32)
    a, b = (np.array(x, dtype=np.uint32) for x in zip(*itertools.product(edges, edges), strict=True))
    rng = np.random.default_rng(4)
    ra, rb = random_f32(rng, 2000), random_f32(rng, 2000)
    short = ra & np.uint32(0xFFFFF800)  # ties
    tiny = (rng.integers(60, 67, (2, 500)) << 23 | rng.integers(0, 1 << 23, (2, 500))).astype(np.uint32)  # ~2**-63
    tiny[1, :250] = (tiny[0, :250] ^ 0x80000000) + rng.integers(-3, 4, 250).astype(np.uint32)  # sums near 0
    a = np.concatenate([a, ra, short, tiny[0], tiny[0] - np.uint32(60 << 23)])
    b = np.concatenate([b, rb, (rb & np.uint32(0x807FF800)) | (short & 0x7F800000), tiny[1], tiny[1]])
    for name, fn in (("add", fp32_add), ("mul", fp32_mul)):
        got = fn(a, b)
        ref = np.array([_exact(x, y, name) for x, y in zip(a.tolist(), b.tolist(), strict=True)], dtype=np.uint32)
        bad = np.flatnonzero(got != ref)
        assert not len(bad), f"{name}: {len(bad)} differ, first {a[bad[0]]:#010x} {b[bad[0]]:#010x}"
