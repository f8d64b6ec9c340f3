"""What place-and-route measured for a config's generated design, so that a time printed at the config's
clock says whether that clock is met.

`nmsat timing` records each report it makes under ``$NMSAT_CACHE/timing/by-config`` (default
``~/.cache/nmsat``); `benchmarks/bench_timing.py` also merges its reports into the shipped
``nmsat/data/measured_fmax.json``. Both are keyed, per block (PE or core), by a hash of the config's hardware
parameters (`nmsat.core_params.CoreParams.to_dict`), of every source the block is generated from (its module
and each nmsat module it imports, transitively, found by reading the imports, without running them) and of
the timing flow's own sources, so a record only ever speaks for the exact design it measured: after a change
to any of those sources, that block of a config reads as not placed and routed until it is measured again,
while a block built without the changed file keeps its record (a loop-engine change leaves the PEs' records).
"""

import ast
import hashlib
import importlib.util
import json
from importlib import resources
from pathlib import Path

from nmsat.atomic import write_text
from nmsat.cache import cache_path
from nmsat.core_params import core_params
from nmsat.errors import NmsatError

SHIPPED = "measured_fmax.json"


BLOCK_MODULES = {"pe": "nmsat.hw.datapath.pe", "core": "nmsat.hw.core"}  # what `nmsat timing` places and routes
FLOW_MODULES = ("nmsat.hw.flow.timing", "nmsat.hw.flow.wrapper", "nmsat.hw.flow.yosys")  # how it measures them


def _package_roots():
    """{package: folder} of nmsat and its sub-packages that install from their own folders (hw, sim, algo)."""
    roots = {"nmsat": Path(importlib.util.find_spec("nmsat").submodule_search_locations[0])}
    for sub in ("hw", "sim", "algo"):
        roots[f"nmsat.{sub}"] = Path(importlib.util.find_spec(f"nmsat.{sub}").submodule_search_locations[0])
    return roots


def _module_file(name, roots):
    """Source file of nmsat module or package `name`, or None when `name` is not one (e.g. a class imported
    from one)."""
    parts = name.split(".")
    root = max((r for r in roots if parts[:len(r.split("."))] == r.split(".")), key=len, default=None)
    if root is None:
        return None
    path = roots[root].joinpath(*parts[len(root.split(".")):])
    return next((f for f in (path.with_suffix(".py"), path / "__init__.py") if f.is_file()), None)


def _imported(path):
    """Dotted names a source file imports, anywhere in it (``from a import b`` gives ``a`` and ``a.b``)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{a.name}" for a in node.names)


def rtl_source_files(block):
    """{module: file} of every nmsat source `block` ("pe" or "core") is generated from, and of the timing flow's
    own modules (`FLOW_MODULES`, not what they import: the flow builds either block)."""
    roots = _package_roots()
    found = {name: _module_file(name, roots) for name in FLOW_MODULES}
    todo = [BLOCK_MODULES[block]]
    while todo:
        name = todo.pop()
        path = None if name in found else _module_file(name, roots)
        if path is None:
            continue
        found[name] = path
        todo.extend(n for n in _imported(path) if n.startswith("nmsat"))
        todo.extend(".".join(name.split(".")[:i]) for i in range(1, len(name.split("."))))  # its packages
    return found


def _rtl_sources(block):
    """Hash of `rtl_source_files`: a record is for these sources only."""
    digest = hashlib.sha256()
    for name, path in sorted(rtl_source_files(block).items()):
        digest.update(name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def design_key(cfg, block):
    """Hash of the hardware `cfg` describes and of the sources its `block` is generated from; None when the RTL
    cannot build `cfg`."""
    try:
        params = core_params(cfg).to_dict()
    except NmsatError:
        return None
    return hashlib.sha256(json.dumps([params, _rtl_sources(block)], sort_keys=True).encode()).hexdigest()[:16]


def summary(report):
    """The part of a `timing_report` a record keeps: median Fmax per variant, seeds (the fewest a variant's
    median is over), device, tools."""
    return {"config": report["config"], "block": report["block"], "arith": report["arith"],
            "device": report["device"], "tools": report["tools"],
            "fmax_mhz": {name: v["fmax_median_mhz"] for name, v in report["variants"].items()},
            "seeds": min(sum(f is not None for f in v["fmax_mhz"]) for v in report["variants"].values())}


def _cache_dir():
    return cache_path("timing", "by-config")


def record(cfg, report):
    """Keep `report` (of `cfg`, already in the report's datapath) in the cache's records."""
    key = design_key(cfg, report["block"])
    if key is not None:
        write_text(_cache_dir() / f"{key}-{report['block']}.json", json.dumps(summary(report), indent=2) + "\n")


def ship(cfg, report):
    """Merge `report` (of `cfg`, in the report's datapath) into the shipped records (a development step:
    `benchmarks/bench_timing.py`, run in a source checkout)."""
    key = design_key(cfg, report["block"])
    if key is None:
        return
    rec = summary(report)
    same = ("config", "block", "arith")
    records = {k: v for k, v in shipped().items() if any(v[f] != rec[f] for f in same)}  # drop its old design's
    records[f"{key}-{report['block']}"] = rec
    write_text(Path(str(_shipped_file())), json.dumps(dict(sorted(records.items())), indent=2) + "\n")


def _shipped_file():
    return resources.files("nmsat").joinpath(f"data/{SHIPPED}")


def shipped():
    """{``key-block``: summary} measured on the project's machine and shipped with the package."""
    path = _shipped_file()
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def lookup(cfg):
    """{block: summary} of the measurements of `cfg`'s design: this machine's cache, else the shipped ones."""
    found = {}
    ship = shipped()
    for block in BLOCK_MODULES:
        key = design_key(cfg, block)
        if key is None:
            return {}
        path = _cache_dir() / f"{key}-{block}.json"
        if path.exists():
            found[block] = json.loads(path.read_text())
        elif f"{key}-{block}" in ship:
            found[block] = ship[f"{key}-{block}"]
    return found


def clock_line(cfg, cycles, sparse):
    """One line on the config's clock for a run of `cycles`: whether place-and-route met it and, when it did
    not, the run's time and static energy at the measured Fmax (the whole core's where measured, else the
    PE's: an upper bound; the N:M variant for a `sparse` run, else the dense-only one)."""
    clock = cfg.array.clock_mhz
    found = lookup(cfg)
    if not found:
        why = "the RTL cannot build this config" if design_key(cfg, "pe") is None else "not placed and routed"
        return (f"clock: {clock:g} MHz is the config's target ({why}; `nmsat timing --config F` measures the "
                "generated PE or core)")
    block = "core" if "core" in found else "pe"
    rec = found[block]
    variant = "nm" if sparse and "nm" in rec["fmax_mhz"] else "dense"
    fmax = rec["fmax_mhz"][variant]
    where = "the whole core" if block == "core" else "one PE, an upper bound for the core"
    head = (f"clock: {clock:g} MHz is the config's target; place-and-route ({rec['device']}, {where}, "
            f"{'N:M' if variant == 'nm' else 'dense-only'}) closes at {fmax:g} MHz")
    if fmax >= clock:
        return head + ", so the target is met"
    seconds = cycles / (fmax * 1e6)
    static_mj = cfg.energy.static_mw * seconds  # mW x s = mJ
    return head + (f": the target is missed, and this run takes {seconds * 1e3:.3f} ms at {fmax:g} MHz "
                   f"(static energy {static_mj:.3f} mJ at that clock)")
