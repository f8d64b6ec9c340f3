"""The R x C weight-stationary systolic array with its input skew and output de-skew registers."""

from amaranth import Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from nmsat.hw.datapath.pe import PE
from nmsat.hw.datapath.skew import Skew
from nmsat.hw.layouts import act_layout, act_row_layout, out_row_layout, out_slot_layout, weight_row_layout
from nmsat.hw.replicas import replicate, share


class SystolicArray(wiring.Component):
    """Activations enter row r skewed by ``r * chain`` cycles (the PE's partial-sum latency, 1 for integers);
    weight words enter column c from the top (``w_top[c]``).

    A weight word with ``hops = r`` is kept by row r (see `PE`); the tile engine sends one per row. WS runs
    in G = 2**``groups`` row groups of h = R/G rows: a PE whose word has ``top`` set starts its partial sum
    from zero, and ``out`` slot g < G is group g's bottom row, registered once and de-skewed (column c delayed
    ``1 + C-1-c`` cycles in all). Other slots are don't-care. ``groups`` only chooses which rows feed the slots
    (through a register: it must be set a cycle before the first output it chooses).
    """

    def __init__(self, params):
        self.p = params
        self.pes = [[PE(params) for _ in range(params.cols)] for _ in range(params.rows)]  # pes[r][c]
        super().__init__({
            "groups": In(unsigned(params.group_width)),
            "act": In(act_row_layout(params)),
            "w_top": In(weight_row_layout(params)),
            "out": Out(out_row_layout(params)),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.p
        m.submodules.act_skew = act_skew = Skew(act_layout(p), p.rows, step=self.pes[0][0].chain)
        m.d.comb += act_skew.i.eq(self.act)
        pes = self.pes
        for r in range(p.rows):
            for c in range(p.cols):
                pe = pes[r][c]
                m.submodules[f"pe_{r}_{c}"] = pe
                m.d.comb += pe.act_in.eq(act_skew.o[r] if c == 0 else pes[r][c - 1].act_out)
                m.d.comb += pe.w_in.eq(self.w_top[c] if r == 0 else pes[r - 1][c].w_out)
                if r:
                    m.d.comb += pe.psum_in.eq(pes[r - 1][c].psum_out)
        # Which row is slot g's bottom: the deepest row-group level that has slot g unless a one-hot register
        # (per slot and shallower level, replicated per `LOADS_PER_COPY` bits: `nmsat.hw.replicas`; ``groups``
        # is held for a whole tile) picks another; the chosen partial sums are registered before the de-skew.
        for g in range(p.max_groups):
            levels = [(lg, h) for lg, h in p.group_levels if g < 1 << lg]
            picks = {lg: replicate(m, f"slot{g}_pick{lg}", self.groups == lg, p.cols * p.acc_width)
                     for lg, _ in levels[:-1]}
            bottom = Signal(out_slot_layout(p), name=f"bottom{g}", reset_less=True)
            for c in range(p.cols):
                chosen = pes[(g + 1) * levels[-1][1] - 1][c].psum_out
                for lg, h in levels[:-1]:
                    chosen = Mux(share(picks[lg], c, p.cols), pes[(g + 1) * h - 1][c].psum_out, chosen)
                m.d.sync += bottom[c].eq(chosen)
            m.submodules[f"deskew{g}"] = deskew = Skew(signed(p.acc_width), p.cols, reverse=True)
            m.d.comb += [deskew.i.eq(bottom), self.out[g].eq(deskew.o)]
        return m
