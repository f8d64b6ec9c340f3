"""`nmsat report`: regenerate the Markdown + PNG report (accuracy, speedup, energy, schedules, RTL, area)."""

from pathlib import Path

import click

from nmsat import atomic
from nmsat.config import load_config
from nmsat.report.build import REPORT_FILES
from nmsat.report.collect import SPEEDUP_MODELS
from nmsat.report.run import make_report


@click.command()
@click.option("-o", "--out", "out_dir", default="reports", show_default=True, type=click.Path(file_okay=False),
              help="Folder to write README.md, the PNGs and data.json into.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Accelerator TOML or shipped name (default: default).")
@click.option("--accuracy", "accuracy_csv", type=click.Path(dir_okay=False),
              help="Use this accuracy sweep CSV instead of training (columns model,method,pattern,seed,test_acc).")
@click.option("--seeds", default=3, show_default=True, type=click.IntRange(1), help="Seeds per accuracy cell.")
@click.option("--epochs", default=15, show_default=True, type=click.IntRange(1), help="Training epochs per run.")
@click.option("--rtl-cases", default=120, show_default=True, type=click.IntRange(0),
              help="Random whole GEMMs run on the RTL (Verilator) for the validation table; 0 skips it.")
@click.option("--hw-config", default="hw-small", show_default=True, type=click.Path(dir_okay=False),
              help="Small array for RTL validation and area (TOML or shipped name).")
@click.option("--no-area", is_flag=True, help="Skip Yosys synthesis.")
@click.option("--model", "models", multiple=True, type=click.Choice([m for m, _ in SPEEDUP_MODELS]),
              help="Models of the speedup section (repeat; default: all five).")
@click.option("--design-space", is_flag=True,
              help="Add the Pareto fronts of an `nmsat explore` sweep over array shape, multipliers per PE and "
                   "supported patterns for the report's models (writes design_space.csv).")
@click.option("--design-space-fmax", type=click.Choice(["none", "pe"]), default="none", show_default=True,
              help="pe: place and route each swept design's PE (ECP5, nextpnr; minutes, cached) and put the "
                   "design-space fronts at time per step at Fmax")
def command(out_dir, config_path, accuracy_csv, seeds, epochs, rtl_cases, hw_config, no_area, models, design_space,
            design_space_fmax):
    """Write the report folder (Markdown + PNG + data.json) and print its headline numbers."""
    atomic.check_folder(out_dir, REPORT_FILES, (accuracy_csv, config_path, hw_config))
    cfg = load_config(config_path)
    chosen = tuple(mi for mi in SPEEDUP_MODELS if mi[0] in models) or None
    headline = make_report(Path(out_dir), cfg, accuracy_csv=accuracy_csv, seeds=seeds, epochs=epochs,
                           rtl_cases=rtl_cases, hw_cfg=load_config(hw_config), area=not no_area,
                           speed_models=chosen, design_space=design_space, config_path=config_path,
                           design_space_fmax=design_space_fmax)
    click.echo(f"report: {headline['report']}")
    click.echo(f"BDWP 2:8 mean simulated training speedup: {headline['bdwp_2_8_mean_speedup']:.2f}x")
