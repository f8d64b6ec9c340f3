"""The golden GEMM: the numeric reference that torch, Amaranth-sim and cocotb results are checked against."""

import numpy as np

from nmsat.errors import NmsatError
from nmsat.nm import NMPattern, compress, nm_mask, prune
from nmsat.sim.fp import add_step, bf16_bits, bf16_value, f32_value, mac_step


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


def golden_gemm_fp(a, b, pattern=None, acc=None):
    """``Y = A @ prune(B, pattern, along K)^T`` in bf16 x bf16 -> fp32, bit-exact to the hardware FP MAC.

    `a[M, K]`, `b[N, K]`: bf16 bit patterns (``uint16``) or float values (rounded to bf16, RNE).
    Each output starts at `acc` (fp32 bit patterns broadcast to ``[M, N]``; default ``+0``) and adds the
    products of the kept positions of its weight row (all K without `pattern`) one `sim.fp.mac_step` at
    a time, in increasing k: the PE's accumulation order. Pruned positions are skipped, not multiplied
    by zero (this differs from adding ``+0`` only for a ``-0`` sum and for ``inf``/NaN activations).
    Returns fp32 values (``float32``; NaN is the canonical ``0x7FC00000``).
    """
    a, b = as_bf16(a), as_bf16(b)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise NmsatError(f"golden_gemm_fp: shapes {a.shape} and {b.shape} do not match A[M,K] @ B[N,K]^T")
    keep = np.ones(b.shape, dtype=bool)
    if pattern is not None:
        keep = nm_mask(np.abs(bf16_value(b)), NMPattern.parse(pattern), axis=1)
    out = np.broadcast_to(np.asarray(0 if acc is None else acc, dtype=np.uint32), (a.shape[0], b.shape[0])).copy()
    for k in range(a.shape[1]):
        rows = keep[:, k]
        if rows.any():
            out[:, rows] = mac_step(out[:, rows], a[:, k, None], b[None, rows, k])
    return f32_value(out)


def as_bf16(x):
    """bf16 bit patterns of `x`: kept if already ``uint16``, else rounded from float values (RNE)."""
    x = np.asarray(x)
    return x if x.dtype == np.uint16 else bf16_bits(x)


def golden_gemm_fp_array(a, b, pattern, window, mults, fold_rows):
    """``Y = A @ prune(B, pattern, along K)^T`` in bf16 x bf16 -> fp32, bit-exact to the generated array.

    The array's accumulation order: K is cut into windows of `window` = E elements, `fold_rows` = h = R/G
    windows per fold (zero-padded past K). Per output and window a PE adds its P = `mults` products (the kept
    positions in compressed order, or all E when dense; padding included, as the hardware multiplies it)
    from +0, one `sim.fp.mac_step` each; a fold's column sum adds its h window results from +0
    (`sim.fp.add_step`, array row order); Y adds the fold sums from +0 (the output tile's fold add).
    `a[M, K]`, `b[N, K]`: bf16 bit patterns (``uint16``) or float values (rounded to bf16); the N:M
    selection is on the bf16 magnitudes (`nmsat.nm.compress`). Returns fp32 values (``float32``).
    """
    a, b = as_bf16(a), as_bf16(b)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise NmsatError(f"golden_gemm_fp_array: shapes {a.shape} and {b.shape} do not match A[M,K] @ B[N,K]^T")
    (m_rows, k), n_rows, e = a.shape, b.shape[0], window
    windows = -(-max(k, 1) // e)
    folds = -(-windows // fold_rows)
    total = folds * fold_rows
    ap = np.zeros((m_rows, total * e), dtype=np.uint16)
    bp = np.zeros((n_rows, total * e), dtype=np.uint16)
    ap[:, :k], bp[:, :k] = a, b
    bw = bp.reshape(n_rows, total, e)
    if pattern is None:
        pos = np.broadcast_to(np.arange(mults), (n_rows, total, mults))
    else:
        pat = NMPattern.parse(pattern)
        idx = compress(bf16_value(bw), pat, axis=-1).indices.reshape(n_rows, total, mults).astype(np.intp)
        pos = (np.arange(mults) // pat.n) * pat.m + idx
    vals = np.take_along_axis(bw, pos, axis=-1)  # [N, W, P] bits
    shape = (m_rows, n_rows, total)
    sel = np.take_along_axis(np.broadcast_to(ap.reshape(m_rows, 1, total, e), (*shape, e)),
                             np.broadcast_to(pos[None], (*shape, mults)), axis=-1)
    dots = np.zeros(shape, dtype=np.uint32)
    for j in range(mults):
        dots = mac_step(dots, sel[..., j], vals[None, ..., j])
    y = np.zeros((m_rows, n_rows), dtype=np.uint32)
    for f in range(folds):
        col = np.zeros((m_rows, n_rows), dtype=np.uint32)
        for r in range(fold_rows):
            col = add_step(col, dots[..., f * fold_rows + r])
        y = add_step(y, col)
    return f32_value(y)
