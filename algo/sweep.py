"""Accuracy sweep on digits: models x methods x patterns x seeds -> accuracy.csv + accuracy_summary.json."""

import json
import statistics
from pathlib import Path

from nmsat import atomic, checks
from nmsat.algo.train import TRAINABLE, train
from nmsat.algo.usermodel import is_factory_spec, label
from nmsat.errors import NmsatError
from nmsat.nm import NMPattern
from nmsat.trace import METHODS

COLUMNS = ("model", "method", "pattern", "seed", "test_acc")


def _cells(models, methods, patterns):
    """(model, method, pattern) cells; dense runs once per model with pattern None."""
    for method in methods:
        if method not in METHODS:
            raise NmsatError(f"unknown method {method!r} (use {', '.join(METHODS)})")
    patterns = [str(NMPattern.parse(p)) for p in patterns]
    for model in models:
        for method in methods:
            for pattern in [None] if method == "dense" else patterns:
                yield model, method, pattern


def summarize(rows):
    """{"model/method/pattern": {"mean", "std", "n", "test_acc"}} over seeds (std: sample, 0 for n=1)."""
    cells = {}
    for r in rows:
        cells.setdefault(f"{r['model']}/{r['method']}/{r['pattern']}", []).append(r["test_acc"])
    return {k: {"mean": statistics.fmean(v), "std": statistics.stdev(v) if len(v) > 1 else 0.0,
                "n": len(v), "test_acc": v} for k, v in cells.items()}


def accuracy_sweep(out_dir, models=("digits_cnn",), methods=METHODS, patterns=("2:4", "1:4", "2:8"),
                   seeds=(0, 1, 2), epochs=10, progress=False, **train_kwargs):
    """Train every cell for every seed (artifacts in ``out_dir/<model>_<method>_<pattern>_s<seed>/``).

    Writes ``accuracy.csv`` (columns model, method, pattern, seed, test_acc; pattern "dense" for dense)
    and ``accuracy_summary.json`` (mean / std per cell) in `out_dir`; returns the path of ``accuracy.csv``.
    """
    out = Path(out_dir)
    for model in models:
        if model not in TRAINABLE and not is_factory_spec(model):
            raise NmsatError(f"unknown model {model!r} (use {', '.join(TRAINABLE)} or package.module:factory)")
    for seed in seeds:  # all checked before the first run writes anything
        checks.integer("seed", seed, 0, checks.MAX_SEED)
    cells = list(_cells(models, methods, patterns))
    rows = []
    for model, method, pattern in cells:
        for seed in seeds:
            tag = f"{label(model)}_{method}_{(pattern or 'dense').replace(':', '-')}_s{seed}"
            r = train(model, method, pattern, seed, epochs, out_dir=out / tag, progress=progress,
                      **train_kwargs)
            rows.append({k: r[k] for k in COLUMNS})
    atomic.write_csv(out / "accuracy.csv", rows, COLUMNS)
    atomic.write_text(out / "accuracy_summary.json", json.dumps(summarize(rows), indent=2))
    return out / "accuracy.csv"
