"""`nmsat demo`: train on digits, export traces, simulate, emit Verilog and write a report, in minutes."""

from pathlib import Path

import click

from nmsat import atomic, trace
from nmsat.config import load_config
from nmsat.determinism import pin_cpu_kernels
from nmsat.report.build import REPORT_FILES
from nmsat.report.collect import accuracy
from nmsat.report.run import SIM_BATCH, make_report, say, workload_traces

DEMO_MODELS = (("resnet18", "cifar"), ("resnet9", "cifar"))


def _train(out, seeds, epochs):
    """Digits CNN dense and BDWP 2:8 per seed; returns the accuracy CSV path and a real BDWP trace."""
    pin_cpu_kernels()  # before torch loads: the same accuracy on every x86-64 machine with AVX2
    import torch

    from nmsat.algo.sweep import accuracy_sweep

    torch.set_num_threads(1)  # tiny models: one thread is fastest and immune to oversubscription
    say(f"training the digits CNN on scikit-learn digits: dense and BDWP 2:8, seeds {list(seeds)}")
    acc = accuracy_sweep(out, models=("digits_cnn",), methods=("dense", "bdwp"), patterns=("2:8",),
                         seeds=seeds, epochs=epochs, progress=True)
    return acc, out / f"digits_cnn_bdwp_2-8_s{seeds[0]}" / "trace_last.json"


def _simulate(cfg, traces, label):
    """Simulate dense / SR-STE / BDWP hardware on `traces` ({mode: Trace}); print and return cycles."""
    from nmsat.sim.network import simulate

    cycles = {mode: simulate(t, cfg, mode, "best", True).total_cycles for mode, t in traces.items()}
    say(f"{label}: " + ", ".join(f"{m} {c:,} cycles ({cycles['dense'] / c:.2f}x)" for m, c in cycles.items()))
    return cycles


@click.command()
@click.option("-o", "--out", "out_dir", default="out/demo", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the runs, traces, Verilog and the demo report.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Accelerator TOML or shipped name (default: default).")
@click.option("--hw-config", default="hw-small", show_default=True, type=click.Path(dir_okay=False),
              help="Small array for the Verilog, RTL check and area (TOML or shipped name).")
@click.option("--seeds", default=2, show_default=True, type=click.IntRange(1), help="Seeds per training method.")
@click.option("--epochs", default=15, show_default=True, type=click.IntRange(1), help="Training epochs per run.")
@click.option("--rtl-cases", default=8, show_default=True, type=click.IntRange(0),
              help="Random tiles checked on the Verilator-built RTL against the model; 0 skips it.")
@click.pass_context
def command(ctx, out_dir, config_path, hw_config, seeds, epochs, rtl_cases):
    """Train, trace, simulate, generate Verilog and report: the whole flow on the default config."""
    from nmsat.commands.verilog import command as verilog
    from nmsat.core_params import check_buildable, core_params

    out = Path(out_dir)
    atomic.check_folder(out / "report", REPORT_FILES, (config_path, hw_config))
    atomic.check_folder(out / "verilog")
    cfg, hw_cfg = load_config(config_path), load_config(hw_config)
    check_buildable(core_params(hw_cfg))
    acc_csv, trace_path = _train(out / "train", tuple(range(seeds)), epochs)
    real = trace.load(trace_path)
    say(f"replaying the real BDWP 2:8 masks of {trace_path} on the {cfg.array.rows}x{cfg.array.cols} array")
    digits = _simulate(cfg, {m: real for m in ("dense", "srste", "bdwp")}, f"digits CNN step (batch {real.batch})")
    resnet = _simulate(cfg, workload_traces(), f"ResNet-18 CIFAR step (batch {SIM_BATCH})")
    say(f"writing Verilog of the {hw_cfg.array.rows}x{hw_cfg.array.cols} array to {out / 'verilog'}/")
    ctx.invoke(verilog, config_file=hw_config, out_dir=str(out / "verilog"))
    headline = make_report(out / "report", cfg, accuracy_csv=acc_csv, seeds=seeds, epochs=epochs, rtl_cases=rtl_cases,
                           hw_cfg=hw_cfg, area=False, speed_models=DEMO_MODELS)
    click.echo(f"\nreport: {headline['report']}")
    for cell in accuracy(acc_csv):
        label = "dense" if cell["method"] == "dense" else f"{cell['method']} {cell['pattern']}"
        click.echo(f"digits CNN test accuracy, {label}: {cell['mean']:.4f} "
                   f"(+- {cell['std']:.4f}, {cell['seeds']} seeds)")
    click.echo(f"digits CNN step, BDWP 2:8 vs dense: {digits['dense'] / digits['bdwp']:.2f}x")
    click.echo(f"ResNet-18 CIFAR training step, BDWP 2:8 vs dense: {resnet['dense'] / resnet['bdwp']:.2f}x, "
               f"SR-STE: {resnet['dense'] / resnet['srste']:.2f}x")
