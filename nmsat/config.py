"""Accelerator configuration: frozen, validated dataclasses loaded from TOML over shipped defaults.

A user TOML file only names what it changes; every other value comes from ``nmsat/data/default.toml``.
Unknown sections or keys, wrong types and impossible values raise `NmsatError` naming the bad value.
"""

import tomllib
from dataclasses import MISSING, asdict, dataclass, fields
from importlib import resources
from pathlib import Path

import tomli_w

from nmsat import checks
from nmsat.checks import integer, number, read_input
from nmsat.errors import NmsatError
from nmsat.nm import NMPattern

DATAFLOWS = ("ws", "os")
ARITHMETICS = ("int", "bf16")  # signed integers wrapped to acc_width; bf16 x bf16 -> fp32 (docs/hw-fp-mac.md)
SHIPPED = ("default", "hw-small", "hw-small-bf16")  # configs in nmsat/data/, loadable by name (``--config hw-small``)

# Allowed range of every numeric key, (low, high) inclusive; floats must also be finite and not denormal.
LIMITS = {
    "array": {"rows": (1, 4096), "cols": (1, 4096), "mults_per_pe": (1, 1024), "clock_mhz": (1e-3, 1e5),
              "data_width": (1, 64), "acc_width": (2, 256), "max_row_groups": (1, 4096),
              "fp_add_stages": (1, 7)},
    "memory": {"weight_spad_kib": (2**-10, 2**30), "act_spad_kib": (2**-10, 2**30),
               "out_spad_kib": (2**-10, 2**30), "bus_bytes": (4, 128), "read_latency": (2, 1024),
               "write_latency": (2, 1024)},
    "projection": {"dram_gbps": (1e-6, 1e6)},
    "topn": {"lanes": (1, 65536)},
    "vector": {"lanes": (1, 65536), "ops_per_lane_cycle": (1, 1024)},
    "energy": {},  # every energy: 0 .. ENERGY_MAX
}
ENERGY_MAX = 1e9  # pJ per action, mW static


def _require(cond, msg):
    if not cond:
        raise NmsatError(msg)


def _check_fields(obj, section):
    """Type- and range-check every field of a config section in place (ints, finite floats, strings)."""
    for f in fields(obj):
        name, v = f"config [{section}] {f.name}", getattr(obj, f.name)
        lo, hi = LIMITS[section].get(f.name, (0.0, ENERGY_MAX))
        if f.type is int:
            v = integer(name, v, lo, hi)
        elif f.type is float:
            v = number(name, v, lo, hi)
        elif f.type is bool:
            _require(isinstance(v, bool), f"{name} = {v!r}: expected true or false")
        elif f.type is tuple:
            _require(isinstance(v, list | tuple) and all(isinstance(x, str | NMPattern) for x in v),
                     f"{name} = {v!r}: expected a list of strings")
            v = tuple(v)
        object.__setattr__(obj, f.name, v)


@dataclass(frozen=True)
class ArrayConfig:
    """The systolic array: R x C PEs with P multipliers each, and what they can run."""

    rows: int
    cols: int
    mults_per_pe: int
    patterns: tuple
    dataflows: tuple
    clock_mhz: float
    data_width: int
    acc_width: int
    max_row_groups: int
    arithmetic: str = "int"
    fp_add_stages: int = 7

    def __post_init__(self):
        _check_fields(self, "array")
        _require(self.arithmetic in ARITHMETICS,
                 f"config [array] arithmetic = {self.arithmetic!r}: use one of {', '.join(ARITHMETICS)}")
        _require(self.arithmetic != "bf16" or (self.data_width, self.acc_width) == (16, 32),
                 f"config [array] arithmetic = 'bf16' needs data_width = 16 and acc_width = 32, got "
                 f"{self.data_width} and {self.acc_width}")
        g = self.max_row_groups
        _require(g & (g - 1) == 0, f"config [array] max_row_groups = {g}: must be a power of two")
        pats = tuple(NMPattern.parse(p) for p in self.patterns)
        object.__setattr__(self, "patterns", pats)
        for p in pats:
            _require(self.mults_per_pe % p.n == 0,
                     f"config [array] patterns: {p} needs N to divide mults_per_pe={self.mults_per_pe}")
            _require(p.m & (p.m - 1) == 0, f"config [array] patterns: {p} needs M to be a power of two")
        _require(len(set(pats)) == len(pats), f"config [array] patterns {[str(p) for p in pats]}: duplicate")
        _require(len(self.dataflows) > 0, "config [array] dataflows: need at least one of 'ws', 'os'")
        for d in self.dataflows:
            _require(d in DATAFLOWS, f"config [array] dataflows: unknown dataflow {d!r} (use 'ws' or 'os')")
        _require(len(set(self.dataflows)) == len(self.dataflows),
                 f"config [array] dataflows {list(self.dataflows)}: duplicate")
        _require(self.acc_width >= 2 * self.data_width,
                 f"config [array] acc_width = {self.acc_width}: must be >= 2 * data_width")

    def supports(self, pattern):
        """Whether this array runs `pattern` (None means dense, always supported)."""
        return pattern is None or NMPattern.parse(pattern) in self.patterns

    def check_pattern(self, pattern):
        """Raise `NmsatError` if the hardware cannot run `pattern`; return it parsed."""
        if pattern is None:
            return None
        p = NMPattern.parse(pattern)
        _require(p in self.patterns,
                 f"pattern {p} is not supported by this array (supported: "
                 f"{', '.join(str(q) for q in self.patterns) or 'dense only'})")
        return p

    def reduction_per_cycle(self, pattern):
        """Reduction elements one PE consumes per cycle: P dense, P*m/n under `pattern`."""
        if pattern is None:
            return self.mults_per_pe
        p = self.check_pattern(pattern)
        return self.mults_per_pe * p.m // p.n


@dataclass(frozen=True)
class MemoryConfig:
    """On-chip scratchpads (KiB, each split into two ping-pong banks) and the memory behind the AXI4 port.

    The memory is deterministic: it returns a read burst's first beat ``read_latency`` cycles after its
    address handshake and one beat of ``bus_bytes`` per cycle after that (bursts back to back, in order),
    accepts writes at one beat per cycle and answers each write burst ``write_latency`` cycles after its
    last beat. The RTL's testbench memory and `nmsat.sim` both implement exactly this.
    """

    weight_spad_kib: float
    act_spad_kib: float
    out_spad_kib: float
    bus_bytes: int
    read_latency: int
    write_latency: int

    def __post_init__(self):
        _check_fields(self, "memory")
        b = self.bus_bytes
        _require(b & (b - 1) == 0, f"config [memory] bus_bytes = {b}: must be a power of two from 4 to 128 "
                 "(AXI4 data widths)")

    def gbps(self, clock_mhz):
        """Peak bandwidth of the AXI4 port in GB/s at `clock_mhz` (one beat per cycle)."""
        return self.bus_bytes * clock_mhz * 1e6 / 1e9


@dataclass(frozen=True)
class ProjectionConfig:
    """What the *projected* model assumes beyond the RTL (off by default; every output says so when on).

    With ``enabled``: output-stationary and the other WS loop orders are searched too, memory is a bandwidth
    of ``dram_gbps`` with ``double_buffer`` overlap, convolution operands are fetched as the stored tensors
    (``onchip_im2col``), and with ``update_topn`` the FP32 weight update and top-N re-pruning are charged on
    their own units.
    """

    enabled: bool
    dram_gbps: float
    double_buffer: bool
    onchip_im2col: bool
    update_topn: bool

    def __post_init__(self):
        _check_fields(self, "projection")


@dataclass(frozen=True)
class TopNConfig:
    """The online top-N-of-M unit: L lanes, each taking m cycles per group."""

    lanes: int

    def __post_init__(self):
        _check_fields(self, "topn")


@dataclass(frozen=True)
class EnergyConfig:
    """Per-action energies (pJ) and static power (mW); defaults cite Horowitz, ISSCC 2014."""

    mac_pj: float
    mux_pj: float
    reg_pj_per_byte: float
    spad_small_pj_per_byte: float
    spad_medium_pj_per_byte: float
    spad_large_pj_per_byte: float
    dram_pj_per_byte: float
    fp32_update_pj: float
    topn_compare_pj: float
    static_mw: float

    def __post_init__(self):
        _check_fields(self, "energy")


@dataclass(frozen=True)
class VectorConfig:
    """A *projected* vector unit for non-GEMM work (norms, activations, softmax, pooling, adds): hardware
    the RTL does not have, so it is off unless ``enabled``. ``lanes`` lanes each do ``ops_per_lane_cycle``
    element operations per cycle at ``energy_pj_per_op`` each."""

    enabled: bool
    lanes: int
    ops_per_lane_cycle: int
    energy_pj_per_op: float

    def __post_init__(self):
        _check_fields(self, "vector")


_SECTIONS = {"array": ArrayConfig, "memory": MemoryConfig, "topn": TopNConfig, "energy": EnergyConfig,
             "projection": ProjectionConfig, "vector": VectorConfig}


@dataclass(frozen=True)
class AcceleratorConfig:
    """The whole accelerator: the one config object algo, sim and hw all read."""

    name: str
    array: ArrayConfig
    memory: MemoryConfig
    topn: TopNConfig
    energy: EnergyConfig
    projection: ProjectionConfig
    vector: VectorConfig

    def __post_init__(self):
        checks.text("config name", self.name, 200)
        for section, cls in _SECTIONS.items():
            _require(isinstance(getattr(self, section), cls), f"config [{section}]: expected a {cls.__name__}")

    def to_dict(self):
        """Plain-data form (patterns as 'n:m' strings), the inverse of `from_dict`."""
        d = asdict(self)
        d["array"]["patterns"] = [str(p) for p in self.array.patterns]
        d["array"]["dataflows"] = list(self.array.dataflows)
        return d

    def to_toml(self):
        """TOML text that `load_config` reads back to an equal config."""
        return tomli_w.dumps(self.to_dict())

    def replace(self, **sections):
        """A copy with some fields changed, e.g. ``cfg.replace(array={"rows": 8})``; validated."""
        d = self.to_dict()
        for section, changes in sections.items():
            if section == "name":
                d["name"] = changes
            else:
                d.setdefault(section, {}).update(changes)
        return from_dict(d)

    def with_arithmetic(self, arith):
        """This config with the datapath `arith` (None: as it is); bf16 brings its 16-bit operands and 32-bit
        accumulators."""
        if arith is None or arith == self.array.arithmetic:
            return self
        widths = {"data_width": 16, "acc_width": 32} if arith == "bf16" else {}
        return self.replace(array={"arithmetic": arith, **widths})


def _build_section(name, cls, values):
    if not isinstance(values, dict):
        raise NmsatError(f"config [{name}]: expected a table, got {values!r}")
    known = {f.name for f in fields(cls)}
    for key in values:
        _require(key in known, f"config [{name}]: unknown key {key!r}")
    for f in fields(cls):  # keys added later have defaults, so configs stored before them still load
        _require(f.name in values or f.default is not MISSING, f"config [{name}]: missing key {f.name!r}")
    return cls(**values)


def from_dict(data):
    """Build and validate an `AcceleratorConfig` from a complete plain dict."""
    if not isinstance(data, dict):
        raise NmsatError(f"config: expected a table, got {type(data).__name__}")
    for key in data:
        _require(key == "name" or key in _SECTIONS, f"config: unknown section or key {key!r}")
    name = checks.text("config name", data.get("name", "custom"), 200)
    sections = {s: _build_section(s, cls, data.get(s, {})) for s, cls in _SECTIONS.items()}
    return AcceleratorConfig(name=name, **sections)


def _read_toml(text, source):
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise NmsatError(f"{source}: malformed TOML: {e}") from None
    except RecursionError:
        raise NmsatError(f"{source}: nested too deeply") from None


def shipped_config_text(name):
    """The TOML text of a config shipped in ``nmsat/data/`` (one of `SHIPPED`)."""
    return resources.files("nmsat").joinpath(f"data/{name}.toml").read_text(encoding="utf-8")


def default_config():
    """The shipped default config (a SAT-class FPGA training accelerator)."""
    return from_dict(_read_toml(shipped_config_text("default"), "default.toml"))


def load_config(path=None):
    """Load a TOML config over the defaults; None gives the defaults.

    `path` is a TOML file, or the name of a config shipped with nmsat (`SHIPPED`, e.g. ``"hw-small"``),
    which works from any directory. A file of that name in the working directory wins.
    """
    base = default_config().to_dict()
    if path is None:
        return from_dict(base)
    path = Path(path)
    if str(path) in SHIPPED and not path.exists():
        text, source = shipped_config_text(str(path)), f"shipped config {str(path)!r}"
    else:
        source = f"config file {str(path)!r}"
        if not path.exists() and path.suffix != ".toml" and "/" not in str(path):
            raise NmsatError(f"{source}: no such file or shipped config (shipped: {', '.join(SHIPPED)})")
        text = read_input(path, "config file")
    user = _read_toml(text, source)
    for key, value in user.items():
        if key in _SECTIONS and isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return from_dict(base)
