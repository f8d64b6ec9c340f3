"""cocotb testbench for the runner test: a register that adds `a` every cycle; params give the expectation."""

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly

from nmsat.hw.flow.cocotb_sim import load_params, save_outputs


@cocotb.test()
async def counts(dut):
    params = load_params()
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.a.value = 0
    for _ in range(2):
        await FallingEdge(dut.clk)
    dut.rst.value = 0
    dut.a.value = params["a"]
    for _ in range(params["cycles"]):
        await FallingEdge(dut.clk)
    await ReadOnly()
    got = int(dut.q.value)
    save_outputs({"q": got})
    assert got == params["expect"], f"q = {got}, expected {params['expect']}"
