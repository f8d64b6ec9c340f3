"""The report's design-space section: an `nmsat explore` sweep over array shape, multipliers per PE and supported
patterns for the report's models, with its Pareto fronts (behind `nmsat report --design-space`).

Area is the fitted per-component estimate (`nmsat.explore.area_model`, labelled, with its held-out error):
the swept arrays are all above the build limit, so none can be synthesised here. With ``fmax = "pe"`` each
design's PE is placed and routed (`nmsat.explore.fmax`, minutes the first time, then cached) and the time per
step is at that Fmax; otherwise it is at the config's clock, and the section says which.
"""

from pathlib import Path

from nmsat.errors import NmsatError
from nmsat.explore import area_model
from nmsat.explore.outputs import bases, plot_fronts
from nmsat.explore.pareto import by_workload, front, usable
from nmsat.explore.run import run
from nmsat.explore.spec import parse
from nmsat.report.markdown import figure, table

SWEEP = {"array.rows": [16, 32, 64], "array.cols": [32, 64], "array.mults_per_pe": [2, 4, 8],
         "array.patterns": [["2:4", "1:4", "2:8", "1:8"], ["2:8"], ["2:4"]]}


def _cost():
    """'area' when the fitted area estimate is available, else 'multipliers' (a count, not an area)."""
    try:
        area_model.load_fit()
    except NmsatError:
        return "multipliers"
    return "area"


def spec(models, config=None, fmax="none"):
    """The sweep the section runs: `SWEEP` x `models` ((name, input) pairs) x dense and BDWP at 2:8 and 2:4."""
    cost = _cost()
    return parse({"name": "design-space", "methods": ["dense", "bdwp"], "patterns": ["2:8", "2:4"],
                  "objectives": ["time", "energy", cost], "area": "estimate" if cost == "area" else "none",
                  "fmax": fmax, "sweep": SWEEP,
                  "workload": [{"model": m, "input": size, "batch": 32} for m, size in models],
                  **({"config": str(config)} if config else {})})


def collect(models, out, config=None, fmax="none"):
    """Run the sweep afresh into ``out/design_space.csv``; returns its rows."""
    return run(spec(models, config, fmax), Path(out) / "design_space.csv", progress=False)


def _view(r):
    out = {"hardware": r["hardware"], "method": r["method"], "pattern": r["pattern"],
           "time_ms": float(r["time_s"]) * 1e3, "fmax_mhz": float(r["fmax_mhz"]) if r["fmax_mhz"] else "-",
           "energy_mJ": float(r["energy_pj"]) * 1e-9, "multipliers": int(r["multipliers"])}
    if r["area_lut"]:
        out.update(lut=int(float(r["area_lut"])), dsp=int(float(r["area_dsp"])), bram=float(r["area_bram"]))
    return out


def section(rows, out):
    """Markdown of the section (and one PNG per model in `out`)."""
    has_area = any(r["area_lut"] for r in rows)
    objectives = ["time", "energy", "area" if has_area else "multipliers"]
    cost = ("the area estimate (LUTs)" if has_area else
            "the array's multipliers R x C x P, an exact count but only a proxy for area (configs that differ "
            "only in the patterns they support tie)")
    lines = ["## Design space: array shape x multipliers per PE x supported patterns", "",
             "An `nmsat explore` sweep (spec: `nmsat.report.design_space.SWEEP`) on the generated hardware: "
             f"{len(rows)} points, {sum(r['status'] == 'ok' for r in rows)} valid (the others are configs the RTL "
             "generator refuses, or a pattern the array does not support). Front: no other design is at once "
             f"faster, lower in energy and smaller in {cost}. `design_space.csv` has every point and the basis "
             "of its time (`time_basis`) and area (`area_basis`).", "", *bases(rows)]
    for i, (workload, wrows) in enumerate(by_workload(rows).items()):
        ok = usable(wrows, objectives)
        if not ok:
            continue
        png = f"design_space_{i}.png"
        plot_fronts(wrows, Path(out) / png, f"design space: {workload}")
        view = [_view(ok[j]) for j in front(ok, objectives)]
        view.sort(key=lambda v: v["time_ms"])
        lines += ["", f"### {workload}", "", figure(png, f"Pareto front of {workload}"), "",
                  table(view, list(view[0]))]
    return "\n".join(lines)
