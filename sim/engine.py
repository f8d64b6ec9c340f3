"""Exact cycles of one GEMM on the RTL's GEMM engine (the loop engine, the DMAs and the memory model).

Mirrors `nmsat.hw.control.loop_engine`: tiles ordered m chunk > n block > k fold, phase j computes tile j-1,
stores tile j-2's output tile (when j-2 was its last k fold) and then loads tile j. Timing (docs/architecture.md):
a tile computes ``N = 2R + C + steps`` cycles; a phase's DMA takes ``1 + Bw`` cycles to store ``Bw`` beats (or
1 cycle to start a load without a store) plus ``1 + L + Br`` to load ``Br`` beats with read latency L; a phase
lasts the longer of its compute and its DMA; the GEMM starts one cycle after the descriptor handshake and
``done`` comes ``1 + Lw`` cycles after the last stored beat (write latency Lw).
"""

import numpy as np

from nmsat.sim.tile import ws_cycles


def tile_sequence(plan, cfg):
    """Per-tile arrays in execution order: compute cycles, load beats, store beats (0 when no store),
    and the rows of A streamed (``rows``), as a dict of 1-D int64 arrays."""
    mc = np.arange(plan.m_chunks)
    rows = np.where(mc == plan.m_chunks - 1, plan.last_rows, plan.chunk_rows)  # [chunks]
    kf = np.arange(plan.k_folds)
    kf_last = kf == plan.k_folds - 1
    nb = np.arange(plan.n_blocks)
    shape = (plan.m_chunks, plan.n_blocks, plan.k_folds)
    r = rows[:, None, None]
    a_beats = np.where(kf_last, plan.a_beats_last, plan.a_beats_full)[None, None, :]
    w_beats = np.where(kf_last, plan.w_beats_last, plan.w_beats_full)[None, None, :]
    a_loaded = (nb == 0) | (not plan.resident)
    load = w_beats + np.where(a_loaded[None, :, None], r * a_beats, 0)
    store = np.where(kf_last[None, None, :], r * plan.y_beats, 0)
    compute = ws_cycles(cfg.array, r, plan.groups)
    return {k: np.broadcast_to(v, shape).ravel().astype(np.int64)
            for k, v in (("compute", compute), ("load", load), ("store", store), ("rows", r))}


def gemm_cycles(plan, cfg, seq=None):
    """Cycles from the descriptor handshake to ``done`` (the edge that samples it) for `plan`."""
    seq = seq or tile_sequence(plan, cfg)
    lat, wlat = cfg.memory.read_latency, cfg.memory.write_latency
    n = len(seq["compute"])
    compute = np.concatenate([[0], seq["compute"]])  # phase j computes tile j-1
    stored = np.concatenate([[0, 0], seq["store"][:-1]])  # phase j stores tile j-2
    loads = np.concatenate([seq["load"], [0]])  # phase j loads tile j
    has_load = np.arange(n + 1) < n
    start = np.where(stored > 0, 1 + stored, np.where(has_load, 1, 0))
    dma = start + np.where(has_load, 1 + lat + loads, 0)
    phases = np.maximum(compute, dma)
    return int(1 + phases.sum() + seq["store"][-1] + 1 + wlat)
