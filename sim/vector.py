"""The *projected* vector unit: cost of a step's non-GEMM work (trace ``nongemm`` entries).

Hardware the RTL does not have: used only when ``cfg.vector.enabled``. Per non-GEMM operator:

* element operations = the larger of the elements it reads and writes (one op per element);
* DRAM bytes = the trace's bytes (read + written, at the traced fp32 width) scaled to the array's
  ``data_width`` (the accelerator keeps activations at data_width bits);
* cycles = max(ops / (lanes * ops_per_lane_cycle), DRAM bytes / DRAM bytes per cycle): the unit is
  bounded by its lanes or by DRAM bandwidth, whichever is slower for that operator;
* energy = ops * energy_pj_per_op + DRAM bytes * dram_pj_per_byte.

Overlap: none. A non-GEMM operator consumes the output of the GEMM before it and feeds the GEMM after
it, so the model runs the vector unit between GEMMs, never beside the array: a step's time is its GEMM
time (with update / top-N / DRAM bounds) plus the vector unit's time.
"""

import math

from nmsat.sim.layer import dram_bytes_per_cycle

TRACED_BITS = 32  # the trace's bytes are those of fp32 meta tensors


def op_cost(op, cfg):
    """(cycles, DRAM bytes, element ops) of one `NonGemm` on the vector unit of `cfg`."""
    v = cfg.vector
    dram = op.bytes * cfg.array.data_width / TRACED_BITS
    compute = op.elements / (v.lanes * v.ops_per_lane_cycle)
    return math.ceil(max(compute, dram / dram_bytes_per_cycle(cfg))), dram, op.elements


def vector_cost(trace, cfg):
    """Cycles, DRAM bytes, element ops and energy (pJ: vector, dram) of all non-GEMM work of `trace`."""
    cycles = dram = ops = 0
    for op in trace.nongemm:
        c, d, n = op_cost(op, cfg)
        cycles, dram, ops = cycles + c, dram + d, ops + n
    energy = {"vector": ops * cfg.vector.energy_pj_per_op, "dram": dram * cfg.energy.dram_pj_per_byte}
    return {"cycles": cycles, "dram_bytes": dram, "ops": ops, "energy_pj": energy}


def speedup_cap(gemm_cycles, vector_cycles):
    """Upper bound on a training-step speedup from faster GEMMs alone (Amdahl): (G + V) / V."""
    return math.inf if vector_cycles == 0 else (gemm_cycles + vector_cycles) / vector_cycles
