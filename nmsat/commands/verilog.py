"""`nmsat verilog`: write the core's Verilog and a JSON sidecar of its configuration."""

import json
from pathlib import Path

import click

from nmsat import atomic
from nmsat.config import load_config


@click.command("verilog")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="accelerator config TOML or shipped name (default: the shipped default config, above the "
                   "size limit: see --allow-large; 'hw-small' builds in seconds)")
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="output folder")
@click.option("--allow-large", is_flag=True,
              help="build a core above the size limit anyway (the 32x32 default: minutes and GBs)")
@click.option("--memory-words", type=click.IntRange(min=0, max=1 << 24), default=0, show_default=True,
              help="also write nmsat_system.sv: the core with the deterministic memory model of this many words")
@click.option("--dsp", type=click.Choice(["generic", "ecp5"]), default="generic", show_default=True,
              help="multipliers with their registers in the fabric (any tool), or as ECP5 MULT18X18D primitives "
                   "with their own registers (what `nmsat timing` places and routes; to simulate, add a model of "
                   "the primitive such as hw/tb/mult18x18d.v)")
def command(config_file, out_dir, allow_large, memory_words, dsp):
    """Generate <out>/nmsat_core.sv (interface: docs/hw-interface.md) and <out>/nmsat_core.json."""
    from nmsat.core_params import check_buildable, core_params
    from nmsat.hw.control.loop_engine import descriptor_fields
    from nmsat.hw.flow.verilog import CORE_TOP, SYSTEM_TOP, core_verilog, system_verilog

    out = Path(out_dir)
    names = [f"{CORE_TOP}.sv", f"{CORE_TOP}.json"] + ([f"{SYSTEM_TOP}.sv"] if memory_words else [])
    atomic.check_folder(out_dir, names, (config_file,))
    cfg = load_config(config_file)
    params = core_params(cfg)  # unsupported configurations fail here, before anything is written
    if not allow_large:
        check_buildable(params, "--allow-large builds it anyway (minutes and GBs), or use a smaller config "
                                "such as 'hw-small'")
    sidecar = {"toplevel": CORE_TOP, "dsp": dsp, "core": params.to_dict(), "descriptor": descriptor_fields(params),
               "config": cfg.to_dict()}
    texts = [core_verilog(params, dsp), json.dumps(sidecar, indent=2, allow_nan=False) + "\n"]
    if memory_words:
        texts.append(system_verilog(params, memory_words))
    for name, text in zip(names, texts, strict=True):
        atomic.write_text(out / name, text)
    click.echo("wrote " + ", ".join(str(out / n) for n in names))
