"""`nmsat.measured_clock`: a time printed at the config's clock says whether place-and-route met it."""

from pathlib import Path

import pytest

from nmsat import measured_clock
from nmsat.config import load_config


def _report(cfg, block, dense, nm):
    variants = {name: {"fmax_median_mhz": f, "fmax_mhz": [f]} for name, f in (("dense", dense), ("nm", nm))}
    return {"config": cfg.name, "block": block, "arith": cfg.array.arithmetic, "device": "LFE5U-85F CABGA381",
            "tools": {}, "variants": variants}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NMSAT_CACHE", str(tmp_path))
    monkeypatch.setattr(measured_clock, "shipped", lambda: {})
    return tmp_path


def test_unmeasured_config_says_its_clock_is_a_target(cache):
    line = measured_clock.clock_line(load_config("hw-small"), 1000, sparse=True)
    assert "200 MHz is the config's target" in line and "not placed and routed" in line


def test_config_the_rtl_cannot_build_says_so(cache):
    cfg = load_config("hw-small").replace(array={"dataflows": ["os"]})
    assert measured_clock.design_key(cfg, "pe") is None
    assert "the RTL cannot build this config" in measured_clock.clock_line(cfg, 1000, sparse=False)


def test_recorded_pe_gives_the_time_at_its_fmax(cache):
    cfg = load_config("hw-small")
    measured_clock.record(cfg, _report(cfg, "pe", 120.0, 100.0))
    sparse = measured_clock.clock_line(cfg, 1_000_000, sparse=True)
    assert "closes at 100 MHz" in sparse and "missed" in sparse and "10.000 ms at 100 MHz" in sparse
    assert f"static energy {cfg.energy.static_mw * 0.01:.3f} mJ at that clock" in sparse
    assert "an upper bound" in sparse
    assert "closes at 120 MHz" in measured_clock.clock_line(cfg, 1_000_000, sparse=False)


def test_a_core_record_wins_over_the_pe(cache):
    cfg = load_config("hw-small")
    measured_clock.record(cfg, _report(cfg, "pe", 120.0, 100.0))
    measured_clock.record(cfg, _report(cfg, "core", 250.0, 210.0))
    line = measured_clock.clock_line(cfg, 1000, sparse=True)
    assert "the whole core" in line and "closes at 210 MHz, so the target is met" in line


def test_a_record_speaks_only_for_its_design(cache):
    cfg = load_config("hw-small")
    measured_clock.record(cfg, _report(cfg, "pe", 120.0, 100.0))
    other = cfg.replace(array={"patterns": ["2:4"]})
    assert measured_clock.lookup(other) == {}
    assert measured_clock.lookup(cfg)["pe"]["fmax_mhz"] == {"dense": 120.0, "nm": 100.0}


def test_shipped_records_are_well_formed():
    for key, rec in measured_clock.shipped().items():
        assert key.endswith(f"-{rec['block']}") and rec["block"] in ("pe", "core")
        assert set(rec["fmax_mhz"]) <= {"dense", "nm"} and all(f > 0 for f in rec["fmax_mhz"].values())


def test_a_change_to_a_source_of_the_block_changes_its_key(monkeypatch, tmp_path):
    src = tmp_path / "pe.py"
    src.write_text("A = 1\n")
    monkeypatch.setattr(measured_clock, "rtl_source_files", lambda block: {"nmsat.hw.datapath.pe": src})
    cfg = load_config("hw-small")
    before = measured_clock.design_key(cfg, "pe")
    src.write_text("A = 2\n")
    assert measured_clock.design_key(cfg, "pe") != before


def test_each_block_is_keyed_by_the_sources_it_is_generated_from():
    pe, core = (measured_clock.rtl_source_files(block) for block in ("pe", "core"))
    assert {"nmsat.hw.datapath.pe", "nmsat.hw.datapath.fp_mac", "nmsat.hw.datapath.nmmux", "nmsat.core_params",
            "nmsat.hw.layouts", "nmsat.hw.flow.timing", "nmsat.hw.flow.wrapper"} <= set(pe)
    assert "nmsat.hw.control.loop_engine" not in pe and set(pe) < set(core)
    assert {"nmsat.hw.core", "nmsat.hw.control.loop_engine", "nmsat.hw.memory.write_dma"} <= set(core)
    assert all(path.is_file() for path in core.values())
    assert not any(name.startswith("nmsat.hw.tb") for name in core)


def test_a_pe_record_survives_a_change_outside_the_pe(cache, monkeypatch):
    cfg = load_config("hw-small")
    measured_clock.record(cfg, _report(cfg, "pe", 120.0, 100.0))
    core_key = measured_clock.design_key(cfg, "core")
    real = measured_clock.rtl_source_files
    extra = {"changed.control": Path(__file__)}  # a file only the core is built from
    monkeypatch.setattr(measured_clock, "rtl_source_files",
                        lambda block: {**real(block), **(extra if block == "core" else {})})
    assert measured_clock.design_key(cfg, "core") != core_key
    assert measured_clock.lookup(cfg)["pe"]["fmax_mhz"] == {"dense": 120.0, "nm": 100.0}
