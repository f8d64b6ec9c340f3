"""The m-to-1 activation muxes of one PE: which activation each multiplier sees, per mode."""

from amaranth import Array, Module, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out


def position_width(p):
    """Bits of a position in the `e_max`-element activation window."""
    return max(1, (p.e_max - 1).bit_length())


def mux_positions(m, p, mode, idx):
    """The window position each multiplier selects, from the tile's `mode` and the PE's in-group indices `idx`:
    dense (mode 0, and unknown modes): ``j``; pattern ``n:m`` (mode k): ``(j // n) * m + idx[j]`` using the low
    ``log2(m)`` bits of ``idx[j]``. The PE computes this once, when it keeps its weight word."""
    pos = Signal(data.ArrayLayout(unsigned(position_width(p)), p.mults))
    m.d.comb += [pos[j].eq(j) for j in range(p.mults)]
    with m.Switch(mode):
        for k, pat in enumerate(p.patterns, start=1):
            with m.Case(k):
                bits = pat.index_bits
                m.d.comb += [pos[j].eq((j // pat.n) * pat.m + idx[j][:bits]) for j in range(p.mults)]
    return pos


class NMMux(wiring.Component):
    """Select `P` operands from an `e_max`-element activation window: multiplier `j` gets ``act[pos[j]]``
    (`mux_positions` gives ``pos`` per mode). One `e_max`-to-1 mux per multiplier, its select a register of the
    PE, so the mode does not sit on the data path."""

    def __init__(self, params):
        self.p = params
        super().__init__({
            "act": In(data.ArrayLayout(signed(params.data_width), params.e_max)),
            "pos": In(data.ArrayLayout(unsigned(position_width(params)), params.mults)),
            "sel": Out(data.ArrayLayout(signed(params.data_width), params.mults)),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.p
        window = Array(self.act[i] for i in range(p.e_max))
        m.d.comb += [self.sel[j].eq(window[self.pos[j]]) for j in range(p.mults)]
        return m
