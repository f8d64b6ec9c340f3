"""The pipelined multiply-accumulate of one PE: the one place arithmetic happens."""

from amaranth import Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out


class Mac(wiring.Component):
    """Signed integer MAC in three registers.

    ``a`` and ``w`` given in cycle Y are multiplied (registered, Y+1) and summed (registered, Y+2); in cycle
    Y+2, with ``acc_in`` and ``first`` of that cycle, ``acc_out <= dot + (0 if first else acc_in)``, wrapped to
    `acc_width` bits. One MAC per cycle; all registers are reset-less datapath.
    """

    def __init__(self, mults, data_width, acc_width):
        self.mults, self.data_width = mults, data_width
        self.stages = 2  # cycles from a, w to the cycle that reads acc_in
        self.chain = 1  # cycles from acc_in to acc_out
        super().__init__({
            "a": In(data.ArrayLayout(signed(data_width), mults)),
            "w": In(data.ArrayLayout(signed(data_width), mults)),
            "acc_in": In(signed(acc_width)),
            "first": In(1),
            "acc_out": Out(signed(acc_width)),
        })

    def elaborate(self, platform):
        m = Module()
        d = self.data_width
        prods = [Signal(signed(2 * d), name=f"prod{j}", reset_less=True) for j in range(self.mults)]
        dot = Signal(signed(2 * d + self.mults.bit_length()), reset_less=True)
        acc = Signal.like(self.acc_out, reset_less=True)
        m.d.sync += [
            *(prods[j].eq(self.a[j] * self.w[j]) for j in range(self.mults)),
            dot.eq(sum(prods)),
            acc.eq(dot + Mux(self.first, 0, self.acc_in)),  # truncation to acc_width is the two's-complement wrap
        ]
        m.d.comb += self.acc_out.eq(acc)
        return m
