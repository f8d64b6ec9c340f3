"""Run one GEMM on the core in Amaranth's own simulator (no Verilog build): for small cases and debugging."""

import numpy as np
from amaranth.sim import Simulator

from nmsat.hw.driver import descriptor, image_words, memory_bytes, pack_descriptor, place, read_y, write_operands
from nmsat.hw.tb.system import System


def run_descriptor_pysim(dut, word, words, bus_bytes, max_cycles):
    """Send descriptor `word` to `dut` (a system with ``desc``, ``done`` and ``memory``) and wait for ``done``;
    returns ``(memory image after, cycles)`` (cycles: descriptor edge to the edge that samples ``done``)."""
    result = {}

    async def bench(ctx):
        ctx.set(dut.desc.payload.as_value(), word)
        ctx.set(dut.desc.valid, 1)
        while not ctx.get(dut.desc.ready):
            await ctx.tick()
        await ctx.tick()
        ctx.set(dut.desc.valid, 0)
        ctx.set(dut.desc.payload.as_value(), ~word & ((1 << len(dut.desc.payload.as_value())) - 1))  # not valid now
        cycle = 0
        while True:
            cycle += 1
            if ctx.get(dut.done):
                break
            if cycle > max_cycles:
                raise TimeoutError(f"no done after {max_cycles} cycles")
            await ctx.tick()
        result["cycles"] = cycle
        out = np.zeros(words * bus_bytes, dtype=np.uint8)
        for i in range(words):
            out[i * bus_bytes:(i + 1) * bus_bytes] = np.frombuffer(
                int(ctx.get(dut.memory.ram.data[i])).to_bytes(bus_bytes, "little"), dtype=np.uint8)
        result["image"] = out

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return result["image"], result["cycles"]


def run_gemm_pysim(p, plan, a, b, pattern, where=None, max_cycles=200_000):
    """Run `plan` with operands `a`, `b`; returns ``(Y, cycles)`` (cycles: descriptor edge to ``done``)."""
    where = where or place(p, plan)
    size = memory_bytes(plan, where)
    words = -(-size // p.bus_bytes) + 1
    image = np.zeros(words * p.bus_bytes, dtype=np.uint8)
    write_operands(image, p, plan, where, a, b, pattern)
    dut = System(p, words, image_words(image, p.bus_bytes))
    out, cycles = run_descriptor_pysim(dut, pack_descriptor(p, descriptor(p, plan, where)), words, p.bus_bytes,
                                       max_cycles)
    return read_y(out, p, plan, where), cycles
