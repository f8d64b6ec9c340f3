"""cocotb driver and monitor of `FpMac`: one MAC per cycle (a bubble every 5th), results in order.

Parameters (`load_params`): ``latency``, and ``acc`` / ``a`` / ``w``: fp32 bit patterns and, per MAC,
the P bf16 bit patterns of each operand. Outputs (`save_outputs`): ``acc_out``, one fp32 bit pattern
per MAC. Checking against the reference is the caller's job.
"""

import cocotb
from cocotb.triggers import FallingEdge, ReadOnly

from nmsat.hw.flow.cocotb_sim import clock_and_reset, load_params, save_outputs


def _packed(values, width=16):
    return sum(int(v) << (width * j) for j, v in enumerate(values))


@cocotb.test()
async def run_macs(dut):
    params = load_params()
    acc, a, w = params["acc"], params["a"], params["w"]
    dut.valid.value = 0
    dut.w_load.value = 1  # new weights with every MAC
    await clock_and_reset(dut)
    got, i, cycle = [], 0, 0
    limit = 2 * len(acc) + params["latency"] + 10
    while len(got) < len(acc):
        feed = i < len(acc) and cycle % 5 != 4
        dut.valid.value = int(feed)
        if feed:
            dut.acc_in.value, dut.a.value, dut.w.value = acc[i], _packed(a[i]), _packed(w[i])
            i += 1
        await ReadOnly()
        if int(dut.valid_out.value):
            got.append(int(dut.acc_out.value))
        await FallingEdge(dut.clk)
        cycle += 1
        assert cycle < limit, f"only {len(got)} of {len(acc)} results after {cycle} cycles"
    save_outputs({"acc_out": got})
