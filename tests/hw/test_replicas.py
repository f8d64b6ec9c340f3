"""Replicated control registers: they load like one register, and synthesis keeps every copy."""

import os

import pytest
from amaranth import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

from nmsat.hw.flow.yosys import synthesize
from nmsat.hw.replicas import LOADS_PER_COPY, copies_for, load_when

WIDTH = 3 * LOADS_PER_COPY + 5


class Latch(wiring.Component):
    """A wide register loaded from ``value`` in the cycle after ``load`` (enables replicated)."""

    load: In(1)
    value: In(WIDTH)
    out: Out(WIDTH)

    def elaborate(self, platform):
        m = Module()
        held = Signal(WIDTH)
        load_when(m, "load", self.load, [(held[:10], self.value[:10]), (held[10:], self.value[10:])])
        m.d.comb += self.out.eq(held)
        return m


def test_copies_for_rounds_up():
    assert [copies_for(n) for n in (1, LOADS_PER_COPY, LOADS_PER_COPY + 1)] == [1, 1, 2]


def test_load_when_loads_every_slice_a_cycle_after_the_enable():
    dut = Latch()
    a, b = (1 << WIDTH) - 3, 0x5A5A << (WIDTH - 20)

    async def bench(ctx):
        ctx.set(dut.value, a)
        ctx.set(dut.load, 1)
        await ctx.tick()  # the enable copies are set
        ctx.set(dut.load, 0)
        assert ctx.get(dut.out) == 0
        await ctx.tick()  # the register loads `a`
        assert ctx.get(dut.out) == a
        ctx.set(dut.value, b)
        await ctx.tick()
        await ctx.tick()
        assert ctx.get(dut.out) == a  # no enable: held

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()


@pytest.mark.skipif(not os.path.exists("/usr/bin/yosys"), reason="system Yosys (apt install yosys) not installed")
def test_synthesis_keeps_every_copy():
    """Without `KEEP_REGISTERS` Yosys merges the copies into one flip-flop (they load the same value)."""
    os.environ.setdefault("AMARANTH_USE_YOSYS", "builtin")
    from amaranth.back import rtlil

    cells = synthesize(rtlil.convert(Latch(), name="top"), "top", "xilinx", flatten=True)["design"]
    assert sum(n for cell, n in cells.items() if cell.startswith("FD")) == WIDTH + copies_for(WIDTH)
