"""`nmsat area`: FPGA area (Yosys) of a config's PE, core and top-N unit, dense-only vs dense + N:M."""

import json

import click

from nmsat import atomic
from nmsat.config import load_config


@click.command("area")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="accelerator config TOML or shipped name (default: the shipped default config, which is "
                   "larger than the build limit; try 'hw-small')")
@click.option("--target", type=click.Choice(["xilinx", "ice40"]), default="xilinx", show_default=True,
              help="Yosys synthesis flow: synth_xilinx -noiopad (7-series cells) or synth_ice40")
@click.option("--flat", "--whole", "whole", is_flag=True,
              help="also synthesise each whole core flat: the headline overhead (PE x R*C + non-PE understates "
                   "it); small arrays only")
@click.option("--json", "json_file", type=click.Path(dir_okay=False), help="also write the report as JSON")
def command(config_file, target, whole, json_file):
    """Synthesise and print LUT/FF/DSP/BRAM/carry/LUT-RAM/MUXF counts (cached in ~/.cache/nmsat/area)."""
    from nmsat.core_params import check_buildable, core_params
    from nmsat.hw.flow.area import area_report, format_table

    if json_file is not None:
        atomic.check_output(json_file, (config_file,))
    cfg = load_config(config_file)
    check_buildable(core_params(cfg))
    report = area_report(cfg, target, whole)
    click.echo(format_table(report))
    if json_file:
        atomic.write_text(json_file, json.dumps(report, indent=2, allow_nan=False) + "\n")
        click.echo(f"wrote {json_file}")
