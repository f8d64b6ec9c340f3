"""fp32 multiply and add, one rounding each: THE bit-exact reference of the training engines' fp32 units
(`nmsat.hw.update.fp32`), with the FP MAC's rules (docs/hw-fp-mac.md) for everything but the operand widths:

* round to nearest even, once per operation;
* subnormal inputs are zeros of their sign; a result whose exact value (before rounding) is below
  ``2**-126`` in magnitude becomes a zero with the sign of that value;
* an exact zero sum is ``+0`` except ``(-0) + (-0) = -0``; a product of zeros has the xor of the signs;
* a result that rounds to ``2**128`` or more is an infinity of its sign;
* ``inf * 0``, ``inf - inf`` and any NaN input give the canonical NaN ``0x7FC00000``.

Values travel as ``uint32`` bit patterns.
"""

import numpy as np

from nmsat.sim.fp import CANONICAL_NAN, MIN_NORMAL, _flushed, f32_bits, f32_value


def _round(exact, err):
    """fp32 bits of float64 `exact` (+ `err`, the part float64 lost, of the same or opposite sign)."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = f32_bits(exact).astype(np.uint32)
    mag = np.abs(exact)
    with np.errstate(invalid="ignore"):
        tiny = np.isfinite(exact) & (exact != 0) & ((mag < MIN_NORMAL) | ((mag == MIN_NORMAL) & (err * exact < 0)))
    out = np.where(tiny, np.where(exact < 0, np.uint32(0x80000000), np.uint32(0)), out)
    return np.where(np.isnan(exact), np.uint32(CANONICAL_NAN), out).astype(np.uint32)


def fp32_mul(a, b):
    """``RNE_fp32(a * b)`` of fp32 bit patterns, elementwise (the float64 product of two fp32 is exact)."""
    with np.errstate(invalid="ignore", over="ignore"):
        p = _flushed(f32_value(a)) * _flushed(f32_value(b))
    return _round(p, np.zeros_like(p))


def fp32_add(a, b):
    """``RNE_fp32(a + b)`` of fp32 bit patterns, elementwise.

    The float64 sum rounded to fp32 is the correctly rounded exact sum (double rounding is innocuous for
    a sum of two 24-bit values in 53 bits, Figueroa 1995); TwoSum's error term decides tininess when the
    float64 sum lands exactly on ``2**-126``.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        x, y = _flushed(f32_value(a)), _flushed(f32_value(b))
        s = x + y
        bb = s - x
        err = (x - (s - bb)) + (y - bb)
    return _round(s, np.where(np.isfinite(err), err, 0.0))
