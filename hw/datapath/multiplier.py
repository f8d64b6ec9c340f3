"""One multiplier with its operand and product registers: the shape of an FPGA DSP block, so one can be used.

Elaborated for the ECP5 synthesis flows (`ECP5_DSP` as the Amaranth platform) it is a MULT18X18D with its
input and output registers on; otherwise the same registers in the fabric (what simulation, Verilog for other
tools and the cocotb tests see). Yosys's ECP5 mapping packs no fabric register into the DSP, so without the
instance the multiplier is a combinational 3.9 ns between two fabric registers on every PE's path
(`benchmarks/bench_dsp_registers.py`).
"""

from amaranth import ClockSignal, Const, Instance, Module, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

DSP_WIDTH = 18  # MULT18X18D's operand width


class Ecp5Dsp:
    """The platform the ECP5 flows elaborate with: `Multiplier` becomes a MULT18X18D with its registers."""

    ecp5_dsp = True


ECP5_DSP = Ecp5Dsp()


class Multiplier(wiring.Component):
    """``p = A * B``: register A loads ``a`` every cycle, register B loads ``b`` in the cycles ``b_load`` is high,
    and the product register loads ``A * B`` every cycle, so ``p`` in cycle Y+2 is ``a`` of cycle Y times B of
    cycle Y+1. Exact: `p` is ``a_width + b_width`` bits. Registers have no reset."""

    def __init__(self, a_width, b_width, signed_operands):
        if max(a_width, b_width) > DSP_WIDTH:
            raise ValueError(f"a {a_width} x {b_width}-bit product: operands are at most {DSP_WIDTH} bits")
        self.signed = signed_operands
        shape = signed if signed_operands else unsigned
        super().__init__({"a": In(shape(a_width)), "b": In(shape(b_width)), "b_load": In(1),
                          "p": Out(shape(a_width + b_width))})

    def elaborate(self, platform):
        m = Module()
        if getattr(platform, "ecp5_dsp", False):
            self._mult18x18d(m)
            return m
        a, b = Signal.like(self.a, reset_less=True), Signal.like(self.b, reset_less=True)
        p = Signal.like(self.p, reset_less=True)
        m.d.sync += [a.eq(self.a), p.eq(a * b)]
        with m.If(self.b_load):
            m.d.sync += b.eq(self.b)
        m.d.comb += self.p.eq(p)
        return m

    def _mult18x18d(self, m):
        """The MULT18X18D: A and output registers on CE0 (tied high), B's register on CE1 (``b_load``)."""
        a, b, p = Signal(DSP_WIDTH), Signal(DSP_WIDTH), Signal(2 * DSP_WIDTH)
        m.d.comb += [a.eq(self.a), b.eq(self.b), self.p.eq(p)]  # sign- or zero-extended as the operands are
        ports = {f"i_A{i}": a[i] for i in range(DSP_WIDTH)}
        ports.update({f"i_B{i}": b[i] for i in range(DSP_WIDTH)})
        ports.update({f"i_C{i}": Const(0) for i in range(DSP_WIDTH)})
        ports.update({f"o_P{i}": p[i] for i in range(2 * DSP_WIDTH)})
        sign = Const(int(self.signed))
        m.submodules.dsp = Instance(
            "MULT18X18D", p_REG_INPUTA_CLK="CLK0", p_REG_INPUTA_CE="CE0", p_REG_INPUTB_CLK="CLK0",
            p_REG_INPUTB_CE="CE1", p_REG_OUTPUT_CLK="CLK0", p_REG_OUTPUT_CE="CE0", p_REG_PIPELINE_CLK="NONE",
            p_REG_INPUTC_CLK="NONE", p_GSR="DISABLED", p_RESETMODE="SYNC", i_CLK0=ClockSignal(),
            i_CE0=Const(1), i_CE1=self.b_load, i_RST0=Const(0), i_SIGNEDA=sign, i_SIGNEDB=sign,
            i_SOURCEA=Const(0), i_SOURCEB=Const(0), **ports)
