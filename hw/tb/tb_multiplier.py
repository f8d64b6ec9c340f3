"""cocotb driver and monitor of `Multiplier`: new operands every cycle, ``p`` recorded every cycle.

Parameters (`load_params`): ``a``, ``b``, ``load``: per cycle, the operands and whether B loads. Outputs
(`save_outputs`): ``p``, the product read in each cycle (as unsigned bits) before its clock edge; the
product of cycle Y's operands is read in cycle Y+2. Checking is the caller's job.
"""

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly

from nmsat.hw.flow.cocotb_sim import load_params, save_outputs


@cocotb.test()
async def run_products(dut):
    params = load_params()
    dut.a.value, dut.b.value, dut.b_load.value = 0, 0, 0
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())  # no reset: the multiplier has none
    await FallingEdge(dut.clk)
    got = []
    for a, b, load in zip(params["a"], params["b"], params["load"], strict=True):
        dut.a.value, dut.b.value, dut.b_load.value = a, b, load
        await ReadOnly()
        got.append(int(dut.p.value))
        await FallingEdge(dut.clk)
    save_outputs({"p": got})
