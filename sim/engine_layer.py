"""Layer model of the generated hardware: one GEMM on the RTL's GEMM engine, exact cycles (`engine.gemm_totals`),
and the search over what the descriptor lets software choose (chunk size, A resident or not, and for a
sparse GEMM running it in dense mode on its pruned weights)."""

from dataclasses import dataclass

from nmsat.core_params import core_params
from nmsat.sim.energy import tile_energy
from nmsat.sim.engine import gemm_totals
from nmsat.sim.gemm_plan import max_chunk, plan_gemm
from nmsat.sim.gemm_result import GemmResult
from nmsat.sim.tile import ws_cycles
from nmsat.sim.tiling import acc_bytes, cdiv, kept, operand_bytes


@dataclass(frozen=True)
class EngineTiling:
    """The software choices of one GEMM descriptor (always weight-stationary, order m > n > k)."""

    chunk: int
    resident: bool
    groups: int
    dataflow: str = "ws"
    order: str = "mnk"

    def __str__(self):
        resident = "/resident" if self.resident else ""
        return f"ws/mnk/{self.chunk}{resident}" + (f"/G{self.groups}" if self.groups > 1 else "")


def _chunks(m, top, groups):
    """Chunk sizes tried: the largest, and the rows split evenly into the fewest chunks, 2x and 4x as many
    (rounded up to whole row groups)."""
    top = min(m, top)
    base = cdiv(m, top)
    sizes = {top, *(min(top, cdiv(cdiv(m, base * s), groups) * groups) for s in (1, 2, 4))}
    return sorted(s for s in sizes if s >= 1)


def plans(cfg, gemm, pattern):
    """Every plan the search tries for `gemm` in `pattern` (resident and not, each chunk size)."""
    p = core_params(cfg)
    out = []
    base = plan_gemm(cfg, gemm.m, gemm.n, gemm.k, pattern, chunk=1, resident=False, params=p)
    for resident in (True, False):
        top = max_chunk(p, base.mode, base.groups, base.k_folds, resident)
        if top < 1:
            continue
        for chunk in _chunks(gemm.m, top, base.groups):
            out.append(plan_gemm(cfg, gemm.m, gemm.n, gemm.k, pattern, chunk=chunk, resident=resident, params=p))
    return out


def _totals(plan, seq, cfg, pattern):
    """Work and traffic totals of one repeat, in the keys `energy.tile_energy` reads (`seq`: `gemm_totals`)."""
    a, bus = cfg.array, cfg.memory.bus_bytes
    m, n, k = plan.m, plan.n, plan.k
    w_beats = plan.m_chunks * plan.n_blocks * plan.b_block_beats
    w_load, store = float(w_beats) * bus, float(seq["store"]) * bus
    return {
        "tiles": float(seq["tiles"]), "cycles": float(seq["compute"]),
        "steps": float(plan.n_blocks * plan.k_folds * ((plan.m_chunks - 1) * plan.steps(plan.chunk_rows)
                                                       + plan.steps(plan.last_rows))),
        "macs": float(m * n * k), "mults": float(m * n * kept(pattern, k)),
        "pe_steps": float(plan.b_rows * n * m), "pes": float(plan.m_chunks * plan.b_rows * plan.groups * n),
        "w_load": w_load, "a_load": float(seq["load"] - w_beats) * bus, "psum_load": 0.0, "store": store,
        "w_bytes": w_load, "a_bytes": float(plan.n_blocks * m * k * operand_bytes(a)),
        "psum_bytes": float(plan.k_folds * m * n * acc_bytes(a)),
    }


def run_plan(plan, cfg, pattern, count=1):
    """The `GemmResult` of `plan` repeated `count` times."""
    seq = gemm_totals(plan, cfg)
    total = seq["cycles"]
    tot = _totals(plan, seq, cfg, pattern)
    compute = int(tot["cycles"])
    energy = {c: v * count for c, v in tile_energy({"totals": tot}, cfg, pattern, "ws").items()}
    return GemmResult(
        tiling=EngineTiling(plan.chunk_rows, plan.resident, plan.groups), pattern=pattern,
        tiles=int(tot["tiles"]) * count, compute_cycles=compute * count, stall_cycles=(total - compute) * count,
        fill_drain_cycles=(compute - int(tot["steps"])) * count, macs=int(tot["macs"]) * count,
        mults=int(tot["mults"]) * count,
        dram_bytes=(tot["w_load"] + tot["a_load"] + tot["store"]) * count, energy_pj=energy)


def lower_bound(plan, cfg):
    """Cycles no run of `plan` can beat: every phase lasts at least its tile's compute and at least its DMA's
    ``2 + L + load`` cycles, so the GEMM takes at least ``2 + Lw`` plus the larger of the two sums."""
    mc, nb, kf = plan.m_chunks, plan.n_blocks, plan.k_folds
    compute = nb * kf * ((mc - 1) * int(ws_cycles(cfg.array, plan.chunk_rows, plan.groups))
                         + int(ws_cycles(cfg.array, plan.last_rows, plan.groups)))
    a_fetches = 1 if plan.resident else nb  # n blocks that load A per chunk
    a_beats = (kf - 1) * plan.a_beats_full + plan.a_beats_last
    load = mc * nb * plan.b_block_beats + a_fetches * a_beats * plan.m
    return 2 + cfg.memory.write_latency + max(compute, mc * nb * kf * (2 + cfg.memory.read_latency) + load)


def best_engine_gemm(gemm, cfg, pattern):
    """The fewest-cycles (ties: less energy, then the first in `plans` order) result over `plans`, for a sparse
    GEMM also in dense mode. Plans are run in order of `lower_bound` and the search stops once the bound
    exceeds the best found: exact, no plan skipped could have won."""
    cands = sorted(((lower_bound(plan, cfg), i, p, plan) for i, (p, plan) in enumerate(
        (p, plan) for p in dict.fromkeys((pattern, None)) for plan in plans(cfg, gemm, p))),
        key=lambda c: (c[0], c[1]))
    best, best_key = None, None
    for bound, i, p, plan in cands:
        if best is not None and bound * gemm.count > best.cycles:
            break
        r = run_plan(plan, cfg, p, gemm.count)
        key = (r.cycles, r.energy_total_pj, i)
        if best is None or key < best_key:
            best, best_key = r, key
    return best
