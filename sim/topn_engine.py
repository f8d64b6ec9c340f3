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
from functools import lru_cache

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


def _bursts(addr, beats, bus_bytes):
    """AXI4 bursts of runs of `beats` beats from byte addresses `addr` (arrays): split at 256 and 4 KiB."""
    addr, left = np.array(addr, dtype=np.int64), np.array(beats, dtype=np.int64)
    count = np.zeros_like(left)
    while (left > 0).any():
        run = np.minimum(np.minimum(left, 256), (4096 - addr % 4096) // bus_bytes)
        count += left > 0
        addr, left = addr + run * bus_bytes, left - run
    return count


def row_reads(p, job):
    """Read beats and read bursts of every weight row, in the engine's order (block > window).

    A piece starts at lane ``first`` of a beat (``src_base`` and ``src_stride`` are bus-aligned): FF window s
    at ``(s*E) mod (BB/4)``, BP block nb at ``(nb*C) mod (BB/4)``; ``ceil((first + valid)/(BB/4))`` beats.
    """
    e, c, bb = p.window(job.mode), p.cols, p.bus_bytes
    fv = bb // FP32_BYTES
    nbk, win = job.n_blocks(p), job.windows(p)
    nb, s = np.repeat(np.arange(nbk), win), np.tile(np.arange(win), nbk)
    cols = np.where(nb == nbk - 1, job.n - (nbk - 1) * c, c)
    elems = np.where(s == win - 1, job.k - (win - 1) * e, e)
    if job.transpose:
        start, pieces, valid = job.src_base + s * e * job.src_stride + nb * c * FP32_BYTES, elems, cols
    else:
        start, pieces, valid = job.src_base + nb * c * job.src_stride + s * e * FP32_BYTES, cols, elems
    first = (start % bb) // FP32_BYTES
    beats = -(-(first + valid) // fv)
    row = np.repeat(np.arange(len(start)), pieces)
    piece = np.arange(len(row)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    addr = start[row] - start[row] % bb + piece * job.src_stride
    bursts = np.bincount(row, weights=_bursts(addr, beats[row], bb), minlength=len(start)).astype(np.int64)
    return pieces * beats, bursts


@lru_cache(maxsize=4096)  # a network repeats its layer shapes; `p` and `job` are frozen
def topn_engine_cycles(p, job):
    """Cycles from the descriptor handshake (edge 0) to the edge that samples ``done`` (docs/hw-interface.md).

    Row j (``B_j`` beats in ``K_j`` bursts, `row_reads`) is set up in cycle ``S_j`` (``S_0 = 0``,
    ``S_j = max(S_{j-1} + K_{j-1} + 1, P_{j-2} + 1)``: one row ahead of the packer), its bursts go out in the
    next ``K_j`` cycles, its beats arrive ``F_j = max(S_j + 1 + L, E_{j-1} + 1)`` to ``E_j = F_j + B_j - 1``,
    and it is packed in cycle ``P_j = max(E_j + 1, P_{j-1} + WB + 1)``; ``N = P_last + WB + Lw + 2``.
    """
    beats, bursts = row_reads(p, job)
    wb = train_params(p).w_beats(job.mode)
    lat, lw = p.read_latency, p.write_latency
    bursts = bursts.tolist()
    setup, end, packed = 0, -1, []
    for j, b in enumerate(beats.tolist()):
        if j:
            setup = max(setup + bursts[j - 1] + 1, packed[j - 2] + 1 if j >= 2 else 0)
        end = max(setup + 1 + lat, end + 1) + b - 1
        packed.append(max(end + 1, packed[-1] + wb + 1) if j else end + 1)
    return int(packed[-1] + wb + lw + 2)
