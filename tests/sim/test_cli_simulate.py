"""`nmsat simulate` on trace files: outputs written, bad input is one line and exit 2."""

import csv
import json
import subprocess
import sys

import pytest
from nets import resnet18


def run(*args):
    return subprocess.run([sys.executable, "-m", "nmsat", "simulate", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def trace_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("trace") / "r18.json"
    resnet18(batch=4, pattern="2:4").save(path)
    return path


def test_simulate_writes_csv_and_timeline(trace_file, tmp_path):
    out = run("--trace", str(trace_file), "--dataflow", "ws", "-o", str(tmp_path / "r.csv"),
              "--timeline", str(tmp_path / "t.json"))
    assert out.returncode == 0, out.stderr
    assert "cycles" in out.stdout and "pattern=2:4" in out.stdout
    rows = list(csv.DictReader(open(tmp_path / "r.csv")))
    assert len(rows) == len(resnet18(batch=4).gemms) and rows[0]["dataflow"] == "ws"
    assert json.loads((tmp_path / "t.json").read_text())["traceEvents"]


def test_compare_writes_json(trace_file, tmp_path):
    out = run("--trace", str(trace_file), "--compare", "--no-pregen", "-o", str(tmp_path / "c.json"))
    assert out.returncode == 0, out.stderr
    doc = json.loads((tmp_path / "c.json").read_text())
    assert {(r["mode"], r["dataflow"], r["pregen"]) for r in doc["schedules"]} >= {("bdwp", "best", True)}
    assert len(doc["best_per_layer"]) == len(resnet18(batch=4).gemms)


@pytest.mark.parametrize("args, word", [
    (["--trace", "missing.json"], "missing.json"),
    (["--pattern", "3:8"], "3:8"),
    (["--pattern", "eight"], "eight"),
    (["-o", "out.txt"], "out.txt"),
    (["--model", "resnet18"], "exactly one"),
    (["--mode", "sparse"], "sparse"),
])
def test_bad_input_one_line_exit_2(trace_file, tmp_path, args, word):
    base = [] if args[0] == "--trace" else ["--trace", str(trace_file)]
    out = run(*base, *[str(tmp_path / a) if a == "out.txt" else a for a in args])
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and word in out.stderr


def test_bad_config_exit_2(trace_file, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[array]\nrows = -1\n")
    out = run("--trace", str(trace_file), "--config", str(bad))
    assert out.returncode == 2 and "rows" in out.stderr and out.stderr.strip().count("\n") == 0


def test_vector_unit_is_off_unless_asked(tmp_path):
    path = tmp_path / "user.json"
    with_ops = run("--model", "resnet9", "--batch", "2", "--vector-unit")
    plain = run("--model", "resnet9", "--batch", "2")
    assert with_ops.returncode == 0 and plain.returncode == 0, with_ops.stderr + plain.stderr
    assert "vector unit (projected" in with_ops.stdout and "vector" not in plain.stdout
    cycles = [int(o.stdout.split(": ")[1].split(" cycles")[0].replace(",", "")) for o in (plain, with_ops)]
    assert cycles[1] > cycles[0]
    path.write_text("[vector]\nenabled = true\n")
    assert "vector unit (projected" in run("--model", "resnet9", "--batch", "2", "--config", str(path)).stdout
