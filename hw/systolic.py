"""The R x C systolic array with its input skew and output de-skew registers, WS or OS at run time."""

from amaranth import Module, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from nmsat.hw.layouts import (
    act_layout,
    act_row_layout,
    control_layout,
    out_row_layout,
    weight_layout,
    weight_row_layout,
)
from nmsat.hw.pe import PE
from nmsat.hw.skew import Skew


class SystolicArray(wiring.Component):
    """Activations enter row r skewed by r cycles; weights enter column c from the top.

    ``w_top`` goes straight into the columns in WS (preload, no skew) and skewed by c cycles in OS.
    ``out`` is the bottom row's accumulators: de-skewed (column c delayed ``C-1-c``) in WS, as is in OS.
    """

    def __init__(self, params):
        self.p = params
        self.pes = [[PE(params) for _ in range(params.cols)] for _ in range(params.rows)]  # pes[r][c]
        super().__init__({
            "ctrl": In(control_layout(params)),
            "act": In(act_row_layout(params)),
            "w_top": In(weight_row_layout(params)),
            "out": Out(out_row_layout(params)),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.p
        m.submodules.act_skew = act_skew = Skew(act_layout(p), p.rows)
        m.submodules.w_skew = w_skew = Skew(weight_layout(p), p.cols)
        m.submodules.deskew = deskew = Skew(signed(p.acc_width), p.cols, reverse=True)
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
                    m.d.comb += [pe.w_in.eq(pes[r - 1][c].w_out), pe.psum_in.eq(pes[r - 1][c].psum_out)]
        for c in range(p.cols):
            m.d.comb += deskew.i[c].eq(pes[p.rows - 1][c].psum_out)
            m.d.comb += self.out[c].eq(pes[p.rows - 1][c].psum_out)
            with m.If(self.ctrl.ws):
                m.d.comb += self.out[c].eq(deskew.o[c])
        return m
