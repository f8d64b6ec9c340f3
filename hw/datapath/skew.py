"""Skew and de-skew registers: lane `i` of a bus delayed by a per-lane number of cycles."""

from amaranth import Module, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out


class Skew(wiring.Component):
    """``o[i](t) = i_[i](t - delay(i))`` with ``delay(i) = i * step`` (skew) or ``lanes - 1 - i`` (de-skew);
    reset-less registers (datapath only: what they hold before the first tile is never used)."""

    def __init__(self, shape, lanes, reverse=False, step=1):
        self.shape, self.lanes, self.reverse, self.step = shape, lanes, reverse, step
        super().__init__({"i": In(data.ArrayLayout(shape, lanes)), "o": Out(data.ArrayLayout(shape, lanes))})

    def delay(self, lane):
        """Cycles lane `lane` is delayed."""
        return self.lanes - 1 - lane if self.reverse else lane * self.step

    def elaborate(self, platform):
        m = Module()
        for lane in range(self.lanes):
            value = self.i[lane]
            for stage in range(self.delay(lane)):
                reg = Signal(self.shape, name=f"lane{lane}_d{stage}", reset_less=True)
                m.d.sync += reg.eq(value)
                value = reg
            m.d.comb += self.o[lane].eq(value)
        return m
