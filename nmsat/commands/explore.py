"""`nmsat explore`: a co-design sweep (config keys x workloads x methods x patterns) with Pareto fronts."""

from pathlib import Path

import click

from nmsat import atomic
from nmsat.errors import NmsatError
from nmsat.explore import spec as spec_io


@click.command("explore")
@click.argument("spec_file", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="results CSV (default: <spec name>.csv beside the spec); the plots and summary go beside it")
@click.option("--resume", is_flag=True, help="keep the points the CSV already has and simulate only the rest")
@click.option("--ray", "use_ray", is_flag=True, help="spread the points over a local Ray (2 CPUs)")
@click.option("--ray-address", help="run on an existing Ray cluster at this address (e.g. 10.0.0.2:6379)")
def command(spec_file, output, resume, use_ray, ray_address):
    """Simulate every point of SPEC_FILE (TOML; see nmsat/explore/spec.py) and write results, fronts, summary."""
    from nmsat.explore.outputs import write_outputs
    from nmsat.explore.run import run

    spec = spec_io.load(spec_file)
    out = Path(output) if output else Path(spec_file).with_name(f"{spec.name}.csv")
    if out.suffix != ".csv":
        raise NmsatError(f"output file {str(out)!r}: use a .csv name")
    atomic.check_output(out, (spec_file, spec.config, spec.accuracy, *(w.trace for w in spec.workloads)),
                        (out.with_suffix(".md"),))
    rows = run(spec, out, resume=resume, ray=use_ray, ray_address=ray_address)
    paths = write_outputs(rows, spec.objectives, spec.name, out)
    ok = sum(r["status"] == "ok" for r in rows)
    click.echo(f"{len(rows)} points ({ok} valid, {len(rows) - ok} invalid) -> {out}")
    for p in paths:
        click.echo(f"wrote {p}")
