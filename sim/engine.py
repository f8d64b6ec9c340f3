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
    """Per-tile arrays in execution order: compute cycles, load beats and store beats (0 when no store), as a
    dict of 1-D int64 arrays."""
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
            for k, v in (("compute", compute), ("load", load), ("store", store))}


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
    return int(2 + phases.sum() + seq["store"][-1] + 1 + wlat)


class _Runs:
    """Phase sums over the tile sequence without building it: the sequence is nested repeats (chunks > n blocks >
    k folds) of a few distinct tiles, and a phase depends only on the tiles it loads, computes and stores (j, j-1,
    j-2), so after two copies of a repeated body its sums repeat exactly (`gemm_totals`)."""

    def __init__(self, lat):
        self.lat = lat

    def tile(self, t, ctx):
        """Append tile t = (compute, load, store) after ctx = (tile j-2, tile j-1): (sums, new ctx)."""
        before, last = ctx
        stored = before[2] if before else 0
        compute = last[0] if last else 0
        phase = max(compute, (1 + stored if stored > 0 else 1) + 1 + self.lat + t[1])
        return (phase, 1, t[0], t[1], t[2]), (last, t)

    def repeat(self, count, body, ctx):
        """`count` copies of `body` (a function ctx -> (sums, ctx)) after ctx."""
        total = (0, 0, 0, 0, 0)
        if count <= 0:
            return total, ctx
        s1, ctx1 = body(ctx)
        if count == 1:
            return s1, ctx1
        s2, ctx2 = body(ctx1)
        if count == 2:
            return _add(s1, s2), ctx2
        # from the third copy on the context (the last two tiles of two copies) no longer changes; a body of
        # two tiles or more has it from the second copy on
        s3, ctx3 = (s2, ctx2) if ctx2 == ctx1 else body(ctx2)
        n = count - 2
        return tuple(a + b + n * c for a, b, c in zip(s1, s2, s3, strict=True)), ctx3


def _add(s1, s2):
    """Element-wise sum of two sum tuples."""
    return tuple(a + b for a, b in zip(s1, s2, strict=True))


def gemm_totals(plan, cfg):
    """`gemm_cycles` and the sums of `tile_sequence` in closed form: {cycles, tiles, compute, load, store}.

    Exact (tests/sim/test_engine_totals.py checks it against the per-tile model on random plans); the cost is
    independent of the number of tiles."""
    runs = _Runs(cfg.memory.read_latency)
    kf = plan.k_folds

    def tile(rows, a_loaded, last_fold):
        a = plan.a_beats_last if last_fold else plan.a_beats_full
        w = plan.w_beats_last if last_fold else plan.w_beats_full
        compute = int(ws_cycles(cfg.array, rows, plan.groups))
        return compute, w + (rows * a if a_loaded else 0), rows * plan.y_beats if last_fold else 0

    def block(rows, a_loaded):
        mid, last = tile(rows, a_loaded, False), tile(rows, a_loaded, True)

        def run(ctx):
            s1, ctx = runs.repeat(kf - 1, lambda c: runs.tile(mid, c), ctx)
            s2, ctx = runs.tile(last, ctx)
            return _add(s1, s2), ctx
        return run

    def chunk(rows):
        first, other = block(rows, True), block(rows, not plan.resident)

        def run(ctx):
            s1, ctx = first(ctx)
            s2, ctx = runs.repeat(plan.n_blocks - 1, other, ctx)
            return _add(s1, s2), ctx
        return run

    s1, ctx = runs.repeat(plan.m_chunks - 1, chunk(plan.chunk_rows), (None, None))
    s2, ctx = chunk(plan.last_rows)(ctx)
    phases, tiles, compute, load, store = _add(s1, s2)
    before, last = ctx
    stored = before[2] if before else 0
    phases += max(last[0], 1 + stored if stored > 0 else 0)  # the final phase: compute the last tile, no load
    cycles = 2 + phases + last[2] + 1 + cfg.memory.write_latency
    return {"cycles": cycles, "tiles": tiles, "compute": compute, "load": load, "store": store}
