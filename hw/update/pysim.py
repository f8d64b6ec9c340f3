"""Run one descriptor on a training engine in Amaranth's own simulator (small cases and debugging)."""

import numpy as np
from amaranth.sim import Simulator

from nmsat.hw.update.driver import image_words
from nmsat.hw.update.system import EngineSystem


def run_engine_pysim(engine, p, image, word, max_cycles=200_000):
    """Run descriptor `word` on `engine` over memory `image` (bytes); returns ``(image after, cycles)``
    (cycles: descriptor edge to the edge that samples ``done``)."""
    words = image_words(image, p.bus_bytes)
    dut = EngineSystem(engine, p, len(words), words)
    result = {}

    async def bench(ctx):
        ctx.set(dut.desc.payload.as_value(), word)
        ctx.set(dut.desc.valid, 1)
        while not ctx.get(dut.desc.ready):
            await ctx.tick()
        await ctx.tick()
        ctx.set(dut.desc.valid, 0)
        cycle = 0
        while True:
            cycle += 1
            if ctx.get(dut.done):
                break
            if cycle > max_cycles:
                raise TimeoutError(f"no done after {max_cycles} cycles")
            await ctx.tick()
        result["cycles"] = cycle
        out = np.zeros(len(words) * p.bus_bytes, dtype=np.uint8)
        for i in range(len(words)):
            out[i * p.bus_bytes:(i + 1) * p.bus_bytes] = np.frombuffer(
                int(ctx.get(dut.memory.ram.data[i])).to_bytes(p.bus_bytes, "little"), dtype=np.uint8)
        result["image"] = out

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return result["image"], result["cycles"]
