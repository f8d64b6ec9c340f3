"""Bit patterns that exercise the FP MAC: special and boundary values, and random draws mixing them in."""

import numpy as np

BF16_EDGES = [0x0000, 0x8000, 0x0001, 0x807F, 0x0080, 0x8080, 0x3F80, 0xBF80, 0x3F81, 0x7F7F, 0xFF7F,
              0x7F80, 0xFF80, 0x7FC0, 0xFFC1, 0x7F81, 0x4000, 0x3F00, 0x0100, 0x5F80, 0x2000]
F32_EDGES = [0x00000000, 0x80000000, 0x00000001, 0x807FFFFF, 0x00800000, 0x80800000, 0x00800001, 0x3F800000,
             0xBF800000, 0x7F7FFFFF, 0xFF7FFFFF, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFFFFFFF, 0x7F800001,
             0x33800000, 0x4B800000, 0xCB800001, 0x3F800001]


def random_bf16(rng, n, edges=0.2):
    """`n` bf16 bit patterns: mostly values of moderate exponent, a share drawn from the edge values."""
    exp = rng.integers(100, 155, n)
    bits = (rng.integers(0, 2, n) << 15) | (exp << 7) | rng.integers(0, 128, n)
    pick = rng.random(n) < edges
    return np.where(pick, rng.choice(BF16_EDGES, n), bits).astype(np.uint16)


def random_f32(rng, n, edges=0.2):
    """`n` fp32 bit patterns like `random_bf16` (exponents that make cancellation and ties likely)."""
    exp = rng.integers(100, 155, n)
    bits = (rng.integers(0, 2, n) << 31) | (exp << 23) | rng.integers(0, 1 << 23, n)
    pick = rng.random(n) < edges
    return np.where(pick, rng.choice(F32_EDGES, n), bits).astype(np.uint32)
