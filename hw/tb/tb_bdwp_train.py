"""cocotb testbench: BDWP training steps of an MLP on `TrainSystem`, driven by `nmsat.hw.tb.bdwp_train.program`.

Parameters (`load_params`): ``period_ns``, ``max_cycles`` (per command), ``config`` (the accelerator config as a
dict), ``dims``, ``batch``, ``pattern``, ``w0`` (fp32 bits per layer), ``batches`` ([x, labels] per step),
``hyper`` (`Hyper` fields). The host program's requests are served here: back-door writes and reads of the
memory, and commands on the three descriptor ports (the same handshake as `nmsat.hw.update.tb_train`).
Outputs: ``steps`` (what the program recorded, as lists) and ``commands`` ([port, cycles, model cycles] per
command).
"""

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, First, RisingEdge
from cocotb.utils import get_sim_time

from nmsat.config import from_dict
from nmsat.core_params import core_params
from nmsat.hw.flow.cocotb_sim import load_params, save_outputs
from nmsat.hw.tb.bdwp_train import Hyper, Layout, program
from nmsat.hw.tb.tb_gemm import _read_words, _write_words
from nmsat.hw.update.tb_train import reset_idle


async def _run(dut, port, word, period, max_cycles):
    """Send `word` to `port` and wait for ``done``: the command's cycles (descriptor edge to the edge after)."""
    getattr(dut, f"{port}__payload").value = int(word)
    getattr(dut, f"{port}__valid").value = 1
    await RisingEdge(dut.clk)  # every unit is idle: ready is high, so this edge is the handshake
    start = get_sim_time("ns")
    getattr(dut, f"{port}__valid").value = 0
    timeout = ClockCycles(dut.clk, max_cycles)
    fired = await First(RisingEdge(dut.done), timeout)
    assert fired is not timeout, f"{port}: no done within {max_cycles} cycles"
    await RisingEdge(dut.clk)
    return round((get_sim_time("ns") - start) / period)


def _plain(x):
    return x.tolist() if isinstance(x, np.ndarray) else x


@cocotb.test()
async def train(dut):
    prm = load_params()
    cfg = from_dict(prm["config"])
    p = core_params(cfg)
    lay = Layout(cfg, p, prm["dims"], prm["batch"], prm["pattern"])
    batches = [(np.asarray(x, dtype=np.float32), np.asarray(y)) for x, y in prm["batches"]]
    w0 = [np.asarray(w, dtype=np.uint32) for w in prm["w0"]]
    await reset_idle(dut)
    record, commands = [], []
    host = program(lay, w0, batches, Hyper(**prm["hyper"]), record)
    answer = None
    while True:
        try:
            request = host.send(answer)
        except StopIteration:
            break
        kind, *args = request
        if kind == "write":
            await _write_words(dut, args[0])
            answer = None
        elif kind == "read":
            answer = await _read_words(dut, *args)
        else:
            port, word, model = args
            answer = await _run(dut, port, word, prm["period_ns"], prm["max_cycles"])
            commands.append([port, answer, model])
    steps = [{k: [_plain(x) for x in v] for k, v in s.items()} for s in record]
    save_outputs({"steps": steps, "commands": commands})
