"""`nmsat verilog`: write the core's Verilog and a JSON sidecar of its configuration."""

import json
from pathlib import Path

import click

from nmsat import atomic
from nmsat.config import load_config


@click.command("verilog")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="accelerator config TOML or shipped name (default: the shipped default config, which is "
                   "larger than the build limit; try 'hw-small')")
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="output folder")
def command(config_file, out_dir):
    """Generate <out>/nmsat_core.sv (interface: docs/hw-interface.md) and <out>/nmsat_core.json."""
    from nmsat.hw.params import check_buildable, core_params
    from nmsat.hw.validate import TOPLEVEL, core_verilog
    from nmsat.sim.tile import OS_OVERHEAD, WS_OVERHEAD

    files = (Path(out_dir) / f"{TOPLEVEL}.sv", Path(out_dir) / f"{TOPLEVEL}.json")
    atomic.check_folder(out_dir, [f.name for f in files], (config_file,))
    cfg = load_config(config_file)
    params = core_params(cfg)  # unsupported configurations fail here, before anything is written
    check_buildable(params)
    sidecar = {"toplevel": TOPLEVEL, "core": params.to_dict(), "ws_overhead": WS_OVERHEAD,
               "os_overhead": OS_OVERHEAD, "config": cfg.to_dict()}
    sidecar_text = json.dumps(sidecar, indent=2, allow_nan=False) + "\n"
    atomic.write_text(files[0], core_verilog(params))
    atomic.write_text(files[1], sidecar_text)
    click.echo(f"wrote {files[0]} and {files[1]}")
