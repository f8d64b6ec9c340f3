"""Tiling of one GEMM in the *projected* model (`[projection] enabled`): candidate tilings and their per-tile
arrays, in execution order.

A `Tiling` names a dataflow, a loop order and a chunk size; `tile_arrays` expands it into numpy arrays
with one entry per tile (no Python loop over tiles). Tile cycles come from `sim/tile.py`.

WS (weight-stationary): K folds of ``R*E``, N folds of ``C``, M chunks of ``T`` rows of A, ``T``
bounded by the activation scratchpad (a row is ``R*E`` operands) and the output scratchpad (a row is
``C`` accumulators). Orders: ``"nmk"`` keeps a chunk's partial sums in the output scratchpad across the
K folds (weights re-read per chunk unless the ``K x C`` weight slab fits); ``"nkm"`` keeps a weight tile
across the M chunks (partial sums go to DRAM and back between K folds when there is more than one chunk);
``"mnk"`` keeps a chunk's ``T x K`` rows of A across the N folds if they fit (weights re-read per chunk
unless all of B fits). A K fold needing ``h = ceil(Kt/E)`` array rows runs in ``G = ws_groups(h)`` row groups
(``sim/tile.py``): ``ceil(T/G)`` streamed steps, G replicas of the weight tile preloaded; the A, B and Y
bytes are those of the fold either way (an output row carries G rows of Y).

OS (output-stationary): M folds of ``R``, N folds of ``C``, K chunks of ``S`` reduction steps bounded by
the activation (``R*E`` operands per step) and weight (``C*P`` values + indices per step) scratchpads;
the K chunks of an output tile accumulate in the output scratchpad. Orders ``"mnk"`` (an ``R x K`` row
slab of A is kept if it fits) and ``"nmk"`` (a ``C x K`` weight slab is kept if it fits).

With double buffering each scratchpad holds two tiles, so a tile gets half of it. DRAM traffic of A,
B and Y is divided by the GEMM's ``im2col`` factors (a convolution lowered on chip fetches the stored
tensor, not its im2col expansion); scratchpad traffic is the GEMM's own.
"""

from dataclasses import dataclass

import numpy as np

from nmsat.errors import NmsatError
from nmsat.nm import NMPattern
from nmsat.sim.tile import os_cycles, window, ws_cycles, ws_groups

ORDERS = {"ws": ("nmk", "nkm", "mnk"), "os": ("mnk", "nmk")}


@dataclass(frozen=True)
class Tiling:
    """One way to tile a GEMM: dataflow, loop order (outer to inner) and chunk (WS: T rows, OS: S steps)."""

    dataflow: str
    order: str
    chunk: int

    def __str__(self):
        return f"{self.dataflow}/{self.order}/{self.chunk}"


def cdiv(a, b):
    """Ceiling division for ints and numpy arrays."""
    return -(-a // b)


def operand_bytes(array):
    """Bytes of one operand (A, B) element."""
    return array.data_width / 8


def acc_bytes(array):
    """Bytes of one output or partial sum."""
    return array.acc_width / 8


def weight_bytes(array, pattern, kt):
    """Bytes of one column of ``kt`` reduction elements of B: dense, or compressed values + index bits."""
    if pattern is None:
        return kt * operand_bytes(array)
    p = NMPattern.parse(pattern)
    return kept(pattern, kt) * (operand_bytes(array) + p.index_bits / 8)


def kept(pattern, kt):
    """Multiplies per output for ``kt`` reduction elements: all of them dense, n per group of m sparse."""
    if pattern is None:
        return np.asarray(kt)
    p = NMPattern.parse(pattern)
    kt = np.asarray(kt)
    return (kt // p.m) * p.n + np.minimum(kt % p.m, p.n)


def _capacity(kib, cfg):
    return kib * 1024 / (2 if cfg.projection.double_buffer else 1)


def max_chunk(gemm, cfg, pattern, dataflow):
    """Largest chunk the scratchpads allow for `gemm`: WS streamed rows T, OS reduction steps S.

    A WS row holds the ``min(K, R*E)`` operands one K fold uses; an OS step holds ``min(M, R)`` rows
    of ``E`` operands and ``min(N, C)`` columns of ``P`` weights (values + indices)."""
    a, mem = cfg.array, cfg.memory
    e = window(a, pattern)
    if dataflow == "ws":
        act_row = min(a.rows, cdiv(gemm.k, e)) * e * operand_bytes(a)
        out_row = min(a.cols, gemm.n) * acc_bytes(a)
        limit = min(_capacity(mem.act_spad_kib, cfg) // act_row, _capacity(mem.out_spad_kib, cfg) // out_row)
        what = "streamed row"
    else:
        idx = 0 if pattern is None else NMPattern.parse(pattern).index_bits / 8
        act_row = min(a.rows, gemm.m) * e * operand_bytes(a)
        w_row = min(a.cols, gemm.n) * a.mults_per_pe * (operand_bytes(a) + idx)
        limit = min(_capacity(mem.act_spad_kib, cfg) // act_row, _capacity(mem.weight_spad_kib, cfg) // w_row)
        what = "reduction step"
    if limit < 1:
        raise NmsatError(f"config [memory]: scratchpads too small for one {dataflow.upper()} {what}")
    return int(limit)


def candidates(gemm, cfg, pattern, dataflow):
    """Tilings the offline search tries: every loop order x chunk sizes {the largest; the extent split
    evenly into the fewest chunks, twice and four times as many} (WS also the largest chunk whose
    ``T x K`` rows of A fit the activation scratchpad)."""
    e = window(cfg.array, pattern)
    extent = gemm.m if dataflow == "ws" else cdiv(gemm.k, e)
    top = min(max_chunk(gemm, cfg, pattern, dataflow), extent)
    base = cdiv(extent, top)
    sizes = {top, *(cdiv(extent, base * split) for split in (1, 2, 4))}
    if dataflow == "ws":
        resident = _capacity(cfg.memory.act_spad_kib, cfg) // (gemm.k * operand_bytes(cfg.array))
        sizes.add(int(min(top, max(1, resident))))
    chunks = sorted(sizes, reverse=True)
    return [Tiling(dataflow, order, c) for order in ORDERS[dataflow] for c in chunks]


def default_tiling(gemm, cfg, pattern, dataflow):
    """The fixed-policy tiling: first loop order, largest chunk the scratchpads allow."""
    return candidates(gemm, cfg, pattern, dataflow)[0]


def _sizes(total, step):
    """Sizes of the folds of `total` in steps of `step`: full ones, then the remainder."""
    count = cdiv(total, step)
    return np.minimum(step, total - step * np.arange(count))


def _axes(order, sizes):
    """Fold sizes and fold indices (dict letter -> 1-D array) as views broadcasting over the loop grid
    in `order` (outer to inner); returns (sizes, indices, grid shape)."""
    shape = tuple(len(sizes[c]) for c in order)
    views, idx = {}, {}
    for axis, c in enumerate(order):
        view = [1] * len(order)
        view[axis] = shape[axis]
        views[c] = sizes[c].reshape(view)
        idx[c] = np.arange(shape[axis]).reshape(view)
    return views, idx, shape


def _total(shape, *factors):
    """Sum over the grid `shape` of the product of `factors`, views varying along disjoint sets of axes,
    without materializing the grid: the product of the factors' sums times the extents of the axes no
    factor varies along."""
    total, covered = 1.0, set()
    for f in factors:
        f = np.asarray(f, dtype=np.float64)
        axes = {d for d in range(f.ndim) if f.shape[d] > 1}
        if axes & covered:
            raise ValueError("_total needs factors on disjoint axes")
        covered |= axes
        total *= float(f.sum())
    return total * float(np.prod([s for d, s in enumerate(shape) if d not in covered]))


def sequence(t, key):
    """Per-tile array `key` of the tiles `t`, flattened in execution order."""
    x = t[key]() if callable(t[key]) else t[key]
    return np.broadcast_to(x, t["shape"]).ravel()


def tile_arrays(gemm, cfg, pattern, tiling):
    """Tiles of one GEMM repeat: per-tile arrays in execution order, and totals.

    Per tile, broadcasting over the loop grid ``shape`` (see `sequence` for the flat form): ``cycles``
    (exact tile cycles), ``load`` and ``store`` (DRAM bytes before / after the tile; built on demand,
    since the search ranks tilings by their totals first).
    Totals (floats): ``tiles``, ``cycles``, ``steps`` (streamed steps or reduction steps),
    ``macs`` (dense-equivalent), ``mults`` (multiplies done), ``pe_steps`` (useful PE steps), ``pes``
    (WS: PEs preloaded, G copies of the fold; OS: PEs used), ``w_load``, ``a_load``, ``psum_load``,
    ``store`` (DRAM traffic by kind), ``w_bytes``, ``a_bytes``, ``psum_bytes`` (scratchpad reads of
    weights and activations, writes of outputs).
    """
    a, mem = cfg.array, cfg.memory
    e = window(a, pattern)
    ob, ab = operand_bytes(a), acc_bytes(a)
    m, n, k = gemm.m, gemm.n, gemm.k
    act_cap = _capacity(mem.act_spad_kib, cfg)
    w_cap = _capacity(mem.weight_spad_kib, cfg)
    if tiling.dataflow == "ws":
        g, i, shape = _axes(tiling.order, {"n": _sizes(n, a.cols), "m": _sizes(m, tiling.chunk),
                                           "k": _sizes(k, a.rows * e)})
        rows_used = cdiv(g["k"], e)
        groups = ws_groups(a, rows_used)
        steps, rows_loaded, streamed = cdiv(g["m"], groups), rows_used * groups, g["m"]
        cycles = ws_cycles(a, g["m"], groups)
        if tiling.order == "nmk":
            w_fetch = (i["m"] == 0) | (weight_bytes(a, pattern, k) * a.cols > w_cap)
        elif tiling.order == "nkm":
            w_fetch = i["m"] == 0
        else:
            w_fetch = (i["m"] == 0) | (weight_bytes(a, pattern, k) * n > w_cap)
        a_limit = tiling.chunk * k * ob if tiling.order == "mnk" else m * k * ob
        a_fetch = (i["n"] == 0) | (a_limit > act_cap)
        spill = tiling.order == "nkm" and cdiv(m, tiling.chunk) > 1
        store_out = (i["k"] >= 0) if spill else (i["k"] == shape[tiling.order.index("k")] - 1)
        psum_in = spill & (i["k"] > 0)
    else:
        g, i, shape = _axes(tiling.order, {"m": _sizes(m, a.rows), "n": _sizes(n, a.cols),
                                           "k": _sizes(k, tiling.chunk * e)})
        rows_used, steps = g["m"], cdiv(g["k"], e)
        rows_loaded, streamed = rows_used, steps
        cycles = os_cycles(a, steps)
        if tiling.order == "mnk":
            a_fetch = (i["n"] == 0) | (a.rows * k * ob > act_cap)
            w_fetch = (i["m"] == 0) | (n * weight_bytes(a, pattern, k) > w_cap)
        else:
            a_fetch = (i["n"] == 0) | (m * k * ob > act_cap)
            w_fetch = (i["m"] == 0) | (a.cols * weight_bytes(a, pattern, k) > w_cap)
        store_out = i["k"] == shape[tiling.order.index("k")] - 1
        psum_in = i["k"] < 0
    wb = weight_bytes(a, pattern, g["k"])
    im2col = gemm.im2col if cfg.projection.onchip_im2col else (1.0, 1.0, 1.0)
    fa, fb, fy = (1 / f for f in im2col)  # DRAM holds the stored tensor, not the im2col view

    def load():
        return (g["n"] * wb * fb * w_fetch + g["m"] * g["k"] * ob * fa * a_fetch
                + g["m"] * g["n"] * ab * fy * psum_in)

    def store():
        return g["m"] * g["n"] * ab * fy * store_out

    return {
        "shape": shape, "cycles": np.asarray(cycles, dtype=np.int64), "load": load, "store": store,
        "totals": {
            "tiles": float(np.prod(shape)), "steps": _total(shape, steps), "cycles": _total(shape, cycles),
            "macs": _total(shape, g["m"], g["n"], g["k"]),
            "mults": _total(shape, g["m"], g["n"], kept(pattern, g["k"])),
            "pe_steps": _total(shape, rows_used, g["n"], streamed), "pes": _total(shape, rows_loaded, g["n"]),
            "w_load": _total(shape, g["n"], wb * fb, w_fetch),
            "a_load": _total(shape, g["m"], g["k"] * ob * fa, a_fetch),
            "psum_load": _total(shape, g["m"], g["n"] * ab * fy, psum_in),
            "store": _total(shape, g["m"], g["n"] * ab * fy, store_out),
            "w_bytes": _total(shape, g["n"], wb), "a_bytes": _total(shape, rows_used * e * ob, streamed),
            "psum_bytes": _total(shape, g["m"], g["n"] * ab),
        },
    }
