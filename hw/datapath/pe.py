"""One processing element: N:M activation muxes, a MAC, and the pass-through registers of the array."""

from amaranth import Module, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from nmsat.hw.datapath.mac import Mac
from nmsat.hw.datapath.nmmux import NMMux
from nmsat.hw.layouts import act_layout, control_layout, weight_layout


class PE(wiring.Component):
    """A PE of the R x C array, for both dataflows.

    Registers: ``act_out`` (activation, passed right), ``w_out`` (weights, passed down when ``w_shift``)
    and ``psum_out`` (the accumulator). Each cycle, with ``w = w_out if ws else w_in`` and
    ``dot = sum_j mux(act_in, w.idx, mode)[j] * w.val[j]``:
    ``clear``: acc <= 0; ``drain``: acc <= psum_in (OS results shift down);
    WS: acc <= psum_in + dot; OS: acc <= acc + dot.
    """

    def __init__(self, params):
        self.p = params
        super().__init__({
            "ctrl": In(control_layout(params)),
            "act_in": In(act_layout(params)),
            "w_in": In(weight_layout(params)),
            "psum_in": In(signed(params.acc_width)),
            "act_out": Out(act_layout(params)),
            "w_out": Out(weight_layout(params)),
            "psum_out": Out(signed(params.acc_width)),
        })

    def elaborate(self, platform):
        m = Module()
        p, ctrl = self.p, self.ctrl
        m.submodules.mux = mux = NMMux(p)
        m.submodules.mac = mac = Mac(p.mults, p.data_width, p.acc_width)
        w = Signal(weight_layout(p))
        m.d.comb += [
            mux.mode.eq(ctrl.mode), mux.act.eq(self.act_in), mux.idx.eq(w.idx),
            mac.a.eq(mux.sel), mac.w.eq(w.val),
        ]
        with m.If(ctrl.ws):
            m.d.comb += [w.eq(self.w_out), mac.acc_in.eq(self.psum_in)]
        with m.Else():
            m.d.comb += [w.eq(self.w_in), mac.acc_in.eq(self.psum_out)]
        m.d.sync += self.act_out.eq(self.act_in)
        with m.If(ctrl.w_shift):
            m.d.sync += self.w_out.eq(self.w_in)
        with m.If(ctrl.clear):
            m.d.sync += self.psum_out.eq(0)
        with m.Elif(ctrl.drain):
            m.d.sync += self.psum_out.eq(self.psum_in)
        with m.Else():
            m.d.sync += self.psum_out.eq(mac.acc_out)
        return m
