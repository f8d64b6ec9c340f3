"""The training-methods table: method x pattern -> digits accuracy, simulated speedup, top-N cost, CPU overhead.

Accuracy comes from the report's accuracy rows (digits CNN), speedup and top-N / mask cost from simulating
one training step per method of a workload (default `SPEED_MODEL`, ResNet-18 at CIFAR size;
`nmsat.sim.mask_cost`), the CPU step overhead from
`benchmarks/results/bdwp_step.json` (written by `benchmarks/bench_bdwp_step.py --out`).
"""

import json
from pathlib import Path

from nmsat.errors import NmsatError
from nmsat.sim.mask_cost import NEEDS, mask_cost
from nmsat.sim.network import simulate

CPU_RESULTS = Path("benchmarks/results/bdwp_step.json")
ACCURACY_MODEL = "digits_cnn"
SPEED_MODEL = ("resnet18", "cifar")
CPU_MODELS = ("digits_cnn", "resnet18")


def cpu_overheads(path=CPU_RESULTS):
    """{(model, method, pattern): step time / dense step time} from the CPU benchmark, and its settings."""
    path = Path(path)
    if not path.exists():
        return {}, None
    try:
        data = json.loads(path.read_text())
        ratios = {(r["model"], r["method"], data["pattern"]): r["vs_dense"] for r in data["rows"]}
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise NmsatError(f"benchmark results {str(path)!r}: unreadable ({e})") from None
    return ratios, data


def method_rows(cfg, accuracy_rows, traces, cpu):
    """One row per method x pattern; `traces`: {(method, pattern): trace} of one workload (dense: pattern None)."""
    acc = {(r["method"], r["pattern"]): r for r in accuracy_rows if r["model"] == ACCURACY_MODEL}
    dense = simulate(traces[("dense", None)], cfg, "dense", "best", True)
    rows = []
    for (method, pattern), trace in traces.items():
        sim = dense if method == "dense" else simulate(trace, cfg, method, "best", True)
        cost = mask_cost(trace, cfg, method, pattern) if method != "dense" else None
        a = acc.get((method, pattern or "dense"))
        passes, unit, bp_operand = NEEDS[method]
        rows.append({
            "workload": trace.model, "method": method, "pattern": pattern or "dense",
            "accuracy": f"{a['mean']:.4f} +- {a['std']:.4f} (n={a['seeds']})" if a else "not run",
            "acc_mean": a["mean"] if a else None, "acc_std": a["std"] if a else None,
            "speedup": dense.total_cycles / sim.total_cycles,
            "topn_passes": passes, "mask_unit": unit, "bp_operand": bp_operand,
            "topn_cycles": sim.overheads["topn_cycles"], "topn_exposed": sim.overheads["topn_exposed_cycles"],
            "mask_dram_mb": cost["dram_bytes"] / 1e6 if cost else 0.0,
            "mask_uj": cost["energy_pj"] / 1e6 if cost else 0.0,
            **{f"cpu_{m}": _ratio(cpu.get((m, method, pattern or cpu_pattern(cpu)))) for m in CPU_MODELS},
        })
    return rows


def cpu_pattern(cpu):
    """The pattern the CPU benchmark ran (dense rows are looked up under it)."""
    return next((p for (_, _, p) in cpu), None)


def _ratio(value):
    return f"{value:.2f}x" if value is not None else "not measured"


def recommendation(rows, pattern="2:8"):
    """A sentence naming the method to build hardware for, from the rows at `pattern`.

    Rule: among the N:M methods with a sparse BP GEMM whose mean accuracy is within one standard deviation
    (of the best) of the most accurate N:M method, the highest simulated speedup; ties go to fewer top-N
    cycles (and are named).
    """
    nm = [r for r in rows if r["pattern"] == pattern and r["method"] != "dense" and r["acc_mean"] is not None]
    if not nm:
        return f"No accuracy at {pattern} yet: no recommendation."
    best = max(nm, key=lambda r: r["acc_mean"])
    fit = [r for r in nm if r["acc_mean"] >= best["acc_mean"] - best["acc_std"] and r["bp_operand"] != "dense"]
    if not fit:
        return (f"At {pattern} only {best['method']} (no sparse BP) is within one standard deviation of the best "
                "accuracy: build forward-only N:M hardware.")
    pick = max(fit, key=lambda r: (r["speedup"], -r["topn_cycles"]))
    tied = [r for r in fit if r is not pick and r["speedup"] == pick["speedup"]]
    tie = "".join(f", tied with {r['method']} ({r['topn_cycles']:,} top-N cycles)" for r in tied)
    means = [r["acc_mean"] for r in nm]
    return (f"Build hardware for **{pick['method']}**: at {pattern} it is within one standard deviation of the most "
            f"accurate N:M method ({best['method']}, {best['acc_mean']:.4f} +- {best['acc_std']:.4f}) with "
            f"{pick['acc_mean']:.4f} +- {pick['acc_std']:.4f}, and among those it has the highest simulated "
            f"training speedup ({pick['speedup']:.2f}x{tie}; its top-N unit: {pick['topn_cycles']:,} cycles per "
            f"step, {pick['topn_passes']:g} passes, {pick['mask_unit']}). The N:M accuracies at {pattern} span "
            f"{min(means):.4f}-{max(means):.4f}, within about {max(r['acc_std'] for r in nm):.4f} (the largest "
            "seed spread), so the accuracy filter separates them only weakly.")
