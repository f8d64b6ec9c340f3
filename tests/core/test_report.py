"""Report: the analytic bound, the accuracy table, and a whole (small) report written and re-made identically."""

import hashlib
import os

import pytest

from nmsat.config import default_config
from nmsat.determinism import PINNED
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
    with pytest.raises(NmsatError, match="line 2: missing column 'pattern'"):
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
        for section in ("Accuracy", "Training speedup", "From the projected model", "Non-GEMM work (projected",
                        "Training methods compared",
                        "Energy", "Schedules",
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
    out = subprocess.run(run, capture_output=True, text=True, cwd=tmp_path)  # outside the repository
    assert out.returncode == 0, out.stderr
    assert "BDWP 2:8 mean simulated training speedup" in out.stdout and (tmp_path / "r" / "speedup.png").exists()
    bad = subprocess.run([*run[:-2], "--config", str(tmp_path / "missing.toml")], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "missing.toml" in bad.stderr


@pytest.mark.parametrize("row, message", [
    ("cnn,bdwp,2:8,0,nan", "test_acc 'nan' must be between 0 and 1"),
    ("cnn,bdwp,2:8,0,5.0", "test_acc '5.0' must be between 0 and 1"),
    ("cnn,bdwp,2:8,0,-0.1", "must be between 0 and 1"),
    ("cnn,bdwp,2:8,0,x", "test_acc 'x' is not a number"),
    ("cnn,bdwp,4:4,0,0.9", "bad N:M pattern 4:4"),
    ("cnn,bdwp,dense,0,0.9", "pattern 'dense' with method 'bdwp'"),
    ("cnn,dense,2:8,0,0.9", "pattern '2:8' with method 'dense'"),
    ("cnn,magic,2:8,0,0.9", "unknown method 'magic'"),
])
def test_accuracy_values_are_validated(tmp_path, row, message):
    path = tmp_path / "acc.csv"
    path.write_text(f"model,method,pattern,seed,test_acc\n{row}\n")
    with pytest.raises(NmsatError, match=message) as e:
        collect.accuracy(path)
    assert "line 2" in str(e.value) and "\n" not in str(e.value)


def test_accuracy_file_binary_or_empty(tmp_path):
    path = tmp_path / "acc.csv"
    path.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(NmsatError, match="not UTF-8 text"):
        collect.accuracy(path)
    path.write_text("model,method,pattern,seed,test_acc\n")
    with pytest.raises(NmsatError, match="no rows"):
        collect.accuracy(path)


def test_settings_state_the_batch_the_sweep_trains_at(tmp_path, monkeypatch):
    import nmsat.algo.sweep as sweep
    from nmsat.report import run

    seen = {}

    def fake_sweep(runs, **kwargs):  # records what the report asks the sweep for
        seen.update(kwargs)
        path = tmp_path / "acc.csv"
        path.write_text("model,method,pattern,seed,test_acc\ncnn,dense,dense,0,0.97\ncnn,bdwp,2:8,0,0.96\n")
        return path

    monkeypatch.setattr(sweep, "accuracy_sweep", fake_sweep)
    monkeypatch.setattr(os, "environ", dict(os.environ))  # pin_cpu_kernels writes here; undone afterwards
    for key in PINNED:
        os.environ.pop(key, None)
    make_report(tmp_path / "r", default_config(), None, 1, 1, 0, default_config(), False,
                speed_models=(("resnet9", "cifar"),), runs=tmp_path / "runs")
    text = (tmp_path / "r" / "README.md").read_text()
    assert seen["batch"] == run.TRAIN_BATCH
    assert f"training batch = {seen['batch']}" in text and f"simulated batch = {run.SIM_BATCH}" in text
    assert ", ".join(f"{k}={v}" for k, v in PINNED.items()) in text


def test_area_section_shows_flat_core_and_lut_ram_columns():
    from nmsat.report.build import AREA_CELLS, AREA_FLAT, AREA_SPLIT, _area_section

    def variant(scale):
        cells = {c: scale for c in AREA_CELLS}
        v = {"pe": cells, "core": {**cells, "lut": 100 * scale}, "total": cells, "topn": cells,
             "core_whole": {**cells, "lut": 80 * scale}}
        for group, part, _ in AREA_SPLIT:
            v.setdefault(group, {})[part] = cells
        return v

    dense, nm = variant(1), variant(2)
    area = {"target": "xilinx", "config": "toy", "rows": 2, "cols": 2, "mults_per_pe": 4, "data_width": 8,
            "patterns": ["2:4"], "topn_lanes": 2, "dense": dense, "nm": nm,
            "overhead_pct": {k: {c: 100.0 * (nm[k][c] - dense[k][c]) / dense[k][c] for c in AREA_CELLS}
                             for k in ("pe", "core", "total", "core_whole")}}
    text = _area_section(area)
    assert AREA_FLAT in text and "| lut_mem | muxf |" in text
    assert "the flat synthesis of the whole core at +100.0%" in text
