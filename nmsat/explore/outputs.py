"""A sweep's outputs beside its CSV: Pareto-front plots (PNG) and a Markdown summary of the top designs."""

from collections import Counter
from pathlib import Path

from nmsat import atomic
from nmsat.explore.pareto import axis_label, by_workload, front, usable, value
from nmsat.report.markdown import figure, table

TOP = 5


def _pairs(rows):
    """The (x, y) objective pairs to plot: time and energy against area when the sweep has it, else against the
    array's multipliers."""
    cost = "area" if usable(rows, ["area"]) else "multipliers"
    return [(cost, "time"), (cost, "energy")]


def _scale(objective):
    return 1e-9 if objective == "energy" else 1.0  # pJ -> mJ


def plot_fronts(rows, path, title):
    """One PNG: a panel per objective pair, every valid design grey, the front highlighted and labelled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pairs = _pairs(rows)
    fig, axes = plt.subplots(1, len(pairs), figsize=(6.2 * len(pairs), 4.6), squeeze=False)
    for ax, (xo, yo) in zip(axes[0], pairs, strict=True):
        pts = usable(rows, [xo, yo])
        xs = [value(r, xo) * _scale(xo) for r in pts]
        ys = [value(r, yo) * _scale(yo) for r in pts]
        ax.scatter(xs, ys, s=14, color="0.7", label="design")
        idx = sorted(front(pts, [xo, yo]), key=lambda i: xs[i])
        ax.plot([xs[i] for i in idx], [ys[i] for i in idx], "o-", color="tab:red", markersize=5,
                label="Pareto front")
        labels = {}
        for i in idx:  # designs with equal values share one label
            r = pts[i]
            labels.setdefault((xs[i], ys[i]), []).append(f"{r['hardware']} {r['method']} {r['pattern']}")
        for xy, names in labels.items():
            more = f" (+{len(names) - 1} equal)" if len(names) > 1 else ""
            ax.annotate(names[0] + more, xy, fontsize=6, xytext=(4, 3), textcoords="offset points")
        ax.set_xlabel(axis_label(pts, xo))
        ax.set_ylabel(axis_label(pts, yo))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    with atomic.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)


def _view(r):
    out = {"hardware": r["hardware"], "method": r["method"], "pattern": r["pattern"],
           "cycles": int(r["cycles"]), "time_ms": float(r["time_s"]) * 1e3, "clock_mhz": float(r["clock_mhz"]),
           "energy_mJ": float(r["energy_pj"]) * 1e-9, "multipliers": int(r["multipliers"])}
    if r.get("fmax_mhz"):
        out["fmax_mhz"] = float(r["fmax_mhz"])
    if r.get("area_lut"):
        out.update(lut=float(r["area_lut"]), dsp=float(r["area_dsp"]), bram=float(r["area_bram"]),
                   area=r["area_basis"].split(" ")[0])
    if r.get("accuracy"):
        out["accuracy"] = float(r["accuracy"])
    return out


def bases(rows):
    """Markdown lines: what the time and area of the valid points are based on, and every design whose
    measured Fmax misses its config clock."""
    ok = [r for r in rows if r["status"] == "ok"]
    out = ["Time per step: " + "; ".join(f"{n} points at {b}" for b, n in
                                         Counter(r["time_basis"] for r in ok).most_common()) + "."]
    area = Counter(r["area_basis"] for r in ok if r.get("area_basis"))
    if area:
        out.append("Area: " + "; ".join(f"{n} points by {b}" for b, n in area.most_common()) + ".")
    timed = {r["hardware"]: (float(r["fmax_mhz"]), float(r["clock_mhz"])) for r in ok if r.get("fmax_mhz")}
    missed = {h: fc for h, fc in timed.items() if fc[0] < fc[1]}
    if missed:
        fs, clocks = [f for f, _ in missed.values()], sorted({c for _, c in missed.values()})
        worst = min(missed, key=lambda h: missed[h][0])
        out.append(f"Place-and-route misses the config clock for {len(missed)} of {len(timed)} designs (their time "
                   f"is at the lower Fmax, {min(fs):g} to {max(fs):g} MHz against "
                   f"{', '.join(f'{c:g}' for c in clocks)} MHz; lowest: {worst}; `fmax_mhz` per row).")
    elif timed:
        out.append(f"Every one of the {len(timed)} timed designs meets its config clock.")
    return out


def summary(rows, objectives, name, plots):
    """Markdown: per workload, the top designs per objective and the front over all objectives; the
    invalid points with their reasons."""
    lines = [f"# nmsat explore: {name}", "",
             f"{len(rows)} points, {sum(r['status'] == 'ok' for r in rows)} valid. Objectives (minimised): "
             + ", ".join(objectives) + ".", "", *bases(rows)]
    for workload, wrows in by_workload(rows).items():
        ok = usable(wrows, objectives)
        lines += ["", f"## {workload}", ""]
        if workload in plots:
            lines += [figure(plots[workload], f"Pareto fronts of {workload}"), ""]
        if not ok:
            lines.append("No valid point with every objective.")
            continue
        cols = list(_view(ok[0]))
        for o in objectives:
            best = sorted(ok, key=lambda r, o=o: value(r, o))[:TOP]
            lines += [f"Top {len(best)} by {o}:", "", table([_view(r) for r in best], cols), ""]
        idx = front(ok, list(objectives))
        lines += [f"Pareto front over {', '.join(objectives)} ({len(idx)} designs):", "",
                  table(sorted((_view(ok[i]) for i in idx), key=lambda v: v["time_ms"]), cols)]
    bad = Counter(r["reason"] for r in rows if r["status"] != "ok")
    if bad:
        lines += ["", "## Invalid points", "", table([{"points": n, "reason": why} for why, n in bad.most_common()],
                                                      ["points", "reason"])]
    return "\n".join(lines) + "\n"


def write_outputs(rows, objectives, name, out_csv):
    """Write ``<csv stem>_<n>.png`` per workload and ``<csv stem>.md`` beside `out_csv`; returns their paths."""
    out_csv = Path(out_csv)
    plots = {}
    for i, (workload, wrows) in enumerate(by_workload(rows).items()):
        if len(usable(wrows, [o for pair in _pairs(wrows) for o in pair])) == 0:
            continue
        png = out_csv.with_name(f"{out_csv.stem}_{i}.png")
        plot_fronts(wrows, png, f"{name}: {workload}")
        plots[workload] = png.name
    md = out_csv.with_suffix(".md")
    atomic.write_text(md, summary(rows, objectives, name, plots))
    return [md, *(out_csv.with_name(p) for p in plots.values())]
