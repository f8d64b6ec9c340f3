"""cocotb driver and monitor of the top-N unit (module ``topn``): feeds beats, records output words.

Parameters (`load_params`): ``seed``, ``idle`` (probability the source holds valid low in a cycle),
``stall`` (probability the sink holds ready low), ``max_cycles``, ``n_out`` (output beats to collect),
``beats``: ``[[pattern, payload], ...]`` with ``pattern`` None where the unit ignores it (a random
value is driven there). Outputs (`save_outputs`): ``words`` (``o.payload`` integers), ``first_in`` and
``last_out`` (cycles of the first input and last output handshakes).
"""

import random

import cocotb
from cocotb.triggers import FallingEdge, ReadOnly

from nmsat.hw.flow.cocotb_sim import clock_and_reset, load_params, save_outputs


@cocotb.test()
async def stream_groups(dut):
    params = load_params()
    rng = random.Random(params["seed"])
    beats, words = params["beats"], []
    dut.i__valid.value = 0
    dut.o__ready.value = 0
    await clock_and_reset(dut)
    pat_max = (1 << len(dut.pattern)) - 1
    k, cycle, first_in, last_out = 0, 0, None, None
    while len(words) < params["n_out"]:
        assert cycle < params["max_cycles"], f"timeout at cycle {cycle}: {k} beats in, {len(words)} out"
        valid = k < len(beats) and rng.random() >= params["idle"]
        dut.i__valid.value = int(valid)
        dut.pattern.value = rng.randint(0, pat_max)
        if valid:
            pattern, payload = beats[k]
            dut.i__payload.value = payload
            if pattern is not None:
                dut.pattern.value = pattern
        dut.o__ready.value = int(rng.random() >= params["stall"])
        await ReadOnly()
        if valid and int(dut.i__ready.value):
            first_in = cycle if first_in is None else first_in
            k += 1
        if int(dut.o__valid.value) and int(dut.o__ready.value):
            words.append(dut.o__payload.value.to_unsigned())
            last_out = cycle
        await FallingEdge(dut.clk)
        cycle += 1
    save_outputs({"words": words, "first_in": first_in, "last_out": last_out})
