"""The golden GEMM: the numeric reference that torch, Amaranth-sim and cocotb results are checked against."""

import numpy as np

from nmsat.errors import NmsatError
from nmsat.nm import NMPattern, prune


def wrap(x, bits):
    """Two's-complement wrap of integers to `bits` bits (what a `bits`-wide accumulator holds)."""
    x = np.asarray(x, dtype=np.int64)
    half = np.int64(1) << (bits - 1)
    return ((x + half) & ((half << 1) - 1)) - half


def golden_gemm(a, b, pattern=None, acc_width=None):
    """``Y = A @ prune(B, pattern, along K)^T`` for ``A[M, K]``, ``B[N, K]``.

    Integer inputs are computed exactly in int64 and, with `acc_width`, wrapped like the hardware
    accumulator; float inputs are computed in float64.
    """
    a = np.asarray(a)
    b = np.asarray(b)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise NmsatError(f"golden_gemm: shapes {a.shape} and {b.shape} do not match A[M,K] @ B[N,K]^T")
    if pattern is not None:
        b = prune(b, NMPattern.parse(pattern), axis=1)
    if np.issubdtype(a.dtype, np.integer) and np.issubdtype(b.dtype, np.integer):
        y = a.astype(np.int64) @ b.astype(np.int64).T
        return y if acc_width is None else wrap(y, acc_width)
    return a.astype(np.float64) @ b.astype(np.float64).T
