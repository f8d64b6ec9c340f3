"""`Multiplier` against its contract (``p`` in cycle Y+2 = ``a`` of cycle Y times B, which loads ``b`` where
``b_load``), in Amaranth's simulator and, as the ECP5 flows build it (a MULT18X18D with its registers, on the
behavioural model `hw/tb/mult18x18d.v`), on Icarus and Verilator."""

import gc
import warnings
from importlib import resources

import numpy as np
import pytest
from amaranth.sim import Simulator

from nmsat.hw.datapath.multiplier import ECP5_DSP, Multiplier
from nmsat.hw.flow.cocotb_sim import run_cocotb
from nmsat.hw.flow.verilog import to_verilog

SHAPES = [(8, 8, False), (8, 8, True), (16, 16, True), (18, 18, True)]


def _vectors(a_width, b_width, signed, cycles, seed):
    """Per cycle a, b and b_load: random operands (extremes first), B loading in about half the cycles."""
    rng = np.random.default_rng(seed)

    def draw(width):
        lo, hi = (-(1 << (width - 1)), 1 << (width - 1)) if signed else (0, 1 << width)
        return np.concatenate([[lo, hi - 1, lo, hi - 1], rng.integers(lo, hi, cycles - 4)])

    load = rng.random(cycles) < 0.5
    load[0] = True
    return draw(a_width), draw(b_width), load


def _expected(a, b, load):
    """The product read in each cycle from 2 on: a of two cycles before times the B then held."""
    held = b[np.maximum.accumulate(np.where(load, np.arange(len(b)), 0))]
    return [int(x) * int(y) for x, y in zip(a[:-2], held[:-2], strict=True)]


@pytest.mark.parametrize(("a_width", "b_width", "signed"), SHAPES)
def test_multiplier_registers_and_multiplies(a_width, b_width, signed):
    a, b, load = _vectors(a_width, b_width, signed, 60, seed=a_width + signed)
    dut = Multiplier(a_width, b_width, signed)
    got = []

    async def bench(ctx):
        for y in range(len(a)):
            ctx.set(dut.a, int(a[y]))
            ctx.set(dut.b, int(b[y]))
            ctx.set(dut.b_load, bool(load[y]))
            got.append(ctx.get(dut.p))
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert got[2:] == _expected(a, b, load)


def test_multiplier_rejects_operands_wider_than_the_dsp():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the half-built component is never elaborated
        with pytest.raises(ValueError, match="19 x 8-bit"):
            Multiplier(19, 8, True)
        gc.collect()


@pytest.mark.parametrize("simulator", ["icarus", "verilator"])
@pytest.mark.parametrize(("a_width", "b_width", "signed"), SHAPES[1:3] + SHAPES[:1])
def test_ecp5_dsp_multiplier_cocotb(simulator, a_width, b_width, signed, hw_build_root):
    a, b, load = _vectors(a_width, b_width, signed, 200, seed=7 + a_width)
    verilog = to_verilog(Multiplier(a_width, b_width, signed), "mult", platform=ECP5_DSP)
    assert "MULT18X18D" in verilog
    model = resources.files("nmsat.hw.tb").joinpath("mult18x18d.v").read_text()
    params = {"a": [int(x) & ((1 << a_width) - 1) for x in a], "b": [int(x) & ((1 << b_width) - 1) for x in b],
              "load": [int(x) for x in load]}
    run = run_cocotb(verilog + model, "mult", "nmsat.hw.tb.tb_multiplier", simulator, params, hw_build_root)
    width = a_width + b_width
    got = [p - (1 << width) if signed and p >> (width - 1) else p for p in run.outputs["p"]]
    assert got[2:] == _expected(a, b, load)
