"""The multiply-accumulate of one PE: the one place arithmetic happens, so a float MAC can swap in."""

from amaranth import Module, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out


class Mac(wiring.Component):
    """``acc_out = acc_in + sum_j a[j] * w[j]``, signed, wrapped to `acc_width` bits (combinational).

    A floating-point MAC (bf16 x fp32) keeps this signature with other element shapes.
    """

    def __init__(self, mults, data_width, acc_width):
        self.mults = mults
        super().__init__({
            "a": In(data.ArrayLayout(signed(data_width), mults)),
            "w": In(data.ArrayLayout(signed(data_width), mults)),
            "acc_in": In(signed(acc_width)),
            "acc_out": Out(signed(acc_width)),
        })

    def elaborate(self, platform):
        m = Module()
        total = self.acc_in
        for j in range(self.mults):
            total = total + self.a[j] * self.w[j]
        m.d.comb += self.acc_out.eq(total)  # truncation to acc_width is the two's-complement wrap
        return m
