"""The whole core in Amaranth's simulator: each PE does its MACs in exactly the cycles `sim.tile.activity`
says, and a tile takes `ws_cycles` / `os_cycles` from the command handshake to ``done``."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from nmsat.config import load_config
from nmsat.hw.core import Core
from nmsat.hw.packing import pack_act_row, pack_command, pack_weight_row
from nmsat.core_params import core_params
from nmsat.sim.tile import act_rows, activity, run_tile, weight_rows

CFG = load_config("configs/hw-small.toml").replace(array={"rows": 4, "cols": 3})
P = core_params(CFG)
RUNS = [("ws", 1), ("ws", 2), ("ws", 4), ("os", 1)]  # (dataflow, WS row groups G)


async def _send(ctx, stream, payload):
    ctx.set(stream.payload.as_value(), payload)  # the packed word of docs/hw-interface.md
    ctx.set(stream.valid, 1)
    await ctx.tick().until(stream.ready)
    ctx.set(stream.valid, 0)


@pytest.mark.parametrize("dataflow,groups", RUNS, ids=lambda x: str(x))
@pytest.mark.parametrize("pattern", [None, "2:8"], ids=str)
def test_pe_activity_and_cycles(dataflow, groups, pattern):
    """All-ones operands over full windows: PE (r, c) sees a non-zero activation iff it does a useful MAC
    (WS with T = 5 rows: the last step of G > 1 leaves some groups idle)."""
    dut = Core(P)
    e = CFG.array.reduction_per_cycle(pattern)
    t = 5 if dataflow == "ws" else 3
    m_rows, k = (t, P.rows // groups * e) if dataflow == "ws" else (P.rows, t * e)
    a, b = np.ones((m_rows, k), dtype=np.int64), np.ones((P.cols, k), dtype=np.int64)
    vals, idx = weight_rows(b, pattern, CFG.array)
    acts = act_rows(a, pattern, CFG.array, dataflow, groups)
    expect = activity(CFG.array, dataflow, t, groups)
    cycles = run_tile(a, b, pattern, CFG.array, dataflow, groups).cycles
    seen = np.zeros((cycles + 2, P.rows, P.cols), dtype=bool)
    done = []

    async def bench(ctx):
        for v, i in zip(vals, idx, strict=True):
            await _send(ctx, dut.wload, pack_weight_row(P, v, i))
        for w in acts:
            await _send(ctx, dut.aload, pack_act_row(P, w))
        cmd = pack_command(P, dataflow, P.mode_of(pattern), len(acts), accumulate=False, drain=False,
                           groups=groups)
        await _send(ctx, dut.cmd, cmd)
        for cycle in range(cycles + 2):  # now in cycle 0 of the tile
            for r in range(P.rows):
                for c in range(P.cols):
                    seen[cycle, r, c] = any(x != 0 for x in ctx.get(dut.array.pes[r][c].act_in))
            if ctx.get(dut.done):
                done.append(cycle)
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert done == [cycles - 1]  # done in the last cycle: sampled at edge handshake + cycles
    assert (seen[:cycles] == expect).all()
    assert not seen[cycles:].any()
