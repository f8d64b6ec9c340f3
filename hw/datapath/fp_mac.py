"""Pipelined bf16 x bf16 -> fp32 multiply-accumulate of P products, bit-exact to `nmsat.sim.fp`.

Semantics (exact product, one RNE rounding per product, left-to-right order, flushed subnormals,
canonical NaN) are documented in `nmsat.sim.fp`. Structure, for ``mults = P``:

* three stages (`MUL_STAGES`) register the operands, multiply all P pairs (8 x 8-bit significands, exact,
  in `Multiplier` blocks: the significands' registers and the product are a DSP's own) and normalise the
  products, while the accumulator waits; the weights are registers loaded in the cycles ``w_load`` is high;
* P add steps in a chain, step j adding product j to the rounded result of step j-1. Product j waits its
  turn (``j * add_stages`` cycles) as the raw 32-bit product, before normalisation, in a `DelayLine`.
  One step is a classic floating-point adder with guard, round and sticky bits: align the smaller
  magnitude, add or subtract, count leading zeros, normalise, round to nearest even, flush, pack.
  Each step hands the next its result unpacked (registered fields: nothing to decode on the next
  compare's path); an add whose input is an fp32 bit pattern (the partial sum from above, a fold)
  compares the pattern itself. The sticky bit comes from the trailing zeros beside the shift, the
  exponent's range checks beside the normalising shift, and rounding chooses a precomputed ``sig + 1``.
  `add_stages` (1 to 7) registers in one step: 1 = its output only, 2 = also after the leading-zero
  count, 3 = also after the alignment shift, 4 = also after normalisation, 5 = also between the
  magnitude compare and the swap, 6 = also between the swap and the alignment shift, 7 = also between
  the add and the leading-zero count.

``latency = MUL_STAGES + P * add_stages`` cycles from ``valid`` with ``a, acc_in`` (multiplied with the weight
registers, which hold ``w`` of the last cycle up to that one with ``w_load`` high) to ``valid_out`` with
``acc_out``; a new MAC can start every cycle. Data registers have no reset; only the valid bits do.
"""

from amaranth import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from nmsat.core_params import FP_MUL_STAGES as MUL_STAGES  # operand registers, multiply, normalise
from nmsat.hw.datapath.delay_line import DelayLine
from nmsat.hw.datapath.multiplier import Multiplier

CANONICAL_NAN = 0x7FC00000
ADD_STAGES = (1, 2, 3, 4, 5, 6, 7)
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
    dxy: signed(13)  # exp_x - exp_y
    dyx: signed(13)  # exp_y - exp_x
    tz_x: 5  # trailing zeros of x.sig (31 when 0)
    tz_y: 5


class _Swapped(data.Struct):
    big_sig: 24
    big_exp: signed(12)
    big_sign: 1
    small_sig: 24
    tz_small: 5
    shift: 5
    sub: 1
    nan: 1
    inf: 1
    inf_sign: 1


class _Aligned(data.Struct):
    big_sig: 24
    big_exp: signed(12)
    big_sign: 1
    small: 27  # the smaller significand shifted to the bigger's exponent: 24 bits, guard, round, sticky
    sub: 1
    nan: 1
    inf: 1
    inf_sign: 1


class _Added(data.Struct):
    sum: 28
    big_exp: signed(12)
    big_sign: 1
    sub: 1
    nan: 1
    inf: 1
    inf_sign: 1


class _Summed(data.Struct):
    sum: 28
    lz: 5
    zero: 1
    big_exp: signed(12)
    exp_254: signed(13)  # big_exp - 253: the normalised exponent is 254 when lz equals it
    big_sign: 1
    sub: 1
    nan: 1
    inf: 1
    inf_sign: 1


class _Normalised(data.Struct):
    norm: 28  # leading one at bit 27: 24 significand bits, guard, and sticky below
    exp: signed(12)
    tiny: 1  # exp < 1
    huge: 1  # exp > 254
    top: 1  # exp == 254
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


def delayed(m, value, name):
    """`value` one cycle later (a reset-less register of its shape)."""
    reg = Signal(value.shape(), name=name, reset_less=True)
    m.d.sync += reg.eq(value)
    return reg


def _unpack_fp32(m, bits, name):
    out = Signal(Operand, name=name)
    exp, man = bits[23:31], bits[0:23]
    m.d.comb += [out.sig.eq(Mux(exp == 0, 0, Cat(man, 1))), out.exp.eq(Mux(exp == 0, ZERO_EXP, exp)),
                 out.sign.eq(bits[31]),
                 out.inf.eq((exp == 0xFF) & (man == 0)), out.nan.eq((exp == 0xFF) & (man != 0))]
    return out


class _Product(data.Struct):
    prod: 16  # product of the two 8-bit significands
    exp: signed(12)  # ea + eb - 127
    zero: 1
    sign: 1
    inf: 1
    nan: 1


def _significand(x):
    """A bf16 bit pattern's 8-bit significand with its hidden one (a zero's is never used)."""
    return Cat(x[0:7], 1)


def _classify(a, w):
    """The exponent, sign and special values of the product of two bf16 bit patterns (`_Product` but its
    ``prod``); subnormal inputs read as zeros."""
    ea, eb = a[7:15], w[7:15]
    a_zero, b_zero = ea == 0, eb == 0
    a_inf, b_inf = (ea == 0xFF) & (a[0:7] == 0), (eb == 0xFF) & (w[0:7] == 0)
    nan = ((ea == 0xFF) & (a[0:7] != 0)) | ((eb == 0xFF) & (w[0:7] != 0)) | (a_inf & b_zero) | (b_inf & a_zero)
    return {"exp": ea + eb - 127, "zero": a_zero | b_zero,
            "sign": a[15] ^ w[15], "inf": (a_inf | b_inf) & ~nan, "nan": nan}


def _product_operand(p):
    """Normalise a `_Product` into an `Operand` (the significand's leading one at bit 23)."""
    top = p.prod[15]
    return {"sig": Mux(p.zero, 0, Mux(top, Cat(Const(0, 8), p.prod), Cat(Const(0, 9), p.prod))),
            "exp": Mux(p.zero, ZERO_EXP, p.exp + top), "sign": p.sign, "inf": p.inf, "nan": p.nan}


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


def _tz(sig):
    """Trailing zeros of a 24-bit significand, 31 when it is 0."""
    return _lzc(Cat(Const(0, 8), sig[::-1]))[1]


def order(x, y):
    """Compare the magnitudes; both exponent differences and the significands' trailing zeros (for the
    sticky bit), in parallel with the compare."""
    return {"x": x, "y": y, "x_ge": _magnitude(x) >= _magnitude(y), "dxy": x.exp - y.exp, "dyx": y.exp - x.exp,
            "tz_x": _tz(x.sig), "tz_y": _tz(y.sig)}


ZERO = {"sig": 0, "exp": ZERO_EXP, "sign": 0, "inf": 0, "nan": 0}  # +0 unpacked


def order_fp32(m, bits, y, first, name):
    """`order` of ``x = +0 if first else _unpack_fp32(bits)`` and `y`, comparing the fp32 bit pattern itself
    (a zero or subnormal exponent field orders below every other value, as a flushed zero does) so that
    neither the decode of `bits` nor the choice by `first` is on the compare's path."""
    x = _unpack_fp32(m, bits, f"{name}_x")
    e = bits[23:31]
    normal = e != 0
    packed_ge = Cat(bits[0:23], normal, e, Const(0, 3), normal) >= _magnitude(y)
    zero = Signal(Operand, name=f"{name}_zero")
    m.d.comb += [getattr(zero, f).eq(v) for f, v in ZERO.items()]
    return {"x": Mux(first, zero, x), "y": y,
            "x_ge": Mux(first, y.sig == 0, packed_ge),
            "dxy": Mux(first | ~normal, ZERO_EXP - y.exp, e - y.exp),
            "dyx": Mux(first | ~normal, y.exp - ZERO_EXP, y.exp - e),
            "tz_x": Mux(first, 31, _tz(x.sig)), "tz_y": _tz(y.sig)}


def _swap(s):
    """Bigger magnitude first, the alignment shift (the exponent difference saturated at 27; up to 2430 when
    one is a zero); the special cases."""
    x, y = s.x, s.y
    big = Operand(Mux(s.x_ge, x.as_value(), y.as_value()))
    shift = Mux(s.x_ge, Mux(s.dxy > 27, 27, s.dxy[0:5]), Mux(s.dyx > 27, 27, s.dyx[0:5]))
    return {"big_sig": big.sig, "big_exp": big.exp, "big_sign": big.sign, "small_sig": Mux(s.x_ge, y.sig, x.sig),
            "tz_small": Mux(s.x_ge, s.tz_y, s.tz_x), "shift": shift, "sub": x.sign != y.sign,
            "nan": x.nan | y.nan | (x.inf & y.inf & (x.sign != y.sign)), "inf": x.inf | y.inf,
            "inf_sign": Mux(x.inf, x.sign, y.sign)}


def _align(s):
    """Shift the smaller significand right, keeping guard and round bits and a sticky bit. The sticky bit (a
    significand bit shifted below the round bit: bit i lands there when ``i + 3 <= shift``) is decided from
    the trailing zeros, beside the shift."""
    wide = (Cat(Const(0, 2), s.small_sig) >> s.shift)[0:26]
    sticky = s.shift >= s.tz_small + 3
    return {"big_sig": s.big_sig, "big_exp": s.big_exp, "big_sign": s.big_sign,
            "small": Cat(sticky, wide), "sub": s.sub,
            "nan": s.nan, "inf": s.inf, "inf_sign": s.inf_sign}


def _add(s):
    """Add or subtract the aligned significands (the result is >= 0)."""
    big = Cat(Const(0, 3), s.big_sig)
    total = Cat(s.sub, big) + Cat(s.sub, Mux(s.sub, ~s.small, s.small))  # the low bit carries the +1 of -x
    raw = total[1:29]
    return {"sum": Mux(s.sub, Cat(raw[0:27], 0), raw), "big_exp": s.big_exp, "big_sign": s.big_sign,
            "sub": s.sub, "nan": s.nan, "inf": s.inf, "inf_sign": s.inf_sign}


def _count(s):
    """Count the sum's leading zeros."""
    zero, lz = _lzc(Cat(Const(0, 4), s.sum))
    return {"sum": s.sum, "lz": lz, "zero": zero, "big_exp": s.big_exp, "exp_254": s.big_exp - 253,
            "big_sign": s.big_sign, "sub": s.sub,
            "nan": s.nan, "inf": s.inf, "inf_sign": s.inf_sign}


def _normalise(s):
    """Shift the leading one to the top; the exponent ``big_exp + 1 - lz`` and its range checks, each one
    compare of `lz` (beside the shift)."""
    return {"norm": (s.sum << s.lz)[0:28], "exp": s.big_exp + 1 - s.lz, "tiny": s.big_exp < s.lz,
            "huge": s.exp_254 > s.lz, "top": s.exp_254 == s.lz,
            "zero": s.zero,
            "big_sign": s.big_sign, "sub": s.sub, "nan": s.nan, "inf": s.inf, "inf_sign": s.inf_sign}


def _round_pack(m, s, name):
    """Round to nearest even, flush tiny results (judged before rounding), overflow to inf; specials. Returns
    the fp32 bit pattern and the same value unpacked (`Operand`, equal to unpacking the bit pattern), so the
    next add in a chain starts from registered fields.

    The only carry chain is ``sig + 1``, computed beside the rounding decision and chosen by it; its carry-out
    is the significand overflow. Everything else is decided before it: a zero or tiny result, and every
    overflow except exponent 254 rounding up (whose stored significand bits are 0 anyway)."""
    sig = s.norm[4:28]  # leading one at sig[23] unless the sum is zero
    up = s.norm[3] & ((s.norm[0:3] != 0) | sig[0])
    plus1 = Signal(24, name=f"{name}_plus1")
    m.d.comb += plus1.eq(sig[0:23] + 1)  # plus1[23]: 1.11..1 rounds to 10.00..0; the 23 low bits wrap to 0
    inc = Mux(up, plus1, sig[0:23])
    carry = up & plus1[23]
    exp_up = Signal(signed(12), name=f"{name}_exp_up")
    m.d.comb += exp_up.eq(s.exp + 1)
    live = ~s.nan & ~s.inf
    zero = s.zero | s.tiny
    big = live & ~zero & s.huge  # overflow whatever the rounding
    inf = s.inf | big | (live & ~zero & s.top & carry)
    flushed = live & zero  # the exponent field is 0
    sign = Mux(s.nan, 0, Mux(s.inf, s.inf_sign, Mux(s.zero, s.big_sign & ~s.sub, s.big_sign)))
    # exponent 254 rounding up gives exp_up = 255 by itself: the choice of 0xFF waits for no carry
    exp_field = Mux(s.nan | s.inf | big, 0xFF, Mux(zero, 0, Mux(carry, exp_up[0:8], s.exp[0:8])))
    mant_field = Mux(s.nan, CANONICAL_NAN & 0x7FFFFF, Mux(s.inf | big | zero, 0, inc[0:23]))
    unpacked = {"sig": Mux(flushed, 0, Cat(mant_field, 1)), "exp": Mux(flushed, ZERO_EXP, exp_field),
                "sign": sign, "inf": ~s.nan & inf, "nan": s.nan}
    return Cat(mant_field, exp_field, sign), unpacked


def add_step(m, ordered, stages, name):
    """One fp32 add ``x + y`` of the operands `ordered` (`order` or `order_fp32`) -> (fp32 bits, the same
    unpacked) after `stages` registers; a chain of adds passes the unpacked result on (nothing to decode on
    the next add's path)."""
    ordered = _stage(m, stages >= 5, _Ordered, ordered, f"{name}_ordered")
    swapped = _stage(m, stages >= 6, _Swapped, _swap(ordered), f"{name}_swapped")
    aligned = _stage(m, stages >= 3, _Aligned, _align(swapped), f"{name}_aligned")
    added = _stage(m, stages >= 7, _Added, _add(aligned), f"{name}_added")
    summed = _stage(m, stages >= 2, _Summed, _count(added), f"{name}_summed")
    normalised = _stage(m, stages >= 4, _Normalised, _normalise(summed), f"{name}_normalised")
    bits, unpacked = _round_pack(m, normalised, name)
    out = Signal(32, name=f"{name}_out", reset_less=True)
    m.d.sync += out.eq(bits)
    return out, _stage(m, True, Operand, unpacked, f"{name}_out_op")


class Fp32Add(wiring.Component):
    """``out = RNE_fp32(a + b)`` of fp32 bit patterns, `stages` cycles later (`nmsat.sim.fp.add_step`); a new
    add can start every cycle."""

    def __init__(self, stages):
        if stages not in ADD_STAGES:
            raise ValueError(f"stages={stages!r}: use one of {ADD_STAGES}")
        self.stages = stages
        super().__init__({"a": In(32), "b": In(32), "out": Out(32)})

    def elaborate(self, platform):
        m = Module()
        y = _unpack_fp32(m, self.b, "b")
        out, _ = add_step(m, order_fp32(m, self.a, y, 0, "a"), self.stages, "add")
        m.d.comb += self.out.eq(out)
        return m


class FpMac(wiring.Component):
    """``acc_out = (((acc_in + a0*w0) + a1*w1) + ...)``, each step rounded to fp32; `latency` cycles.

    `a`, `w`: P bf16 bit patterns (`w` loaded where ``w_load``); `acc_in`, `acc_out`: fp32 bit patterns.
    ``valid`` travels with the data.
    """

    def __init__(self, mults, add_stages=3):
        if add_stages not in ADD_STAGES:
            raise ValueError(f"add_stages={add_stages!r}: use one of {ADD_STAGES}")
        self.mults = mults
        self.add_stages = add_stages
        self.latency = MUL_STAGES + mults * add_stages
        super().__init__({
            "valid": In(1),
            "a": In(data.ArrayLayout(16, mults)),
            "w": In(data.ArrayLayout(16, mults)),
            "w_load": In(1),
            "acc_in": In(32),
            "valid_out": Out(1),
            "acc_out": Out(32),
            "acc_out_op": Out(Operand),  # acc_out unpacked, for an add that follows
        })

    def elaborate(self, platform):
        m = Module()
        acc = _unpack_fp32(m, self.acc_in, "acc_in")
        for d in range(MUL_STAGES):
            acc = delayed(m, acc, f"acc_d{d}")
        a = delayed(m, self.a, "a_q")  # beside the multipliers' own registers: exponents, signs, special values
        w = Signal.like(self.w, name="w_q", reset_less=True)
        with m.If(self.w_load):
            m.d.sync += w.eq(self.w)
        products = []
        for j in range(self.mults):
            m.submodules[f"mul{j}"] = mul = Multiplier(8, 8, signed_operands=False)
            m.d.comb += [mul.a.eq(_significand(self.a[j])), mul.b.eq(_significand(self.w[j])),
                         mul.b_load.eq(self.w_load)]
            raw = Signal(_Product, name=f"p{j}_raw")
            flags = _stage(m, True, _Product, _classify(a[j], w[j]), f"p{j}_flags")
            m.d.comb += [raw.eq(flags), raw.prod.eq(mul.p)]
            m.submodules[f"p{j}_wait"] = wait = DelayLine(_Product, j * self.add_stages)  # step j's turn
            m.d.comb += wait.i.eq(raw)
            products.append(_stage(m, True, Operand, _product_operand(wait.o), f"p{j}"))
        for j, p in enumerate(products):
            out, acc = add_step(m, order(acc, p), self.add_stages, f"s{j}")
        m.d.comb += [self.acc_out.eq(out), self.acc_out_op.eq(acc)]
        valid = self.valid
        for d in range(self.latency):
            nxt = Signal(name=f"valid_d{d}")
            m.d.sync += nxt.eq(valid)
            valid = nxt
        m.d.comb += self.valid_out.eq(valid)
        return m
