"""`nmsat verilog`: write the core's Verilog and a JSON sidecar of its configuration."""

import json
from pathlib import Path

import click

from nmsat import atomic
from nmsat.config import load_config


@click.command("verilog")
@click.option("--config", "config_file", required=True, type=click.Path(dir_okay=False),
              help="accelerator config TOML (e.g. configs/hw-small.toml)")
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="output folder")
def command(config_file, out_dir):
    """Generate <out>/nmsat_core.sv (interface: docs/hw-interface.md) and <out>/nmsat_core.json."""
    from nmsat.core_params import core_params
    from nmsat.hw.validate import TOPLEVEL, core_verilog
    from nmsat.sim.tile import OS_OVERHEAD, WS_OVERHEAD

    cfg = load_config(config_file)
    params = core_params(cfg)  # unsupported configurations fail here, before anything is written
    out = Path(out_dir)
    sidecar = {"toplevel": TOPLEVEL, "core": params.to_dict(), "ws_overhead": WS_OVERHEAD,
               "os_overhead": OS_OVERHEAD, "config": cfg.to_dict()}
    atomic.write_text(out / f"{TOPLEVEL}.sv", core_verilog(params))
    atomic.write_text(out / f"{TOPLEVEL}.json", json.dumps(sidecar, indent=2) + "\n")
    click.echo(f"wrote {out / f'{TOPLEVEL}.sv'} and {out / f'{TOPLEVEL}.json'}")
