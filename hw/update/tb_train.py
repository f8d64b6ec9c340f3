"""cocotb testbench of `nmsat.hw.update.train_system.TrainSystem`: runs a list of commands on one memory.

Parameters as `nmsat.hw.tb.tb_gemm` (``period_ns``, ``max_cycles``, ``gemms``), each command with a
``port`` (``desc``, ``topn_desc`` or ``update_desc``) its descriptor goes to. Outputs per command:
``cycles`` (the ``done`` edge minus the descriptor edge), ``wall_s`` and ``words`` (the words read back).
"""

import time

import cocotb
from cocotb.triggers import ClockCycles, First, RisingEdge
from cocotb.utils import get_sim_time

from nmsat.hw.flow.cocotb_sim import clock_and_reset, load_params, save_outputs
from nmsat.hw.tb.tb_gemm import _read_words, _write_words

PORTS = ("desc", "topn_desc", "update_desc")


async def reset_idle(dut):
    """Every descriptor port idle, the memory's back door quiet, then the clock and reset."""
    for port in PORTS:
        getattr(dut, f"{port}__valid").value = 0
    dut.dbg_we.value = 0
    dut.dbg_addr.value = 0
    dut.dbg_wdata.value = 0
    await clock_and_reset(dut)


@cocotb.test()
async def run_commands(dut):
    params = load_params()
    period = params["period_ns"]
    await reset_idle(dut)
    results = []
    for cmd in params["gemms"]:
        await _write_words(dut, cmd["words"])
        port = cmd["port"]
        getattr(dut, f"{port}__payload").value = int(cmd["desc"])
        getattr(dut, f"{port}__valid").value = 1
        await RisingEdge(dut.clk)  # every unit is idle: ready is high, so this edge is the handshake
        start, wall = get_sim_time("ns"), time.perf_counter()
        getattr(dut, f"{port}__valid").value = 0
        timeout = ClockCycles(dut.clk, params["max_cycles"])
        fired = await First(RisingEdge(dut.done), timeout)
        assert fired is not timeout, f"no done within {params['max_cycles']} cycles"
        await RisingEdge(dut.clk)
        cycles = round((get_sim_time("ns") - start) / period)
        results.append({"cycles": cycles, "wall_s": time.perf_counter() - wall,
                        "words": await _read_words(dut, *cmd["read"])})
    save_outputs(results)
