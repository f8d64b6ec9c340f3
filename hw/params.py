"""Hardware parameters of the core derived from an `AcceleratorConfig`, and what the RTL cannot build."""

from dataclasses import dataclass

from nmsat.errors import NmsatError
from nmsat.nm import NMPattern

# Largest core `nmsat verilog` and `nmsat area` build: Verilog generation grows with the PE count and the
# scratchpad size. One run each on the 2-core project machine (load 1.5-3.5): 4x4 with 2.3 KiB of
# scratchpads 5 s; 16x16 with 38 KiB 45 s, 0.4 GB; 4x4 with 1280 KiB 33 s, 0.6 GB; the 32x32 default
# (1280 KiB) did not finish in 120 s. Ctrl-C stopped the 16x16 build within 3 s.
MAX_BUILD_PES = 256
MAX_BUILD_SPAD_KIB = 1280


@dataclass(frozen=True)
class CoreParams:
    """Sizes of the datapath and scratchpads (see docs/hw-interface.md for every derived width)."""

    rows: int
    cols: int
    mults: int  # P
    data_width: int  # D
    acc_width: int  # A
    patterns: tuple  # NMPattern, in config order; mode k >= 1 is patterns[k - 1], mode 0 is dense
    w_depth: int
    a_depth: int
    o_depth: int
    max_groups: int = 1  # WS row groups: largest power of two <= max_row_groups dividing R

    @property
    def e_max(self):
        """Activation elements per array row per cycle: P * max(m/n), P when dense only."""
        return max([self.mults] + [self.mults * p.m // p.n for p in self.patterns])

    @property
    def idx_width(self):
        """Bits of one stored in-group index: log2 of the largest m (1 when dense only)."""
        return max([1] + [p.index_bits for p in self.patterns])

    @property
    def mode_width(self):
        """Bits of the mode field: mode 0 is dense, mode k is the k-th configured pattern."""
        return max(1, len(self.patterns).bit_length())

    @property
    def group_width(self):
        """Bits of the command's groups field (log2 G, 0 .. log2 max_groups; min 1)."""
        return max(1, (self.max_groups.bit_length() - 1).bit_length())

    @property
    def group_sizes(self):
        """The legal row-group counts G: 1, 2, 4, .. max_groups."""
        return tuple(1 << i for i in range(self.max_groups.bit_length()))

    @property
    def group_levels(self):
        """``(log2 G, h = R/G)`` for each legal G, the value of the command's groups field and the group height."""
        return tuple((i, self.rows >> i) for i in range(self.max_groups.bit_length()))

    @property
    def count_width(self):
        """Bits of the command's count field (ceil(T/G) stream steps for WS, S for OS)."""
        return max(self.a_depth, self.w_depth).bit_length()

    @property
    def w_row_bits(self):
        return self.cols * self.mults * (self.data_width + self.idx_width)

    @property
    def a_row_bits(self):
        return self.rows * self.e_max * self.data_width

    @property
    def o_row_bits(self):
        return self.max_groups * self.cols * self.acc_width

    def mode_of(self, pattern):
        """Mode number of `pattern` ('n:m' or `NMPattern`; None is dense)."""
        return 0 if pattern is None else 1 + self.patterns.index(NMPattern.parse(pattern))

    def to_dict(self):
        """Plain-data form for JSON sidecars and testbenches."""
        return {"rows": self.rows, "cols": self.cols, "mults": self.mults, "data_width": self.data_width,
                "acc_width": self.acc_width, "patterns": [str(p) for p in self.patterns],
                "w_depth": self.w_depth, "a_depth": self.a_depth, "o_depth": self.o_depth,
                "e_max": self.e_max, "idx_width": self.idx_width, "mode_width": self.mode_width,
                "count_width": self.count_width, "max_groups": self.max_groups, "group_width": self.group_width}


def _depth(kib, row_bits):
    return int(kib * 8192) // row_bits


def _max_groups(rows, max_row_groups):
    g = 1
    while 2 * g <= max_row_groups and rows % (2 * g) == 0:
        g *= 2
    return g


def core_params(cfg):
    """`CoreParams` of `cfg`; `NmsatError` (one line) for a configuration the RTL does not implement."""
    a, mem = cfg.array, cfg.memory
    if set(a.dataflows) != {"ws", "os"}:
        raise NmsatError(f"config [array] dataflows = {list(a.dataflows)}: the RTL implements both 'ws' and "
                         "'os' and needs both listed")
    p = CoreParams(rows=a.rows, cols=a.cols, mults=a.mults_per_pe, data_width=a.data_width,
                   acc_width=a.acc_width, patterns=tuple(a.patterns), w_depth=0, a_depth=0, o_depth=0,
                   max_groups=_max_groups(a.rows, a.max_row_groups))
    depths = {"weight_spad_kib": _depth(mem.weight_spad_kib, p.w_row_bits),
              "act_spad_kib": _depth(mem.act_spad_kib, p.a_row_bits),
              "out_spad_kib": _depth(mem.out_spad_kib, p.o_row_bits)}
    for key, depth in depths.items():
        if depth < a.rows:
            raise NmsatError(f"config [memory] {key} = {getattr(mem, key)}: holds {depth} rows of this "
                             f"array, the RTL needs at least rows = {a.rows}")
    return CoreParams(**{**p.__dict__, "w_depth": depths["weight_spad_kib"],
                         "a_depth": depths["act_spad_kib"], "o_depth": depths["out_spad_kib"]})


def check_buildable(params):
    """Raise `NmsatError` if the core is larger than `MAX_BUILD_PES` PEs or `MAX_BUILD_SPAD_KIB` of scratchpads."""
    pes = params.rows * params.cols
    if pes > MAX_BUILD_PES:
        raise NmsatError(f"a {params.rows}x{params.cols} array ({pes} PEs) is too big to build here (limit "
                         f"{MAX_BUILD_PES} PEs, e.g. 16x16); use a smaller config such as 'hw-small'")
    kib = (params.w_depth * params.w_row_bits + params.a_depth * params.a_row_bits
           + params.o_depth * params.o_row_bits) / 8192
    if kib > MAX_BUILD_SPAD_KIB:
        raise NmsatError(f"scratchpads of {kib:g} KiB are too big to build here (limit {MAX_BUILD_SPAD_KIB} KiB); "
                         "use a smaller config such as 'hw-small'")
