"""Report: the analytic bound, the accuracy table, and a whole (small) report written and re-made identically."""

import hashlib

import pytest

from nmsat.config import default_config
from nmsat.errors import NmsatError
from nmsat.nm import NMPattern
from nmsat.report import collect
from nmsat.report.bounds import speedup_bound
from nmsat.report.markdown import table
from nmsat.report.run import make_report
from nmsat.trace import Gemm, Trace


def test_bound_is_amdahl_over_passes():
    p = NMPattern(2, 8)
    t = Trace("x", "bdwp", p, 1, (Gemm("l", "FF", 8, 8, 8, p), Gemm("l", "BP", 8, 8, 8, p), Gemm("l", "WG", 8, 8, 8)))
    assert speedup_bound(t) == pytest.approx(3 / (0.25 + 0.25 + 1))


def test_accuracy_mean_and_spread(tmp_path):
    path = tmp_path / "acc.csv"
    path.write_text("model,method,pattern,seed,test_acc\ncnn,bdwp,2:8,0,0.9\ncnn,bdwp,2:8,1,0.8\n")
    (row,) = collect.accuracy(path)
    assert (row["seeds"], row["mean"], row["min"]) == (2, pytest.approx(0.85), 0.8)
    assert row["std"] == pytest.approx(0.0707, abs=1e-4)
    path.write_text("model,method\ncnn,bdwp\n")
    with pytest.raises(NmsatError, match="bad row"):
        collect.accuracy(path)


def test_table_formats_numbers():
    assert table([{"a": 1234, "b": 0.5}], ["a", "b"]).splitlines()[2] == "| 1,234 | 0.500 |"


def test_small_report_is_complete_and_deterministic(tmp_path):
    acc = tmp_path / "acc.csv"
    acc.write_text("model,method,pattern,seed,test_acc\ncnn,dense,dense,0,0.97\ncnn,bdwp,2:8,0,0.96\n")
    hashes = []
    for run in ("a", "b"):
        out = tmp_path / run
        head = make_report(out, default_config(), acc, 1, 1, 0, default_config(), False,
                           speed_models=(("resnet9", "cifar"),), method_patterns=("2:8",),
                           method_model=("resnet9", "cifar"))
        assert head["bdwp_2_8_mean_speedup"] > 1.0
        text = (out / "README.md").read_text()
        for section in ("Accuracy", "Training speedup", "Training methods compared", "Energy", "Schedules",
                        "RTL versus model", "Area"):
            assert f"## {section}" in text
        hashes.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir())})
    assert hashes[0] == hashes[1]


def test_report_cli_writes_the_folder_and_rejects_bad_input(tmp_path):
    import subprocess
    import sys

    acc = tmp_path / "acc.csv"
    acc.write_text("model,method,pattern,seed,test_acc\ncnn,dense,dense,0,0.97\n")
    run = [sys.executable, "-m", "nmsat", "report", "-o", str(tmp_path / "r"), "--accuracy", str(acc),
           "--rtl-cases", "0", "--no-area", "--model", "resnet9"]
    out = subprocess.run(run, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "BDWP 2:8 mean simulated training speedup" in out.stdout and (tmp_path / "r" / "speedup.png").exists()
    bad = subprocess.run([*run[:-2], "--config", str(tmp_path / "missing.toml")], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "missing.toml" in bad.stderr
