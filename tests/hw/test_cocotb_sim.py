"""The cocotb runner helper: builds, passes parameters and outputs, caches builds, reports failures."""

import re

import pytest
from amaranth import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from nmsat.hw.flow.cocotb_sim import CocotbFailure, run_cocotb
from nmsat.hw.flow.verilog import to_verilog


class _Acc(wiring.Component):
    a: In(8)
    q: Out(16)

    def elaborate(self, platform):
        m = Module()
        m.d.sync += self.q.eq(self.q + self.a)
        return m


class _Decode(wiring.Component):
    """`hit` is logic of a register that no clock edge has changed yet: X in Icarus unless kicked at time 0."""
    hit: Out(1)

    def elaborate(self, platform):
        m = Module()
        r = Signal(4, init=5)
        m.d.sync += r.eq(r + 1)
        with m.If(r == 5):
            m.d.comb += self.hit.eq(1)
        return m


def test_every_always_block_is_kicked_at_time_zero():
    text = to_verilog(_Acc(), "acc")
    blocks, dummies = text.count("always @*"), re.findall(r"initial #0 (\\\S+) = 1'h1;", text)
    assert blocks and "always_comb" not in text and "module acc" in text
    assert len(dummies) == 1 and text.count(f"if ({dummies[0]} ) begin end") == blocks


@pytest.mark.parametrize("simulator", ["icarus", "verilator"])
def test_logic_of_initial_values_is_defined_at_time_zero(simulator, hw_build_root):
    run = run_cocotb(_Decode(), "decode", "tb_time_zero", simulator, {}, hw_build_root)
    assert run.outputs == {"hit": "1"}


@pytest.mark.parametrize("simulator", ["icarus", "verilator"])
def test_run_passes_params_and_outputs(simulator, hw_build_root):
    params = {"a": 3, "cycles": 5, "expect": 15}
    run = run_cocotb(_Acc(), "acc", "tb_counter", simulator, params, hw_build_root)
    assert run.outputs == {"q": 15}
    assert [t["passed"] for t in run.tests] == [True]
    builds = sorted(hw_build_root.glob(f"{simulator}-acc-*"))
    run_cocotb(_Acc(), "acc", "tb_counter", simulator, {"a": 1, "cycles": 4, "expect": 4}, hw_build_root)
    assert sorted(hw_build_root.glob(f"{simulator}-acc-*")) == builds  # same Verilog: build reused


def test_failure_raises_with_message(hw_build_root):
    with pytest.raises(CocotbFailure, match=r"1 of 1 cocotb tests failed: counts: q = 15, expected 16"):
        run_cocotb(_Acc(), "acc", "tb_counter", "icarus", {"a": 3, "cycles": 5, "expect": 16}, hw_build_root)
