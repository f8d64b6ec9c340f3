"""Projected vector unit: per-op cycles by hand, off by default, added to the step without overlap."""

import math

import pytest
from nets import resnet18

from nmsat.config import default_config
from nmsat.errors import NmsatError
from nmsat.sim import network
from nmsat.sim.vector import op_cost, speedup_cap, vector_cost
from nmsat.trace import NonGemm

CFG = default_config()
ON = CFG.replace(vector={"enabled": True, "lanes": 4, "ops_per_lane_cycle": 2, "energy_pj_per_op": 0.5})
BYTES_PER_CYCLE = 128  # the default AXI4 port: 128 B per cycle (projected model off)


def test_op_cost_is_lane_or_dram_bound():
    lanes_bound = NonGemm("bn", "FF", "native_batch_norm", 100, 90, 760)
    # 100 element ops on 4 lanes x 2 ops: 12.5 -> 13 cycles; 760 fp32 bytes -> 380 bf16 bytes: ~1 cycle
    assert op_cost(lanes_bound, ON) == (13, 380.0, 100)
    dram_bound = NonGemm("add", "BP", "add", 300, 100, 1_000_000)
    assert op_cost(dram_bound, ON) == (math.ceil(500_000 / BYTES_PER_CYCLE), 500_000.0, 300)


def test_vector_cost_sums_ops_and_energy():
    trace = resnet18(batch=2, pattern="2:8")
    ops = (NonGemm("a", "FF", "relu", 64, 64, 512), NonGemm("b", "BP", "threshold_backward", 128, 64, 768))
    trace = type(trace)(**{**trace.__dict__, "nongemm": ops})
    cost = vector_cost(trace, ON)
    assert cost["cycles"] == 8 + 16 and cost["ops"] == 192 and cost["dram_bytes"] == 640
    assert cost["energy_pj"] == {"vector": 192 * 0.5, "dram": 640 * CFG.energy.dram_pj_per_byte}


def test_off_by_default_and_added_without_overlap():
    assert CFG.vector.enabled is False
    ops = tuple(NonGemm(f"n{i}", "FF", "relu", 10_000, 10_000, 80_000) for i in range(5))
    base = resnet18(batch=2, pattern="2:8")
    trace = type(base)(**{**base.__dict__, "nongemm": ops})
    off = network.simulate(trace, CFG, "bdwp", "ws")
    on = network.simulate(trace, ON, "bdwp", "ws")
    vec = vector_cost(trace, ON)
    assert off.total_cycles == network.simulate(base, CFG, "bdwp", "ws").total_cycles and "vector" not in off.energy_pj
    assert on.total_cycles == off.total_cycles + vec["cycles"]
    s = on.summary()
    assert s["vector_cycles"] == vec["cycles"] and s["nongemm_share"] == pytest.approx(vec["cycles"] / on.total_cycles)
    assert s["gemm_speedup_cap"] == pytest.approx(on.total_cycles / vec["cycles"])
    assert on.energy_pj["vector"] == vec["energy_pj"]["vector"]


def test_speedup_cap_is_amdahl():
    assert speedup_cap(300, 100) == 4.0 and speedup_cap(5, 0) == math.inf


@pytest.mark.parametrize("vector,bad", [({"lanes": 0}, "lanes = 0"), ({"enabled": "yes"}, "enabled = 'yes'"),
                                        ({"energy_pj_per_op": -1.0}, "energy_pj_per_op = -1.0"),
                                        ({"ops_per_lane_cycle": 1.5}, "ops_per_lane_cycle = 1.5")])
def test_bad_vector_config_rejected(vector, bad):
    with pytest.raises(NmsatError, match=bad):
        CFG.replace(vector=vector)
