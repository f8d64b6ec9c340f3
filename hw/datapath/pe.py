"""One weight-stationary processing element: N:M activation muxes and a pipelined MAC; all control is local."""

from amaranth import Cat, Module, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from nmsat.hw.datapath.fp_dot import FpDotAcc
from nmsat.hw.datapath.mac import Mac
from nmsat.hw.datapath.nmmux import NMMux, NMPick, choice_width
from nmsat.hw.layouts import act_layout, keep_loads, weight_word_layout
from nmsat.hw.replicas import load_split, replicate, replicate_each


class PE(wiring.Component):
    """A PE of the R x C array. Nothing is broadcast: weights and activations carry what the PE needs.

    Weights: the word on ``w_in`` moves on to ``w_out`` every cycle with ``hops - 1``; a word arriving with its
    ``keep`` bits set (it is valid with ``hops == 0``: the sender decides it a cycle ahead) is kept a cycle
    later, from its registered copy (its values in the MAC's weight registers, ``top``, and its mode and
    indices as `NMPick`'s one-hot choices).
    Activations: ``act_in`` is registered as it enters (X+1), and that register is ``act_out``. A window on
    ``act_in`` in cycle X is selected from the register by the kept choices (registered, X+2), enters the
    MAC's operand registers (X+3: a DSP's own on the ECP5, so the N:M mux ends at a register placed freely) and
    goes through the MAC (`Mac`: products X+4, their sum X+5; `FpDotAcc` for bf16), which in cycle
    X + `front` reads ``psum_in`` and puts ``dot + (0 if top else psum_in)`` on ``psum_out`` `chain` cycles
    later. The PE below reads that partial sum `chain` cycles after this one did, so its window arrives `chain`
    cycles later: rows are skewed by `chain` cycles (1 for integers) and the PE adds `front` cycles of latency
    once (`nmsat.core_params.ws_pipeline`).
    """

    def __init__(self, params):
        self.p = params
        self.front, self.chain = params.pipeline[:2]
        super().__init__({
            "act_in": In(act_layout(params)),
            "w_in": In(weight_word_layout(params)),
            "psum_in": In(signed(params.acc_width)),
            "act_out": Out(act_layout(params)),
            "w_out": Out(weight_word_layout(params)),
            "psum_out": Out(signed(params.acc_width)),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.p
        m.submodules.mux = mux = NMMux(p)
        if p.arith == "bf16":
            mac = FpDotAcc(p.mults, p.fp_add_stages)
        else:
            mac = Mac(p.mults, p.data_width, p.acc_width)
        assert (2 + mac.stages, mac.chain) == (self.front, self.chain), "the MAC's timing is not ws_pipeline's"
        m.submodules.mac = mac
        w_next = Signal.like(self.w_in, reset_less=True)
        valid = Signal()
        act = Signal.like(self.act_in, reset_less=True)
        sel = Signal.like(mux.sel, reset_less=True)
        m.d.sync += [w_next.eq(self.w_in), w_next.hops.eq(self.w_in.hops - 1), valid.eq(self.w_in.valid),
                     act.eq(self.act_in), sel.eq(mux.sel)]
        # The word is kept from its registered copy (w_next), a cycle after it arrives, as the selected operands
        # are registered (sel) before the MAC's own operand registers: the two paths are one cycle longer alike.
        keep = replicate_each(m, "keep_q", list(self.w_in.keep))  # the first loads the MAC's weights
        top = Signal(reset_less=True)
        kept = [(top, w_next.top)]
        if choice_width(p):  # the kept word's mode and indices, as each multiplier's one-hot choice
            m.submodules.pick = pick = NMPick(p)
            choice = Signal.like(pick.choice, reset_less=True)
            m.d.comb += [pick.mode.eq(w_next.mode), pick.idx.eq(w_next.w.idx), mux.choice.eq(choice)]
            kept.append((choice, pick.choice))
        load_split(m, keep[1:] or keep, kept)
        # Whether the PE below keeps the word this one sends: it arrives there with hops == 0.
        keep_below = replicate(m, "keep_below", self.w_in.valid & (self.w_in.hops == 1), keep_loads(p))
        m.d.comb += [
            self.w_out.eq(w_next), self.w_out.valid.eq(valid), self.w_out.keep.eq(Cat(*keep_below)),
            self.act_out.eq(act),
            mux.act.eq(act),
            mac.a.eq(sel), mac.w.eq(w_next.w.val), mac.w_load.eq(keep[0]),
            mac.first.eq(top), mac.acc_in.eq(self.psum_in),
            self.psum_out.eq(mac.acc_out),
        ]
        return m
