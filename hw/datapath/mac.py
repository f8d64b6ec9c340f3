"""The pipelined multiply-accumulate of one PE: the one place arithmetic happens."""

from amaranth import Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from nmsat.hw.datapath.multiplier import Multiplier


class Mac(wiring.Component):
    """Signed integer MAC: operand, weight and product registers in `Multiplier` blocks (DSPs), then the sum's
    and the accumulator's.

    ``a`` given in cycle Y is registered (Y+1, the multipliers' A registers) and multiplied with the weight
    registers (loaded from ``w`` in the cycles ``w_load`` is high; registered, Y+2), and the products are summed
    (registered, Y+3); in cycle Y+3, with ``acc_in`` and ``first`` of that cycle,
    ``acc_out <= dot + (0 if first else acc_in)``, wrapped to `acc_width` bits. One MAC per cycle; all registers
    are reset-less datapath.
    """

    def __init__(self, mults, data_width, acc_width):
        self.mults, self.data_width = mults, data_width
        self.stages = 3  # cycles from a to the cycle that reads acc_in
        self.chain = 1  # cycles from acc_in to acc_out
        super().__init__({
            "a": In(data.ArrayLayout(signed(data_width), mults)),
            "w": In(data.ArrayLayout(signed(data_width), mults)),
            "w_load": In(1),
            "acc_in": In(signed(acc_width)),
            "first": In(1),
            "acc_out": Out(signed(acc_width)),
        })

    def elaborate(self, platform):
        m = Module()
        d = self.data_width
        prods = []
        for j in range(self.mults):
            m.submodules[f"mul{j}"] = mul = Multiplier(d, d, signed_operands=True)
            m.d.comb += [mul.a.eq(self.a[j]), mul.b.eq(self.w[j]), mul.b_load.eq(self.w_load)]
            prods.append(mul.p)
        dot = Signal(signed(2 * d + self.mults.bit_length()), reset_less=True)
        acc = Signal.like(self.acc_out, reset_less=True)
        m.d.sync += [
            dot.eq(sum(prods)),
            acc.eq(dot + Mux(self.first, 0, self.acc_in)),  # truncation to acc_width is the two's-complement wrap
        ]
        m.d.comb += self.acc_out.eq(acc)
        return m
