"""The simulator's work bound: a GEMM whose tile grid is too large is refused before anything is allocated.

The layer model keeps a few numbers per tile (cycles, DRAM loads and stores) for every tiling it
evaluates, so memory grows with the tile count. `MAX_TILES` tiles per GEMM repeat keeps that under
1 GB: one tiling of 2**24 tiles evaluated in full took 4.4 s and peaked at 809 MB RSS (2**22: 2.3 s,
290 MB; measured once each on the project's 2-core machine, other jobs running). Realistic workloads
stay below it: ResNet-50's ImageNet stem at batch 256 on the default 32x32 array has at most 8e5 tiles
over all the tilings the search tries.
"""

from functools import lru_cache

from nmsat.errors import NmsatError
from nmsat.sim.tile import window
from nmsat.sim.tiling import candidates, cdiv
from nmsat.trace import Gemm

MAX_TILES = 2**24


def tile_count(gemm, cfg, pattern, tiling):
    """Tiles of one repeat of `gemm` under `tiling` (the size of its loop grid), computed, not built."""
    a, e = cfg.array, window(cfg.array, pattern)
    if tiling.dataflow == "ws":
        return cdiv(gemm.n, a.cols) * cdiv(gemm.m, tiling.chunk) * cdiv(gemm.k, a.rows * e)
    return cdiv(gemm.m, a.rows) * cdiv(gemm.n, a.cols) * cdiv(gemm.k, tiling.chunk * e)


@lru_cache(maxsize=4096)
def _largest(m, n, k, cfg, pattern, dataflow):
    gemm = Gemm("", "FF", m, n, k)
    patterns = dict.fromkeys((pattern, None)) if dataflow == "best" else (pattern,)
    flows = cfg.array.dataflows if dataflow == "best" else (dataflow,)
    return max(tile_count(gemm, cfg, p, t) for p in patterns for d in flows for t in candidates(gemm, cfg, p, d))


def check_work(gemms, patterns, cfg, dataflow):
    """Raise `NmsatError` naming the first GEMM whose tilings would exceed `MAX_TILES` tiles."""
    for g, p in zip(gemms, patterns, strict=True):
        tiles = _largest(g.m, g.n, g.k, cfg, p, dataflow)
        if tiles > MAX_TILES:
            raise NmsatError(f"GEMM {g.layer} {g.pass_} ({g.m} x {g.n} x {g.k}) needs {tiles:,} tiles on this "
                             f"array, more than the simulator handles ({MAX_TILES:,}): use a smaller batch or "
                             "a larger array or scratchpads")
