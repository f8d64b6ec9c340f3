"""`nmsat verilog`: Verilog + JSON sidecar, lint-clean under `verilator --lint-only -Wall`, clean errors."""

import json
import subprocess
import sys

from nmsat.hw.flow.lint import lint
from nmsat.hw.flow.verilog import CORE_TOP as TOPLEVEL
from nmsat.hw.flow.verilog import SYSTEM_TOP


def _nmsat(*args):
    return subprocess.run([sys.executable, "-m", "nmsat", *args], capture_output=True, text=True, check=False)


def test_writes_lint_clean_verilog_and_sidecar(tmp_path):
    res = _nmsat("verilog", "--config", "configs/hw-small.toml", "-o", str(tmp_path / "v"), "--memory-words", "64")
    assert res.returncode == 0, res.stderr
    sv, sidecar = tmp_path / "v" / f"{TOPLEVEL}.sv", tmp_path / "v" / f"{TOPLEVEL}.json"
    meta = json.loads(sidecar.read_text())
    assert meta["toplevel"] == TOPLEVEL and meta["config"]["name"] == "hw-small"
    assert meta["core"]["rows"] == 4 and meta["core"]["e_max"] == 16 and meta["core"]["bus_bytes"] == 8
    assert [name for name, _ in meta["descriptor"]][:3] == ["mode", "lg", "resident"]
    assert f"module {TOPLEVEL}(" in sv.read_text() and "initial #0" in sv.read_text()
    assert meta["dsp"] == "generic" and "MULT18X18D" not in sv.read_text()
    ok, messages = lint(sv, TOPLEVEL)
    assert ok, messages
    ok, messages = lint(tmp_path / "v" / f"{SYSTEM_TOP}.sv", SYSTEM_TOP)
    assert ok, messages


def test_ecp5_dsp_verilog_instantiates_one_mult18x18d_per_multiplier(tmp_path):
    """`--dsp ecp5`: every multiplier of the array is a MULT18X18D with its registers; the default has none."""
    res = _nmsat("verilog", "--config", "configs/hw-small.toml", "-o", str(tmp_path / "v"), "--dsp", "ecp5")
    assert res.returncode == 0, res.stderr
    meta = json.loads((tmp_path / "v" / f"{TOPLEVEL}.json").read_text())
    text = (tmp_path / "v" / f"{TOPLEVEL}.sv").read_text()
    assert meta["dsp"] == "ecp5"
    assert text.count("MULT18X18D #(") == meta["core"]["rows"] * meta["core"]["cols"] * meta["core"]["mults"]
    assert ".REG_INPUTB_CE(\"CE1\")" in text


def test_unsupported_config_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[array]\nrows = 4\n[memory]\nout_spad_kib = 0.01\nbus_bytes = 8\n')
    res = _nmsat("verilog", "--config", str(bad), "-o", str(tmp_path / "v"))
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "out_spad_kib" in res.stderr
    assert not (tmp_path / "v").exists()


def test_lint_reports_real_problems(tmp_path):
    bad = tmp_path / "bad.sv"
    bad.write_text("module bad(input clk, output reg q);\n  always @(posedge clk) q = ~q;\nendmodule\n")
    ok, messages = lint(bad, "bad")
    assert not ok and "BLKSEQ" in messages


def test_one_row_array_lints_clean(tmp_path):
    """No zero-width wires for R = 1, G = 1 and one output beat (issue 14's `[-1:0]` wires)."""
    from nmsat.config import load_config
    from nmsat.core_params import core_params
    from nmsat.hw.flow.verilog import core_verilog

    cfg = load_config("configs/hw-small.toml").replace(
        array={"rows": 1, "cols": 1, "mults_per_pe": 4, "patterns": ["2:4"], "max_row_groups": 1},
        memory={"bus_bytes": 4})
    sv = tmp_path / "one.sv"
    sv.write_text(core_verilog(core_params(cfg)))
    ok, messages = lint(sv, TOPLEVEL)
    assert ok, messages
