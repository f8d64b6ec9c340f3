"""`nmsat workload`: the GEMMs and non-GEMM work of one training step of a model, with MACs per pass."""

import click

from nmsat import atomic
from nmsat.algo.models import INPUTS, MODELS
from nmsat.algo.workload import macs_by_pass, model_trace, nongemm_totals
from nmsat.atomic import csv_text
from nmsat.errors import NmsatError
from nmsat.trace import MAX_BATCH, METHODS


def _rows(trace):
    return [{"layer": g.layer, "pass": g.pass_, "m": g.m, "n": g.n, "k": g.k, "count": g.count,
             "sparse": str(g.sparse) if g.sparse else "", "macs": g.macs} for g in trace.gemms]


def _table(trace):
    lines = [f"{'layer':<34} {'pass':<4} {'M':>9} {'N':>6} {'K':>7} {'count':>5} {'sparse':>6} {'MACs':>14}"]
    lines += [f"{r['layer']:<34} {r['pass']:<4} {r['m']:>9} {r['n']:>6} {r['k']:>7} {r['count']:>5} "
              f"{r['sparse'] or '-':>6} {r['macs']:>14,}" for r in _rows(trace)]
    return "\n".join(lines)


def _csv(trace):
    return csv_text(_rows(trace), ["layer", "pass", "m", "n", "k", "count", "sparse", "macs"]).rstrip("\n")


def _summary(trace):
    lines = [f"{trace.model}: batch {trace.batch}, method {trace.method}, pattern {trace.pattern or '-'}"]
    total_d = total_e = 0
    for p, (dense, eff) in macs_by_pass(trace).items():
        lines.append(f"  {p}: {dense / 1e9:10.4f} GMACs dense, {eff / 1e9:10.4f} GMACs effective")
        total_d, total_e = total_d + dense, total_e + eff
    lines.append(f"  step: {total_d / 1e9:8.4f} GMACs dense, {total_e / 1e9:10.4f} GMACs effective")
    for p, (ops, elements, moved) in nongemm_totals(trace).items():
        lines.append(f"  non-GEMM {p}: {ops} ops, {elements / 1e6:.3f} M elements, {moved / 1e6:.3f} MB moved")
    return "\n".join(lines)


@click.command("workload")
@click.argument("model", required=False)
@click.option("--model", "model_option", help="same as MODEL")
@click.option("--input", "input_", type=click.Choice(list(INPUTS)), default="cifar", show_default=True,
              help="input size of a built-in model")
@click.option("--input-shape", "shape", help="one sample's shape for a factory model, e.g. 3,32,32 or 128,512")
@click.option("--batch", type=click.IntRange(1, MAX_BATCH), default=32, show_default=True)
@click.option("--method", type=click.Choice(list(METHODS)), default="bdwp", show_default=True)
@click.option("--pattern", default="2:8", show_default=True, help="N:M pattern (ignored by dense).")
@click.option("-o", "--out", "out", type=click.Path(dir_okay=False), help="Write the trace JSON here.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
def command(model, model_option, input_, shape, batch, method, pattern, out, fmt):
    """List the FF / BP / WG GEMMs and the non-GEMM work of one training step of MODEL (meta tensors: no
    compute). MODEL is a built-in name or package.module:factory / path/to/file.py:factory (a callable
    returning an nn.Module; give --input-shape)."""
    if (model is None) == (model_option is None):
        raise NmsatError(f"give the model once, as MODEL or --model (built-in: {', '.join(MODELS)})")
    if out is not None:
        atomic.check_output(out)
    trace = model_trace(model or model_option, input_, batch, method, pattern, shape)
    if out:
        trace.save(out)
    if fmt == "json":
        click.echo(trace.to_json())
        return
    click.echo(_table(trace) if fmt == "table" else _csv(trace))
    if fmt == "table":
        click.echo(_summary(trace))
