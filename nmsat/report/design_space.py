"""The report's design-space section: an `nmsat explore` sweep over array shape, multipliers per PE and supported
patterns for the report's models, with its Pareto fronts (behind `nmsat report --design-space`)."""

from pathlib import Path

from nmsat.explore.outputs import plot_fronts
from nmsat.explore.pareto import by_workload, front, usable
from nmsat.explore.run import run
from nmsat.explore.spec import parse
from nmsat.report.markdown import figure, table

SWEEP = {"array.rows": [16, 32, 64], "array.cols": [32, 64], "array.mults_per_pe": [2, 4, 8],
         "array.patterns": [["2:4", "1:4", "2:8", "1:8"], ["2:8"], ["2:4"]]}
OBJECTIVES = ["time", "energy", "multipliers"]


def spec(models, config=None):
    """The sweep the section runs: `SWEEP` x `models` ((name, input) pairs) x dense and BDWP at 2:8 and 2:4."""
    return parse({"name": "design-space", "methods": ["dense", "bdwp"], "patterns": ["2:8", "2:4"],
                  "objectives": OBJECTIVES, "sweep": SWEEP,
                  "workload": [{"model": m, "input": size, "batch": 32} for m, size in models],
                  **({"config": str(config)} if config else {})})


def collect(models, out, config=None):
    """Run the sweep afresh into ``out/design_space.csv``; returns its rows."""
    return run(spec(models, config), Path(out) / "design_space.csv", progress=False)


def section(rows, out):
    """Markdown of the section (and one PNG per model in `out`)."""
    lines = ["## Design space: array shape x multipliers per PE x supported patterns", "",
             "An `nmsat explore` sweep (spec: `nmsat.report.design_space.SWEEP`) on the generated hardware: "
             f"{len(rows)} points, {sum(r['status'] == 'ok' for r in rows)} valid (the others are configs the RTL "
             "generator refuses, or a pattern the array does not support). Time per step is at the config's "
             "clock (Fmax not measured). Area is not in this sweep (Yosys per config takes minutes here): the "
             "cost axis is the array's multipliers R x C x P, an exact count but only a proxy for area, so "
             "configs that differ only in the patterns they support tie. Front: no other design is at once "
             "faster, lower in energy and smaller in multipliers. `design_space.csv` has every point."]
    for i, (workload, wrows) in enumerate(by_workload(rows).items()):
        ok = usable(wrows, OBJECTIVES)
        if not ok:
            continue
        png = f"design_space_{i}.png"
        plot_fronts(wrows, Path(out) / png, f"design space: {workload}")
        best = sorted((ok[j] for j in front(ok, OBJECTIVES)), key=lambda r: float(r["time_s"]))
        view = [{"hardware": r["hardware"], "method": r["method"], "pattern": r["pattern"],
                 "time_ms": float(r["time_s"]) * 1e3, "energy_mJ": float(r["energy_pj"]) * 1e-9,
                 "multipliers": int(r["multipliers"])} for r in best]
        lines += ["", f"### {workload}", "", figure(png, f"Pareto front of {workload}"), "",
                  table(view, ["hardware", "method", "pattern", "time_ms", "energy_mJ", "multipliers"])]
    return "\n".join(lines)
