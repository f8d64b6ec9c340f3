"""`nmsat simulate`: simulate a training step on the accelerator, one schedule or all of them."""

import json
from pathlib import Path

import click
from click.core import ParameterSource
from tqdm import tqdm

from nmsat import atomic, measured_clock
from nmsat import trace as trace_io
from nmsat.config import load_config
from nmsat.errors import NmsatError
from nmsat.nm import NMPattern
from nmsat.sim import network, scalesim, schedules, timeline
from nmsat.sim.layer import DATAFLOW_POLICIES
from nmsat.sim.modes import MODES, trace_pattern


def _check_options(ctx, model, trace_file, topology, config_file, output, timeline_file):
    """Conflicting options and unusable outputs, refused before any work."""
    if topology is None and (model is None) == (trace_file is None):
        raise NmsatError("give exactly one of --model NAME, --trace FILE or --scalesim-topology FILE")
    if trace_file is not None:
        for name in ("batch", "input_name"):
            if ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, None):
                flag = "--input" if name == "input_name" else "--batch"
                raise NmsatError(f"{flag} applies to --model only; a --trace file has its own")
    inputs = (trace_file, config_file, topology)
    if output is not None:
        atomic.check_output(output, inputs, (timeline_file,))
        if Path(output).suffix not in (".csv", ".json"):
            raise NmsatError(f"output file {output!r}: use a .csv or .json name")
    if timeline_file is not None:
        atomic.check_output(timeline_file, inputs, (output,))


def _workload(model, trace_file, input_name, batch, pattern, shape):
    if trace_file is not None:
        return trace_io.load(trace_file)
    from nmsat.trace_cache import cached_trace  # built-in models from the trace cache; torch only on a miss

    return cached_trace(model, input_name, batch, "bdwp", pattern, shape)


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


def _vector_line(work, s):
    if not work.nongemm:
        return "vector unit (projected): the trace lists no non-GEMM work (a version 1 trace?)"
    return (f"vector unit (projected, between GEMMs, no overlap): {s['vector_cycles']:,} cycles for "
            f"{len(work.nongemm)} non-GEMM ops, {s['nongemm_share']:.1%} of the step; faster GEMMs alone can "
            f"speed this step up at most {s['gemm_speedup_cap']:.2f}x")


def _scalesim(topology, scalesim_cfg, cfg, training, mode, dataflow, pattern, others):
    """The (config, trace) of a SCALE-Sim topology (and config), for the forward pass or the whole step."""
    if others:
        raise NmsatError("--scalesim-topology replaces --model / --trace: give only one of them")
    forward = scalesim.read_topology(topology)
    support = True
    if scalesim_cfg is not None:
        cfg, support = scalesim.read_config(scalesim_cfg, cfg, [g.sparse for g in forward if g.sparse])
    if not training and pattern is not None:
        raise NmsatError("--pattern applies to --training; the forward pass uses the topology's Sparsity column")
    return cfg, scalesim.topology_trace(topology, training, sparsity=support)


def _forward(work, cfg, mode, dataflow, output):
    rows = scalesim.simulate_forward(work, cfg, dataflow, dense=mode == "dense")
    view = [{"layer": r["layer"], "M": r["m"], "N": r["n"], "K": r["k"], "count": r["count"],
             "sparse": r["sparse"] or "-", "dataflow": r["dataflow"], "compute": f"{r['compute_cycles']:,}",
             "cycles": f"{r['cycles']:,}"} for r in rows]
    click.echo(_table(view, list(view[0])))
    total, compute = sum(r["cycles"] for r in rows), sum(r["compute_cycles"] for r in rows)
    click.echo(f"{work.model} forward (SCALE-Sim topology, batch 1, layers one after another): {total:,} cycles "
               f"({compute:,} compute), {total / (cfg.array.clock_mhz * 1e3):.3f} ms at {cfg.array.clock_mhz:g} MHz")
    click.echo(measured_clock.clock_line(cfg, total, mode != "dense"))
    if output:
        _write(output, rows, {"model": work.model, "pass": "forward", "cycles": total, "compute_cycles": compute,
                              "layers": rows})


@click.command("simulate")
@click.option("--model", help="built-in model (e.g. resnet18) or package.module:factory / path/file.py:factory")
@click.option("--input-shape", "shape", help="one sample's shape for a factory model, e.g. 3,32,32")
@click.option("--trace", "trace_file", type=click.Path(dir_okay=False), help="trace JSON file")
@click.option("--scalesim-topology", "topology", type=click.Path(dir_okay=False),
              help="SCALE-Sim topology CSV (conv or GEMM form, optional Sparsity column); the forward pass "
                   "unless --training")
@click.option("--scalesim-config", "scalesim_cfg", type=click.Path(dir_okay=False),
              help="SCALE-Sim .cfg: array size, dataflow, SRAM sizes, bandwidth mode (with --scalesim-topology)")
@click.option("--training", is_flag=True, help="with --scalesim-topology: simulate the whole training step")
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
@click.option("--vector-unit/--no-vector-unit", "vector_unit", default=None,
              help="cost non-GEMM work on the PROJECTED vector unit (not in the RTL; default: the config's "
                   "[vector] enabled, off in the shipped config)")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="results .csv or .json")
@click.option("--timeline", "timeline_file", type=click.Path(dir_okay=False),
              help="Perfetto/Chrome trace JSON of the step")
@click.pass_context
def command(ctx, model, shape, trace_file, topology, scalesim_cfg, training, pattern, config_file, mode, dataflow,
            no_pregen, input_name, batch, compare, vector_unit, output, timeline_file):
    """Simulate one training step of a model or trace on the accelerator."""
    _check_options(ctx, model, trace_file, topology, config_file, output, timeline_file)
    cfg = load_config(config_file)
    if vector_unit is not None:
        cfg = cfg.replace(vector={"enabled": vector_unit})
    if pattern is not None:
        pattern = cfg.array.check_pattern(NMPattern.parse(pattern))
    if topology is None and (scalesim_cfg is not None or training):
        raise NmsatError("--scalesim-config and --training go with --scalesim-topology")
    if topology is not None:
        cfg, work = _scalesim(topology, scalesim_cfg, cfg, training, mode, dataflow, pattern,
                              model is not None or trace_file is not None)
        if not training:
            _forward(work, cfg, mode, dataflow, output)
            return
        if work.pattern is None and pattern is None and mode != "dense":
            mode = "dense"  # the topology has no N:M layer (or several patterns: see below)
            if any(g.sparse for g in work.gemms):
                raise NmsatError("--training runs one N:M pattern per step; the topology has several: give --pattern")
    else:
        work = _workload(model, trace_file, input_name, batch, pattern or "2:8", shape)
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
    click.echo(measured_clock.clock_line(cfg, s["cycles"], mode != "dense"))
    click.echo("energy (mJ): " + ", ".join(f"{k} {v * 1e-9:.3f}" for k, v in result.energy_pj.items()))
    if cfg.vector.enabled:
        click.echo(_vector_line(work, s))
    if output:
        _write(output, result.to_rows(), {"summary": s, "layers": result.to_rows()})
    if timeline_file:
        timeline.write_perfetto(result, timeline_file)
