"""A fixed delay of a datapath bus: registers when short, a LUT-RAM ring plus one register when long."""

from amaranth import Module, Mux, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from nmsat.hw.replicas import LOADS_PER_COPY

RAM_MIN_CYCLES = 4  # from this delay on a ring of cycles - 1 words costs fewer FPGA cells than registers


class DelayLine(wiring.Component):
    """``o(t) = i(t - cycles)``; reset-less (what it holds before `cycles` inputs is never used).

    A delay of `RAM_MIN_CYCLES` or more is a ring of ``cycles - 1`` words with an asynchronous read, written
    and read at one address that steps every cycle (the read sees the word written ``cycles - 1`` cycles
    before, the write lands at the clock edge), followed by a register: LUT-RAM on an FPGA, not flip-flops.
    The bus is cut into slices of `LOADS_PER_COPY` bits, each its own ring and address register.
    """

    def __init__(self, shape, cycles):
        self.shape, self.cycles = shape, cycles
        super().__init__({"i": In(shape), "o": Out(shape)})

    def elaborate(self, platform):
        m = Module()
        if self.cycles < RAM_MIN_CYCLES:
            value = self.i
            for stage in range(self.cycles):
                reg = Signal(self.shape, name=f"d{stage}", reset_less=True)
                m.d.sync += reg.eq(value)
                value = reg
            m.d.comb += self.o.eq(value)
            return m
        # One ring per slice of the bus, each with its own address register: one address to every LUT-RAM cell
        # of a wide bus is a net of hundreds of loads (`nmsat.hw.replicas`).
        words, width = self.cycles - 1, len(Value.cast(self.i))
        out = Signal(width, reset_less=True)
        for n, lo in enumerate(range(0, width, LOADS_PER_COPY)):
            hi = min(width, lo + LOADS_PER_COPY)
            m.submodules[f"ring{n}"] = ring = Memory(shape=hi - lo, depth=words, init=[])
            wr, rd = ring.write_port(), ring.read_port(domain="comb")
            at = Signal(range(words), name=f"at{n}", reset_less=True, attrs={"keep": 1})
            m.d.sync += [at.eq(Mux(at == words - 1, 0, at + 1)), out[lo:hi].eq(rd.data)]
            m.d.comb += [wr.addr.eq(at), wr.en.eq(1), wr.data.eq(Value.cast(self.i)[lo:hi]), rd.addr.eq(at)]
        m.d.comb += self.o.eq(out)
        return m
