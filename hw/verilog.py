"""Verilog text of an Amaranth component, patched so every simulator evaluates it from time 0."""

import os
import re

os.environ.setdefault("AMARANTH_USE_YOSYS", "builtin")

from amaranth.back import verilog  # noqa: E402

_ALWAYS_STAR = re.compile(r"\balways\s*@\*")


def fix_always_comb(text):
    """Replace ``always @*`` by ``always_comb`` (Icarus never runs ``always @*`` at time 0)."""
    return _ALWAYS_STAR.sub("always_comb", text)


def to_verilog(component, name):
    """Verilog (SystemVerilog-2012 for ``always_comb``) of `component` with top module `name`."""
    return fix_always_comb(verilog.convert(component, name=name, emit_src=False))
