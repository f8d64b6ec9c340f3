"""The weight-update engine's exact models: the fp32 SGD step it computes (bit for bit) and its cycle count.

Per weight, from the WG GEMM's result ``G`` (fp32), the master weight ``W`` and the momentum ``V``, with fp32
hyper-parameters ``decay`` (SR-STE lambda), ``wd`` (weight decay), ``mu`` (momentum) and ``neg_lr`` (minus
the learning rate), one `nmsat.sim.fp32` rounding per operation, in this order (torch's ``torch.optim.SGD``
with momentum, no dampening or Nesterov, after `nmsat.algo`'s SR-STE term):

    t  = W if Mff == 0 else +0        (Mff: nmsat.nm's n:m mask of W along K_in; mode 0: no SR-STE term)
    g1 = G + decay * t                (mode 0: g1 = G)
    g2 = g1 + wd * W
    V' = g2 if first else mu * V + g2 (first: torch's momentum buffer is a copy of the first gradient)
    W' = W + neg_lr * V'
"""

import numpy as np

from nmsat.nm import nm_mask
from nmsat.sim.fp import f32_value
from nmsat.sim.fp32 import fp32_add, fp32_mul
from nmsat.sim.tiling import cdiv

CHUNK_BEATS = 16  # beats of a row per chunk: the engine's buffers (a build parameter)
PIPELINE = 6  # fp32 operation stages of the update (each registered)
FP32_BYTES = 4


def update_reference(g, w, v, first, pattern, decay, wd, mu, neg_lr):
    """``(W', V')`` fp32 bits ``[n_out, k_in]`` from fp32 bits `g`, `w`, `v`; scalars are fp32 bits."""
    g, w, v = (np.asarray(x, dtype=np.uint32) for x in (g, w, v))
    scalar = [np.uint32(x) for x in (decay, wd, mu, neg_lr)]
    decay, wd, mu, neg_lr = scalar
    if pattern is None:
        g1 = g
    else:
        mask = nm_mask(f32_value(w), pattern, axis=1)
        g1 = fp32_add(g, fp32_mul(np.where(mask, np.uint32(0), w), decay))
    g2 = fp32_add(g1, fp32_mul(w, wd))
    v2 = g2 if first else fp32_add(fp32_mul(v, mu), g2)
    return fp32_add(w, fp32_mul(v2, neg_lr)), v2


def chunk_reads(p, rows, cols, chunk=CHUNK_BEATS, where=None):
    """Beats and read bursts (G, W and V pieces, split at 256 beats and 4 KiB) of every chunk, in the engine's
    order (row > chunk). `where`: ``{x_base, x_stride}`` byte addresses (default: packed from 0, which
    gives the burst count of any placement whose pieces do not cross 4 KiB)."""
    from nmsat.sim.topn_engine import _bursts

    bb = p.bus_bytes
    row_beats = cdiv(cols, bb // FP32_BYTES)
    per_row = cdiv(row_beats, chunk)
    beats = np.full(per_row, chunk)
    beats[-1] = row_beats - (per_row - 1) * chunk
    beats = np.tile(beats, rows)
    off = np.tile(np.arange(per_row) * chunk * bb, rows)
    n = np.repeat(np.arange(rows), per_row)
    bursts = np.zeros(len(beats), dtype=np.int64)
    for x in ("g", "w", "v"):
        base, stride = (0, row_beats * bb) if where is None else (where[f"{x}_base"], where[f"{x}_stride"])
        bursts += _bursts(base + n * stride + off, beats, bb)
    return beats, bursts


def update_engine_cycles(p, rows, cols, chunk=CHUNK_BEATS, where=None):
    """Cycles from the descriptor handshake (edge 0) to the edge that samples ``done``. Chunk j (``c_j``
    beats, ``K_j`` bursts: `chunk_reads`) is set up in cycle ``S_0 = 0``,
    ``S_j = max(S_{j-1} + K_{j-1} + 1, H_{j-2} + 2 c_{j-2} + 1)`` (its output bank is free), its ``3 c_j``
    beats end in cycle ``E_j = max(S_j + 1 + L, E_{j-1} + 1) + 3 c_j - 1``, it is handed to the writer in
    cycle ``H_j = max(E_j + PIPELINE, H_{j-1} + 2 c_{j-1} + 1)``; ``N = H_last + 2 c_last + Lw + 2``."""
    beats, bursts = (x.tolist() for x in chunk_reads(p, rows, cols, chunk, where))
    lat, lw = p.read_latency, p.write_latency
    setup, end, hand = 0, -1, []
    for j, c in enumerate(beats):
        if j:
            setup = max(setup + bursts[j - 1] + 1, hand[j - 2] + 2 * beats[j - 2] + 1 if j >= 2 else 0)
        end = max(setup + 1 + lat, end + 1) + 3 * c - 1
        hand.append(max(end + PIPELINE, hand[-1] + 2 * beats[j - 1] + 1) if j else end + PIPELINE)
    return int(hand[-1] + 2 * beats[-1] + lw + 2)
