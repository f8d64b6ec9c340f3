"""An independent, slow oracle of the FP MAC step in exact rational arithmetic (Python fractions)."""

import math
from fractions import Fraction

NAN = 0x7FC00000


def _decode(bits, exp_bits, man_bits):
    """(sign, Fraction magnitude or 'inf' / 'nan'), subnormals flushed to zero."""
    sign = bits >> (exp_bits + man_bits)
    exp = (bits >> man_bits) & ((1 << exp_bits) - 1)
    man = bits & ((1 << man_bits) - 1)
    if exp == (1 << exp_bits) - 1:
        return sign, ("nan" if man else "inf")
    if exp == 0:
        return sign, Fraction(0)
    bias = (1 << (exp_bits - 1)) - 1
    return sign, Fraction((1 << man_bits) | man) * Fraction(2) ** (exp - bias - man_bits)


def exact_step(acc, a, w):
    """``RNE_fp32(acc + a*w)`` with the documented semantics, computed exactly (fp32 / bf16 bit patterns)."""
    sx, x = _decode(int(acc), 8, 23)
    sa, va = _decode(int(a), 8, 7)
    sw, vw = _decode(int(w), 8, 7)
    sp = sa ^ sw
    if "nan" in (x, va, vw):
        return NAN
    if "inf" in (va, vw):
        if 0 in (va, vw):
            return NAN
        vp = "inf"
    else:
        vp = va * vw
    if x == "inf" or vp == "inf":
        if x == "inf" and vp == "inf" and sx != sp:
            return NAN
        return ((sx if x == "inf" else sp) << 31) | 0x7F800000
    s = (-x if sx else x) + (-vp if sp else vp)
    if s == 0:
        return 0x80000000 if (sx and sp and x == 0 and vp == 0) else 0
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
    if e > 127:
        return sign | 0x7F800000
    return sign | ((e + 127) << 23) | (n - (1 << 23))
