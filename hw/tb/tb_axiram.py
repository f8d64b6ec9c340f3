"""cocotb testbench of `nmsat_core` behind cocotbext-axi's `AxiRam` (the cocotb ecosystem's AXI4 memory
model): the AXI4 port works with a standard subordinate whose timing is not the deterministic model's.

Parameters (`load_params`): ``size`` (RAM bytes), ``max_cycles`` and ``gemms``:
``[{"image": hex bytes from address 0, "desc": int, "read": [address, length]}]``. Outputs: per GEMM
``cycles`` (descriptor edge to the edge sampling ``done``) and ``y`` (hex of the bytes read back).
"""

import cocotb
from cocotb.triggers import ClockCycles, First, RisingEdge
from cocotb.utils import get_sim_time
from cocotbext.axi import AxiBus, AxiRam

from nmsat.hw.flow.cocotb_sim import clock_and_reset, load_params, save_outputs

PERIOD_NS = 10


@cocotb.test()
async def run_gemms(dut):
    params = load_params()
    bus = AxiBus.from_prefix(dut, "axi_")
    for channel in (bus.write.aw, bus.write.w, bus.write.b, bus.read.ar, bus.read.r):
        for name in [k for k, v in vars(channel).items() if v is None]:  # absent optional signals (no IDs)
            delattr(channel, name)
    ram = AxiRam(bus, dut.clk, dut.rst, reset_active_level=True, size=params["size"])
    dut.desc__valid.value = 0
    await clock_and_reset(dut)
    results = []
    for gemm in params["gemms"]:
        ram.write(0, bytes.fromhex(gemm["image"]))
        dut.desc__payload.value = int(gemm["desc"])
        dut.desc__valid.value = 1
        await RisingEdge(dut.clk)
        start = get_sim_time("ns")
        dut.desc__valid.value = 0
        timeout = ClockCycles(dut.clk, params["max_cycles"])
        assert await First(RisingEdge(dut.done), timeout) is not timeout, "no done"
        await RisingEdge(dut.clk)
        address, length = gemm["read"]
        results.append({"cycles": round((get_sim_time("ns") - start) / PERIOD_NS),
                        "y": ram.read(address, length).hex()})
    save_outputs(results)
