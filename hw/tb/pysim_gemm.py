"""Run one GEMM on the core in Amaranth's own simulator (no Verilog build): for small cases and debugging."""

import numpy as np
from amaranth.sim import Simulator

from nmsat.hw.driver import descriptor, memory_bytes, pack_descriptor, place, read_y, write_operands
from nmsat.hw.tb.system import System


def run_gemm_pysim(p, plan, a, b, pattern, where=None, max_cycles=200_000):
    """Run `plan` with operands `a`, `b`; returns ``(Y, cycles)`` (cycles: descriptor edge to ``done``)."""
    where = where or place(p, plan)
    size = memory_bytes(plan, where)
    words = -(-size // p.bus_bytes) + 1
    image = np.zeros(words * p.bus_bytes, dtype=np.uint8)
    write_operands(image, p, plan, where, a, b, pattern)
    init = [int.from_bytes(bytes(image[i * p.bus_bytes:(i + 1) * p.bus_bytes]), "little") for i in range(words)]
    dut = System(p, words, init)
    word = pack_descriptor(p, descriptor(p, plan, where))
    result = {}

    async def bench(ctx):
        ctx.set(dut.desc.payload.as_value(), word)
        ctx.set(dut.desc.valid, 1)
        cycle = 0
        while not ctx.get(dut.desc.ready):
            await ctx.tick()
        await ctx.tick()
        ctx.set(dut.desc.valid, 0)
        start = cycle
        while True:
            cycle += 1
            if ctx.get(dut.done):
                break
            if cycle > max_cycles:
                raise TimeoutError(f"no done after {max_cycles} cycles")
            await ctx.tick()
        result["cycles"] = cycle - start
        out = np.zeros(words * p.bus_bytes, dtype=np.uint8)
        for i in range(words):
            out[i * p.bus_bytes:(i + 1) * p.bus_bytes] = np.frombuffer(
                int(ctx.get(dut.memory.ram.data[i])).to_bytes(p.bus_bytes, "little"), dtype=np.uint8)
        result["y"] = read_y(out, p, plan, where)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return result["y"], result["cycles"]
