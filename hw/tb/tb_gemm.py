"""cocotb testbench of `nmsat.hw.tb.system.System`: runs a list of GEMMs, each from a memory image.

Parameters (`load_params`): ``period_ns``, ``bus_bytes``, ``max_cycles`` (per GEMM) and ``gemms``:
``[{"words": {addr: value}, "desc": int, "read": [first_word, count]}]``. Per GEMM the testbench writes the
words through the memory's back door, sends the descriptor, waits for ``done`` (no testbench code runs
while the GEMM runs), and reads ``count`` words back from ``first_word``. Outputs (`save_outputs`): per GEMM
``cycles`` (the ``done`` edge minus the descriptor edge), ``wall_s`` (wall time from the descriptor to
``done``) and ``words`` (the words read back).
"""

import time

import cocotb
from cocotb.triggers import ClockCycles, FallingEdge, First, ReadOnly, RisingEdge
from cocotb.utils import get_sim_time

from nmsat.hw.flow.cocotb_sim import clock_and_reset, load_params, save_outputs


async def _write_words(dut, words):
    dut.dbg_we.value = 1
    for addr, value in words.items():
        dut.dbg_addr.value = int(addr)
        dut.dbg_wdata.value = int(value)
        await RisingEdge(dut.clk)
    dut.dbg_we.value = 0


async def _read_words(dut, first, count):
    out = []
    dut.dbg_addr.value = first
    for i in range(count):
        await RisingEdge(dut.clk)  # the memory reads word first + i at this edge
        await ReadOnly()
        out.append(dut.dbg_rdata.value.to_unsigned())
        await FallingEdge(dut.clk)
        dut.dbg_addr.value = first + i + 1
    return out


@cocotb.test()
async def run_gemms(dut):
    params = load_params()
    period = params["period_ns"]
    dut.desc__valid.value = 0
    dut.dbg_we.value = 0
    dut.dbg_addr.value = 0
    dut.dbg_wdata.value = 0
    await clock_and_reset(dut)
    results = []
    for gemm in params["gemms"]:
        await _write_words(dut, gemm["words"])
        dut.desc__payload.value = int(gemm["desc"])
        dut.desc__valid.value = 1
        await RisingEdge(dut.clk)  # the core is idle: ready is high, so this edge is the handshake
        start, wall = get_sim_time("ns"), time.perf_counter()
        dut.desc__valid.value = 0
        dut.desc__payload.value = ~int(gemm["desc"]) & ((1 << len(dut.desc__payload)) - 1)  # no longer valid
        timeout = ClockCycles(dut.clk, params["max_cycles"])
        fired = await First(RisingEdge(dut.done), timeout)
        assert fired is not timeout, f"no done within {params['max_cycles']} cycles"
        await RisingEdge(dut.clk)  # the edge that samples done
        cycles = round((get_sim_time("ns") - start) / period)
        wall = time.perf_counter() - wall
        results.append({"cycles": cycles, "wall_s": wall, "words": await _read_words(dut, *gemm["read"])})
    save_outputs(results)
