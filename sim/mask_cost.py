"""Per-step cost of making each training method's N:M weight operands (numpy only).

What each hardware mode needs from the top-N unit and from the array's BP operand (``NEEDS``):

| mode | top-N / mask work per sparse layer and step | BP operand |
|---|---|---|
| ``srste`` | 1 standard pass (FF groups along ``in``) | dense ``W^T`` |
| ``bdwp`` | 2 standard passes: FF (along ``in``), BP (along ``out``) | own mask, along ``out`` |
| ``transposable`` | 1 block pass (greedy over ``m x m`` blocks), 2 packed outputs | FF mask, along ``out`` |
| ``bimask`` | 2 standard passes (BP on ``W . Mff``, rows permuted) + search | along ``out``, permuted |

* Standard pass: `nmsat.sim.weight_update.topn_cost` (L lanes, m cycles per group, m*n compares).
* Block pass (transposable): the L lanes work in lock-step, m lanes per ``m x m`` block (one row each);
  the greedy decides one element per cycle after the block's m^2 magnitudes are ranked, so a block
  takes m^2 cycles and ``L // m`` blocks run at once. Compares per block: ``m^2 (m^2 - 1) / 2`` (every
  pair ranked) plus 2 counter checks per element. DRAM: W read once; FF and BP compressed copies written.
* Bi-Mask search: `nmsat.methods.BIMASK_CANDIDATES` scoring BP passes every
  `nmsat.methods.BIMASK_SEARCH_EVERY` steps, charged per step as that fraction of a BP pass.
* Bi-Mask BP operand: the BP GEMM reduces over output channels in the permuted order, so ``dY``
  (operand A of BP, ``[M, K = out]``) is gathered through the permutation: modelled as one extra
  read and write of ``dY`` (`permute_bytes`), DRAM traffic only.
"""

import math

from nmsat.methods import BIMASK_CANDIDATES, BIMASK_SEARCH_EVERY
from nmsat.nm import NMPattern
from nmsat.sim.layer import dram_bytes_per_cycle
from nmsat.sim.modes import gemm_patterns
from nmsat.sim.tile import TOPN_LATENCY
from nmsat.sim.tiling import operand_bytes
from nmsat.sim.weight_update import layer_weights, topn_cost

# mode -> (top-N passes per step, unit, BP operand order); for the report and the docs
NEEDS = {
    "dense": (0, "none", "dense"),
    "srste": (1, "standard top-N", "dense"),
    "bdwp": (2, "standard top-N", "along out"),
    "transposable": (1, "m x m block greedy", "along out (same mask)"),
    "bimask": (2 + BIMASK_CANDIDATES / BIMASK_SEARCH_EVERY, "standard top-N + permutation", "along out, permuted"),
}


def block_pass_cost(n_out, k_in, blocks, pattern, cfg):
    """Cycles, DRAM bytes and energy of the transposable mask of `blocks` weights ``W[n_out, k_in]``."""
    p = NMPattern.parse(pattern)
    a, m = cfg.array, p.m
    tiles = blocks * -(-n_out // m) * -(-k_in // m)
    groups = blocks * (n_out * -(-k_in // m) + k_in * -(-n_out // m))  # FF + BP compressed groups
    dram = blocks * n_out * k_in * operand_bytes(a) + groups * p.n * (operand_bytes(a) + p.index_bits / 8)
    parallel = max(1, cfg.topn.lanes // m)
    cycles = max(-(-tiles // parallel) * m * m + TOPN_LATENCY, math.ceil(dram / dram_bytes_per_cycle(cfg)))
    compares = tiles * (m * m * (m * m - 1) // 2 + 2 * m * m)
    energy = {"topn": compares * cfg.energy.topn_compare_pj, "dram": dram * cfg.energy.dram_pj_per_byte}
    return {"cycles": cycles, "dram_bytes": dram, "energy_pj": energy}


def _scaled(cost, factor):
    return {"cycles": math.ceil(cost["cycles"] * factor), "dram_bytes": cost["dram_bytes"] * factor,
            "energy_pj": {k: v * factor for k, v in cost["energy_pj"].items()}}


def mask_jobs(mode, n_out, k_in, blocks, pattern, cfg, passes):
    """[(pass, cost)] of one layer's top-N / mask jobs per step in `mode`, for its sparse `passes`.

    The pass is "FF", "BP", or "FF+BP" (one job whose end makes both operands ready).
    """
    if mode == "transposable" and "BP" in passes:
        return [("FF+BP", block_pass_cost(n_out, k_in, blocks, pattern, cfg))]
    jobs = [(ps, topn_cost(n_out, k_in, blocks, pattern, cfg, ps)) for ps in passes]
    if mode == "bimask" and "BP" in passes:
        bp = topn_cost(n_out, k_in, blocks, pattern, cfg, "BP")
        jobs.append(("search", _scaled(bp, BIMASK_CANDIDATES / BIMASK_SEARCH_EVERY)))
    return jobs


def permute_bytes(gemm, cfg):
    """DRAM bytes of gathering a sparse BP GEMM's ``dY`` through Bi-Mask's channel permutation."""
    return 2 * gemm.m * gemm.k * gemm.count * operand_bytes(cfg.array)


def mask_cost(trace, cfg, mode, pattern):
    """Totals over a trace's weight layers of the top-N / mask work of `mode`: cycles, DRAM bytes, energy (pJ)."""
    pats = gemm_patterns(trace, cfg, mode, pattern)
    sparse = {(g.layer, g.pass_) for g, p in zip(trace.gemms, pats, strict=True) if p is not None}
    total = {"cycles": 0, "dram_bytes": 0.0, "energy_pj": 0.0}
    for layer, (n_out, k_in, blocks) in layer_weights(trace).items():
        passes = [ps for ps in ("FF", "BP") if (layer, ps) in sparse]
        for _, c in mask_jobs(mode, n_out, k_in, blocks, pattern, cfg, passes):
            total["cycles"] += c["cycles"]
            total["dram_bytes"] += c["dram_bytes"]
            total["energy_pj"] += sum(c["energy_pj"].values())
    if mode == "bimask":
        total["dram_bytes"] += sum(permute_bytes(g, cfg) for g, p in zip(trace.gemms, pats, strict=True)
                                   if p is not None and g.pass_ == "BP")
    return total
