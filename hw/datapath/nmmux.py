"""The m-to-1 activation muxes of one PE: which activation each multiplier sees, per mode."""

from amaranth import Array, Module, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out


class NMMux(wiring.Component):
    """Select `P` operands from an `e_max`-element activation window.

    Mode 0 (dense): multiplier `j` gets ``act[j]``. Mode `k` (pattern ``n:m = patterns[k-1]``):
    multiplier `j` gets ``act[(j // n) * m + idx[j]]`` using the low ``log2(m)`` bits of ``idx[j]``.
    Unknown modes give 0.

    ``mode`` and ``idx`` come in `slices` equal copies (`select_slices`): copy `s` steers bits
    ``[s*D/slices, (s+1)*D/slices)`` of every operand, so no select net drives all of them (the mux is
    routing-bound: one copy per slice cuts each select's fanout by `slices`).
    """

    def __init__(self, params):
        self.p = params
        self.slices = select_slices(params)
        super().__init__({
            "mode": In(data.ArrayLayout(params.mode_width, self.slices)),
            "act": In(data.ArrayLayout(signed(params.data_width), params.e_max)),
            "idx": In(data.ArrayLayout(data.ArrayLayout(unsigned(params.idx_width), params.mults), self.slices)),
            "sel": Out(data.ArrayLayout(signed(params.data_width), params.mults)),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.p
        width = p.data_width // self.slices
        for s in range(self.slices):
            bits = slice(s * width, (s + 1) * width)
            idx = self.idx[s]
            with m.Switch(self.mode[s]):
                with m.Case(0):
                    m.d.comb += [self.sel[j][bits].eq(self.act[j][bits])
                                 for j in range(p.mults)]
                for k, pat in enumerate(p.patterns, start=1):
                    with m.Case(k):
                        for j in range(p.mults):
                            group = Array(self.act[(j // pat.n) * pat.m + i][bits] for i in range(pat.m))
                            m.d.comb += self.sel[j][bits].eq(group[idx[j][:pat.index_bits]])
        return m


def select_slices(params):
    """Copies of the mux's selects: one per 4 operand bits when the PE has patterns, else 1."""
    return max(1, params.data_width // 4) if params.patterns else 1
