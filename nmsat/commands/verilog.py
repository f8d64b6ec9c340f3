"""`nmsat verilog`: write the core's Verilog and a JSON sidecar of its configuration."""

import json
from pathlib import Path

import click

from nmsat import atomic
from nmsat.config import load_config


@click.command("verilog")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="accelerator config TOML (e.g. configs/hw-small.toml; default: the shipped default)")
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="output folder")
@click.option("--memory-words", type=click.IntRange(min=0, max=1 << 24), default=0, show_default=True,
              help="also write nmsat_system.sv: the core with the deterministic memory model of this many words")
def command(config_file, out_dir, memory_words):
    """Generate <out>/nmsat_core.sv (interface: docs/hw-interface.md) and <out>/nmsat_core.json."""
    from nmsat.core_params import core_params
    from nmsat.hw.control.loop_engine import descriptor_fields
    from nmsat.hw.verilog import CORE_TOP, SYSTEM_TOP, core_verilog, system_verilog

    cfg = load_config(config_file)
    params = core_params(cfg)  # unsupported configurations fail here, before anything is written
    out = Path(out_dir)
    sidecar = {"toplevel": CORE_TOP, "core": params.to_dict(), "descriptor": descriptor_fields(params),
               "config": cfg.to_dict()}
    written = [out / f"{CORE_TOP}.sv", out / f"{CORE_TOP}.json"]
    texts = [core_verilog(params), json.dumps(sidecar, indent=2) + "\n"]
    if memory_words:
        written.append(out / f"{SYSTEM_TOP}.sv")
        texts.append(system_verilog(params, memory_words))
    for path, text in zip(written, texts, strict=True):
        atomic.write_text(path, text)
    click.echo("wrote " + ", ".join(str(p) for p in written))
