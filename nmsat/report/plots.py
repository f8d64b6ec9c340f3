"""The report's figures (matplotlib, Agg): each function draws one PNG from plain rows."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from nmsat import atomic  # noqa: E402

SAT_SPEEDUP_2_8 = 1.75  # Fang et al., IEEE TCAD 2023: SAT + BDWP average training speedup at 2:8 (FPGA)


def _save(fig, path):
    """Save deterministically (no software/date metadata) and atomically."""
    fig.tight_layout()
    with atomic.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)


def speedup_bars(rows, patterns, path):
    """Grouped bars of BDWP training speedup per model x pattern, with bounds and SAT's 1.75x."""
    models = list(dict.fromkeys(r["model"] for r in rows))
    by = {(r["model"], r["pattern"]): r for r in rows if r["method"] == "bdwp"}
    fig, ax = plt.subplots(figsize=(9, 4.6))
    width = 0.8 / len(patterns)
    x = np.arange(len(models))
    for i, p in enumerate(patterns):
        pos = x - 0.4 + width * (i + 0.5)
        vals = [by[(m, p)]["speedup"] for m in models]
        bounds = [by[(m, p)]["bound"] for m in models]
        ax.bar(pos, vals, width * 0.92, label=f"BDWP {p}", color=plt.cm.viridis(0.15 + 0.7 * i / len(patterns)))
        ax.hlines(bounds, pos - width * 0.46, pos + width * 0.46, colors="black", linewidth=1.6,
                  label="bound (WG dense)" if i == 0 else None)
    ax.axhline(SAT_SPEEDUP_2_8, color="tab:red", linestyle="--", linewidth=1.2, label="SAT paper, 2:8 (1.75x)")
    ax.axhline(2.0, color="gray", linestyle=":", linewidth=1.2, label="2:8 bound, equal passes (2.0x)")
    ax.axhline(1.0, color="black", linewidth=0.6)
    ax.set_xticks(x, models)
    ax.set_ylabel("training-step speedup over dense (x)")
    ax.set_xlabel("model (batch 32)")
    ax.set_title("Simulated BDWP training speedup on the default array")
    ax.legend(ncol=3, fontsize=8, loc="upper left")
    ax.set_ylim(0, max(max(r["bound"] for r in rows), 2.0) * 1.35)
    _save(fig, path)


def stacked_bars(series, components, path, xlabel, ylabel, title, scale=1.0):
    """Stacked bars: `series` maps a bar label to {component: value}; values divided by `scale`."""
    labels = list(series)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(labels) + 3), 4.4))
    bottom = np.zeros(len(labels))
    colors = plt.cm.tab10(np.arange(len(components)) % 10)
    for comp, color in zip(components, colors, strict=True):
        vals = np.array([series[lbl].get(comp, 0.0) for lbl in labels]) / scale
        ax.bar(labels, vals, 0.6, bottom=bottom, label=comp, color=color)
        bottom += vals
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8, bbox_to_anchor=(1.01, 1), loc="upper left")
    plt.setp(ax.get_xticklabels(), rotation=20, ha="right")
    _save(fig, path)


def layer_time(rows, components, path, title):
    """Horizontal stacked bars of cycles per layer (rows: {"layer", component: cycles})."""
    labels = [r["layer"] for r in rows]
    fig, ax = plt.subplots(figsize=(9, max(3.0, 0.28 * len(labels) + 1.4)))
    left = np.zeros(len(labels))
    colors = plt.cm.tab10(np.arange(len(components)) % 10)
    for comp, color in zip(components, colors, strict=True):
        vals = np.array([r.get(comp, 0) for r in rows], dtype=float) / 1e3
        ax.barh(labels, vals, left=left, label=comp, color=color)
        left += vals
    ax.invert_yaxis()
    ax.set_xlabel("cycles (thousands)")
    ax.set_ylabel("layer")
    ax.set_title(title)
    ax.legend(fontsize=8, bbox_to_anchor=(1.01, 1), loc="upper left")
    _save(fig, path)


def speed_bars(names, rates, path):
    """Log-scale bars of simulated cycles per second of wall time."""
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.bar(names, rates, 0.5, color=["tab:blue", "tab:gray"][: len(names)])
    ax.set_yscale("log")
    ax.set_ylabel("simulated cycles per second (log)")
    ax.set_title("Simulator speed, dense ResNet-18 layers, 32x32 WS")
    for i, v in enumerate(rates):
        ax.annotate(f"{v:,.0f}", (i, v), ha="center", va="bottom", fontsize=9)
    ax.set_ylim(min(rates) / 3, max(rates) * 8)
    _save(fig, path)
