"""The R x C systolic array with its input skew and output de-skew registers, WS or OS at run time."""

from amaranth import Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from nmsat.hw.datapath.pe import PE
from nmsat.hw.datapath.skew import Skew
from nmsat.hw.layouts import (
    act_layout,
    act_row_layout,
    control_layout,
    out_row_layout,
    out_slot_layout,
    weight_layout,
    weight_row_layout,
)


class SystolicArray(wiring.Component):
    """Activations enter row r skewed by r cycles; weights enter column c from the top.

    ``w_top`` goes straight into the columns in WS (preload, no skew) and skewed by c cycles in OS.
    WS runs in G = 2**groups row groups of h = R/G rows: the partial sums restart from zero at each group's
    top row, and ``out`` slot g < G is group g's bottom row de-skewed (column c delayed ``C-1-c``).
    OS: ``out`` slot 0 is the bottom row as is. Other slots are don't-care.
    """

    def __init__(self, params):
        self.p = params
        self.pes = [[PE(params) for _ in range(params.cols)] for _ in range(params.rows)]  # pes[r][c]
        super().__init__({
            "ctrl": In(control_layout(params)),
            "groups": In(unsigned(params.group_width)),
            "act": In(act_row_layout(params)),
            "w_top": In(weight_row_layout(params)),
            "out": Out(out_row_layout(params)),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.p
        m.submodules.act_skew = act_skew = Skew(act_layout(p), p.rows)
        m.submodules.w_skew = w_skew = Skew(weight_layout(p), p.cols)
        m.d.comb += [act_skew.i.eq(self.act), w_skew.i.eq(self.w_top)]
        pes = self.pes
        for r in range(p.rows):
            for c in range(p.cols):
                pe = pes[r][c]
                m.submodules[f"pe_{r}_{c}"] = pe
                m.d.comb += pe.ctrl.eq(self.ctrl)
                m.d.comb += pe.act_in.eq(act_skew.o[r] if c == 0 else pes[r][c - 1].act_out)
                if r == 0:
                    m.d.comb += pe.w_in.eq(w_skew.o[c])
                    with m.If(self.ctrl.ws):
                        m.d.comb += pe.w_in.eq(self.w_top[c])
                else:
                    cut = self.ctrl.ws & _any(self.groups == lg for lg, h in p.group_levels if r % h == 0)
                    m.d.comb += [pe.w_in.eq(pes[r - 1][c].w_out),
                                 pe.psum_in.eq(Mux(cut, 0, pes[r - 1][c].psum_out))]
        for g in range(p.max_groups):
            bottom = Signal(out_slot_layout(p), name=f"bottom{g}")  # group g's bottom row
            for lg, h in p.group_levels:
                if g < 1 << lg:
                    with m.If(self.groups == lg):
                        m.d.comb += bottom.eq(Cat(pes[(g + 1) * h - 1][c].psum_out for c in range(p.cols)))
            m.submodules[f"deskew{g}"] = deskew = Skew(signed(p.acc_width), p.cols, reverse=True)
            m.d.comb += [deskew.i.eq(bottom), self.out[g].eq(Mux(self.ctrl.ws, deskew.o, bottom))]
        return m


def _any(terms):
    """OR of boolean `terms` (0 when there are none)."""
    return Cat(*terms).any()
