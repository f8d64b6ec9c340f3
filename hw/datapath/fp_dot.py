"""The bf16 MAC of one PE: the dot product of its P products, then the column's partial-sum add."""

from amaranth import Module
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from nmsat.core_params import FP_MUL_STAGES
from nmsat.hw.datapath.fp_mac import FpMac, add_step, delayed, order_fp32


class FpDotAcc(wiring.Component):
    """``acc_out = RNE(acc + dot)`` with ``acc = +0 if first else acc_in`` and
    ``dot = (((+0 + a0*w0) + a1*w1) + ...)`` (`FpMac` from +0, each step rounded to fp32).

    `a`: P bf16 bit patterns given in cycle Y, multiplied with the weight registers (`w`, loaded where
    ``w_load``: `FpMac`); ``acc_in`` and ``first`` are read in cycle Y + `stages`
    into a register (with the dot product beside them), so the partial sum from the PE above crosses to this
    PE register to register and the add's compare starts from this PE's own register; ``acc_out`` follows
    `chain` = ``1 + add_stages`` cycles after the read (every add has `add_stages` registers; `nmsat.sim.fp`,
    `nmsat.sim.golden.golden_gemm_fp_array`).
    The interface of the integer `Mac`, so the PE takes either.
    """

    def __init__(self, mults, add_stages):
        self.mults, self.add_stages = mults, add_stages
        self.stages = FP_MUL_STAGES + mults * add_stages
        self.chain = 1 + add_stages
        super().__init__({
            "a": In(data.ArrayLayout(16, mults)),
            "w": In(data.ArrayLayout(16, mults)),
            "w_load": In(1),
            "acc_in": In(32),
            "first": In(1),
            "acc_out": Out(32),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.dot = dot = FpMac(self.mults, self.add_stages)
        m.d.comb += [dot.a.eq(self.a), dot.w.eq(self.w), dot.w_load.eq(self.w_load), dot.acc_in.eq(0)]
        acc_in, first, dot_op = (delayed(m, v, n) for v, n in ((self.acc_in, "psum_in"), (self.first, "first"),
                                                             (dot.acc_out_op, "dot")))
        out, _ = add_step(m, order_fp32(m, acc_in, dot_op, first, "acc"), self.add_stages, "add")
        m.d.comb += self.acc_out.eq(out)
        return m
