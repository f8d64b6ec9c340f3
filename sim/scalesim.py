"""SCALE-Sim interop: read its topology CSV (conv or GEMM form) and its config (.cfg) into nmsat objects.

Topology rows (a header line first; a trailing comma is allowed, as in SCALE-Sim's own files):

* conv form: ``name, IFMAP H, IFMAP W, filter R, filter S, channels C, filters F, stride[, sparsity]``;
  one FF GEMM with M = output pixels, N = F, K = R*S*C (SCALE-Sim's own mapping, no padding). Output
  rows follow SCALE-Sim: ``ceil((H - R + stride) / stride)``, which is one more than PyTorch's unpadded
  ``(H - R) // stride + 1`` whenever ``(H - R) % stride != 0`` (e.g. 224x224, 7x7, stride 2: 110 rows
  here and in SCALE-Sim, 109 in PyTorch). A layer whose name contains ``DP`` is depthwise, as in
  SCALE-Sim: one GEMM per channel (count = C, K = R*S);
* GEMM form (header ``name, M, N, K``): ``name, M, N, K[, sparsity]``; SCALE-Sim runs it as a conv with
  an M x K input and F = N filters of 1 x K, which is exactly the GEMM M x N x K.

``sparsity`` is SCALE-Sim's layer-wise ``n:m`` (``1:1`` or empty: dense); it makes the layer's weight
operand N:M along K. The format is chosen from the header (second column ``M``: GEMM form).

`training_gemms` adds the backward pass of each layer in the trace convention: BP (M = rows, N = K,
K = F; omitted for the first layer, whose input is the data) and WG (M = F, N = K, K = rows; dense),
last layer first. Operands are taken as SCALE-Sim streams them (the im2col matrix): im2col factors 1.

Config (`read_config`): ArrayHeight / ArrayWidth -> array rows / cols, one multiplier per PE (a SCALE-Sim
PE is one MAC; an n:m layer with n > 1 needs n multipliers per PE in nmsat, so then mults_per_pe is the
least common multiple of the topology's n), no WS row groups; Dataflow ws / os (SCALE-Sim's ``is`` has
no nmsat counterpart); Ifmap / Filter / Ofmap SRAM kB -> activation / weight / output scratchpads;
InterfaceBandwidth ``CALC`` (SCALE-Sim's stall-free estimate) -> a DRAM so fast that no tile stalls,
``USER`` -> Bandwidth words per cycle of data_width bits; SparsitySupport false -> the Sparsity column
is ignored, as SCALE-Sim does.

SCALE-Sim's compute cycles do not depend on its SRAM sizes; nmsat tiles every GEMM to fit its
scratchpads, so small SRAMs give nmsat more, shorter weight folds. ResNet-18 (the 21 layers of
SCALE-Sim's topology) on a 32x32 WS array with 64 kB SRAMs and CALC: nmsat 2,845,840 compute cycles,
1.129x SCALE-Sim's 2,519,815; with scratchpads that hold a layer's streamed rows (as
``benchmarks/bench_sim_vs_scalesim.py`` configures) 2,542,672, 1.009x.
"""

import configparser
import math
from pathlib import Path

from nmsat.errors import NmsatError
from nmsat.nm import NMPattern
from nmsat.sim.layer import best_gemm, check_dataflow
from nmsat.trace import Gemm, Trace

STALL_FREE_GBPS = 1e6  # CALC: far above any tile's demand, so no DRAM stall


def out_rows(size, filt, stride):
    """Output rows (or columns) of an unpadded conv as SCALE-Sim counts them: ceil((H - R + S) / S)."""
    return -(-(size - filt + stride) // stride)


def _ints(fields, where, names):
    values = []
    for name, text in zip(names, fields, strict=True):
        if not text.isdigit() or int(text) <= 0:
            raise NmsatError(f"{where}: {name} {text!r}: must be a positive integer")
        values.append(int(text))
    return values


def _sparsity(text, where):
    if text in ("", "1:1"):
        return None
    try:
        return NMPattern.parse(text)
    except NmsatError as e:
        raise NmsatError(f"{where}: sparsity: {e}") from None


def _conv(fields, where):
    if len(fields) not in (8, 9):
        raise NmsatError(f"{where}: expected name, IFMAP H, IFMAP W, filter H, filter W, channels, filters, "
                         f"stride[, sparsity]; got {len(fields)} fields")
    h, w, r, s, c, f, stride = _ints(fields[1:8], where, ("IFMAP height", "IFMAP width", "filter height",
                                                         "filter width", "channels", "filters", "stride"))
    if r > h or s > w:
        raise NmsatError(f"{where}: filter {r}x{s} is larger than the IFMAP {h}x{w}")
    rows = out_rows(h, r, stride) * out_rows(w, s, stride)
    sparse = _sparsity(fields[8] if len(fields) == 9 else "", where)
    if "DP" in fields[0]:  # depthwise: SCALE-Sim runs one single-channel layer per channel
        return Gemm(fields[0], "FF", rows, f, r * s, sparse, c)
    return Gemm(fields[0], "FF", rows, f, r * s * c, sparse)


def _gemm(fields, where):
    if len(fields) not in (4, 5):
        raise NmsatError(f"{where}: expected name, M, N, K[, sparsity]; got {len(fields)} fields")
    m, n, k = _ints(fields[1:4], where, ("M", "N", "K"))
    return Gemm(fields[0], "FF", m, n, k, _sparsity(fields[4] if len(fields) == 5 else "", where))


def read_topology(path):
    """The forward GEMMs of a SCALE-Sim topology CSV, in file order."""
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except OSError as e:
        raise NmsatError(f"topology file {str(path)!r}: {e.strerror}") from None
    rows = [[f.strip() for f in line.split(",")] for line in lines if line.strip()]
    rows = [r[:-1] if r[-1] == "" else r for r in rows]
    if len(rows) < 2:
        raise NmsatError(f"topology file {str(path)!r}: needs a header line and at least one layer")
    parse = _gemm if rows[0][1:2] == ["M"] else _conv
    return [parse(r, f"{path}:{i + 2}") for i, r in enumerate(rows[1:])]


def training_gemms(forward):
    """FF of every layer, then BP (not for the first layer) and WG of each layer, last layer first."""
    back = []
    for i, g in reversed(list(enumerate(forward))):
        if i > 0:
            back.append(Gemm(g.layer, "BP", g.m, g.k, g.n, g.sparse, g.count))
        back.append(Gemm(g.layer, "WG", g.n, g.k, g.m, None, g.count))
    return [*forward, *back]


def topology_trace(path, training=False, sparsity=True):
    """A `Trace` (batch 1, as SCALE-Sim) of the topology: forward GEMMs, or the whole step with `training`.
    Without `sparsity` the Sparsity column is ignored."""
    forward = read_topology(path)
    if not sparsity:
        forward = [Gemm(g.layer, g.pass_, g.m, g.n, g.k, None, g.count) for g in forward]
    patterns = sorted({g.sparse for g in forward if g.sparse is not None}, key=str)
    gemms = training_gemms(forward) if training else forward
    return Trace(model=Path(path).stem, method="bdwp" if patterns else "dense",
                 pattern=patterns[0] if len(patterns) == 1 else None, batch=1, gemms=tuple(gemms))


def _cfg_value(parser, section, key, where):
    try:
        return parser.get(section, key).split("#")[0].strip()
    except (configparser.NoSectionError, configparser.NoOptionError):
        raise NmsatError(f"{where}: missing [{section}] {key}") from None


def read_config(path, base, patterns=()):
    """`base` (an `AcceleratorConfig`) changed to the array, dataflow, SRAMs and bandwidth of a SCALE-Sim
    .cfg; ``patterns`` are the topology's N:M patterns. Returns (config, sparsity support)."""
    where = f"SCALE-Sim config {str(path)!r}"
    parser = configparser.ConfigParser()
    try:
        with open(path) as f:
            parser.read_file(f)
    except OSError as e:
        raise NmsatError(f"{where}: {e.strerror}") from None
    except configparser.Error as e:
        raise NmsatError(f"{where}: {str(e).splitlines()[0]}") from None
    arch = "architecture_presets"
    ints = {}
    for key in ("ArrayHeight", "ArrayWidth", "IfmapSramSzkB", "FilterSramSzkB", "OfmapSramSzkB"):
        text = _cfg_value(parser, arch, key, where)
        if not text.isdigit() or int(text) <= 0:
            raise NmsatError(f"{where}: [{arch}] {key} = {text!r}: must be a positive integer")
        ints[key] = int(text)
    dataflow = _cfg_value(parser, arch, "Dataflow", where).lower()
    if dataflow not in ("ws", "os"):
        raise NmsatError(f"{where}: Dataflow {dataflow!r}: nmsat models ws and os only")
    mode = _cfg_value(parser, "run_presets", "InterfaceBandwidth", where).upper()
    if mode == "CALC":
        gbps = STALL_FREE_GBPS
    elif mode == "USER":
        words = _cfg_value(parser, arch, "Bandwidth", where)
        try:
            gbps = float(words) * base.array.data_width / 8 * base.array.clock_mhz * 1e6 / 1e9
        except ValueError:
            raise NmsatError(f"{where}: Bandwidth {words!r}: must be a number of words per cycle") from None
    else:
        raise NmsatError(f"{where}: InterfaceBandwidth {mode!r}: use CALC or USER")
    support = parser.get("sparsity", "SparsitySupport", fallback="false").split("#")[0].strip().lower() == "true"
    pats = sorted(set(patterns), key=str) if support else []
    mults = math.lcm(*(p.n for p in pats)) if pats else 1
    cfg = base.replace(
        array={"rows": ints["ArrayHeight"], "cols": ints["ArrayWidth"], "mults_per_pe": mults,
               "patterns": [str(p) for p in pats], "dataflows": [dataflow], "max_row_groups": 1},
        memory={"act_spad_kib": ints["IfmapSramSzkB"], "weight_spad_kib": ints["FilterSramSzkB"],
                "out_spad_kib": ints["OfmapSramSzkB"]},
        projection={"enabled": True, "dram_gbps": gbps})  # SCALE-Sim's machine is the analytic one, not the RTL
    return cfg, support


def simulate_forward(trace, cfg, dataflow="best", dense=False):
    """Per-layer rows of the forward GEMMs run one after another, as SCALE-Sim runs a topology: each
    layer's own N:M pattern (none with `dense`), no weight update or top-N (no training)."""
    check_dataflow(cfg, dataflow)
    rows = []
    for g in trace.gemms:
        pattern = None if dense else g.sparse
        r = best_gemm(g, cfg, pattern, dataflow)
        rows.append({"layer": g.layer, "m": g.m, "n": g.n, "k": g.k, "count": g.count,
                     "sparse": None if pattern is None else str(pattern), "dataflow": r.tiling.dataflow,
                     "compute_cycles": r.compute_cycles, "stall_cycles": r.stall_cycles, "cycles": r.cycles,
                     "dram_bytes": r.dram_bytes, "energy_pj": sum(r.energy_pj.values())})
    return rows
