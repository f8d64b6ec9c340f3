"""Skew and de-skew delays: lane `i` of a bus delayed by a per-lane number of cycles."""

from amaranth import Module
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from nmsat.hw.datapath.delay_line import DelayLine


class Skew(wiring.Component):
    """``o[i](t) = i_[i](t - delay(i))`` with ``delay(i) = i * step`` (skew) or ``lanes - 1 - i`` (de-skew);
    reset-less `DelayLine`s (datapath only: what they hold before the first tile is never used)."""

    def __init__(self, shape, lanes, reverse=False, step=1):
        self.shape, self.lanes, self.reverse, self.step = shape, lanes, reverse, step
        super().__init__({"i": In(data.ArrayLayout(shape, lanes)), "o": Out(data.ArrayLayout(shape, lanes))})

    def delay(self, lane):
        """Cycles lane `lane` is delayed."""
        return self.lanes - 1 - lane if self.reverse else lane * self.step

    def elaborate(self, platform):
        m = Module()
        for lane in range(self.lanes):
            m.submodules[f"lane{lane}"] = line = DelayLine(self.shape, self.delay(lane))
            m.d.comb += [line.i.eq(self.i[lane]), self.o[lane].eq(line.o)]
        return m
