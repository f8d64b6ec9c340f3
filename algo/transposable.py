"""Transposable N:M masks (Hubara et al., NeurIPS 2021): one mask that is n:m along both weight axes.

At every kernel position the ``W[out, in]`` matrix is tiled into ``m x m`` blocks (rows: m output
channels, columns: m input channels; blocks at a ragged edge are smaller). In each block the paper's
greedy 2-approximation ("2-approx", its fast alternative to the min-cost-flow solution) visits the
elements by descending ``|w|`` (ties: lower row, then lower column, first) and keeps an element iff its
row and its column still hold fewer than n kept elements. Every m consecutive weights along ``in``
(FF groups) and along ``out`` (BP groups) then keep at most n, so FF and BP both run n:m with one
mask. The greedy keeps at least half the magnitude an optimal transposable mask keeps (the paper's
bound); a row can end with fewer than n. Magnitudes are compared in float32.

`transposable_mask` runs the C++ kernel (`nmsat.algo.kernel`) on CPU for m <= 16 and otherwise
`transposable_mask_torch`, the vectorized torch reference (one step per block position).
"""

import torch

from nmsat.algo.kernel import library
from nmsat.nm import NMPattern


def transposable_mask(weight, pattern):
    """Bool mask of ``W[out, in, ...]``, n:m along axis 0 and along axis 1 (the greedy described above)."""
    p = NMPattern.parse(pattern)
    lib = library() if weight.device.type == "cpu" and p.m <= 16 and weight.dim() >= 2 else None
    if lib is None:
        return transposable_mask_torch(weight, p)
    w = weight.detach().float().contiguous()
    mask = torch.empty(w.shape, dtype=torch.bool)
    lib.transposable_mask_f32(w.data_ptr(), mask.data_ptr(), w.shape[0], w.shape[1], w[0, 0].numel(), p.n, p.m)
    return mask


def transposable_mask_torch(weight, pattern):
    """`transposable_mask` in torch: all blocks at once, one greedy step per position in the sorted order."""
    p = NMPattern.parse(pattern)
    m, n = p.m, p.n
    w = weight.detach()
    out_ch, in_ch = w.shape[:2]
    mag = w.abs().float().reshape(out_ch, in_ch, -1).permute(2, 0, 1)  # (positions, out, in)
    pos = mag.shape[0]
    ob, ib = -(-out_ch // m), -(-in_ch // m)
    padded = mag.new_full((pos, ob * m, ib * m), -1.0)
    padded[:, :out_ch, :in_ch] = mag
    blocks = padded.reshape(pos, ob, m, ib, m).permute(0, 1, 3, 2, 4).reshape(-1, m * m)  # row-major in block
    valid = blocks >= 0
    order = torch.argsort(blocks, dim=1, descending=True, stable=True)
    count = blocks.shape[0]
    rows = torch.zeros(count, m, dtype=torch.int32)
    cols = torch.zeros(count, m, dtype=torch.int32)
    keep = torch.zeros(count, m * m, dtype=torch.bool)
    ids = torch.arange(count)
    for t in range(m * m):
        e = order[:, t]
        r, c = e // m, e % m
        ok = valid[ids, e] & (rows[ids, r] < n) & (cols[ids, c] < n)
        keep[ids, e] = ok
        rows[ids, r] += ok
        cols[ids, c] += ok
    keep = keep.reshape(pos, ob, ib, m, m).permute(0, 1, 3, 2, 4).reshape(pos, ob * m, ib * m)
    return keep[:, :out_ch, :in_ch].permute(1, 2, 0).reshape(w.shape).contiguous()
