"""Per-layer work after the weight gradient: the FP32 weight update and the top-N compression.

Update (SGD with momentum on FP32 master weights): per weight it reads the master weight, the momentum
and the gradient (acc_width) and writes master, momentum and the data_width working copy. It runs on
``R*C`` FP32 lanes, one weight per lane per cycle; its time is the larger of that and its DRAM time.

Top-N: FF weights are grouped along the FF reduction axis (``n * ceil(k/m)`` groups of ``W[n, k]``),
BP weights along the output channels (``k * ceil(n/m)`` groups). A pass reads the dense working copy
and writes values + indices; its time is the larger of `topn_cycles` and that DRAM time. A lane keeps
the ``n`` largest of ``m`` inputs with ``n`` compares per input: ``m*n`` compares per group.
"""

import math

from nmsat.nm import NMPattern
from nmsat.sim.layer import dram_bytes_per_cycle
from nmsat.sim.tile import topn_cycles
from nmsat.sim.tiling import acc_bytes, operand_bytes

FP32_BYTES = 4


def layer_weights(trace):
    """{layer: (n_out, k_in, groups)} for every layer with a weight gradient (a WG GEMM): the weight is
    ``groups`` blocks ``W[n_out, k_in]`` (the GEMM's count, e.g. a grouped conv)."""
    return {g.layer: (g.m, g.n, g.count) for g in trace.gemms if g.pass_ == "WG"}


def update_cost(weights, cfg):
    """Cycles, DRAM bytes and energy (pJ per component) of updating `weights` FP32 weights."""
    a = cfg.array
    per_weight = 4 * FP32_BYTES + acc_bytes(a) + operand_bytes(a)
    dram = weights * per_weight
    cycles = max(math.ceil(weights / (a.rows * a.cols)), math.ceil(dram / dram_bytes_per_cycle(cfg)))
    energy = {"update": weights * cfg.energy.fp32_update_pj, "dram": dram * cfg.energy.dram_pj_per_byte}
    return {"cycles": cycles, "dram_bytes": dram, "energy_pj": energy}


def topn_cost(n_out, k_in, blocks, pattern, cfg, pass_):
    """Cycles, DRAM bytes and energy of compressing `blocks` weights ``W[n_out, k_in]`` for `pass_`."""
    p = NMPattern.parse(pattern)
    a = cfg.array
    groups = blocks * (n_out * -(-k_in // p.m) if pass_ == "FF" else k_in * -(-n_out // p.m))
    dram = blocks * n_out * k_in * operand_bytes(a) + groups * p.n * (operand_bytes(a) + p.index_bits / 8)
    cycles = max(int(topn_cycles(groups, p.m, cfg.topn.lanes)), math.ceil(dram / dram_bytes_per_cycle(cfg)))
    energy = {"topn": groups * p.m * p.n * cfg.energy.topn_compare_pj,
              "dram": dram * cfg.energy.dram_pj_per_byte}
    return {"cycles": cycles, "dram_bytes": dram, "energy_pj": energy}
