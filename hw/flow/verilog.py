"""Verilog text of an Amaranth component, patched so every simulator evaluates it from time 0."""

import os
import re
from functools import lru_cache

os.environ.setdefault("AMARANTH_USE_YOSYS", "builtin")

from amaranth.back import verilog  # noqa: E402

_ALWAYS_STAR = re.compile(r"\balways\s*@\*")


def fix_always_comb(text):
    """Replace ``always @*`` by ``always_comb`` (Icarus never runs ``always @*`` at time 0)."""
    return _ALWAYS_STAR.sub("always_comb", text)


def to_verilog(component, name):
    """Verilog (SystemVerilog-2012 for ``always_comb``) of `component` with top module `name`."""
    return fix_always_comb(verilog.convert(component, name=name, emit_src=False))


CORE_TOP, SYSTEM_TOP = "nmsat_core", "nmsat_system"


@lru_cache(maxsize=8)
def core_verilog(params):
    """Verilog of the accelerator core (top `CORE_TOP`) for `params` (cached: conversion takes seconds)."""
    from nmsat.hw.core import Core

    return to_verilog(Core(params), CORE_TOP)


@lru_cache(maxsize=8)
def system_verilog(params, words):
    """Verilog of the core with the deterministic memory model of `words` words (top `SYSTEM_TOP`)."""
    from nmsat.hw.tb.system import System

    return to_verilog(System(params, words), SYSTEM_TOP)
