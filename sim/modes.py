"""Hardware modes: which GEMMs of a training step run N:M sparse.

* ``dense``: every GEMM dense.
* ``srste``: forward-only N:M hardware (SR-STE): FF sparse, BP and WG dense.
* ``bdwp``: bidirectional weight pruning: FF and BP sparse, WG dense.
* ``transposable``, ``bimask``: FF and BP sparse, WG dense, like ``bdwp``; they differ in how the masks
  are made (`nmsat.sim.mask_cost`).

Layers are sparse-capable ("prunable") if the trace marks any of their GEMMs sparse; in a trace with
no sparse GEMM at all (a dense-training trace) every weight layer (one with a WG GEMM) is prunable.
The pattern is the explicit one, else the trace's, else the first sparse GEMM's.
"""

from nmsat.errors import NmsatError
from nmsat.nm import NMPattern

MODES = ("dense", "srste", "bdwp", "transposable", "bimask")
SPARSE_PASSES = {"dense": (), "srste": ("FF",), "bdwp": ("FF", "BP"), "transposable": ("FF", "BP"),
                 "bimask": ("FF", "BP")}


def check_mode(mode):
    """Raise `NmsatError` unless `mode` is a known hardware mode."""
    if mode not in MODES:
        raise NmsatError(f"unknown mode {mode!r} (use {', '.join(MODES)})")


def trace_pattern(trace, pattern=None):
    """The N:M pattern to run sparse GEMMs with, or None if neither argument nor trace has one."""
    if pattern is not None:
        return NMPattern.parse(pattern)
    if trace.pattern is not None:
        return trace.pattern
    return next((g.sparse for g in trace.gemms if g.sparse is not None), None)


def gemm_patterns(trace, cfg, mode, pattern=None):
    """The pattern (or None for dense) each GEMM of `trace` runs with in `mode`, checked against `cfg`."""
    check_mode(mode)
    if mode == "dense":
        return [None] * len(trace.gemms)
    pat = trace_pattern(trace, pattern)
    if pat is None:
        raise NmsatError(f"mode {mode!r} needs an N:M pattern, and the trace {trace.model!r} has none")
    cfg.array.check_pattern(pat)
    marked = {g.layer for g in trace.gemms if g.sparse is not None}
    prunable = marked or {g.layer for g in trace.gemms if g.pass_ == "WG"}
    passes = SPARSE_PASSES[mode]
    return [pat if g.pass_ in passes and g.layer in prunable else None for g in trace.gemms]
