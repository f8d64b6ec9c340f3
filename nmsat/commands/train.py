"""`nmsat train`: train on digits (dense / SR-STE / BDWP), one run or a sweep, with an accuracy table."""

import csv

import click

from nmsat import atomic, checks
from nmsat.determinism import pin_cpu_kernels
from nmsat.errors import NmsatError
from nmsat.nm import NMPattern
from nmsat.trace import METHODS


@click.command("train")
@click.option("--model", "models", multiple=True, default=["digits_cnn"], show_default=True,
              help="Model to train on digits (digits_cnn, mlp, or package.module:factory / path/file.py:factory "
                   "returning an nn.Module for 1x8x8 digits with 10 classes); repeat for several.")
@click.option("--method", "methods", multiple=True, default=["bdwp"], show_default=True,
              help=f"Training method ({', '.join(METHODS)}); repeat for several.")
@click.option("--pattern", "patterns", multiple=True, default=["2:8"], show_default=True,
              help="N:M pattern such as 2:8; repeat for several (ignored by dense).")
@click.option("--seed", "seeds", multiple=True, type=int, default=[0], show_default=True,
              help="Random seed (0 .. 2**63-1); repeat for several.")
@click.option("--epochs", type=int, default=10, show_default=True)
@click.option("--batch", type=int, default=64, show_default=True)
@click.option("--lr", type=float, default=0.05, show_default=True, help="Learning rate (finite, > 0).")
@click.option("--decay", type=float, default=2e-4, show_default=True, help="SR-STE lambda.")
@click.option("--interval", type=int, default=1, show_default=True, help="Mask update every k steps.")
@click.option("--threads", type=int, default=1, show_default=True, help="torch CPU threads (1 .. 256).")
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False), default="runs/train",
              show_default=True, help="Output folder: accuracy.csv, accuracy_summary.json, a folder per run.")
@click.option("--progress/--no-progress", default=True, show_default=True, help="tqdm progress bar.")
def command(models, methods, patterns, seeds, epochs, batch, lr, decay, interval, threads, out_dir, progress):
    """Train MODELs on scikit-learn digits for every method x pattern x seed; print the accuracy table.

    Every option is checked before torch is loaded or anything is written (models: before the first run)."""
    for method in methods:
        if method not in METHODS:
            raise NmsatError(f"unknown method {method!r} (use {', '.join(METHODS)})")
    for pattern in patterns:
        NMPattern.parse(pattern)
    checks.training(epochs, batch, lr, decay, interval, threads, seeds)
    atomic.check_folder(out_dir, ("accuracy.csv", "accuracy_summary.json"))
    pin_cpu_kernels()  # before torch loads: the same numbers on every x86-64 machine with AVX2
    from nmsat.algo.sweep import accuracy_sweep, summarize  # torch: only once the options are known good

    path = accuracy_sweep(out_dir, models, methods, patterns, seeds, epochs, progress=progress, batch=batch,
                          lr=lr, decay=decay, interval=interval, threads=threads)
    click.echo(f"{'model':<12} {'method':<7} {'pattern':<7} {'n':>2} {'mean acc':>9} {'std':>7}")
    with open(path) as f:
        rows = [{**r, "test_acc": float(r["test_acc"])} for r in csv.DictReader(f)]
    for cell, s in summarize(rows).items():
        model, method, pattern = cell.rsplit("/", 2)
        click.echo(f"{model:<12} {method:<7} {pattern:<7} {s['n']:>2} {s['mean']:>9.4f} {s['std']:>7.4f}")
    click.echo(f"wrote {out_dir}/accuracy.csv and {out_dir}/accuracy_summary.json")
