"""Verilog text of an Amaranth component, patched so every simulator evaluates it from time 0."""

import os
import re
from functools import lru_cache

os.environ.setdefault("AMARANTH_USE_YOSYS", "builtin")

from amaranth.back import verilog  # noqa: E402

# Yosys makes every `always @*` block read a dummy register, declared `reg \$auto$verilog_backend...  = 0;`.
_DUMMY = re.compile(r"^(\s*)reg (\\\$auto\$verilog_backend\S*)\s+= 0;$", re.MULTILINE)


def kick_at_time_zero(text):
    """Flip each module's dummy register at ``#0``, so that every ``always @*`` block runs once at time 0.

    Icarus starts no ``always @*`` block at time 0, so outputs of logic fed only by initialised registers stay X
    (Amaranth issues 594 and 1629). ``always_comb`` would run them, but Icarus 11 loops forever inside one time
    step on some of Amaranth's ``always_comb`` blocks (a whole random GEMM never passed its first tile). The
    flip is one event in the inactive region of time 0, after every block waits on it. Verilator, which evaluates
    all logic at time 0 and wants no delays without ``--timing``, does not see it.
    """
    return _DUMMY.sub(r"\1reg \2 = 0;\n`ifndef VERILATOR\n\1initial #0 \2 = 1'h1;\n`endif", text)


def to_verilog(component, name, platform=None):
    """Verilog of `component` with top module `name` (elaborated for `platform`), its ``always @*`` blocks
    kicked at time 0."""
    return kick_at_time_zero(verilog.convert(component, name=name, emit_src=False, platform=platform))


CORE_TOP, SYSTEM_TOP = "nmsat_core", "nmsat_system"


@lru_cache(maxsize=8)
def core_verilog(params, dsp="generic"):
    """Verilog of the accelerator core (top `CORE_TOP`) for `params`, its multipliers with their registers in
    the fabric (`dsp` "generic") or ECP5 MULT18X18D primitives ("ecp5"); cached: conversion takes seconds."""
    from nmsat.hw.core import Core
    from nmsat.hw.datapath.multiplier import ECP5_DSP

    return to_verilog(Core(params), CORE_TOP, platform=ECP5_DSP if dsp == "ecp5" else None)


@lru_cache(maxsize=8)
def system_verilog(params, words):
    """Verilog of the core with the deterministic memory model of `words` words (top `SYSTEM_TOP`)."""
    from nmsat.hw.tb.system import System

    return to_verilog(System(params, words), SYSTEM_TOP)
