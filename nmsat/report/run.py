"""Runs everything the report needs, saying what it does as it goes, then builds the report."""

from pathlib import Path

import click

from nmsat.determinism import pin_cpu_kernels, pinned_text
from nmsat.report import collect, methods
from nmsat.report.build import build_report
from nmsat.trace import METHODS

SPEED_RESULTS = Path("benchmarks/results/sim_vs_scalesim.json")
ACCURACY_MODELS = ("digits_cnn", "mlp")
ACCURACY_METHODS = METHODS
ACCURACY_PATTERNS = ("2:4", "1:4", "2:8")
TRAIN_BATCH = 64  # the accuracy sweep's training batch
SIM_BATCH = 32  # the batch of every simulated workload


def say(msg):
    """One progress line on stderr."""
    click.echo(f"[nmsat] {msg}", err=True)


def accuracy_rows(runs, accuracy_csv, seeds, epochs, models=ACCURACY_MODELS, patterns=ACCURACY_PATTERNS):
    """Accuracy cells from an existing sweep CSV, or from a fresh sweep whose runs go into `runs`."""
    if accuracy_csv is None:
        pin_cpu_kernels()  # before torch loads: the same accuracy on every x86-64 machine with AVX2
        import torch

        from nmsat.algo.sweep import accuracy_sweep

        torch.set_num_threads(1)  # tiny models: one thread is fastest and immune to oversubscription

        say(f"training {', '.join(models)} on digits: {', '.join(ACCURACY_METHODS)} x "
            f"{', '.join(patterns)} x {seeds} seeds, {epochs} epochs")
        accuracy_csv = accuracy_sweep(runs, models=models, methods=ACCURACY_METHODS,
                                      patterns=patterns, seeds=tuple(range(seeds)), epochs=epochs,
                                      batch=TRAIN_BATCH)
    return collect.accuracy(accuracy_csv)


def rtl_rows(hw_cfg, cases):
    """Random whole GEMMs on the Verilator-built RTL against the model; [] when `cases` is 0."""
    if cases == 0:
        return []
    from nmsat.hw.tb.validate import run_validation

    say(f"running {cases} random GEMMs on the RTL (Verilator) against the exact engine model")
    return [{"simulator": "verilator", **r} for r in run_validation(hw_cfg, cases, "verilator", seed=0)]


def area_rows(hw_cfg, enabled):
    """Yosys area of the small array, dense-only versus dense + N:M; None when disabled."""
    if not enabled:
        return None
    from nmsat.hw.flow.area import area_report

    say("synthesising the PE and array with Yosys (dense-only and dense + N:M), and the whole core flat")
    return area_report(hw_cfg, whole=True)


def workload_traces(model="resnet18", size="cifar", pattern="2:8", batch=SIM_BATCH):
    """The traces of one workload under each training method."""
    return {m: collect.workload(model, size, batch, m, pattern) for m in ("dense", "srste", "bdwp")}


def method_traces(patterns=ACCURACY_PATTERNS, workload=methods.SPEED_MODEL, batch=32):
    """{(method, pattern): trace} of the methods table's workload (dense once, pattern None)."""
    model, size = workload
    return {(m, p): collect.workload(model, size, batch, m, p)
            for m in METHODS for p in ([None] if m == "dense" else patterns)}


def make_report(out, cfg, accuracy_csv, seeds, epochs, rtl_cases, hw_cfg, area, speed_models=None,
                runs=Path("out/report-runs"), method_patterns=ACCURACY_PATTERNS, method_model=methods.SPEED_MODEL,
                design_space=False, config_path=None, design_space_fmax="none"):
    """Gather every section and write the report into `out`; returns the headline numbers.

    The training-methods table simulates `method_model` at `method_patterns`.
    Without `accuracy_csv` the accuracy sweep trains into `runs` (checkpoints, traces: not for the report).
    With `design_space` the report gains the Pareto fronts of a sweep over the config at `config_path`, with
    time per step at each design's PE Fmax when `design_space_fmax` is "pe" (`nmsat.explore.fmax`).
    """
    out = Path(out)
    acc = accuracy_rows(Path(runs), accuracy_csv, seeds, epochs)
    models = speed_models or collect.SPEEDUP_MODELS
    say(f"simulating training steps of {', '.join(m for m, _ in models)} x {', '.join(collect.SPEEDUP_PATTERNS)}: "
        "dense, SR-STE, BDWP")
    speed = collect.speedups(cfg, models=models, batch=SIM_BATCH)
    say("BDWP 2:8 steps with the integer and the bf16 datapath, times at the PEs' measured Fmax")
    datapath = collect.arithmetic_rows(cfg, models=models, batch=SIM_BATCH)
    say("taking the projected model's assumptions away one at a time (BDWP 2:8 speedups)")
    steps = collect.projection_steps(cfg, models=models, batch=SIM_BATCH)
    say("non-GEMM work of the same models on the projected vector unit (BDWP 2:8 vs dense)")
    nongemm = collect.nongemm(cfg, models=models)
    traces = workload_traces()
    say("energy, schedules and per-layer time of ResNet-18 (CIFAR, 2:8)")
    energy = collect.energy(cfg, traces)
    passes = collect.pass_breakdown(cfg, traces)
    sched = collect.schedules(cfg, traces["bdwp"])
    layer_time = collect.time_breakdown(cfg, traces["bdwp"])
    say(f"training methods table: {method_model[0]} ({method_model[1]}) steps of every method x "
        f"{', '.join(method_patterns)}, CPU overhead from {methods.CPU_RESULTS}")
    cpu, cpu_meta = methods.cpu_overheads()
    method_table = methods.method_rows(cfg, acc, method_traces(method_patterns, method_model), cpu)
    rtl = rtl_rows(hw_cfg, rtl_cases)
    area_data = area_rows(hw_cfg, area)
    trained = accuracy_csv is None
    settings = {"seeds": f"0..{seeds - 1}" if trained else f"from {accuracy_csv}",
                "epochs": epochs if trained else f"from {accuracy_csv}",
                "training batch": TRAIN_BATCH if trained else f"from {accuracy_csv}",
                "torch threads": 1 if trained else f"from {accuracy_csv}",
                "CPU kernels": pinned_text() if trained else f"from {accuracy_csv}",
                "simulated batch": SIM_BATCH, "RTL cases": rtl_cases, "RTL seed": 0, "RTL/area config": hw_cfg.name}
    design = None
    if design_space:
        from nmsat.report import design_space as ds

        say(f"design-space sweep (nmsat explore) over {', '.join(ds.SWEEP)} for {', '.join(m for m, _ in models)}")
        design = ds.collect(models, out, config_path, design_space_fmax)
    say(f"writing the report to {out}/")
    return build_report(out, cfg, acc, speed, steps, passes, energy, sched, layer_time, rtl, area_data,
                        collect.sim_speed(SPEED_RESULTS), settings, nongemm, (method_table, cpu_meta), design,
                        datapath)
