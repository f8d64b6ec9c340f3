"""The sweep spec of `nmsat explore`: a TOML file of config-key values, workloads, methods, patterns, objectives.

```toml
name = "shapes"                      # names the outputs
config = "configs/base.toml"         # optional base config (default: the shipped one)
methods = ["dense", "bdwp"]          # hardware modes (nmsat.sim.modes)
patterns = ["2:8", "2:4"]            # N:M patterns of the sparse methods
objectives = ["time", "energy"]      # minimised; any of time, energy, area, multipliers, cycles, -accuracy
area = "none"                        # none | yosys | estimate  (see nmsat.explore.area)
area_fit = "fit.json"                # optional: the estimate's data (default benchmarks/results/area_fit.json)
fmax = "none"                        # none | pe | core: place and route for Fmax (see nmsat.explore.fmax)
fmax_seeds = 1                       # nextpnr seeds 1..N per design; Fmax is their median
accuracy = "runs/accuracy.csv"       # optional: digits sweep results (`nmsat train`)

[sweep]                              # config keys: a list, or a range table
"array.rows" = [16, 32]
"array.cols" = {start = 16, stop = 64, step = 16}       # 16, 32, 48, 64 (stop included)
"array.mults_per_pe" = {start = 2, stop = 8, factor = 2} # 2, 4, 8
"array.patterns" = [["2:4", "2:8"], ["2:8"]]

[[workload]]                         # one table per workload
model = "resnet50"                   # built-in name (or package.module:factory with shape = "3,32,32")
input = "imagenet"
batch = 32
[[workload]]
trace = "runs/x/trace_last.json"     # or a trace file
```
"""

import itertools
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from nmsat.config import default_config
from nmsat.errors import NmsatError
from nmsat.explore.area import MODES as AREA_MODES
from nmsat.explore.fmax import MODES as FMAX_MODES
from nmsat.nm import NMPattern
from nmsat.sim.modes import MODES

OBJECTIVES = ("time", "energy", "area", "multipliers", "cycles", "-accuracy")
MAX_SEEDS = 20
_TOP = {"name", "config", "methods", "patterns", "objectives", "area", "area_fit", "fmax", "fmax_seeds", "accuracy",
        "sweep", "workload"}
_WORKLOAD = {"model", "input", "batch", "shape", "trace"}


@dataclass(frozen=True)
class Workload:
    """One workload: a model to trace (built-in or factory) or a trace file."""

    model: str | None = None
    input: str = "cifar"
    batch: int = 32
    shape: str | None = None
    trace: str | None = None

    @property
    def label(self):
        return f"trace:{Path(self.trace).name}" if self.trace else f"{self.model}/{self.input}/b{self.batch}"


@dataclass(frozen=True)
class Spec:
    """A validated sweep spec; `points` expands it."""

    name: str
    config: str | None
    keys: tuple  # swept config keys, "section.key"
    values: tuple  # per key, the tuple of values
    workloads: tuple
    methods: tuple
    patterns: tuple
    objectives: tuple
    area: str = "none"
    area_fit: str | None = None  # None: the shipped fit data (nmsat.explore.area_model.DEFAULT_DATA)
    fmax: str = "none"
    fmax_seeds: int = 1
    accuracy: str | None = None
    base_dir: Path = field(default=Path("."))

    def hardware(self):
        """Every combination of the swept values, as {key: value} dicts, in spec order."""
        return [dict(zip(self.keys, combo, strict=True)) for combo in itertools.product(*self.values)]

    def runs(self):
        """(method, pattern) pairs: dense once (pattern None), each sparse method with each pattern."""
        out = []
        for m in self.methods:
            out += [(m, None)] if m == "dense" else [(m, p) for p in self.patterns]
        return out

    def points(self):
        """Every point: (hardware overrides, workload, method, pattern)."""
        return [(hw, w, m, p) for hw in self.hardware() for w in self.workloads for m, p in self.runs()]


def _fail(source, msg):
    raise NmsatError(f"explore spec {source}: {msg}")


def _expand(source, key, v):
    """A swept key's values: a non-empty list, or {start, stop, step} / {start, stop, factor} (stop included)."""
    if isinstance(v, list):
        if not v:
            _fail(source, f"[sweep] {key!r}: empty list")
        return tuple(tuple(x) if isinstance(x, list) else x for x in v)
    if not isinstance(v, dict):
        _fail(source, f"[sweep] {key!r} = {v!r}: use a list or a table {{start, stop, step | factor}}")
    extra = set(v) - {"start", "stop", "step", "factor"}
    if extra or not {"start", "stop"} <= set(v) or ("step" in v) == ("factor" in v):
        _fail(source, f"[sweep] {key!r} = {v!r}: a range needs start, stop and one of step, factor")
    start, stop = v["start"], v["stop"]
    nums = (start, stop, v.get("step", v.get("factor")))
    if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in nums):
        _fail(source, f"[sweep] {key!r} = {v!r}: start, stop, step/factor must be numbers")
    out, x = [], start
    if "step" in v:
        if v["step"] <= 0:
            _fail(source, f"[sweep] {key!r}: step = {v['step']!r} must be > 0")
        while x <= stop:
            out.append(x)
            x += v["step"]
    else:
        if v["factor"] <= 1 or start <= 0:
            _fail(source, f"[sweep] {key!r}: factor must be > 1 and start > 0")
        while x <= stop:
            out.append(x)
            x *= v["factor"]
    if not out:
        _fail(source, f"[sweep] {key!r} = {v!r}: the range is empty")
    return tuple(out)


def _key(source, key):
    section, _, name = key.partition(".")
    known = default_config().to_dict()
    if not isinstance(known.get(section), dict) or name not in known[section]:
        _fail(source, f"[sweep] {key!r}: not a config key 'section.key' (e.g. array.rows, memory.bus_bytes)")
    return key


def _workload(source, i, w):
    if not isinstance(w, dict) or set(w) - _WORKLOAD:
        _fail(source, f"[[workload]] {i}: keys are {', '.join(sorted(_WORKLOAD))}")
    if ("model" in w) == ("trace" in w):
        _fail(source, f"[[workload]] {i}: give exactly one of model, trace")
    batch = w.get("batch", 32)
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        _fail(source, f"[[workload]] {i}: batch = {batch!r} must be a positive integer")
    if "trace" in w and set(w) - {"trace"}:
        _fail(source, f"[[workload]] {i}: a trace file takes no model, input, batch or shape")
    return Workload(model=w.get("model"), input=w.get("input", "cifar"), batch=batch, shape=w.get("shape"),
                    trace=w.get("trace"))


def _strings(source, key, v, allowed=None):
    if not isinstance(v, list) or not v or not all(isinstance(x, str) for x in v):
        _fail(source, f"{key} = {v!r}: expected a non-empty list of strings")
    for x in v:
        if allowed is not None and x not in allowed:
            _fail(source, f"{key}: unknown {x!r} (use {', '.join(allowed)})")
    return tuple(dict.fromkeys(v))


def parse(data, source="spec", base_dir=Path(".")):
    """A `Spec` from the TOML's dict; `NmsatError` naming the first bad value."""
    extra = set(data) - _TOP
    if extra:
        _fail(source, f"unknown key {sorted(extra)[0]!r} (keys: {', '.join(sorted(_TOP))})")
    sweep = data.get("sweep", {})
    if not isinstance(sweep, dict):
        _fail(source, "[sweep] must be a table of config keys")
    keys = tuple(_key(source, k) for k in sweep)
    values = tuple(_expand(source, k, sweep[k]) for k in keys)
    workloads = data.get("workload")
    if not isinstance(workloads, list) or not workloads:
        _fail(source, "needs at least one [[workload]]")
    methods = _strings(source, "methods", data.get("methods", ["bdwp"]), MODES)
    patterns = _strings(source, "patterns", data.get("patterns", ["2:8"]))
    for p in patterns:
        NMPattern.parse(p)
    objectives = _strings(source, "objectives", data.get("objectives", ["time", "energy"]), OBJECTIVES)
    area = data.get("area", "none")
    if area not in AREA_MODES:
        _fail(source, f"area = {area!r}: use one of {', '.join(AREA_MODES)}")
    if "area" in objectives and area == "none":
        _fail(source, "objective 'area' needs area = \"yosys\" or \"estimate\"")
    fmax = data.get("fmax", "none")
    if fmax not in FMAX_MODES:
        _fail(source, f"fmax = {fmax!r}: use one of {', '.join(FMAX_MODES)}")
    seeds = data.get("fmax_seeds", 1)
    if not isinstance(seeds, int) or isinstance(seeds, bool) or not 1 <= seeds <= MAX_SEEDS:
        _fail(source, f"fmax_seeds = {seeds!r}: expected an integer 1..{MAX_SEEDS}")
    for key in ("name", "config", "accuracy", "area_fit"):
        if key in data and not isinstance(data[key], str):
            _fail(source, f"{key} = {data[key]!r}: expected a string")

    def path(p):
        return None if p is None else str(base_dir / p)

    return Spec(name=data.get("name", "explore"), config=path(data.get("config")), keys=keys, values=values,
                workloads=tuple(_workload(source, i, w) for i, w in enumerate(workloads)),
                methods=methods, patterns=patterns, objectives=objectives, area=area,
                area_fit=path(data.get("area_fit")), fmax=fmax, fmax_seeds=seeds,
                accuracy=path(data.get("accuracy")), base_dir=base_dir)


def load(path):
    """Read and validate a spec file; relative paths in it are relative to the file."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise NmsatError(f"explore spec {str(path)!r}: {e.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise NmsatError(f"explore spec {str(path)!r}: malformed TOML: {e}") from None
    spec = parse(data, repr(str(path)), path.parent)
    traces = [w for w in spec.workloads if w.trace]
    return Spec(**{**spec.__dict__, "workloads": tuple(
        Workload(trace=str(path.parent / w.trace)) if w.trace else w for w in spec.workloads)}) if traces else spec
