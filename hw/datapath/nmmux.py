"""The m-to-1 activation muxes of one PE: which activation each multiplier sees, per mode.

Mode and indices are fixed for a whole tile, so the choice is made in two parts: `NMPick` turns them into
each multiplier's position among the elements it can ever read (`candidates`), on the weight path when the PE
keeps its weights; `NMMux` is then a plain multiplexer of the window by those kept positions. Neither the
mode nor the indices are on the activation path.
"""

from amaranth import Cat, Module, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out


def candidates(p, j):
    """The window elements multiplier `j` reads in some mode, ascending: ``j`` (dense) and, per pattern
    ``n:m``, its group ``(j // n) * m + i`` for ``i < m``."""
    elems = {j}
    for pat in p.patterns:
        elems.update((j // pat.n) * pat.m + i for i in range(pat.m))
    return sorted(elems)


def pos_width(p):
    """Bits of a multiplier's position among its candidates (0 for a dense-only PE)."""
    return max(len(candidates(p, j)) - 1 for j in range(p.mults)).bit_length()


class NMPick(wiring.Component):
    """Each multiplier's position in `candidates`: mode 0 (dense) reads element ``j``; mode `k` (pattern
    ``n:m = patterns[k-1]``) reads element ``(j // n) * m + idx[j]``, with the low ``log2(m)`` bits of
    ``idx[j]``. A mode the core does not have reads as dense."""

    def __init__(self, params):
        self.p = params
        super().__init__({
            "mode": In(params.mode_width),
            "idx": In(data.ArrayLayout(unsigned(params.idx_width), params.mults)),
            "pos": Out(data.ArrayLayout(unsigned(pos_width(params)), params.mults)),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.p
        for j in range(p.mults):
            elems = candidates(p, j)
            m.d.comb += self.pos[j].eq(elems.index(j))
            with m.Switch(self.mode):
                for k, pat in enumerate(p.patterns, start=1):
                    with m.Case(k), m.Switch(self.idx[j][:pat.index_bits]):
                        for i in range(pat.m):
                            with m.Case(i):
                                m.d.comb += self.pos[j].eq(elems.index((j // pat.n) * pat.m + i))
        return m


class NMMux(wiring.Component):
    """Multiplier `j` gets the window element at position ``pos[j]`` of its `candidates` (no ``pos`` port in a
    dense-only PE: there multiplier `j` gets element `j`)."""

    def __init__(self, params):
        self.p = params
        ports = {"act": In(data.ArrayLayout(signed(params.data_width), params.e_max)),
                 "sel": Out(data.ArrayLayout(signed(params.data_width), params.mults))}
        if pos_width(params):
            ports["pos"] = In(data.ArrayLayout(unsigned(pos_width(params)), params.mults))
        super().__init__(ports)

    def elaborate(self, platform):
        m = Module()
        for j in range(self.p.mults):
            elems = candidates(self.p, j)
            if len(elems) == 1:
                m.d.comb += self.sel[j].eq(self.act[j])
            else:  # a shift of the candidates, not a case per position: a balanced tree of 2:1 muxes
                window = Cat(*(self.act[e] for e in elems))
                m.d.comb += self.sel[j].eq(window.word_select(self.pos[j], self.p.data_width))
        return m
