"""`nmsat area` / `area_report`: Yosys synthesis of a tiny config, caching, the CLI and its errors."""

import json
import subprocess
import sys

import pytest
from tiny import TINY

from nmsat.cli import main
from nmsat.config import default_config, load_config
from nmsat.errors import NmsatError
from nmsat.hw.flow import yosys
from nmsat.hw.flow.area import CATEGORIES, area_report, classify, format_table


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """(config path, report) with a fresh synthesis cache, kept for the module's tests."""
    root = tmp_path_factory.mktemp("area")
    path = root / "tiny.toml"
    path.write_text(TINY)
    mp = pytest.MonkeyPatch()
    mp.setenv("NMSAT_CACHE", str(root / "cache"))
    yield path, area_report(load_config(path))
    mp.undo()


def test_tiny_report_is_consistent(tiny):
    _, r = tiny
    for v in ("dense", "nm"):
        a = r[v]
        assert a["pe"]["lut"] > 0 and a["pe"]["ff"] > 0 and a["non_pe"]["ff"] > 0
        assert a["pe_array"] == {k: 4 * x for k, x in a["pe"].items()}
        assert a["core"] == {k: a["pe_array"][k] + a["non_pe"][k] for k in a["pe"]}
        assert a["pe"] == {k: sum(p[k] for p in a["pe_parts"].values()) for k in a["pe"]}
    assert r["dense"]["topn"]["lut"] == 0 and r["nm"]["topn"]["lut"] > 0 and r["nm"]["topn"]["ff"] > 0
    for k in ("lut", "ff"):  # (not the core: at equal KiB the dense-only core's narrower rows make deeper banks)
        assert r["nm"]["pe"][k] >= r["dense"]["pe"][k]
    table = format_table(r)
    assert all(row in table for row in ("dense-only", "N:M muxes", "skew regs", "top-N unit", "LUTRAM", "MUXF"))
    lut = r["overhead_pct"]["total"]["lut"]
    assert f"N:M overhead (PE x R*C estimate, understated; --flat for the headline): LUT {lut:+.1f}%" in table


def test_second_run_hits_the_cache_and_cli_writes_json(tiny, tmp_path, monkeypatch, capsys):
    path, r = tiny

    def no_yosys(*args, **kwargs):
        raise AssertionError("yosys ran although every result is cached")

    monkeypatch.setattr(yosys.subprocess, "run", no_yosys)
    out = tmp_path / "area.json"
    with pytest.raises(SystemExit) as e:
        main(["area", "--config", str(path), "--json", str(out)])
    assert e.value.code == 0
    assert json.loads(out.read_text()) == json.loads(json.dumps(r))
    assert "PE x R*C" in capsys.readouterr().out


@pytest.mark.parametrize("toml,message", [
    ('[array]\nrows = 0\n', "rows = 0: must be >= 1"),
    ('[array]\nrows = 4\ncols = 4\npatterns = []\n[memory]\nweight_spad_kib = 1\nact_spad_kib = 1\nout_spad_kib = 1\n'
     'bus_bytes = 16\n', "no N:M support to compare"),
    ('[array]\nclock_mhz = inf\n', "clock_mhz = inf: must be finite"),
    ('', "a 32x32 array (1024 PEs) is too big to build here"),
    ('[array]\ndataflows = ["os"]\n', "weight-stationary and needs 'ws' listed"),
])
def test_bad_config_exits_2_with_one_line(tmp_path, toml, message):
    bad = tmp_path / "bad.toml"
    bad.write_text(toml)
    run = subprocess.run([sys.executable, "-m", "nmsat", "area", "--config", str(bad)],
                         capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and message in run.stderr and run.stdout == ""


def test_classify_maps_primitives_of_both_targets():
    cells = {"LUT6": 3, "INV": 1, "FDRE": 4, "FDCE": 1, "DSP48E1": 2, "RAMB18E1": 1, "RAMB36E1": 1,
             "CARRY4": 5, "SRLC32E": 2, "RAM64M": 1, "MUXF7": 2, "BUFG": 1, "core.array.pe_0_0": 1, "XORCY": 1}
    got = classify(cells)
    assert got == {"lut": 4, "ff": 5, "dsp": 2, "bram": 1.5, "carry": 5, "lut_mem": 3, "muxf": 2, "other": 1}
    ice = classify({"SB_LUT4": 7, "SB_DFFR": 2, "SB_DFF": 1, "SB_CARRY": 3, "SB_MAC16": 1, "SB_RAM40_4K": 2})
    assert ice == {**dict.fromkeys(CATEGORIES, 0), "lut": 7, "ff": 3, "carry": 3, "dsp": 1, "bram": 2,
                   "other": 0}


def test_unknown_target_is_an_error():
    with pytest.raises(NmsatError, match="synthesis target 'asic'"):
        area_report(default_config(), target="asic")


@pytest.mark.slow
@pytest.mark.parametrize("target,whole", [("ice40", False), ("xilinx", True)])
def test_tiny_ice40_and_whole_core(tmp_path, monkeypatch, target, whole):
    monkeypatch.setenv("NMSAT_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    r = area_report(load_config(path), target, whole)
    for v in ("dense", "nm"):
        assert r[v]["pe"]["lut"] > 0 and r[v]["core"]["ff"] > 0
        if whole:  # flat synthesis can only drop what the per-PE estimate keeps (unused PE outputs)
            assert 0 < r[v]["core_whole"]["ff"] <= r[v]["core"]["ff"]
            assert r[v]["total_whole"]["lut"] == r[v]["core_whole"]["lut"] + r[v]["topn"]["lut"]
    if whole:
        assert "N:M overhead (flat core + top-N unit)" in format_table(r)
    assert r["nm"]["pe"]["lut"] >= r["dense"]["pe"]["lut"]  # (not the core: equal KiB, deeper dense-only banks)
