"""Workload extraction: GEMM shapes per the trace convention, sparsity per method, MACs vs analytic and
published forward counts."""

import pytest
import torch
from torch import nn

from nmsat.algo.models import MODELS
from nmsat.algo.workload import macs_by_pass, model_trace, trace_from_module
from nmsat.errors import NmsatError
from nmsat.nm import NMPattern
from nmsat.trace import from_json

# Published ImageNet (224x224) forward MACs, in GMACs:
# torchvision model docs ("GFLOPS", counted as multiply-adds): resnet18 1.81, resnet50 4.09, vgg19 19.63;
# the exact conv + linear counts behind those roundings are 1.814, 4.089 and 19.632.
# DeiT paper (Touvron et al., ICML 2021, Table 1): DeiT-S = ViT-S/16, 4.6 GFLOPs (multiply-adds).
PUBLISHED = {"resnet18": 1.814, "resnet50": 4.089, "vgg19": 19.632, "vit_small": 4.6}


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 8, 3, stride=2, padding=1)
        self.grouped = nn.Conv2d(8, 16, 1, groups=2)
        self.fc = nn.Linear(16 * 25, 12)

    def forward(self, x):
        return self.fc(self.grouped(self.conv(x)).flatten(1))


def _by(trace):
    return {(g.layer, g.pass_): g for g in trace.gemms}


def test_gemm_shapes_follow_the_trace_convention():
    t = _by(trace_from_module(Tiny(), (4, 9, 9), batch=3, method="bdwp", pattern="2:8", name="tiny"))
    p = NMPattern(2, 8)
    conv, fc, grp = ("conv",), ("fc",), ("grouped",)
    # conv: out pixels 5x5, K = 4*3*3 = 36; the input needs no gradient, so no BP GEMM
    assert (t[conv + ("FF",)].m, t[conv + ("FF",)].n, t[conv + ("FF",)].k) == (75, 8, 36)
    assert (conv + ("BP",)) not in t
    assert (t[conv + ("WG",)].m, t[conv + ("WG",)].n, t[conv + ("WG",)].k) == (8, 36, 75)
    assert t[conv + ("FF",)].sparse is None  # 4 in-channels: not a multiple of 8, stays dense
    view = 75 * 36 / (3 * 4 * 81)  # im2col of X over X
    assert t[conv + ("FF",)].im2col == (view, 1, 1) and t[conv + ("WG",)].im2col == (1, view, 1)
    assert t[grp + ("BP",)].im2col == (1, 1, 1) and t[fc + ("FF",)].im2col == (1, 1, 1)
    g = t[grp + ("FF",)]
    assert (g.m, g.n, g.k, g.count, g.sparse) == (75, 8, 4, 2, None)
    assert (t[grp + ("BP",)].n, t[grp + ("BP",)].k, t[grp + ("WG",)].k) == (4, 8, 75)
    assert (t[fc + ("FF",)].m, t[fc + ("FF",)].n, t[fc + ("FF",)].k, t[fc + ("FF",)].sparse) == (3, 12, 400, p)
    assert (t[fc + ("BP",)].m, t[fc + ("BP",)].n, t[fc + ("BP",)].k, t[fc + ("BP",)].sparse) == (3, 400, 12, p)
    assert (t[fc + ("WG",)].m, t[fc + ("WG",)].n, t[fc + ("WG",)].k, t[fc + ("WG",)].sparse) == (12, 400, 3, None)


@pytest.mark.parametrize("method,ff,bp", [("dense", False, False), ("srste", True, False), ("bdwp", True, True)])
def test_sparse_operand_per_method(method, ff, bp):
    t = model_trace("resnet18", "cifar", 8, method, "2:4")
    assert t.pattern == (None if method == "dense" else NMPattern(2, 4))
    weights = [g for g in t.gemms if "attn" not in g.layer]
    for g in weights:
        stem = g.layer == "stem.0.0"  # 3 input channels: dense under every method
        want = {"FF": ff, "BP": bp, "WG": False}[g.pass_] and not stem
        assert (g.sparse is not None) == want, g


@pytest.mark.parametrize("model,gmacs", PUBLISHED.items())
def test_imagenet_forward_macs_match_published(model, gmacs):
    ff = macs_by_pass(model_trace(model, "imagenet", 1, "dense", None))["FF"][0]
    assert ff / 1e9 == pytest.approx(gmacs, rel=0.005)


@pytest.mark.parametrize("name,dim,input,tokens", [("vit_tiny", 192, "imagenet", 197), ("vit_small", 384, "cifar", 65)])
def test_vit_macs_equal_analytic_count(name, dim, input, tokens):
    t = model_trace(name, input, 2, "bdwp", "2:8")
    patch_k = 3 * (16 if input == "imagenet" else 4) ** 2
    classes = 1000 if input == "imagenet" else 10
    per_block = tokens * dim * (3 * dim + dim + 8 * dim) + 2 * tokens * tokens * dim
    ff = 2 * (12 * per_block + (tokens - 1) * patch_k * dim + dim * classes)
    dense, eff = macs_by_pass(t)["FF"]
    assert dense == ff
    attn = [g for g in t.gemms if g.layer.endswith(("scores", "context"))]
    heads = 3 if name == "vit_tiny" else 6
    assert attn and all(g.sparse is None and g.count == 2 * heads for g in attn)
    linear = ff - 2 * 12 * 2 * tokens * tokens * dim - 2 * (tokens - 1) * patch_k * dim  # stem stays dense
    assert eff == ff - linear + linear // 4


def test_training_step_macs_are_three_forwards_minus_the_stem_bp():
    t = model_trace("resnet50", "imagenet", 2, "dense", None)
    macs = macs_by_pass(t)
    stem = next(g for g in t.gemms if g.layer == "stem.0.0" and g.pass_ == "FF")
    assert macs["WG"][0] == macs["FF"][0] and macs["BP"][0] == macs["FF"][0] - stem.macs


def test_all_models_all_inputs_round_trip():
    # Extraction speed is measured by benchmarks/bench_workload.py, not asserted here (shared machine).
    for name in MODELS:
        for input in ("cifar", "imagenet") + (("digits",) if name in ("mlp", "digits_cnn") else ()):
            t = model_trace(name, input, 4, "bdwp", "2:8")
            back = from_json(t.to_json())
            assert back.gemms == t.gemms and back.nongemm == t.nongemm and t.nongemm


def test_real_module_is_left_untouched():
    net = Tiny()
    before = [p.clone() for p in net.parameters()]
    trace_from_module(net, (4, 9, 9), 2, "srste", "2:4", "tiny")
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))


@pytest.mark.parametrize("kwargs,bad", [
    ({"model": "alexnet"}, "alexnet"), ({"input": "mnist"}, "mnist"), ({"method": "topk"}, "topk"),
    ({"pattern": "8:8"}, "8:8"), ({"pattern": "two:eight"}, "two:eight"), ({"batch": 0}, "0"),
])
def test_bad_workload_requests_rejected(kwargs, bad):
    with pytest.raises(NmsatError, match=bad):
        model_trace(**{"model": "mlp", **kwargs})


def test_wrong_input_shape_is_one_line_error():
    with pytest.raises(NmsatError, match="input shape") as e:
        trace_from_module(nn.Linear(5, 3), (7,), 2, "dense", None, "lin")
    assert "\n" not in str(e.value)


def test_im2col_factors_of_a_3x3_same_conv():
    t = _by(trace_from_module(nn.Sequential(nn.Conv2d(8, 8, 1), nn.Conv2d(8, 16, 3, padding=1)), (8, 6, 6),
                              batch=2, method="dense", pattern=None, name="c"))
    assert t[("1", "FF")].im2col == (9, 1, 1) and t[("1", "BP")].im2col == (1, 1, 9)
    assert t[("1", "WG")].im2col == (1, 9, 1) and t[("0", "FF")].im2col == (1, 1, 1)
