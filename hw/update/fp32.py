"""Combinational fp32 multiply and add, bit-exact to `nmsat.sim.fp32` (round to nearest even, flushed
subnormals, canonical NaN). Each function adds its logic to module `m` and returns the result's bits."""

from amaranth import Cat, Const, Mux, Signal, signed

from nmsat.sim.fp import CANONICAL_NAN


def _unpack(bits):
    """(sign, biased exponent, 24-bit significand with the hidden one, zero, inf, nan); subnormals are zero."""
    exp, frac, sign = bits[23:31], bits[:23], bits[31]
    zero = exp == 0
    inf = (exp == 255) & (frac == 0)
    nan = (exp == 255) & (frac != 0)
    sig = Mux(zero, 0, Cat(frac, Const(1, 1)))
    return sign, exp, sig, zero, inf, nan


def _finish(m, name, sign, exp, norm, nan, inf, inf_sign, zero, zero_sign):
    """Round `norm` (27 bits: leading one at bit 26, then 23 fraction bits, guard, round/sticky bits) with
    biased exponent `exp` (signed, of the exact value) to nearest even and pack; flush tiny, overflow to inf."""
    up = norm[2] & (norm[1] | norm[0] | norm[3])
    rounded = Signal(25, name=f"{name}_rounded")
    m.d.comb += rounded.eq(norm[3:27] + up)
    carry = rounded[24]
    e = Signal(signed(12), name=f"{name}_e")
    m.d.comb += e.eq(exp + carry)
    frac = Mux(carry, rounded[1:24], rounded[:23])
    out = Signal(32, name=name)
    with m.If(nan):
        m.d.comb += out.eq(CANONICAL_NAN)
    with m.Elif(inf):
        m.d.comb += out.eq(Cat(Const(0, 23), Const(255, 8), inf_sign))
    with m.Elif(zero):
        m.d.comb += out.eq(Cat(Const(0, 31), zero_sign))
    with m.Elif(exp <= 0):  # the exact value is below 2**-126: a zero of its sign
        m.d.comb += out.eq(Cat(Const(0, 31), sign))
    with m.Elif(e >= 255):
        m.d.comb += out.eq(Cat(Const(0, 23), Const(255, 8), sign))
    with m.Else():
        m.d.comb += out.eq(Cat(frac, e[:8], sign))
    return out


def fp32_mul(m, a, b, name="mul"):
    """``RNE_fp32(a * b)`` of fp32 bit patterns `a`, `b`."""
    sa, ea, ma, za, ia, na = _unpack(a)
    sb, eb, mb, zb, ib, nb = _unpack(b)
    sign = sa ^ sb
    prod = Signal(48, name=f"{name}_prod")
    m.d.comb += prod.eq(ma * mb)
    top = prod[47]
    exp = Signal(signed(12), name=f"{name}_exp")
    m.d.comb += exp.eq(ea + eb - 127 + top)
    # 27 bits: leading one, 23 fraction bits, guard, then the rest folded into sticky bits
    norm = Mux(top, Cat(prod[:23].any(), Const(0, 1), prod[23:48]), Cat(prod[:22].any(), Const(0, 1), prod[22:47]))
    nan = na | nb | (ia & zb) | (za & ib)
    return _finish(m, name, sign, exp, norm, nan, ia | ib, sign, za | zb, sign)


def fp32_add(m, a, b, name="add"):
    """``RNE_fp32(a + b)`` of fp32 bit patterns `a`, `b`."""
    sa, ea, ma, za, ia, na = _unpack(a)
    sb, eb, mb, zb, ib, nb = _unpack(b)
    a_ge = Cat(ma, ea) >= Cat(mb, eb)  # |a| >= |b| (zeros have significand 0)
    big_s, big_e, big_m = Mux(a_ge, sa, sb), Mux(a_ge, ea, eb), Mux(a_ge, ma, mb)
    small_e, small_m = Mux(a_ge, eb, ea), Mux(a_ge, mb, ma)
    d = Signal(8, name=f"{name}_d")
    m.d.comb += d.eq(big_e - small_e)
    shift = Mux(d > 30, 30, d)[:5]
    wide = Signal(50, name=f"{name}_wide")
    m.d.comb += wide.eq((small_m << 26) >> shift)
    aligned = Cat(wide[23] | wide[:23].any(), wide[24:50])  # small * 2**3 / 2**d, its last bit sticky
    big3 = Cat(Const(0, 3), big_m)
    sub = sa ^ sb
    total = Signal(28, name=f"{name}_sum")
    m.d.comb += total.eq(Mux(sub, big3 - aligned, big3 + aligned))
    lz = Signal(5, name=f"{name}_lz")
    m.d.comb += lz.eq(28)
    for i in range(28):  # leading zeros of the 28-bit sum (the highest set bit wins)
        with m.If(total[i]):
            m.d.comb += lz.eq(27 - i)
    exp = Signal(signed(12), name=f"{name}_exp")
    m.d.comb += exp.eq(big_e + 1 - lz)
    left = Signal(28, name=f"{name}_left")
    m.d.comb += left.eq(total << (lz - 1)[:5])
    norm = Mux(lz == 0, Cat(total[0] | total[1], total[2:28]), left[:27])
    nan = na | nb | (ia & ib & sub)
    inf_sign = Mux(ia, sa, sb)
    return _finish(m, name, big_s, exp, norm, nan, ia | ib, inf_sign, total == 0, sa & sb)
