"""The top-N pre-generation engine's exact models: its output image (byte for byte) and its cycle count.

The engine reads dense fp32 master weights and writes one operand ``B[N, K]`` of the GEMM engine in weight
rows (docs/hw-interface.md, "Memory layouts"), with bf16 values (``nmsat.sim.fp.bf16_bits`` of the fp32
values: round to nearest even, a NaN stays a quiet NaN of its sign) and `nmsat.nm`'s selection on the fp32
magnitudes. ``transpose = 0`` (FF): ``B = W[n_out, k_in]``, groups along K_in; ``transpose = 1`` (BP):
``B = W^T``, groups along N_out. Element ``(n, k)`` of B is read at ``src + n*src_stride + 4k`` (FF) or
``src + k*src_stride + 4n`` (BP).

Magnitude order (the hardware's sort key, equal to `nmsat.nm` on the same fp32 values): ``|x|`` with
``-0 == +0``, subnormals by their value, ``inf`` largest, and any NaN smaller than every number (also
smaller than the zeros that pad a ragged window, as in `nmsat.nm`); ties go to the lower index. (The torch
masks of `nmsat.algo` rank with ``max``, which puts a NaN first.)
"""

from dataclasses import dataclass, replace

import numpy as np

from nmsat.sim.fp import bf16_bits
from nmsat.sim.tile import weight_rows
from nmsat.sim.tiling import cdiv

FP32_BYTES = 4


def train_params(p):
    """`CoreParams` of the weight rows the training engines write: bf16 values (D = 16), fp32 accumulators."""
    return replace(p, data_width=16, acc_width=32)


@dataclass(frozen=True)
class TopNJob:
    """One top-N pass: ``B[n, k]`` (k the reduction axis) in `mode` (0 dense, k >= 1 the k-th pattern)."""

    mode: int
    transpose: bool
    n: int
    k: int
    src_base: int
    src_stride: int
    dst_base: int
    dst_stride: int

    def windows(self, p):
        return cdiv(self.k, p.window(self.mode))

    def n_blocks(self, p):
        return cdiv(self.n, p.cols)


def topn_job(p, w_shape, mode, transpose, src_base, src_stride, dst_base, dst_stride=None):
    """The job for master weights ``W[n_out, k_in]`` (row stride `src_stride` bytes); `dst_stride` defaults
    to the packed weight rows of one block."""
    n_out, k_in = w_shape
    n, k = (k_in, n_out) if transpose else (n_out, k_in)
    rows = cdiv(k, p.window(mode)) * train_params(p).w_beats(mode) * p.bus_bytes
    return TopNJob(mode, bool(transpose), n, k, src_base, src_stride, dst_base,
                   rows if dst_stride is None else dst_stride)


class _ArrayView:
    """The `ArrayConfig` attributes `weight_rows` reads."""

    def __init__(self, p):
        self.p, self.mults_per_pe, self.cols = p, p.mults, p.cols

    def reduction_per_cycle(self, pattern):
        return self.p.window(self.p.mode_of(pattern))


def _bits(x, width):
    x = np.asarray(x, dtype=np.int64)
    return ((x[..., None] >> np.arange(width)) & 1).astype(np.uint8).reshape(*x.shape[:-1], -1)


def topn_rows(p, w, mode, transpose):
    """The weight-row image (bytes, ``n_blocks x windows`` rows of ``WB*BB`` bytes, blocks packed) of `w`
    (fp32 ``[n_out, k_in]``) pruned per `mode`, FF or (`transpose`) BP."""
    tp = train_params(p)
    b = np.asarray(w, dtype=np.float32)
    b = b.T if transpose else b
    pattern = None if mode == 0 else p.patterns[mode - 1]
    row_bytes = tp.w_beats(mode) * p.bus_bytes
    out = []
    for nb in range(cdiv(b.shape[0], p.cols)):
        vals, idx = weight_rows(b[nb * p.cols:(nb + 1) * p.cols], pattern, _ArrayView(p))  # [S, C, P]
        s = vals.shape[0]
        bits = [_bits(bf16_bits(vals).reshape(s, -1), 16)]
        if mode:
            bits.append(_bits(idx.reshape(s, -1), p.idx_width))
        bits = np.concatenate(bits, axis=1)
        padded = np.zeros((s, row_bytes * 8), dtype=np.uint8)
        padded[:, :bits.shape[1]] = bits
        out.append(np.packbits(padded, axis=1, bitorder="little").reshape(-1))
    return np.concatenate(out)


def write_topn(image, p, job, w):
    """Write what the engine writes for `job` into the byte array `image` (the reference output)."""
    rows = topn_rows(p, w, job.mode, job.transpose)
    block = rows.size // job.n_blocks(p)
    for nb in range(job.n_blocks(p)):
        start = job.dst_base + nb * job.dst_stride
        image[start:start + block] = rows[nb * block:(nb + 1) * block]


def row_beats(p, job):
    """Read beats of every weight row, in the engine's order (block > window): ``[n_blocks * windows]``.

    A piece starts at lane ``first`` of a beat (``src_base`` and ``src_stride`` are bus-aligned): FF window s
    at ``(s*E) mod (BB/4)``, BP block nb at ``(nb*C) mod (BB/4)``."""
    e, c, fv = p.window(job.mode), p.cols, p.bus_bytes // FP32_BYTES
    nbk, win = job.n_blocks(p), job.windows(p)
    cols = np.full(nbk, c)
    cols[-1] = job.n - (nbk - 1) * c
    elems = np.full(win, e)
    elems[-1] = job.k - (win - 1) * e
    first = (np.arange(nbk) * c) % fv if job.transpose else (np.arange(win) * e) % fv  # lane of a piece's start
    first = np.repeat(first, win) if job.transpose else np.tile(first, nbk)
    cols, elems = np.repeat(cols, win), np.tile(elems, nbk)
    pieces, valid = (elems, cols) if job.transpose else (cols, elems)
    return pieces * -(-(first + valid) // fv)


def topn_engine_cycles(p, job):
    """Cycles from the descriptor handshake (edge 0) to the edge that samples ``done`` (docs/hw-interface.md):

    row j reads ``B_j`` beats (one piece per column, or per element when transposed); its PACK cycle is
    ``P_0 = 1 + L + B_0``, ``P_j = P_{j-1} + max(L + B_j + 2, WB + 1)``; ``N = P_last + WB + Lw + 2``.
    """
    beats = row_beats(p, job)
    wb = train_params(p).w_beats(job.mode)
    lat, lw = p.read_latency, p.write_latency
    return int(1 + lat + beats[0] + np.maximum(lat + beats[1:] + 2, wb + 1).sum() + wb + lw + 2)
