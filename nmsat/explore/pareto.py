"""Pareto fronts of a sweep's results: which designs no other design beats on every objective.

Rows are the results CSV's (strings); objectives are minimised (``-accuracy`` maximises accuracy). Fronts
are taken per workload: a step of ResNet-50 and one of a digits CNN are not comparable.
"""

import numpy as np

COLUMN = {"time": "time_s", "energy": "energy_pj", "area": "area_lut", "multipliers": "multipliers", "cycles": "cycles",
          "-accuracy": "accuracy"}
LABEL = {"time": "time per step (s)", "energy": "energy per step (mJ)",
         "area": "area (LUTs, Xilinx 7-series)", "multipliers": "multipliers R x C x P (cost proxy, not area)",
         "cycles": "cycles per step", "-accuracy": "digits test accuracy"}


def _which(rows, measured):
    """'all', 'none' or 'some' of `rows` for which `measured(row)` holds."""
    n = sum(bool(measured(r)) for r in rows)
    return "all" if n == len(rows) else "none" if n == 0 else "some"


def axis_label(rows, objective):
    """`LABEL` of `objective` with the basis of its values in `rows` (time: measured Fmax or config clock;
    area: Yosys or the fitted estimate)."""
    if objective == "time":
        how = {"all": "at measured Fmax", "none": "at config clock",
               "some": "at measured Fmax, else config clock"}[_which(rows, lambda r: r.get("fmax_mhz"))]
        return f"time per step (s, {how})"
    if objective == "area":
        synthesised = _which(rows, lambda r: str(r.get("area_basis")).startswith("yosys"))
        how = {"all": "Yosys", "none": "fitted estimate", "some": "Yosys, else fitted estimate"}[synthesised]
        return f"area (LUTs, Xilinx 7-series, {how})"
    return LABEL[objective]


def value(row, objective):
    """The value of `objective` to minimise for `row` (NaN when the row lacks it)."""
    v = row.get(COLUMN[objective])
    if v in (None, ""):
        return float("nan")
    v = float(v)
    return -v if objective.startswith("-") else v


def usable(rows, objectives):
    """The ok rows that have a value for every objective."""
    return [r for r in rows if r.get("status") == "ok" and
            not any(np.isnan(value(r, o)) for o in objectives)]


def front(rows, objectives):
    """Indices of the non-dominated rows (minimising every objective; equal rows all stay on the front)."""
    if not rows:
        return []
    x = np.array([[value(r, o) for o in objectives] for r in rows])
    keep = []
    for i, p in enumerate(x):
        dominated = np.all(x <= p, axis=1) & np.any(x < p, axis=1)
        if not dominated.any():
            keep.append(i)
    return keep


def by_workload(rows):
    """{workload: rows} in first-seen order."""
    out = {}
    for r in rows:
        out.setdefault(r["workload"], []).append(r)
    return out
