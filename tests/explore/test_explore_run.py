"""A sweep in-process: each valid point equals a direct simulation, invalid points carry their reason,
`resume` simulates only what the CSV lacks and gives the same file, and the plots and summary are written."""

from nmsat import atomic
from nmsat.config import default_config
from nmsat.explore import run as run_mod
from nmsat.explore.outputs import write_outputs
from nmsat.explore.point import build_config
from nmsat.explore.spec import parse
from nmsat.sim import network
from nmsat.trace import load


def test_points_equal_direct_simulation(sweep_spec, tmp_path):
    rows = run_mod.run(sweep_spec, tmp_path / "out.csv", progress=False)
    assert len(rows) == 2 * 2 * 2 * 3
    trace = load(sweep_spec.workloads[0].trace)
    base = default_config().to_dict()
    ok = [r for r in rows if r["status"] == "ok"]
    assert ok and len(ok) < len(rows)
    for r in ok:
        hw = {"array.rows": int(r["array.rows"]), "array.cols": int(r["array.cols"]),
              "array.patterns": tuple(r["array.patterns"].split("+"))}
        pattern = None if r["pattern"] == "dense" else r["pattern"]
        direct = network.simulate(trace, build_config(base, hw), r["method"], "best", True, pattern)
        assert int(r["cycles"]) == direct.total_cycles
        assert float(r["time_s"]) == direct.seconds
        assert r["fmax_mhz"] == ""
    bad = [r for r in rows if r["status"] == "invalid"]
    assert any("cols x acc_width" in r["reason"] for r in bad)  # 16 columns of 32 bits < the 1024-bit bus
    assert any("pattern 2:4 is not supported" in r["reason"] for r in bad)


def test_resume_simulates_only_missing_points(sweep_spec, tmp_path, monkeypatch):
    out = tmp_path / "out.csv"
    full = run_mod.run(sweep_spec, out, progress=False)
    whole = out.read_text()
    atomic.write_csv(out, full[:5], list(full[0]))
    calls = []
    real = run_mod.simulate_point
    monkeypatch.setattr(run_mod, "simulate_point", lambda *a: calls.append(a) or real(*a))
    again = run_mod.run(sweep_spec, out, resume=True, progress=False)
    assert len(calls) == len(full) - 5
    assert again == full and out.read_text() == whole


def test_outputs_written(sweep_spec, tmp_path):
    out = tmp_path / "out.csv"
    rows = run_mod.run(sweep_spec, out, progress=False)
    paths = write_outputs(rows, sweep_spec.objectives, "t", out)
    md = paths[0].read_text()
    assert "Pareto front over time, energy" in md and "## Invalid points" in md
    assert paths[1].suffix == ".png" and paths[1].stat().st_size > 1000


def test_accuracy_joins_the_digits_sweep(tmp_path, monkeypatch):
    monkeypatch.setenv("NMSAT_CACHE", str(tmp_path / "cache"))
    acc = tmp_path / "accuracy.csv"
    acc.write_text("model,method,pattern,seed,test_acc\nmlp,dense,dense,0,0.96\nmlp,dense,dense,1,0.98\n"
                   "mlp,bdwp,2:8,0,0.93\n")
    spec = parse({"methods": ["dense", "bdwp"], "patterns": ["2:8", "2:4"], "accuracy": str(acc),
                  "objectives": ["time", "-accuracy"],
                  "workload": [{"model": "mlp", "input": "digits", "batch": 4}]})
    rows = {(r["method"], r["pattern"]): r for r in run_mod.run(spec, tmp_path / "out.csv", progress=False)}
    assert float(rows[("dense", "dense")]["accuracy"]) == 0.97 and rows[("dense", "dense")]["accuracy_seeds"] == "2"
    assert float(rows[("bdwp", "2:8")]["accuracy"]) == 0.93
    assert rows[("bdwp", "2:4")]["accuracy"] == ""  # not in the sweep file
