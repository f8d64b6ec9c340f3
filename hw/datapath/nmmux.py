"""The m-to-1 activation muxes of one PE: which activation each multiplier sees, per mode."""

from amaranth import Array, Module, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out


class NMMux(wiring.Component):
    """Select `P` operands from an `e_max`-element activation window.

    Mode 0 (dense): multiplier `j` gets ``act[j]``. Mode `k` (pattern ``n:m = patterns[k-1]``):
    multiplier `j` gets ``act[(j // n) * m + idx[j]]`` using the low ``log2(m)`` bits of ``idx[j]``.
    Unknown modes give 0.
    """

    def __init__(self, params):
        self.p = params
        super().__init__({
            "mode": In(params.mode_width),
            "act": In(data.ArrayLayout(signed(params.data_width), params.e_max)),
            "idx": In(data.ArrayLayout(unsigned(params.idx_width), params.mults)),
            "sel": Out(data.ArrayLayout(signed(params.data_width), params.mults)),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.p
        with m.Switch(self.mode):
            with m.Case(0):
                m.d.comb += [self.sel[j].eq(self.act[j]) for j in range(p.mults)]
            for k, pat in enumerate(p.patterns, start=1):
                with m.Case(k):
                    bits = pat.index_bits
                    for j in range(p.mults):
                        group = Array(self.act[(j // pat.n) * pat.m + i] for i in range(pat.m))
                        m.d.comb += self.sel[j].eq(group[self.idx[j][:bits]])
        return m
