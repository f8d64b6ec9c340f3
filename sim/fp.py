"""bf16 x bf16 -> fp32 multiply-accumulate: THE bit-exact reference of the hardware FP MAC (numpy only).

Semantics (the Amaranth block ``nmsat.hw.datapath.fp_mac`` implements exactly these):

* **Step**: ``acc <- RNE_fp32(acc + a * w)``: the product of two bf16 values is exact (kept with a wide
  exponent, never rounded or overflowed on its own) and the sum is rounded once to fp32,
  round-to-nearest-even, like a fused multiply-add.
* **Order**: a MAC of ``P`` products adds them left to right: ``acc + a0*w0``, then ``+ a1*w1``, ...
* **Subnormals are flushed**: subnormal inputs (bf16 ``a``, ``w`` and the fp32 ``acc``) are read as zero
  of the same sign; a result whose exact value (before rounding) has magnitude below ``2**-126`` becomes
  a zero with the sign of that exact value.
* **Zeros**: an exact zero sum is ``+0``, except ``(-0) + (-0) = -0`` (IEEE round-to-nearest).
* **Overflow**: a result that rounds to ``2**128`` or more becomes ``inf`` of its sign.
* **Infinities and NaN**: ``inf * 0`` (a subnormal counts as 0), ``inf + (-inf)`` and any NaN input give the
  canonical NaN ``0x7FC00000``; otherwise an infinite operand gives an infinity of its sign.

Values travel as bit patterns (``uint16`` bf16, ``uint32`` fp32) so NaN payloads and signed zeros stay exact.
"""

import numpy as np

CANONICAL_NAN = 0x7FC00000
MIN_NORMAL = 2.0**-126


def f32_bits(x):
    """fp32 bit patterns (``uint32``) of float values `x` (rounded to fp32 by numpy, RNE)."""
    return np.asarray(x, dtype=np.float32).view(np.uint32)


def f32_value(bits):
    """fp32 values (``float32``) of bit patterns `bits`."""
    return np.asarray(bits, dtype=np.uint32).view(np.float32)


def bf16_bits(x):
    """bf16 bit patterns (``uint16``) of float values `x`: rounded to nearest even from fp32; NaN stays NaN."""
    u = f32_bits(x).astype(np.uint64)
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    nan = np.isnan(np.asarray(x, dtype=np.float32))
    return np.where(nan, (u >> 16) | 0x40, rounded).astype(np.uint16)


def bf16_value(bits):
    """fp32 values (``float32``, exact) of bf16 bit patterns `bits`."""
    return f32_value(np.asarray(bits, dtype=np.uint16).astype(np.uint32) << 16)


def _flushed(values):
    """float64 of fp32 values with subnormals read as zeros of the same sign."""
    v = np.asarray(values, dtype=np.float64)
    return np.where(np.abs(v) < MIN_NORMAL, np.copysign(0.0, v), v)


def mac_step(acc, a, w):
    """One step ``RNE_fp32(acc + a * w)`` with the module's semantics, elementwise.

    `acc`: fp32 bit patterns; `a`, `w`: bf16 bit patterns (broadcast together). Returns fp32 bit patterns.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        p = _flushed(bf16_value(a)) * _flushed(bf16_value(w))  # exact: 8-bit significands, float64 exponents
    return _rounded_sum(_flushed(f32_value(acc)), p)


def add_step(x, y):
    """``RNE_fp32(x + y)`` of fp32 bit patterns with the same semantics (the column's partial-sum add and the
    output tile's fold add of the bf16 datapath), elementwise."""
    return _rounded_sum(_flushed(f32_value(x)), _flushed(f32_value(y)))


def _rounded_sum(x, p):
    """fp32 bits of the exact sum of float64 values `x` and `p` (each of at most 24 bits of precision),
    rounded once with the module's rules."""
    with np.errstate(invalid="ignore", over="ignore"):
        s = x + p
        # TwoSum: s + err == x + p exactly (float64 cannot underflow or overflow on these magnitudes)
        bb = s - x
        err = (x - (s - bb)) + (p - bb)
        # Rounding the float64 sum to fp32 is correct rounding of the exact sum: double rounding is
        # innocuous for + of two 24-bit-precision values in 53 bits (Figueroa 1995).
        out = f32_bits(s).astype(np.uint32)
    mag = np.abs(s)
    tiny = np.isfinite(s) & (s != 0) & ((mag < MIN_NORMAL) | ((mag == MIN_NORMAL) & (err * s < 0)))
    out = np.where(tiny, np.where(s < 0, np.uint32(0x80000000), np.uint32(0)), out)
    return np.where(np.isnan(s), np.uint32(CANONICAL_NAN), out).astype(np.uint32)


def fp_mac(acc, a, w):
    """``acc + sum_j a[..., j] * w[..., j]`` added left to right along the last axis, one `mac_step` each."""
    a, w = np.asarray(a, dtype=np.uint16), np.asarray(w, dtype=np.uint16)
    out = np.asarray(acc, dtype=np.uint32)
    for j in range(a.shape[-1]):
        out = mac_step(out, a[..., j], w[..., j])
    return out
