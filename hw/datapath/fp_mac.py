"""Pipelined bf16 x bf16 -> fp32 multiply-accumulate of P products, bit-exact to `nmsat.sim.fp`.

Semantics (exact product, one RNE rounding per product, left-to-right order, flushed subnormals,
canonical NaN) are documented in `nmsat.sim.fp`. Structure, for ``mults = P``:

* stage 0 multiplies all P pairs (8 x 8-bit significands, exact) and unpacks the accumulator;
* P add steps in a chain, step j adding product j (delayed j steps) to the rounded result of step j-1.
  One step is a classic floating-point adder with guard, round and sticky bits: align the smaller
  magnitude, add or subtract, count leading zeros, normalise, round to nearest even, flush, pack.
  `add_stages` (1 to 5) registers in one step: 1 = its output only, 2 = also after the add, 3 = also
  after the alignment shift, 4 = also after normalisation, 5 = also between the magnitude compare
  and the swap + alignment shift.

``latency = 1 + P * add_stages`` cycles from ``valid`` with ``a, w, acc_in`` to ``valid_out`` with
``acc_out``; a new MAC can start every cycle. Data registers have no reset; only the valid bits do.
"""

from amaranth import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

CANONICAL_NAN = 0x7FC00000
ADD_STAGES = (1, 2, 3, 4, 5)
ZERO_EXP = -2048


class Operand(data.Struct):
    """An unpacked operand: ``value = (-1)**sign * sig * 2**(exp - 150)``; a zero has ``sig == 0`` and
    ``exp == ZERO_EXP``, so ``Cat(sig, exp + 2048)`` orders magnitudes."""

    sig: 24
    exp: signed(12)  # products reach 2 * 254 - 126 = 382; normalised sums go down to -152
    sign: 1
    inf: 1
    nan: 1


class _Ordered(data.Struct):
    x: Operand
    y: Operand
    x_ge: 1  # |x| >= |y|
    shift: 5  # |exp_x - exp_y|, saturated at 27


class _Aligned(data.Struct):
    big_sig: 24
    big_exp: signed(12)
    big_sign: 1
    small: 27  # the smaller significand shifted to the bigger's exponent: 24 bits, guard, round, sticky
    sub: 1
    nan: 1
    inf: 1
    inf_sign: 1


class _Summed(data.Struct):
    sum: 28
    lz: 5
    zero: 1
    big_exp: signed(12)
    big_sign: 1
    sub: 1
    nan: 1
    inf: 1
    inf_sign: 1


class _Normalised(data.Struct):
    norm: 28  # leading one at bit 27: 24 significand bits, guard, and sticky below
    exp: signed(12)
    zero: 1
    big_sign: 1
    sub: 1
    nan: 1
    inf: 1
    inf_sign: 1


def _stage(m, registered, layout, fields, name):
    """A `layout` signal holding `fields` ({name: value}) through reset-less registers or wires."""
    sig = Signal(layout, name=name, reset_less=True)
    domain = m.d.sync if registered else m.d.comb
    domain += [getattr(sig, f).eq(v) for f, v in fields.items()]
    return sig


def _unpack_fp32(m, bits, name):
    out = Signal(Operand, name=name)
    exp, man = bits[23:31], bits[0:23]
    m.d.comb += [out.sig.eq(Mux(exp == 0, 0, Cat(man, 1))), out.exp.eq(Mux(exp == 0, ZERO_EXP, exp)),
                 out.sign.eq(bits[31]),
                 out.inf.eq((exp == 0xFF) & (man == 0)), out.nan.eq((exp == 0xFF) & (man != 0))]
    return out


def _product(m, a, w, name):
    """The exact product of two bf16 bit patterns, unpacked (subnormal inputs read as zeros)."""
    out = Signal(Operand, name=name)
    ea, eb = a[7:15], w[7:15]
    a_zero, b_zero = ea == 0, eb == 0
    a_inf, b_inf = (ea == 0xFF) & (a[0:7] == 0), (eb == 0xFF) & (w[0:7] == 0)
    nan = ((ea == 0xFF) & (a[0:7] != 0)) | ((eb == 0xFF) & (w[0:7] != 0)) | (a_inf & b_zero) | (b_inf & a_zero)
    prod = Signal(16, name=f"{name}_sig")
    m.d.comb += prod.eq(Cat(a[0:7], 1) * Cat(w[0:7], 1))
    top = prod[15]
    m.d.comb += [out.sig.eq(Mux(a_zero | b_zero, 0, Mux(top, Cat(Const(0, 8), prod), Cat(Const(0, 9), prod)))),
                 out.exp.eq(Mux(a_zero | b_zero, ZERO_EXP, ea + eb - 127 + top)), out.sign.eq(a[15] ^ w[15]),
                 out.inf.eq((a_inf | b_inf) & ~nan), out.nan.eq(nan)]
    return out


def _lzc(v):
    """(all zero, leading-zero count) of `v`, whose width is a power of two, as a balanced tree."""
    if len(v) == 2:
        return ~v[1] & ~v[0], ~v[1]
    half = len(v) // 2
    zh, ch = _lzc(v[half:])
    zl, cl = _lzc(v[:half])
    return zh & zl, Mux(zh, Cat(cl, 1), Cat(ch, 0))


def _magnitude(op):
    return Cat(op.sig, op.exp[0:11], ~op.exp[11])  # the exponent offset by 2048: unsigned, monotonic


def _order(x, y):
    """Compare the magnitudes and compute the alignment shift (both differences in parallel)."""
    x_ge = _magnitude(x) >= _magnitude(y)
    dxy, dyx = x.exp - y.exp, y.exp - x.exp  # up to 2430 when one is a zero
    sat_xy, sat_yx = Mux(dxy > 27, 27, dxy[0:5]), Mux(dyx > 27, 27, dyx[0:5])
    return {"x": x, "y": y, "x_ge": x_ge, "shift": Mux(x_ge, sat_xy, sat_yx)}


def _align(s):
    """Swap (bigger first); shift the smaller significand right, keeping guard, round and sticky bits."""
    x, y = s.x, s.y
    big = Operand(Mux(s.x_ge, x.as_value(), y.as_value()))
    small_sig = Mux(s.x_ge, y.sig, x.sig)
    wide = Cat(Const(0, 27), Const(0, 3), small_sig) >> s.shift
    return {"big_sig": big.sig, "big_exp": big.exp, "big_sign": big.sign,
            "small": Cat(wide[27] | (wide[0:27] != 0), wide[28:54]), "sub": x.sign != y.sign,
            "nan": x.nan | y.nan | (x.inf & y.inf & (x.sign != y.sign)), "inf": x.inf | y.inf,
            "inf_sign": Mux(x.inf, x.sign, y.sign)}


def _add(s):
    """Add or subtract the aligned significands (the result is >= 0) and count its leading zeros."""
    big = Cat(Const(0, 3), s.big_sig)
    total = Cat(s.sub, big) + Cat(s.sub, Mux(s.sub, ~s.small, s.small))  # the low bit carries the +1 of -x
    raw = total[1:29]
    sum28 = Mux(s.sub, Cat(raw[0:27], 0), raw)
    zero, lz = _lzc(Cat(Const(0, 4), sum28))
    return {"sum": sum28, "lz": lz, "zero": zero, "big_exp": s.big_exp, "big_sign": s.big_sign, "sub": s.sub,
            "nan": s.nan, "inf": s.inf, "inf_sign": s.inf_sign}


def _normalise(s):
    return {"norm": (s.sum << s.lz)[0:28], "exp": s.big_exp + 1 - s.lz, "zero": s.zero,
            "big_sign": s.big_sign, "sub": s.sub, "nan": s.nan, "inf": s.inf, "inf_sign": s.inf_sign}


def _round_pack(m, s, name):
    """Round to nearest even, flush tiny results (judged before rounding), overflow to inf, pack; specials.

    The rounding carry, the exponent increment and the range checks are computed side by side."""
    sig = s.norm[4:28]
    up = s.norm[3] & ((s.norm[0:3] != 0) | sig[0])
    carry = up & (sig == 0xFFFFFF)  # rounding overflows the significand: 1.11..1 -> 10.00..0
    mant = Signal(23, name=f"{name}_mant")
    m.d.comb += mant.eq(sig[0:23] + up)  # on a carry the 23 stored bits wrap to 0, as they should
    exp_up = Signal(signed(12), name=f"{name}_exp_up")
    m.d.comb += exp_up.eq(s.exp + 1)
    overflow = (s.exp > 254) | ((s.exp == 254) & carry)
    inf = s.inf | (~s.nan & ~s.zero & (s.exp >= 1) & overflow)
    zero = s.zero | (s.exp < 1)
    sign = Mux(s.inf, s.inf_sign, Mux(s.zero, s.big_sign & ~s.sub, s.big_sign))
    exp_field = Mux(inf, 0xFF, Mux(zero, 0, Mux(carry, exp_up[0:8], s.exp[0:8])))
    return Mux(s.nan, CANONICAL_NAN, Cat(Mux(inf | zero, 0, mant), exp_field, sign))


class FpMac(wiring.Component):
    """``acc_out = (((acc_in + a0*w0) + a1*w1) + ...)``, each step rounded to fp32; `latency` cycles.

    `a`, `w`: P bf16 bit patterns; `acc_in`, `acc_out`: fp32 bit patterns. ``valid`` travels with the data.
    """

    def __init__(self, mults, add_stages=3):
        if add_stages not in ADD_STAGES:
            raise ValueError(f"add_stages={add_stages!r}: use one of {ADD_STAGES}")
        self.mults = mults
        self.add_stages = add_stages
        self.latency = 1 + mults * add_stages
        super().__init__({
            "valid": In(1),
            "a": In(data.ArrayLayout(16, mults)),
            "w": In(data.ArrayLayout(16, mults)),
            "acc_in": In(32),
            "valid_out": Out(1),
            "acc_out": Out(32),
        })

    def _step(self, m, acc_bits, product, j):
        """One add step: fp32 `acc_bits` + unpacked `product` -> fp32 bits after `add_stages` registers."""
        acc = _unpack_fp32(m, acc_bits, f"s{j}_acc")
        ordered = _stage(m, self.add_stages >= 5, _Ordered, _order(acc, product), f"s{j}_ordered")
        aligned = _stage(m, self.add_stages >= 3, _Aligned, _align(ordered), f"s{j}_aligned")
        summed = _stage(m, self.add_stages >= 2, _Summed, _add(aligned), f"s{j}_summed")
        normalised = _stage(m, self.add_stages >= 4, _Normalised, _normalise(summed), f"s{j}_normalised")
        out = Signal(32, name=f"s{j}_out", reset_less=True)
        m.d.sync += out.eq(_round_pack(m, normalised, f"s{j}"))
        return out

    def elaborate(self, platform):
        m = Module()
        acc = Signal(32, name="acc0", reset_less=True)
        m.d.sync += acc.eq(self.acc_in)
        products = []
        for j in range(self.mults):
            p = _product(m, self.a[j], self.w[j], f"p{j}")
            for d in range(1 + j * self.add_stages):  # stage 0, then wait for step j's turn
                reg = Signal(Operand, name=f"p{j}_d{d}", reset_less=True)
                m.d.sync += reg.eq(p)
                p = reg
            products.append(p)
        for j, p in enumerate(products):
            acc = self._step(m, acc, p, j)
        m.d.comb += self.acc_out.eq(acc)
        valid = self.valid
        for d in range(self.latency):
            nxt = Signal(name=f"valid_d{d}")
            m.d.sync += nxt.eq(valid)
            valid = nxt
        m.d.comb += self.valid_out.eq(valid)
        return m
