"""The activation muxes of one PE: which activation of the window each multiplier sees, per mode."""

from amaranth import Array, Module, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out


def reachable(p, j):
    """Window positions multiplier `j` can select in some mode, ascending: ``j`` (dense) and, per pattern
    ``n:m``, its group ``(j // n) * m .. (j // n) * m + m - 1`` (contiguous in this list too)."""
    return sorted({j, *(j // pat.n * pat.m + i for pat in p.patterns for i in range(pat.m))})


def choice_width(p):
    """Bits of a multiplier's choice among its `reachable` positions."""
    return max(1, (max(len(reachable(p, j)) for j in range(p.mults)) - 1).bit_length())


def mux_positions(m, p, mode, idx):
    """Each multiplier's choice (an index into its `reachable` list) from the tile's `mode` and the PE's
    in-group indices `idx`: dense (mode 0, and unknown modes) selects position ``j``; pattern ``n:m`` (mode k)
    selects ``(j // n) * m + idx[j]`` using the low ``log2(m)`` bits of ``idx[j]``. The PE computes this once,
    when it keeps its weight word."""
    choice = Signal(data.ArrayLayout(unsigned(choice_width(p)), p.mults))
    m.d.comb += [choice[j].eq(reachable(p, j).index(j)) for j in range(p.mults)]
    with m.Switch(mode):
        for k, pat in enumerate(p.patterns, start=1):
            with m.Case(k):
                for j in range(p.mults):
                    first = reachable(p, j).index(j // pat.n * pat.m)
                    m.d.comb += choice[j].eq(first + idx[j][:pat.index_bits])
    return choice


class NMMux(wiring.Component):
    """Select `P` operands from an `e_max`-element activation window: multiplier `j` gets
    ``act[reachable(j)[choice[j]]]`` (`mux_positions` gives ``choice`` per mode). One mux per multiplier over
    only the positions it can reach, its select a register of the PE, so the mode is not on the data path."""

    def __init__(self, params):
        self.p = params
        super().__init__({
            "act": In(data.ArrayLayout(signed(params.data_width), params.e_max)),
            "choice": In(data.ArrayLayout(unsigned(choice_width(params)), params.mults)),
            "sel": Out(data.ArrayLayout(signed(params.data_width), params.mults)),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.p
        for j in range(p.mults):
            options = Array(self.act[q] for q in reachable(p, j))
            m.d.comb += self.sel[j].eq(options[self.choice[j]])
        return m
