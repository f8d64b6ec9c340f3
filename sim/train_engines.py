"""Costs of the RTL's training engines (exact cycles from `nmsat.sim.topn_engine` and
`nmsat.sim.update_engine`), per layer and step, for the network model's generated-hardware path once the
engines are part of `nmsat_core` (today they are separate tops, and `nmsat.sim.network` charges GEMMs only).

Behind the core's one AXI4 port the engines would run one descriptor at a time, like GEMMs: charge these
costs in series on the array's timeline after each layer's WG GEMM (no pre-generation hiding).
A layer of ``blocks`` weights ``W[n_out, k_in]`` (a grouped convolution's groups)
takes one descriptor per block; its operands are packed (row strides the bus-aligned row lengths).
The RTL has standard top-N passes only (FF along K_in, BP along N_out): the transposable block pass and
Bi-Mask's search are not built, so those modes get no mask charge here (`mask_jobs_rtl`).
"""

from nmsat.core_params import core_params
from nmsat.nm import NMPattern
from nmsat.sim.tiling import cdiv
from nmsat.sim.topn_engine import FP32_BYTES, row_reads, topn_engine_cycles, topn_job, train_params
from nmsat.sim.update_engine import chunk_reads, update_engine_cycles

RTL_MASK_MODES = ("srste", "bdwp")


def update_cost_rtl(n_out, k_in, blocks, cfg):
    """Cycles, DRAM bytes and energy (pJ per component) of the update engine on `blocks` weights."""
    p = core_params(cfg)
    beats = int(chunk_reads(p, n_out, k_in)[0].sum())
    dram = blocks * 5 * beats * p.bus_bytes  # reads G, W, V; writes W, V
    energy = {"update": blocks * n_out * k_in * cfg.energy.fp32_update_pj, "dram": dram * cfg.energy.dram_pj_per_byte}
    return {"cycles": blocks * update_engine_cycles(p, n_out, k_in), "dram_bytes": dram, "energy_pj": energy}


def topn_cost_rtl(n_out, k_in, blocks, pattern, cfg, pass_):
    """Cycles, DRAM bytes and energy of one top-N engine pass ("FF" or "BP") over `blocks` weights."""
    p = core_params(cfg)
    pat = NMPattern.parse(pattern)
    bb = p.bus_bytes
    job = topn_job(p, (n_out, k_in), p.mode_of(pat), pass_ == "BP", 0, cdiv(k_in * FP32_BYTES, bb) * bb, 0)
    reads = int(row_reads(p, job)[0].sum())
    writes = job.n_blocks(p) * job.windows(p) * train_params(p).w_beats(job.mode)
    groups = job.n * cdiv(job.k, pat.m)
    dram = blocks * (reads + writes) * bb
    energy = {"topn": blocks * groups * pat.m * pat.n * cfg.energy.topn_compare_pj,
              "dram": dram * cfg.energy.dram_pj_per_byte}
    return {"cycles": blocks * topn_engine_cycles(p, job), "dram_bytes": dram, "energy_pj": energy}


def mask_jobs_rtl(mode, n_out, k_in, blocks, pattern, cfg, passes):
    """[(pass, cost)] of one layer's top-N passes per step on the RTL (none for modes it does not build)."""
    if mode not in RTL_MASK_MODES:
        return []
    return [(ps, topn_cost_rtl(n_out, k_in, blocks, pattern, cfg, ps)) for ps in passes]
