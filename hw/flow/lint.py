"""Verilator lint of generated Verilog, with the waivers docs/hw-interface.md justifies."""

import subprocess

from nmsat.hw.flow.cocotb_sim import verilator_bin

# Each waived warning is an artefact of Amaranth's Verilog back end (see docs/hw-interface.md, "Lint").
LINT_WAIVERS = ("DECLFILENAME", "UNUSEDSIGNAL", "WIDTHEXPAND", "WIDTHTRUNC", "PROCASSINIT", "CASEINCOMPLETE")


def lint(path, toplevel):
    """Run ``verilator --lint-only -Wall`` (minus `LINT_WAIVERS`) on `path`; returns (ok, messages)."""
    cmd = [str(verilator_bin() / "verilator"), "--lint-only", "-Wall", "--top-module", toplevel,
           *(f"-Wno-{w}" for w in LINT_WAIVERS), str(path)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return result.returncode == 0 and "%Warning" not in result.stderr, result.stderr
