"""Runs a sweep: every point of a spec, in-process or on Ray, into a CSV that `resume` continues.

The driver resolves each workload's trace once (built-in models through the on-disk trace cache), then
simulates the points in-process or as Ray tasks (one per point; the traces and the base config go to the
object store once). Results are written atomically every few seconds and at the end, so an interrupted
sweep keeps what it finished and ``resume=True`` simulates only the points the CSV does not have yet.
"""

import csv
import time
from pathlib import Path

from tqdm import tqdm

from nmsat import atomic
from nmsat import trace as trace_io
from nmsat.config import load_config
from nmsat.errors import NmsatError
from nmsat.explore import area as area_mod
from nmsat.explore import fmax as fmax_mod
from nmsat.explore.point import RESULT_COLUMNS, build_config, hardware_label, point_id, simulate_point
from nmsat.trace_cache import cached_trace

WRITE_EVERY_S = 5.0


def columns(spec):
    """The CSV columns of a sweep's results, in order."""
    return ("point_id", "hardware", *spec.keys, "workload", "method", "pattern", *RESULT_COLUMNS,
            *area_mod.COLUMNS, "accuracy", "accuracy_seeds")


def _trace(workload, method, pattern):
    if workload.trace:
        return trace_io.load(workload.trace)
    return cached_trace(workload.model, workload.input, workload.batch, method, pattern, workload.shape)


def _accuracy_table(path):
    """{(model, method, pattern): (mean test accuracy, seeds)} from a digits sweep CSV."""
    if path is None:
        return {}
    from nmsat.report.collect import accuracy

    return {(r["model"], r["method"], r["pattern"]): (r["mean"], r["seeds"]) for r in accuracy(path)}


def read_results(path):
    """The rows of a results CSV (strings), or [] when it does not exist."""
    path = Path(path)
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _tasks(spec):
    """Every point as (id, identifying columns, hw, trace key, method, pattern), in spec order."""
    out = []
    for hw, w, method, pattern in spec.points():
        pid = point_id(hw, w.label, method, pattern)
        ident = {"point_id": pid, "hardware": hardware_label(hw), **{k: _cell(v) for k, v in hw.items()},
                 "workload": w.label, "method": method, "pattern": pattern or "dense"}
        key = (w, None, None) if w.trace else (w, method, pattern)  # a trace file serves every method
        out.append((pid, ident, hw, key, method, pattern))
    return out


def _cell(v):
    return "+".join(map(str, v)) if isinstance(v, tuple) else v


def _in_process(jobs, base, traces):
    for pid, hw, key, method, pattern in jobs:
        yield pid, simulate_point(base, hw, traces[key], method, pattern)


def _join_cluster(ray, address):
    """Connect to the Ray cluster at `address`, with its authentication token when this machine has one.

    Ray 2.60 turns token authentication on for a cluster it starts (``ray start --head``, ``ray.init()``)
    whenever a token exists (``~/.ray/auth_token``, written by the first local ``ray.init()``), but
    ``ray.init(address=...)`` with an explicit address never sends it: the GCS then refuses every call
    ("InvalidAuthToken") and the driver retries for about 20 s before a bare "Failed to connect". So the
    token mode is switched on here as Ray does itself for ``address="auto"`` (unless ``RAY_AUTH_MODE`` is set).
    """
    from ray._private.authentication.authentication_token_setup import maybe_enable_token_auth_if_token_available

    maybe_enable_token_auth_if_token_available(warn_if_disabled=False)
    try:
        ray.init(address=address, log_to_driver=False)
    except (ConnectionError, RuntimeError, ray.exceptions.AuthenticationError) as e:
        raise NmsatError(f"--ray-address {address!r}: {str(e).splitlines()[0]} (a cluster with token "
                         "authentication needs its token here: RAY_AUTH_TOKEN or ~/.ray/auth_token)") from None
    if not ray.cluster_resources().get("CPU"):
        ray.shutdown()
        raise NmsatError(f"--ray-address {address!r}: the cluster has no CPUs, so no point would ever run")


def _on_ray(jobs, base, traces, address):
    import ray

    started = not ray.is_initialized()
    if started:
        if address:
            _join_cluster(ray, address)
        else:
            ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        remote = ray.remote(simulate_point)
        base_ref = ray.put(base)
        refs = {key: ray.put(t) for key, t in traces.items()}
        pending = {remote.remote(base_ref, hw, refs[key], method, pattern): pid
                   for pid, hw, key, method, pattern in jobs}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=min(len(pending), 8), timeout=1.0)
            for ref in done:
                yield pending.pop(ref), ray.get(ref)
    finally:
        if started:
            ray.shutdown()


def run(spec, out_csv, resume=False, ray=False, ray_address=None, progress=True):
    """Simulate every point of `spec` not yet in `out_csv` (with `resume`) and write all rows; returns them."""
    out_csv = Path(out_csv)
    cols = columns(spec)
    previous = read_results(out_csv) if resume else []
    if previous and list(previous[0]) != list(cols):
        raise NmsatError(f"--resume: {str(out_csv)!r} has other columns than this spec's results (another spec?)")
    done = {r["point_id"]: r for r in previous}
    base = load_config(spec.config).to_dict()
    tasks = _tasks(spec)
    todo = [t for t in tasks if t[0] not in done]
    traces = {}
    for _, _, _, key, _, _ in todo:
        if key not in traces:
            traces[key] = _trace(*key)
    if todo and spec.fmax != "none":
        fmax_mod.check_tools()
    if todo:
        area_mod.check_tools(spec.area, spec.area_fit)
    acc = _accuracy_table(spec.accuracy)
    areas, fmaxes = {}, {}
    results = dict(done)
    by_id = {t[0]: t for t in tasks}
    jobs = [(pid, hw, key, method, pattern) for pid, _, hw, key, method, pattern in todo]
    last = time.monotonic()

    def finish(pid, res):
        _, ident, hw, (w, _, _), _, _ = by_id[pid]
        row = {**ident, **res, **dict.fromkeys(area_mod.COLUMNS), "accuracy": None, "accuracy_seeds": None}
        label = ident["hardware"]
        if res["status"] == "ok" and spec.fmax != "none":
            cfg = build_config(base, hw)
            f = fmax_mod.cached_measure(fmaxes, label, cfg, spec.fmax, spec.fmax_seeds)
            row.update(fmax_mod.fmax_columns(res, cfg, f, spec.fmax, spec.fmax_seeds))
        if res["status"] == "ok" and spec.area != "none":
            if label not in areas:
                areas[label] = area_mod.area_columns(build_config(base, hw), spec.area, spec.area_fit)
            row.update(areas[label])
        if w.model:
            mean, seeds = acc.get((w.model, row["method"], row["pattern"]), (None, None))
            row.update(accuracy=mean, accuracy_seeds=seeds)
        results[pid] = row

    def write():
        ordered = [results[t[0]] for t in tasks if t[0] in results]
        atomic.write_csv(out_csv, ordered, cols)

    engine = _on_ray(jobs, base, traces, ray_address) if (ray or ray_address) else _in_process(jobs, base, traces)
    with tqdm(total=len(tasks), initial=len(tasks) - len(todo), desc="points", unit="pt", disable=not progress) as bar:
        for pid, res in engine:
            finish(pid, res)
            bar.update()
            if time.monotonic() - last > WRITE_EVERY_S:
                write()
                last = time.monotonic()
    write()
    return read_results(out_csv)
