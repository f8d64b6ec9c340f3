"""The plan of one GEMM on the RTL's GEMM engine: what the loop engine walks (docs/hw-interface.md).

``Y[M, N] = A[M, K] @ B[N, K]^T`` runs weight-stationary in tiles ordered m chunk > n block > k fold:
chunks of ``chunk`` rows of A, blocks of C columns of B, folds of ``h*E`` reduction elements (h = R/G
array rows per row group, G row groups when the whole reduction fits ``R/G`` rows). The plan holds the
descriptor's counts and the bus beats each tile moves; `nmsat.hw.driver` packs it, `nmsat.sim.engine`
times it.
"""

from dataclasses import dataclass

from nmsat.core_params import core_params
from nmsat.errors import NmsatError
from nmsat.sim.tiling import cdiv


@dataclass(frozen=True)
class GemmPlan:
    """Counts of one GEMM on the engine (field names are the descriptor's)."""

    m: int
    n: int
    k: int
    mode: int
    groups: int
    resident: bool
    chunk_rows: int
    m_chunks: int
    last_rows: int
    n_blocks: int
    last_cols: int
    k_folds: int
    fold_k: int
    k_last: int  # reduction elements of the last fold
    w_rows_full: int
    w_rows_last: int
    w_row_beats: int
    a_beats_full: int
    a_beats_last: int
    a_group_beats: int
    y_beats: int

    @property
    def lg(self):
        return self.groups.bit_length() - 1

    @property
    def w_beats_full(self):
        return self.w_rows_full * self.w_row_beats

    @property
    def w_beats_last(self):
        return self.w_rows_last * self.w_row_beats

    @property
    def b_rows(self):
        """Weight rows of one block of C columns of B in memory: ceil(K/E)."""
        return (self.k_folds - 1) * self.w_rows_full + self.w_rows_last

    @property
    def b_block_beats(self):
        """Bus beats of the weights of one n block over all its k folds (one pass over B's block)."""
        return self.b_rows * self.w_row_beats

    def steps(self, rows):
        """Stream steps of a chunk of `rows` rows: ceil(rows/G)."""
        return cdiv(rows, self.groups)


def choose_groups(p, mode, k):
    """Row groups G of a GEMM reducing over `k` in `mode`: the largest the core allows with ``G*ceil(k/E) <= R``."""
    need = cdiv(k, p.window(mode))
    ok = [g for g in p.groups_allowed(mode) if g * need <= p.rows]
    return max(ok) if ok else 1


def max_chunk(p, mode, groups, k_folds, resident):
    """Largest chunk (rows of A) the banks hold: steps <= output bank rows, and <= activation bank rows
    (all k folds' rows when `resident`)."""
    steps = min(p.o_depth, p.a_depth // (k_folds if resident else 1))
    return steps * groups


def plan_gemm(cfg, m, n, k, pattern, chunk=None, resident=None, params=None):
    """The `GemmPlan` of ``A[m, k] @ B[n, k]^T`` with `pattern` (None: dense) on `cfg`'s core.

    `chunk` (rows of A per chunk) defaults to the largest that fits; `resident` (A kept across n blocks)
    defaults to whether the chunk's rows for every k fold fit one activation bank."""
    p = params or core_params(cfg)
    for name, v in (("M", m), ("N", n), ("K", k)):
        if not isinstance(v, int) or v < 1:
            raise NmsatError(f"GEMM {name} = {v!r}: must be a positive integer")
    mode = p.mode_of(pattern)
    e = p.window(mode)
    groups = choose_groups(p, mode, k)
    h = p.rows // groups
    fold_k = h * e
    k_folds = cdiv(k, fold_k)
    if resident is None:
        resident = max_chunk(p, mode, groups, k_folds, True) >= groups
        if resident and chunk is not None:
            resident = cdiv(chunk, groups) * k_folds <= p.a_depth
    top = max_chunk(p, mode, groups, k_folds, resident)
    if top < 1:
        raise NmsatError(f"GEMM K = {k}: {k_folds} k folds do not fit the activation bank resident")
    chunk = min(m, top) if chunk is None else chunk
    if not 1 <= chunk <= top:
        raise NmsatError(f"chunk {chunk}: must be 1..{top} rows for this GEMM on this core")
    m_chunks = cdiv(m, chunk)
    k_last = k - (k_folds - 1) * fold_k
    bits = p.data_width
    return GemmPlan(
        m=m, n=n, k=k, mode=mode, groups=groups, resident=bool(resident), chunk_rows=chunk, m_chunks=m_chunks,
        last_rows=m - (m_chunks - 1) * chunk, n_blocks=cdiv(n, p.cols), last_cols=n - (cdiv(n, p.cols) - 1) * p.cols,
        k_folds=k_folds, fold_k=fold_k, k_last=k_last, w_rows_full=h, w_rows_last=cdiv(k_last, e),
        w_row_beats=p.w_beats(mode),
        a_beats_full=fold_k * bits // p.bus_bits, a_beats_last=cdiv(k_last * bits, p.bus_bits),
        a_group_beats=h * e // p.lanes, y_beats=p.y_beats)
