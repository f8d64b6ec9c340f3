"""The m-to-1 activation muxes of one PE: which activation each multiplier sees, per mode.

Mode and indices are fixed for a whole tile, so the choice is made in two parts: `NMPick` turns them into
each multiplier's choice among the elements it can ever read (`candidates`), one-hot, on the weight path when
the PE keeps its weights; `NMMux` is then an AND-OR of the window by those kept choices: each choice bit gates
only its own candidate's bits (16 LUT inputs beside that element), and no select bit fans out over the window.
Neither the mode nor the indices are on the activation path.
"""

from functools import reduce

from amaranth import Module, Mux, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out


def candidates(p, j):
    """The window elements multiplier `j` reads in some mode, ascending: ``j`` (dense) and, per pattern
    ``n:m``, its group ``(j // n) * m + i`` for ``i < m``."""
    elems = {j}
    for pat in p.patterns:
        elems.update((j // pat.n) * pat.m + i for i in range(pat.m))
    return sorted(elems)


def choice_width(p):
    """Bits of a multiplier's one-hot choice among its candidates (0 for a dense-only PE)."""
    most = max(len(candidates(p, j)) for j in range(p.mults))
    return most if most > 1 else 0


class NMPick(wiring.Component):
    """Each multiplier's choice in `candidates`, one-hot (bit i: candidate i): mode 0 (dense) reads element
    ``j``; mode `k` (pattern ``n:m = patterns[k-1]``) reads element ``(j // n) * m + idx[j]``, with the low
    ``log2(m)`` bits of ``idx[j]``. A mode the core does not have reads as dense."""

    def __init__(self, params):
        self.p = params
        super().__init__({
            "mode": In(params.mode_width),
            "idx": In(data.ArrayLayout(unsigned(params.idx_width), params.mults)),
            "choice": Out(data.ArrayLayout(unsigned(choice_width(params)), params.mults)),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.p
        for j in range(p.mults):
            elems = candidates(p, j)
            m.d.comb += self.choice[j].eq(1 << elems.index(j))
            with m.Switch(self.mode):
                for k, pat in enumerate(p.patterns, start=1):
                    with m.Case(k), m.Switch(self.idx[j][:pat.index_bits]):
                        for i in range(pat.m):
                            with m.Case(i):
                                m.d.comb += self.choice[j].eq(1 << elems.index((j // pat.n) * pat.m + i))
        return m


class NMMux(wiring.Component):
    """Multiplier `j` gets the window element its one-hot ``choice[j]`` picks among its `candidates` (no
    ``choice`` port in a dense-only PE: there multiplier `j` gets element `j`)."""

    def __init__(self, params):
        self.p = params
        ports = {"act": In(data.ArrayLayout(signed(params.data_width), params.e_max)),
                 "sel": Out(data.ArrayLayout(signed(params.data_width), params.mults))}
        if choice_width(params):
            ports["choice"] = In(data.ArrayLayout(unsigned(choice_width(params)), params.mults))
        super().__init__(ports)

    def elaborate(self, platform):
        m = Module()
        for j in range(self.p.mults):
            elems = candidates(self.p, j)
            if len(elems) == 1:
                m.d.comb += self.sel[j].eq(self.act[j])
            else:  # AND-OR: each candidate gated by its own choice bit, then an OR tree
                gated = [Mux(self.choice[j][i], self.act[e].as_unsigned(), 0) for i, e in enumerate(elems)]
                m.d.comb += self.sel[j].eq(reduce(lambda x, y: x | y, gated))
        return m
