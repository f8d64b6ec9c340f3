"""`nmsat simulate`: simulate a training step on the accelerator, one schedule or all of them."""

import json
from pathlib import Path

import click
from click.core import ParameterSource
from tqdm import tqdm

from nmsat import atomic
from nmsat import trace as trace_io
from nmsat.config import load_config
from nmsat.errors import NmsatError
from nmsat.nm import NMPattern
from nmsat.sim import network, schedules, timeline
from nmsat.sim.layer import DATAFLOW_POLICIES
from nmsat.sim.modes import MODES, trace_pattern


def _check_options(ctx, model, trace_file, config_file, output, timeline_file):
    """Conflicting options and unusable outputs, refused before any work."""
    if (model is None) == (trace_file is None):
        raise NmsatError("give exactly one of --model NAME or --trace FILE")
    if trace_file is not None:
        for name in ("batch", "input_name"):
            if ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, None):
                flag = "--input" if name == "input_name" else "--batch"
                raise NmsatError(f"{flag} applies to --model only; a --trace file has its own")
    inputs = (trace_file, config_file)
    if output is not None:
        atomic.check_output(output, inputs, (timeline_file,))
        if Path(output).suffix not in (".csv", ".json"):
            raise NmsatError(f"output file {output!r}: use a .csv or .json name")
    if timeline_file is not None:
        atomic.check_output(timeline_file, inputs, (output,))


def _workload(model, trace_file, input_name, batch, pattern):
    if trace_file is not None:
        return trace_io.load(trace_file)
    from nmsat.algo.workload import model_trace  # lazy: it imports torch

    return model_trace(model, input=input_name, batch=batch, method="bdwp", pattern=pattern)


def _write(path, rows, document):
    if Path(path).suffix == ".json":
        atomic.write_text(path, json.dumps(document, indent=2, allow_nan=False))
    else:
        atomic.write_csv(path, rows)


def _table(rows, columns):
    widths = {c: max(len(c), *(len(f"{r[c]}") for r in rows)) for c in columns}
    lines = ["  ".join(f"{c:>{widths[c]}}" for c in columns)]
    lines += ["  ".join(f"{r[c]:>{widths[c]}}" for c in columns) for r in rows]
    return "\n".join(lines)


def _schedule_view(rows):
    return [{"mode": r["mode"], "dataflow": r["dataflow"], "pregen": "yes" if r["pregen"] else "no",
             "cycles": f"{r['cycles']:,}", "ms": f"{r['seconds'] * 1e3:.2f}",
             "speedup": f"{r['speedup_vs_dense']:.3f}", "vs_dense_best": f"{r['speedup_vs_dense_best']:.3f}",
             "energy_mJ": f"{r['energy_pj'] * 1e-9:.3f}"} for r in rows]


@click.command("simulate")
@click.option("--model", help="model name for nmsat.algo.workload (e.g. resnet18)")
@click.option("--trace", "trace_file", type=click.Path(dir_okay=False), help="trace JSON file")
@click.option("--pattern", default=None, help="N:M pattern (default: the trace's; 2:8 for --model)")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="accelerator TOML")
@click.option("--mode", type=click.Choice(MODES), default="bdwp", show_default=True)
@click.option("--dataflow", type=click.Choice(DATAFLOW_POLICIES), default="best", show_default=True)
@click.option("--no-pregen", is_flag=True, help="put the update and top-N on the critical path")
@click.option("--input", "input_name", type=click.Choice(["cifar", "imagenet"]), default="cifar",
              show_default=True)
@click.option("--batch", type=click.IntRange(1, trace_io.MAX_BATCH), default=32, show_default=True,
              help="batch of the --model workload")
@click.option("--compare", is_flag=True, help="simulate every schedule and tabulate them")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="results .csv or .json")
@click.option("--timeline", "timeline_file", type=click.Path(dir_okay=False),
              help="Perfetto/Chrome trace JSON of the step")
@click.pass_context
def command(ctx, model, trace_file, pattern, config_file, mode, dataflow, no_pregen, input_name, batch, compare,
            output, timeline_file):
    """Simulate one training step of a model or trace on the accelerator."""
    _check_options(ctx, model, trace_file, config_file, output, timeline_file)
    cfg = load_config(config_file)
    if pattern is not None:
        pattern = cfg.array.check_pattern(NMPattern.parse(pattern))
    work = _workload(model, trace_file, input_name, batch, pattern or "2:8")
    if compare and pattern is not None and pattern != trace_pattern(work):
        raise NmsatError(f"--compare runs the trace's own pattern ({trace_pattern(work) or 'none'}); "
                         f"--pattern {pattern} differs")
    if compare:
        count = len(schedules.schedule_grid(work, cfg))
        with tqdm(total=count, desc="schedules", unit="sched", leave=False, disable=None) as bar:
            rows = schedules.compare(work, cfg, progress=bar.update)
        click.echo(_table(_schedule_view(rows), list(_schedule_view(rows[:1])[0])))
        per_layer = schedules.best_per_layer(work, cfg, mode)
        if output:
            _write(output, rows, {"model": work.model, "config": cfg.name, "schedules": rows,
                                  "best_per_layer": per_layer})
        best = min(rows, key=lambda r: r["cycles"])
        how = "pregen" if best["pregen"] else "no-pregen"
        click.echo(f"best schedule: {best['mode']}/{best['dataflow']}/{how}"
                   f", {best['speedup_vs_dense_best']:.3f}x over dense (best dataflow)")
        if timeline_file:
            top = network.simulate(work, cfg, best["mode"], best["dataflow"], best["pregen"], pattern)
            timeline.write_perfetto(top, timeline_file)
        return
    with tqdm(total=len(work.gemms), desc="GEMMs", unit="gemm", leave=False, disable=None) as bar:
        result = network.simulate(work, cfg, mode, dataflow, not no_pregen, pattern, progress=bar.update)
    s = result.summary()
    click.echo(f"{work.model} {mode}/{dataflow}/{'no-pregen' if no_pregen else 'pregen'}"
               f" pattern={s['pattern']}: {s['cycles']:,} cycles, {s['seconds'] * 1e3:.3f} ms at "
               f"{cfg.array.clock_mhz:g} MHz, {s['energy_pj'] * 1e-9:.3f} mJ")
    click.echo("energy (mJ): " + ", ".join(f"{k} {v * 1e-9:.3f}" for k, v in result.energy_pj.items()))
    if output:
        _write(output, result.to_rows(), {"summary": s, "layers": result.to_rows()})
    if timeline_file:
        timeline.write_perfetto(result, timeline_file)
