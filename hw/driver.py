"""Host side of the GEMM engine: operands into a memory image, the descriptor, results back out.

Memory layouts (docs/hw-interface.md): A row-major, element ``(m, k)`` at ``a_base + m*a_stride + k*D/8``;
Y row-major, ``(m, n)`` at ``y_base + m*y_stride + n*A/8``; B in weight rows, block ``nb`` (columns
``nb*C ..``) window ``s`` (reduction ``s*E .. s*E+E-1``) at ``b_base + nb*b_stride + s*w_row_beats*bus_bytes``:
the C*P values (column c, slot j at bit ``(c*P + j)*D``), then in N:M modes the C*P in-group indices (at
bit ``C*P*D + (c*P + j)*IB``), the rest of the last beat zero. Values little-endian: two's complement
integers, or with ``arithmetic = "bf16"`` bf16 bit patterns (A, B) and fp32 bit patterns (Y).
"""

from dataclasses import dataclass

import numpy as np

from nmsat.hw.control.loop_engine import descriptor_fields
from nmsat.sim.fp import bf16_bits, bf16_value
from nmsat.sim.golden import as_bf16
from nmsat.sim.tile import weight_rows
from nmsat.sim.tiling import cdiv


@dataclass(frozen=True)
class Placement:
    """Base addresses and row strides (bytes) of A, B and Y."""

    a_base: int
    a_stride: int
    b_base: int
    b_stride: int
    y_base: int
    y_stride: int


def _align(x, a):
    return cdiv(x, a) * a


def place(p, plan, base=0, pad_rows=0, gap=0):
    """A `Placement` of the plan's operands from `base`: A, then B, then Y, each aligned to the bus;
    `pad_rows` extra beats per row of A and Y, `gap` extra bytes between regions (to exercise strides)."""
    bb = p.bus_bytes
    a_stride = _align(plan.k * p.data_width // 8, bb) + pad_rows * bb
    b_stride = plan.b_rows * plan.w_row_beats * bb
    y_stride = _align(plan.n * p.acc_width // 8, bb) + pad_rows * bb
    a_base = _align(base, bb)
    b_base = _align(a_base + plan.m * a_stride + gap, bb)
    y_base = _align(b_base + plan.n_blocks * b_stride + gap, bb)
    return Placement(a_base, a_stride, b_base, b_stride, y_base, y_stride)


def memory_bytes(plan, where):
    """Bytes the image needs (up to the end of Y)."""
    return where.y_base + plan.m * where.y_stride


def _bits(x, width):
    """Little-endian bits ``[..., n * width]`` of the integers ``x[..., n]`` (two's complement, wrapped)."""
    x = np.asarray(x, dtype=np.int64)
    return ((x[..., None] >> np.arange(width)) & 1).astype(np.uint8).reshape(*x.shape[:-1], -1)


def write_operands(image, p, plan, where, a, b, pattern):
    """Write A and B (compressed per `pattern`) into the byte array `image` at `where`.

    Integers for the integer datapath; for bf16, bit patterns (``uint16``) or float values (rounded to bf16),
    the N:M selection on the bf16 magnitudes."""
    if p.arith == "bf16":
        a, b = as_bf16(a), bf16_value(as_bf16(b))
    db = p.data_width // 8
    rows = (np.asarray(a, dtype=np.int64) & ((1 << p.data_width) - 1)).astype(f"<u{db}").view(np.uint8)
    starts = where.a_base + np.arange(plan.m) * where.a_stride
    image[starts[:, None] + np.arange(plan.k * db)] = rows.reshape(plan.m, -1)
    b = np.asarray(b)
    row_bytes = plan.w_row_beats * p.bus_bytes
    for nb in range(plan.n_blocks):
        vals, idx = weight_rows(b[nb * p.cols:(nb + 1) * p.cols], pattern, _ArrayView(p))  # [S, C, P]
        if p.arith == "bf16":
            vals = bf16_bits(vals)
        s = vals.shape[0]
        bits = [_bits(vals.reshape(s, -1), p.data_width)]
        if plan.mode:
            bits.append(_bits(idx.reshape(s, -1), p.idx_width))
        bits = np.concatenate(bits, axis=1)
        padded = np.zeros((s, row_bytes * 8), dtype=np.uint8)
        padded[:, :bits.shape[1]] = bits
        start = where.b_base + nb * where.b_stride
        image[start:start + s * row_bytes] = np.packbits(padded, axis=1, bitorder="little").reshape(-1)


def image_words(image, bus_bytes):
    """The byte array `image` as a list of bus words (ints)."""
    return [int.from_bytes(bytes(image[i:i + bus_bytes]), "little") for i in range(0, len(image), bus_bytes)]


def read_weight_rows(image, p, plan, where, pattern):
    """The inverse of `write_operands`' B layout: ``(values, kept)`` of ``B[N, K]`` from `image`, values as
    stored (D-bit unsigned patterns; 0 where pruned), `kept` True at the positions the rows hold."""
    e, row_bits, cp = p.window(plan.mode), plan.w_row_beats * p.bus_bits, p.cols * p.mults
    windows = cdiv(plan.k, e)
    values = np.zeros((plan.n_blocks * p.cols, windows * e), dtype=np.int64)
    kept = np.zeros(values.shape, dtype=bool)
    j = np.arange(p.mults)
    for nb in range(plan.n_blocks):
        start = where.b_base + nb * where.b_stride
        raw = image[start:start + windows * row_bits // 8].reshape(windows, -1)
        bits = np.unpackbits(raw, axis=1, bitorder="little").astype(np.int64)
        weights = 1 << np.arange(p.data_width)
        vals = (bits[:, :cp * p.data_width].reshape(windows, p.cols, p.mults, p.data_width) * weights).sum(-1)
        if plan.mode:
            pat = p.patterns[plan.mode - 1]
            ib = bits[:, cp * p.data_width:cp * (p.data_width + p.idx_width)]
            idx = (ib.reshape(windows, p.cols, p.mults, p.idx_width) * (1 << np.arange(p.idx_width))).sum(-1)
            pos = (j // pat.n) * pat.m + (idx & ((1 << pat.index_bits) - 1))
        else:
            pos = np.broadcast_to(j, (windows, p.cols, p.mults))
        cols = nb * p.cols + np.arange(p.cols)[None, :, None]
        k = np.arange(windows)[:, None, None] * e + pos
        values[np.broadcast_to(cols, k.shape), k] = vals
        kept[np.broadcast_to(cols, k.shape), k] = True
    return values[:plan.n, :plan.k], kept[:plan.n, :plan.k]


def read_y(image, p, plan, where):
    """``Y[M, N]`` out of the byte array `image`: signed Acc-bit integers (int64), or for bf16 fp32 bit
    patterns (``uint32``)."""
    ab = p.acc_width // 8
    starts = where.y_base + np.arange(plan.m) * where.y_stride
    raw = np.ascontiguousarray(image[starts[:, None] + np.arange(plan.n * ab)])
    if p.arith == "bf16":
        return raw.view("<u4").reshape(plan.m, plan.n).astype(np.uint32)
    return raw.view(f"<i{ab}").reshape(plan.m, plan.n).astype(np.int64)


def descriptor(p, plan, where):
    """The descriptor's fields (dict) for `plan` at `where`."""
    bb = p.bus_bytes
    return {
        "mode": plan.mode, "lg": plan.lg, "resident": int(plan.resident),
        "m_chunks": plan.m_chunks, "chunk_rows": plan.chunk_rows, "last_rows": plan.last_rows,
        "n_blocks": plan.n_blocks, "last_cols": plan.last_cols, "k_folds": plan.k_folds,
        "w_rows_full": plan.w_rows_full, "w_rows_last": plan.w_rows_last,
        "w_beats_full": plan.w_beats_full, "w_beats_last": plan.w_beats_last,
        "a_beats_full": plan.a_beats_full, "a_beats_last": plan.a_beats_last, "a_group_beats": plan.a_group_beats,
        "k_last": plan.k_last,
        "a_base": where.a_base, "a_stride": where.a_stride, "a_chunk": plan.chunk_rows * where.a_stride,
        "a_fold": plan.fold_k * p.data_width // 8,
        "b_base": where.b_base, "b_stride": where.b_stride, "b_fold": plan.w_rows_full * plan.w_row_beats * bb,
        "y_base": where.y_base, "y_stride": where.y_stride, "y_chunk": plan.chunk_rows * where.y_stride,
    }


def pack_descriptor(p, fields):
    """The descriptor word (int) from its fields, LSB first in `descriptor_fields` order."""
    return pack_words(descriptor_fields(p), fields)


def pack_words(order, fields):
    """A descriptor word (int): the values of `fields` (dict) at the widths of `order` ([(name, width)]), LSB
    first; `ValueError` for a value that does not fit."""
    word, pos = 0, 0
    for name, width in order:
        v = int(fields[name])
        if not 0 <= v < (1 << width):
            raise ValueError(f"descriptor field {name} = {v} does not fit {width} bits")
        word |= v << pos
        pos += width
    return word


class _ArrayView:
    """The `ArrayConfig` attributes `sim.tile.weight_rows` reads, from core parameters."""

    def __init__(self, p):
        self.p = p
        self.mults_per_pe, self.cols = p.mults, p.cols

    def reduction_per_cycle(self, pattern):
        return self.p.window(self.p.mode_of(pattern))
