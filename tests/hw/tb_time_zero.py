"""cocotb testbench for the time-0 test: reads `hit` 1 ns into the run, before any clock edge."""

import cocotb
from cocotb.triggers import Timer

from nmsat.hw.flow.cocotb_sim import save_outputs


@cocotb.test()
async def reads_before_any_edge(dut):
    dut.clk.value = 0
    dut.rst.value = 0
    await Timer(1, unit="ns")
    got = str(dut.hit.value)
    save_outputs({"hit": got})
    assert got == "1", f"hit = {got} at 1 ns"
