"""Exact tile model: the cycle count, per-cycle PE activity and numeric result of one array tile.

This is the executable form of docs/architecture.md; the RTL is checked against it cycle for cycle.
Cycle functions are plain arithmetic and accept numpy arrays, so the layer model vectorizes over them.
"""

from dataclasses import dataclass

import numpy as np

from nmsat.core_params import ws_pipeline
from nmsat.errors import NmsatError
from nmsat.nm import NMPattern, compress

# Fixed pipeline latencies of the RTL, checked by tests/hw. WS, integer datapath: 9 = the preload's
# scratchpad-read register and the bottom accumulator register (2), the registers after the scratchpad reads (2:
# the block RAM's data, then the row spread to the array), the array's output-row select register (1) and the
# PE's stages before its accumulate (5: the window entering it, the selected operands, the MAC's operand
# registers, products, their sum);
# `ws_overhead` gives it for any arithmetic. OS (projected model only: the RTL is WS):
# the scratchpad-read register (the drain starts as the last accumulator settles).
WS_OVERHEAD = 10
OS_OVERHEAD = 1
TOPN_LATENCY = 1


def window(array, pattern):
    """Reduction elements per PE per cycle, E: P dense, P*m/n under `pattern`."""
    return array.reduction_per_cycle(pattern)


def ws_groups(array, rows_needed):
    """Row groups G of a WS tile whose reduction needs `rows_needed` array rows (vectorized).

    The largest power of two ``G <= array.max_row_groups`` that divides R with ``G * rows_needed <= R``;
    each group of ``h = R / G`` rows holds the same weights and streams its own rows of A.
    """
    need = np.maximum(np.asarray(rows_needed), 1)
    groups, g = np.ones_like(need), 1
    while 2 * g <= array.max_row_groups and array.rows % (2 * g) == 0:
        g *= 2
        groups = np.where(g * need <= array.rows, g, groups)
    return groups


def ws_overhead(array):
    """Fixed cycles of a WS tile beyond ``R + (T + R + C - 2)``: ``front + fold + 5`` (the integer datapath's
    `WS_OVERHEAD`) plus ``R * (chain - 1)``, the extra row-to-row skew of a multi-cycle partial-sum add
    (`nmsat.core_params.ws_pipeline`)."""
    front, chain, fold = ws_pipeline(array.arithmetic, array.mults_per_pe, array.fp_add_stages)
    return front + fold + 5 + array.rows * (chain - 1)


def ws_cycles(array, t, groups=1):
    """Cycles of a weight-stationary tile streaming `t` rows in `groups` row groups:
    preload R, stream ceil(T/G)+R+C-2, overhead (`ws_overhead`)."""
    r, c = array.rows, array.cols
    return r + (-(-np.asarray(t) // groups) + r + c - 2) + ws_overhead(array)


def os_cycles(array, s):
    """Cycles of an output-stationary tile with `s` reduction steps: S+R+C-2, drain R, overhead."""
    r, c = array.rows, array.cols
    return (np.asarray(s) + r + c - 2) + r + OS_OVERHEAD


def topn_cycles(groups, m, lanes):
    """Cycles of the top-N unit to compress `groups` groups of `m` with `lanes` lanes."""
    return -(-np.asarray(groups) // lanes) * m + TOPN_LATENCY


def weight_rows(b, pattern, array):
    """Weight scratchpad rows of operand ``B[N, K]``: (values, indices), each ``[rows, C, P]``.

    Row `s` column `c` covers reduction window ``[s*E, (s+1)*E)`` of ``B[c]``; N may be < C (zeros).
    """
    b = np.asarray(b)
    e, p, cols = window(array, pattern), array.mults_per_pe, array.cols
    n_out, k = b.shape
    if n_out > cols:
        raise NmsatError(f"weight tile has {n_out} output columns, the array has {cols}")
    rows = -(-k // e)
    padded = np.zeros((cols, rows * e), dtype=b.dtype)
    padded[:n_out, :k] = b
    win = padded.reshape(cols, rows, e).transpose(1, 0, 2)  # [rows, C, E]
    if pattern is None:
        return win, np.zeros(win.shape, dtype=np.uint8)
    c = compress(win, NMPattern.parse(pattern), axis=-1)  # values [rows, C, P/n, n]
    return c.values.reshape(rows, cols, p), c.indices.reshape(rows, cols, p)


def _check_groups(array, groups):
    if groups < 1 or groups > array.max_row_groups or array.rows % groups or groups & (groups - 1):
        raise NmsatError(f"WS row groups {groups}: need a power of two <= max_row_groups = "
                         f"{array.max_row_groups} that divides R = {array.rows}")
    return array.rows // groups


def act_rows(a, pattern, array, dataflow, groups=1):
    """Activation scratchpad rows, ``[rows, R, E]`` (see docs/architecture.md for WS and OS).

    WS with G row groups of h = R/G rows: row `t` holds, for array row ``r = g*h + j``,
    ``A[t*G + g, j*E:(j+1)*E]`` (zeros past the end of A).
    """
    a = np.asarray(a)
    e, r = window(array, pattern), array.rows
    m_rows, k = a.shape
    if dataflow == "ws":
        h = _check_groups(array, groups)
        if k > h * e:
            raise NmsatError(f"WS tile reduction {k} exceeds (R/G)*E = {h * e} with {groups} row groups")
        steps = -(-m_rows // groups)
        padded = np.zeros((steps * groups, h * e), dtype=a.dtype)
        padded[:m_rows, :k] = a
        return padded.reshape(steps, r, e)
    if m_rows > r:
        raise NmsatError(f"OS tile has {m_rows} rows, the array has {r}")
    steps = -(-k // e)
    padded = np.zeros((r, steps * e), dtype=a.dtype)
    padded[:m_rows, :k] = a
    return padded.reshape(r, steps, e).transpose(1, 0, 2)


def _selected(acts, idx, pattern, p):
    """Activation each multiplier sees: acts [..., E] and idx [..., P] -> [..., P] (the m-to-1 muxes)."""
    j = np.arange(p)
    if pattern is None:
        return acts[..., :p]
    pat = NMPattern.parse(pattern)
    pos = (j // pat.n) * pat.m + idx.astype(np.intp)
    return np.take_along_axis(acts, pos, axis=-1)


@dataclass(frozen=True)
class TileResult:
    """Output of one tile: ``y[M, N]`` (int64 wrapped to acc_width, or float32 for bf16) and its cycles."""

    y: np.ndarray
    cycles: int


def run_tile(a, b, pattern, array, dataflow, groups=1):
    """Run one tile ``A[M, K] @ B[N, K]^T`` through the PE semantics; returns y and exact cycles.

    `groups` is the WS row-group count G (see `ws_groups`); OS ignores it.
    """
    from nmsat.sim.golden import wrap

    if dataflow not in array.dataflows:
        supported = ", ".join(array.dataflows)
        raise NmsatError(f"dataflow {dataflow!r} is not supported by this array ({supported})")
    array.check_pattern(pattern)
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise NmsatError(f"tile shapes {a.shape} and {b.shape} do not match A[M,K] @ B[N,K]^T")
    vals, idx = weight_rows(b, pattern, array)  # [S, C, P]
    acts = act_rows(a, pattern, array, dataflow, groups)  # WS [T/G, R, E]; OS [S, R, E]
    p = array.mults_per_pe
    if array.arithmetic == "bf16":
        if dataflow != "ws":
            raise NmsatError("the bf16 datapath is weight-stationary: no OS tile to run")
        from nmsat.sim.golden import golden_gemm_fp_array

        y = golden_gemm_fp_array(a, b, pattern, window(array, pattern), p, array.rows // groups)
        return TileResult(y=y, cycles=int(ws_cycles(array, a.shape[0], groups)))
    if dataflow == "ws":
        s = vals.shape[0]
        grouped = acts.reshape(acts.shape[0], groups, array.rows // groups, -1)[:, :, :s]  # [T/G, G, S, E]
        sel = _selected(grouped[:, :, :, None, :], idx[None, None], pattern, p)  # [T/G, G, S, C, P]
        y = np.einsum("tgscp,scp->tgc", sel.astype(np.int64), vals.astype(np.int64))
        y = y.reshape(-1, array.cols)
        cycles = int(ws_cycles(array, a.shape[0], groups))
    else:
        sel = _selected(acts[:, :, None, :], idx[:, None], pattern, p)  # [S, R, C, P]
        y = np.einsum("srcp,scp->rc", sel.astype(np.int64), vals[:, :, :].astype(np.int64))
        cycles = int(os_cycles(array, acts.shape[0]))
    y = wrap(y[: a.shape[0], : b.shape[0]], array.acc_width)
    return TileResult(y=y, cycles=cycles)


def activity(array, dataflow, t, groups=1):
    """Debug view: bool ``[cycles, R, C]``, True where PE (r, c) accumulates a useful MAC that cycle.

    `t` is the streamed rows (WS, in `groups` row groups) or reduction steps (OS); cycle 0 is the
    command handshake. In WS, group g's PEs are idle in the last step when ``step*G + g >= T``.
    """
    r, c = array.rows, array.cols
    if dataflow == "ws":
        front, chain, _ = ws_pipeline(array.arithmetic, array.mults_per_pe, array.fp_add_stages)
        # the cycle PE (0, 0) accumulates step 0: preload R, the read and its two registers, the PE's front stages
        total, start, skew = int(ws_cycles(array, t, groups)), r + 3 + front, chain
        steps = -(-t // groups)
    else:
        total, start, steps, groups, skew = int(os_cycles(array, t)), 1, t, 1, 1  # one scratchpad-read cycle
    act = np.zeros((total, r, c), dtype=bool)
    rr, cc = np.meshgrid(np.arange(r), np.arange(c), indexing="ij")
    step = np.arange(steps)[:, None, None]
    used = step * groups + (rr // (r // groups))[None] < (t if dataflow == "ws" else steps)
    cyc = (start + step + skew * rr[None] + cc[None])[np.broadcast_to(used, (steps, r, c))]
    rows = np.broadcast_to(rr, (steps, r, c))[np.broadcast_to(used, (steps, r, c))]
    cols = np.broadcast_to(cc, (steps, r, c))[np.broadcast_to(used, (steps, r, c))]
    act[cyc, rows, cols] = True
    return act
