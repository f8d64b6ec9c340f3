"""Hardware geometry of the generated core, derived from an `AcceleratorConfig`: widths, scratchpad depths, bus.

Every width and depth here is documented in docs/hw-interface.md; `CoreParams.to_dict` is the JSON sidecar.
"""

from dataclasses import dataclass

from nmsat.errors import NmsatError
from nmsat.nm import NMPattern

ADDR_WIDTH = 32  # AXI4 address bits
MAX_BURST = 256  # AXI4 INCR burst beats
PAGE = 4096  # AXI4 bursts never cross a 4 KiB boundary
# Largest core `nmsat verilog` and `nmsat area` build by default: Verilog generation grows with the PE count
# and the scratchpad size. Measured once each on the 2-core project machine (load 1.5-3.5): 4x4 with 2.3 KiB
# of scratchpads 5 s; 16x16 with 38 KiB 45 s, 0.4 GB; 4x4 with 1280 KiB 33 s, 0.6 GB; the 32x32 default
# (1024 PEs, 7 MiB in both banks) about 7 minutes at load ~6. Ctrl-C stops a build within 3 s.
MAX_BUILD_PES = 256
MAX_BUILD_SPAD_KIB = 1280
FP_MUL_STAGES = 3  # bf16 datapath: operand registers, multiply, then normalise the product


def ws_pipeline(arith, mults, fp_add_stages):
    """The WS datapath's fixed timing, ``(front, chain, fold)``: cycles from a PE's activation input to the
    cycle it reads the partial sum from above (the window register at the PE's input, the selected operands'
    register, then the MAC's stages before the accumulate, the first its operand registers, which are the
    DSPs' input registers on the ECP5);
    cycles from that partial sum to the PE's own (the row-to-row skew: in bf16 the partial sum is registered
    as it enters the PE, then added); and the stages of the add that accumulates a fold onto the output tile
    (0: combinational). `fp_add_stages` (bf16 only) is the registers in every fp32 add
    (`nmsat.hw.datapath.fp_mac` lists what each count cuts)."""
    if arith == "bf16":
        s = fp_add_stages
        return 2 + FP_MUL_STAGES + mults * s, 1 + s, s
    return 5, 1, 0  # window, selected operands, DSP inputs, products, their sum; the accumulate; the int fold
    # add is combinational


def _cdiv(a, b):
    return -(-a // b)


@dataclass(frozen=True)
class CoreParams:
    """Sizes of the datapath, the ping-pong scratchpads and the AXI4 port."""

    rows: int
    cols: int
    mults: int  # P
    arith: str  # "int" or "bf16" (`nmsat.config.ARITHMETICS`)
    fp_add_stages: int  # registers per fp32 add (bf16)
    data_width: int  # D
    acc_width: int  # A
    patterns: tuple  # NMPattern, in config order; mode k >= 1 is patterns[k - 1], mode 0 is dense
    w_depth: int  # rows per bank
    a_depth: int
    o_depth: int
    max_groups: int  # WS row groups: largest power of two <= max_row_groups dividing R
    bus_bytes: int
    read_latency: int
    write_latency: int

    @property
    def e_max(self):
        """Activation elements per array row per cycle: P * max(m/n), P when dense only."""
        return max([self.mults] + [self.mults * p.m // p.n for p in self.patterns])

    def window(self, mode):
        """E of `mode` (0 dense, k the k-th pattern): reduction elements per PE per cycle."""
        if mode == 0:
            return self.mults
        p = self.patterns[mode - 1]
        return self.mults * p.m // p.n

    @property
    def modes(self):
        return tuple(range(len(self.patterns) + 1))

    @property
    def idx_width(self):
        """Bits of one stored in-group index: log2 of the largest m (0 when dense only: no index storage)."""
        return max([0] + [p.index_bits for p in self.patterns])

    @property
    def mode_width(self):
        """Bits of the mode field: mode 0 is dense, mode k is the k-th configured pattern."""
        return max(1, len(self.patterns).bit_length())

    @property
    def group_width(self):
        """Bits of the descriptor's groups field (log2 G, 0 .. log2 max_groups; min 1)."""
        return max(1, (self.max_groups.bit_length() - 1).bit_length())

    @property
    def group_sizes(self):
        """The row-group counts G the core has: 1, 2, 4, .. max_groups."""
        return tuple(1 << i for i in range(self.max_groups.bit_length()))

    @property
    def group_levels(self):
        """``(log2 G, h = R/G)`` for each G the core has."""
        return tuple((i, self.rows >> i) for i in range(self.max_groups.bit_length()))

    @property
    def bus_bits(self):
        return 8 * self.bus_bytes

    @property
    def lanes(self):
        """Operand elements per bus beat, V."""
        return self.bus_bits // self.data_width

    def groups_allowed(self, mode):
        """Row-group counts usable in `mode`: a group's activation slice ``(R/G)*E`` elements starts on a beat."""
        e = self.window(mode)
        return tuple(g for g in self.group_sizes if (self.rows // g) * e % self.lanes == 0)

    def w_value_bits(self):
        return self.cols * self.mults * self.data_width

    def w_row_image_bits(self, mode):
        """Bits of one weight row in memory: C*P values, then (N:M modes) C*P indices."""
        return self.cols * self.mults * (self.data_width + (self.idx_width if mode else 0))

    def w_beats(self, mode):
        """Bus beats of one weight row in memory (the row image padded to whole beats)."""
        return _cdiv(self.w_row_image_bits(mode), self.bus_bits)

    @property
    def w_row_bits(self):
        """Weight scratchpad row: the widest row image padded to whole beats."""
        return max(self.w_beats(m) for m in self.modes) * self.bus_bits

    @property
    def a_row_bits(self):
        """Activation scratchpad row: R*E_max elements (compact: the first R*E hold a row of the tile)."""
        return self.rows * self.e_max * self.data_width

    @property
    def o_row_bits(self):
        return self.max_groups * self.cols * self.acc_width

    @property
    def y_beats(self):
        """Bus beats of one output row piece: C accumulators."""
        return self.cols * self.acc_width // self.bus_bits

    @property
    def outstanding(self):
        """Read bursts the DMA keeps in flight: enough that beats stream back to back after the latency."""
        return 1 << (self.read_latency + 2).bit_length()

    @property
    def pipeline(self):
        """``(front, chain, fold)`` of this core's WS datapath (`ws_pipeline`)."""
        return ws_pipeline(self.arith, self.mults, self.fp_add_stages)

    def mode_of(self, pattern):
        """Mode number of `pattern` ('n:m' or `NMPattern`; None is dense)."""
        return 0 if pattern is None else 1 + self.patterns.index(NMPattern.parse(pattern))

    def to_dict(self):
        """Plain-data form for JSON sidecars and testbenches."""
        return {"rows": self.rows, "cols": self.cols, "mults": self.mults, "arithmetic": self.arith,
                "fp_add_stages": self.fp_add_stages,
                "data_width": self.data_width,
                "acc_width": self.acc_width, "patterns": [str(p) for p in self.patterns],
                "w_depth": self.w_depth, "a_depth": self.a_depth, "o_depth": self.o_depth,
                "e_max": self.e_max, "idx_width": self.idx_width, "mode_width": self.mode_width,
                "max_groups": self.max_groups, "group_width": self.group_width, "bus_bytes": self.bus_bytes,
                "read_latency": self.read_latency, "write_latency": self.write_latency,
                "w_row_bits": self.w_row_bits, "a_row_bits": self.a_row_bits, "o_row_bits": self.o_row_bits,
                "w_beats": [self.w_beats(m) for m in self.modes], "y_beats": self.y_beats,
                "outstanding": self.outstanding,
                "groups_allowed": [list(self.groups_allowed(m)) for m in self.modes]}


def _max_groups(rows, max_row_groups):
    g = 1
    while 2 * g <= max_row_groups and rows % (2 * g) == 0:
        g *= 2
    return g


def core_params(cfg):
    """`CoreParams` of `cfg`; `NmsatError` (one line) for a configuration the RTL does not implement."""
    a, mem = cfg.array, cfg.memory
    if "ws" not in a.dataflows:
        raise NmsatError(f"config [array] dataflows = {list(a.dataflows)}: the RTL's GEMM engine is "
                         "weight-stationary and needs 'ws' listed")
    base = CoreParams(rows=a.rows, cols=a.cols, mults=a.mults_per_pe, arith=a.arithmetic,
                      fp_add_stages=a.fp_add_stages, data_width=a.data_width,
                      acc_width=a.acc_width, patterns=tuple(a.patterns), w_depth=0, a_depth=0, o_depth=0,
                      max_groups=_max_groups(a.rows, a.max_row_groups), bus_bytes=mem.bus_bytes,
                      read_latency=mem.read_latency, write_latency=mem.write_latency)
    bus = base.bus_bits
    if a.data_width % 8 or bus % a.data_width:
        raise NmsatError(f"config [array] data_width = {a.data_width}: the RTL needs whole bytes that divide "
                         f"the {bus}-bit bus")
    if a.acc_width % 8 or bus % a.acc_width or (a.cols * a.acc_width) % bus:
        raise NmsatError(f"config [array] cols x acc_width = {a.cols * a.acc_width} bits: the RTL needs a "
                         f"multiple of the {bus}-bit bus, and acc_width dividing it (bus_bytes = {mem.bus_bytes})")
    if (a.rows * a.mults_per_pe * a.data_width) % bus:
        raise NmsatError(f"config [array] rows x mults_per_pe x data_width = "
                         f"{a.rows * a.mults_per_pe * a.data_width} bits: the RTL needs a multiple of the "
                         f"{bus}-bit bus (bus_bytes = {mem.bus_bytes})")
    for mode in base.modes:
        if (a.rows * base.window(mode) * a.data_width) % bus:
            raise NmsatError(f"config [array]: a row of R*E = {a.rows * base.window(mode)} operands in mode {mode} "
                             f"is not a whole number of {bus}-bit bus beats")
    depths = {"weight_spad_kib": (mem.weight_spad_kib, base.w_row_bits),
              "act_spad_kib": (mem.act_spad_kib, base.a_row_bits),
              "out_spad_kib": (mem.out_spad_kib, base.o_row_bits)}
    rows = {}
    for key, (kib, bits) in depths.items():
        rows[key] = int(kib * 8192) // bits // 2
        if rows[key] < a.rows:
            raise NmsatError(f"config [memory] {key} = {kib}: holds {rows[key]} rows of {bits} bits per bank "
                             f"(two banks), the RTL needs at least rows = {a.rows}")
    return CoreParams(**{**base.__dict__, "w_depth": rows["weight_spad_kib"], "a_depth": rows["act_spad_kib"],
                         "o_depth": rows["out_spad_kib"]})


def check_buildable(params, hint="use a smaller config such as 'hw-small'"):
    """Raise `NmsatError` if the core is larger than `MAX_BUILD_PES` PEs or `MAX_BUILD_SPAD_KIB` of scratchpads."""
    pes = params.rows * params.cols
    if pes > MAX_BUILD_PES:
        raise NmsatError(f"a {params.rows}x{params.cols} array ({pes} PEs) is too big to build here (limit "
                         f"{MAX_BUILD_PES} PEs, e.g. 16x16); {hint}")
    kib = 2 * (params.w_depth * params.w_row_bits + params.a_depth * params.a_row_bits
               + params.o_depth * params.o_row_bits) / 8192
    if kib > MAX_BUILD_SPAD_KIB:
        raise NmsatError(f"scratchpads of {kib:g} KiB are too big to build here (limit {MAX_BUILD_SPAD_KIB} KiB); "
                         f"{hint}")
