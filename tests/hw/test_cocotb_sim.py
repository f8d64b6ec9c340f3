"""The cocotb runner helper: builds, passes parameters and outputs, caches builds, reports failures."""

import pytest
from amaranth import Module
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


def test_verilog_has_no_always_star():
    text = to_verilog(_Acc(), "acc")
    assert "always @*" not in text and "always_comb" in text and "module acc" in text


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
