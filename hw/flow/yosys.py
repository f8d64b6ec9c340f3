"""FPGA synthesis with the system Yosys (Debian 0.23): RTLIL in, primitive cell counts per module out.

Results are cached on disk under a key that hashes the design text, the script and the Yosys version,
so repeating a synthesis costs one file read.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

from nmsat.atomic import write_text
from nmsat.cache import cache_path
from nmsat.errors import NmsatError

# A register whose wire carries ``keep`` (a replicated control register, `nmsat.hw.replicas`) gets the
# attribute on its cell too, so that ``opt_merge`` keeps the copies apart.
KEEP_REGISTERS = "proc; setattr -set keep 1 w:* a:keep %i %ci1:+[Q] c:* %i"
TARGETS = {"xilinx": "synth_xilinx -noiopad", "ice40": "synth_ice40"}
_FLAT = {"xilinx": ("", " -flatten"), "ice40": (" -noflatten", "")}  # (hierarchical, flat) options
YOSYS = os.environ.get("NMSAT_YOSYS", "/usr/bin/yosys")
# Yosys 0.23 writes the hierarchy's text listing ("  name   count") into stat -json's output.
_HIER_LINE = re.compile(r"^ +[^\s\"{}]+ +\d+ *\n", re.MULTILINE)


def cache_dir():
    """Where synthesis results are kept: ``$NMSAT_CACHE/area`` (default ``~/.cache/nmsat/area``)."""
    return cache_path("area")


@lru_cache(maxsize=1)
def yosys_version():
    """The ``yosys -V`` line; `NmsatError` if Yosys is missing."""
    if not shutil.which(YOSYS):
        raise NmsatError(f"yosys not found at {YOSYS!r} (apt install yosys, or set NMSAT_YOSYS)")
    return subprocess.run([YOSYS, "-V"], capture_output=True, text=True, check=True).stdout.strip()


def script(top, target, blackbox=None, flatten=False):
    """The Yosys commands run on ``design.il``: optional blackboxing, synthesis, ``stat -json``."""
    if target not in TARGETS:
        raise NmsatError(f"synthesis target {target!r}: use one of {', '.join(TARGETS)}")
    cmds = ["read_rtlil design.il", KEEP_REGISTERS]
    if blackbox:
        cmds += [f"blackbox {blackbox}", f"hierarchy -top {top}"]
    cmds += [f"{TARGETS[target]} -top {top}{_FLAT[target][flatten]}", "tee -q -o stat.json stat -json"]
    return "; ".join(cmds)


def synthesize(rtlil, top, target="xilinx", blackbox=None, key=None, flatten=False):
    """Synthesise `rtlil` (text, or a function returning it) with top module `top`.

    Returns cell counts by type: ``{"modules": {name: counts}, "design": counts}`` (``stat -json``).
    `blackbox` is a Yosys module selection replaced by black boxes (their instances stay as cells);
    `flatten` lets Yosys optimise across module boundaries.
    `key` identifies the design for the cache (default: a hash of the text); it is required when
    `rtlil` is a function, which is then only called on a cache miss.
    """
    cmd = script(top, target, blackbox, flatten)
    ident = key if key is not None else hashlib.sha256(rtlil.encode()).hexdigest()
    digest = hashlib.sha256(json.dumps([ident, cmd, yosys_version()]).encode()).hexdigest()[:24]
    cached = cache_dir() / f"{digest}.json"
    if cached.exists():
        return json.loads(cached.read_text())
    with tempfile.TemporaryDirectory(prefix="nmsat-yosys-") as tmp:
        Path(tmp, "design.il").write_text(rtlil if isinstance(rtlil, str) else rtlil())
        run = subprocess.run([YOSYS, "-q", "-p", cmd], cwd=tmp, capture_output=True, text=True)
        if run.returncode != 0:
            tail = (run.stderr or run.stdout).strip().splitlines()[-3:]
            raise NmsatError(f"yosys failed on {top}: {' | '.join(tail)}")
        stat = json.loads(_HIER_LINE.sub("", Path(tmp, "stat.json").read_text()))
    result = {"modules": {name.lstrip("\\"): m["num_cells_by_type"] for name, m in stat["modules"].items()},
              "design": stat["design"]["num_cells_by_type"]}
    write_text(cached, json.dumps(result))
    return result
