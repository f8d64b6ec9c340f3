"""Dispatch-based extraction against hand-derived GEMM and non-GEMM counts on plain-torch models.

Trace convention Y[M, N] = A[M, K] B[N, K]^T; a weight GEMM has the weight as B. B = batch, T = tokens,
D = width, H = heads, d = D/H. FlopCounterMode (2 flops per MAC) is a cross-check where it counts right.
"""

from collections import Counter

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from nmsat.algo.workload import macs_by_pass, trace_from_module
from nmsat.nm import NMPattern

P28 = NMPattern(2, 8)
B, T, D, H, F = 2, 5, 16, 2, 32
d = D // H


def _gemms(trace):
    return Counter((g.layer, g.pass_, g.m, g.n, g.k, g.count, g.sparse) for g in trace.gemms)


def _attention_backward(layer, t=T, dh=d, count=B * H):
    # context P V: dP = dO V^T (T, T, d), dV = P^T dO (T, d, T); scores Q K^T: dQ = dS K (T, d, T),
    # dK^T = Q^T dS (d, T, T)
    return [(layer, "BP", t, t, dh, count, None), (layer, "BP", t, dh, t, count, None),
            (layer, "BP", t, dh, t, count, None), (layer, "BP", dh, t, t, count, None)]


def _flops(module, shape, batch):
    x = torch.empty((batch, *shape), device="meta")
    with FlopCounterMode(display=False) as counter:
        out = module(x)
        out = out[0] if isinstance(out, tuple) else out
        out.backward(torch.empty_like(out))
    return counter.get_total_flops()


def test_transformer_encoder_layer_matches_hand_counts():
    with torch.device("meta"):
        layer = nn.TransformerEncoderLayer(D, H, F, dropout=0.0, batch_first=True)
    t = trace_from_module(layer, (T, D), B, "bdwp", "2:8", "enc")
    bt = B * T
    want = Counter([
        # in-projection (F.linear on a bare Parameter: not swapped by sparsify_, so dense); its input is the data
        ("self_attn.in_proj_weight", "FF", bt, 3 * D, D, 1, None),
        ("self_attn.in_proj_weight", "WG", 3 * D, D, bt, 1, None),
        ("self_attn", "FF", T, T, d, B * H, None), ("self_attn", "FF", T, d, T, B * H, None),
        *_attention_backward("self_attn"),
        # out_proj is a Linear subclass: sparsify_ leaves it dense
        ("self_attn.out_proj", "FF", bt, D, D, 1, None), ("self_attn.out_proj", "BP", bt, D, D, 1, None),
        ("self_attn.out_proj", "WG", D, D, bt, 1, None),
        ("linear1", "FF", bt, F, D, 1, P28), ("linear1", "BP", bt, D, F, 1, P28), ("linear1", "WG", F, D, bt, 1, None),
        ("linear2", "FF", bt, D, F, 1, P28), ("linear2", "BP", bt, F, D, 1, P28), ("linear2", "WG", D, F, bt, 1, None),
    ])
    assert _gemms(t) == want
    macs = sum(g.macs for g in t.gemms)
    assert macs == bt * (3 * D * D * 2 + D * D * 3 + 2 * F * D * 3) + B * H * 6 * T * T * d
    assert 2 * macs == _flops(layer, (T, D), B)
    norms = Counter((o.layer, o.op) for o in t.nongemm if "layer_norm" in o.op or "softmax" in o.op)
    assert norms == Counter({("norm1", "native_layer_norm"): 1, ("norm2", "native_layer_norm"): 1,
                             ("norm1", "native_layer_norm_backward"): 1, ("norm2", "native_layer_norm_backward"): 1,
                             ("self_attn", "_safe_softmax"): 1, ("self_attn", "_softmax_backward_data"): 1})


class EinsumAttention(nn.Module):
    """Plain-torch attention: qkv Linear, einsum scores, matmul context, output Linear."""

    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(D, 3 * D)
        self.proj = nn.Linear(D, D)

    def forward(self, x):
        b, t, _ = x.shape
        q, k, v = self.qkv(x).reshape(b, t, 3, H, d).permute(2, 0, 3, 1, 4)
        attn = torch.einsum("bhtd,bhsd->bhts", q, k).softmax(-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, t, D))


def test_einsum_matmul_attention_matches_hand_counts():
    with torch.device("meta"):
        model = nn.Sequential(nn.Linear(D, D), EinsumAttention())
    t = trace_from_module(model, (T, D), B, "srste", "2:8", "att")
    bt = B * T
    want = Counter([
        ("0", "FF", bt, D, D, 1, P28), ("0", "WG", D, D, bt, 1, None),
        ("1.qkv", "FF", bt, 3 * D, D, 1, P28), ("1.qkv", "BP", bt, D, 3 * D, 1, None),
        ("1.qkv", "WG", 3 * D, D, bt, 1, None),
        ("1", "FF", T, T, d, B * H, None), ("1", "FF", T, d, T, B * H, None), *_attention_backward("1"),
        ("1.proj", "FF", bt, D, D, 1, P28), ("1.proj", "BP", bt, D, D, 1, None), ("1.proj", "WG", D, D, bt, 1, None),
    ])
    assert _gemms(t) == want  # srste: only FF is sparse
    assert 2 * sum(g.macs for g in t.gemms) == _flops(model, (T, D), B)


class FusedAttention(nn.Module):
    """Calls the CPU flash-attention op directly (the op `F.scaled_dot_product_attention` runs on CPU)."""

    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(D, 3 * D)

    def forward(self, x):
        b, t, _ = x.shape
        q, k, v = self.qkv(x).reshape(b, t, 3, H, d).permute(2, 0, 3, 1, 4)
        out = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu(q, k, v)[0]
        return out.transpose(1, 2).reshape(b, t, D)


def test_fused_cpu_flash_attention_op_is_counted():
    with torch.device("meta"):
        model = nn.Sequential(nn.Linear(D, D), FusedAttention())
    t = trace_from_module(model, (T, D), B, "dense", None, "flash")
    attn = Counter((g.pass_, g.m, g.n, g.k, g.count) for g in t.gemms if g.layer == "1")
    # FF: Q K^T, P V; BP: recomputed Q K^T, dP, dV, dQ, dK
    assert attn == Counter([("FF", T, T, d, B * H), ("FF", T, d, T, B * H), ("BP", T, T, d, B * H),
                            ("BP", T, T, d, B * H), ("BP", T, d, T, B * H), ("BP", T, d, T, B * H),
                            ("BP", T, d, T, B * H)])
    soft = {o.op: (o.in_elements, o.out_elements, o.bytes) for o in t.nongemm if o.layer == "1"}
    name = "_scaled_dot_product_flash_attention_for_cpu"
    assert soft[f"{name}.softmax"] == (B * H * T * T, B * H * T * T, 0)
    assert soft[f"{name}_backward.softmax_backward"] == (2 * B * H * T * T, B * H * T * T, 0)


def test_depthwise_and_grouped_convs_match_hand_counts():
    with torch.device("meta"):
        net = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False),  # depthwise, 6x6 out
                            nn.Conv2d(8, 16, 1, bias=False),
                            nn.Conv2d(16, 16, 3, stride=2, padding=1, groups=4, bias=False))  # 3x3 out
    t = trace_from_module(net, (8, 6, 6), B, "bdwp", "2:4", "dw")
    p24 = NMPattern(2, 4)
    r1, r3 = B * 36, B * 9
    dw = 9.0  # im2col of the depthwise input over the stored input: 9 taps per output
    g3 = r3 * 36 * 4 / (B * 16 * 36)
    want = Counter([
        ("0", "FF", r1, 1, 9, 8, None), ("0", "WG", 1, 9, r1, 8, None),  # in/groups = 1: dense
        ("1", "FF", r1, 16, 8, 1, p24), ("1", "BP", r1, 8, 16, 1, p24), ("1", "WG", 16, 8, r1, 1, None),
        ("2", "FF", r3, 4, 36, 4, p24), ("2", "BP", r3, 36, 4, 4, p24), ("2", "WG", 4, 36, r3, 4, None),
    ])
    got = _gemms(t)
    assert got == want and not any(o.op.startswith("convolution") for o in t.nongemm)
    im2col = {(g.layer, g.pass_): g.im2col for g in t.gemms}
    assert im2col[("0", "FF")] == (dw, 1, 1) and im2col[("2", "BP")] == (1, 1, g3)
    assert im2col[("1", "FF")] == (1, 1, 1)
    assert macs_by_pass(t)["BP"][0] == r1 * 8 * 16 + r3 * 36 * 4 * 4


def test_non_gemm_ops_of_a_small_mlp():
    with torch.device("meta"):
        net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4), nn.BatchNorm1d(4))
    t = trace_from_module(net, (8,), 3, "dense", None, "mlp")
    ops = [(o.layer, o.pass_, o.op, o.in_elements, o.out_elements, o.bytes) for o in t.nongemm]
    assert ops == [
        ("1", "FF", "relu", 48, 48, 4 * 96),
        ("3", "FF", "add_", 1, 1, 16),  # num_batches_tracked += 1 (int64)
        # x, weight, bias, running mean, running var -> y, batch mean, batch inverse std
        ("3", "FF", "native_batch_norm", 12 + 4 * 4, 12 + 2 * 4, 4 * (28 + 20)),
        # dY, x, weight, running mean/var, saved mean/invstd -> dX, dweight, dbias
        ("3", "BP", "native_batch_norm_backward", 24 + 5 * 4, 12 + 2 * 4, 4 * (44 + 20)),
        ("2", "BP", "sum", 12, 4, 4 * 16),  # bias gradient
        ("1", "BP", "threshold_backward", 96, 48, 4 * 144),
        ("0", "BP", "sum", 48, 16, 4 * 64),
    ]


@pytest.mark.parametrize("method", ["srste", "bdwp"])
def test_nm_layers_are_traced_as_their_dense_layers(method):
    from nmsat.algo.layers import sparsify_
    from nmsat.algo.nmconfig import NMConfig

    torch.manual_seed(0)
    dense = nn.Sequential(nn.Conv2d(8, 16, 3, padding="same", padding_mode="reflect"), nn.ReLU(),
                          nn.Flatten(), nn.Linear(16 * 16, 8))
    sparse = sparsify_(nn.Sequential(*[m for m in dense]), NMConfig.parse(method, "2:8"))
    a = trace_from_module(dense, (8, 4, 4), 2, method, "2:8")
    b = trace_from_module(sparse, (8, 4, 4), 2, method, "2:8")
    assert a.gemms == b.gemms and a.nongemm == b.nongemm
    assert any(o.op == "reflection_pad2d" for o in a.nongemm)
