"""N:M Linear / Conv2d: Y, dX, dW against independent references; mask refresh; sparsify/densify; configs."""

import algo_reference as reference
import numpy as np
import pytest
import torch
from torch import nn

from nmsat.algo.layers import NMConv2d, NMLinear, densify_, layer_masks, nm_layers, sparsify_
from nmsat.algo.masks import ff_mask, nm_mask_torch
from nmsat.algo.nmconfig import NMConfig
from nmsat.errors import NmsatError
from nmsat.sim.golden import golden_gemm

CASES = [("bdwp", "2:4", 0.0), ("bdwp", "2:8", 0.3), ("srste", "1:4", 0.0), ("srste", "3:8", 0.5),
         ("dense", "2:4", 0.3)]


def _run(layer, x, dy):
    x = x.clone().requires_grad_(True)
    y = layer(x)
    y.backward(dy)
    return y.detach().numpy(), x.grad.numpy(), layer.weight.grad.numpy()


@pytest.mark.parametrize("method,pattern,decay", CASES)
@pytest.mark.parametrize("seed", range(4))
def test_linear_matches_reference(method, pattern, decay, seed):
    rng = np.random.default_rng(seed)
    fin, fout, rows = (int(v) for v in rng.integers(3, 21, size=3))  # in/out mostly not multiples of m
    layer = NMLinear(fin, fout, config=NMConfig.parse(method, pattern, decay)).double()
    x, dy = torch.randn(rows, fin, dtype=torch.float64), torch.randn(rows, fout, dtype=torch.float64)
    got = _run(layer, x, dy)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    want = reference.linear_step(x.numpy(), w, b, dy.numpy(), pattern, method, decay)
    for g, r in zip(got, want, strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-10)
    if method != "dense":
        np.testing.assert_allclose(got[0] - b, golden_gemm(x.numpy(), w, pattern), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("method,pattern,decay", CASES)
@pytest.mark.parametrize("seed", range(3))
def test_conv_matches_reference(method, pattern, decay, seed):
    rng = np.random.default_rng(100 + seed)
    cin, cout = int(rng.integers(3, 13)), int(rng.integers(3, 13))
    k, stride, pad = int(rng.choice([1, 3])), int(rng.integers(1, 3)), int(rng.integers(0, 2))
    layer = NMConv2d(cin, cout, k, stride, pad, config=NMConfig.parse(method, pattern, decay)).double()
    x = torch.randn(2, cin, 7, 6, dtype=torch.float64)
    dy = torch.randn(layer(x).shape, dtype=torch.float64)
    layer.zero_grad()
    got = _run(layer, x, dy)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    want = reference.conv_step(x.numpy(), w, b, dy.numpy(), stride, pad, pattern, method, decay)
    for g, r in zip(got, want, strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-9, atol=1e-9)


def test_bdwp_backward_uses_the_second_mask():
    torch.manual_seed(0)
    outs = {}
    for method in ("bdwp", "srste"):
        torch.manual_seed(0)
        layer = NMLinear(16, 16, config=NMConfig.parse(method, "2:8", 0.0)).double()
        x = torch.randn(4, 16, dtype=torch.float64, requires_grad=True)
        layer(x).sum().backward()
        outs[method] = x.grad
    masks = layer_masks(nn.Sequential(layer))
    assert "bp" not in masks["0"]
    assert not torch.allclose(outs["bdwp"], outs["srste"])


def test_masks_refresh_every_k_optimizer_steps():
    # interval 2: masks come from W at steps 0, 2, 4, ...; a step is a weight update, not a forward.
    layer = NMLinear(8, 4, config=NMConfig.parse("bdwp", "1:4", interval=2))
    x = torch.randn(3, 8, requires_grad=True)
    layer(x)
    first = layer.mask_ff.clone()
    with torch.no_grad():
        layer.weight.copy_(torch.arange(32.0).reshape(4, 8))  # largest |w| now last of each group
    layer(x)  # step 1: no refresh
    layer(x)  # still step 1 (no update in between): no refresh
    assert torch.equal(layer.mask_ff, first)
    with torch.no_grad():
        layer.weight.mul_(1.0)
    layer(x)  # step 2: refresh
    assert torch.equal(layer.mask_ff.bool(), torch.tensor([[False, False, False, True] * 2] * 4))
    assert torch.equal(layer.mask_bp.bool(), torch.tensor([[False] * 8] * 3 + [[True] * 8]))


@pytest.mark.parametrize("interval", [1, 2, 3])
def test_gradient_accumulation_counts_optimizer_steps(interval):
    """4 micro-batches per SGD step: masks are those of W after steps 0, k, 2k, ... whatever the forwards."""
    torch.manual_seed(0)
    layer = NMLinear(16, 8, config=NMConfig.parse("srste", "2:8", 0.0, interval))
    opt = torch.optim.SGD(layer.parameters(), lr=5.0)
    weights = []
    for step in range(7):
        weights.append(layer.weight.detach().clone())
        for _ in range(4):
            layer(torch.randn(5, 16)).square().sum().backward()
            want = weights[step - step % interval]
            assert torch.equal(layer.mask_ff.bool(), ff_mask(want, "2:8"))
        assert layer.nm_step == step
        opt.step()
        opt.zero_grad()
    assert not all(torch.equal(ff_mask(w, "2:8"), ff_mask(weights[0], "2:8")) for w in weights)


def test_grouped_conv_bp_mask_is_nm_within_each_conv_group():
    # 12 outputs in 2 groups of 6: 2:8 along the 6 output channels of a group keeps min(2, 6) = 2 per group.
    torch.manual_seed(0)
    conv = NMConv2d(16, 12, 1, groups=2, bias=False, config=NMConfig.parse("bdwp", "2:8", 0.0))
    conv(torch.randn(2, 16, 3, 3, requires_grad=True))  # the input needs a gradient: Mbp is made
    mbp = conv.mask_bp[:, :, 0, 0]
    for g in range(2):
        assert torch.equal(mbp[6 * g:6 * g + 6].sum(0), torch.full((8,), 2))
        want = nm_mask_torch(conv.weight[6 * g:6 * g + 6].detach(), "2:8", 0, torch.float32).bool()
        assert torch.equal(conv.mask_bp[6 * g:6 * g + 6], want)


@pytest.mark.parametrize("kernel,kwargs", [
    (3, {"padding": 1, "padding_mode": "reflect"}), ((2, 4), {"padding": (1, 2), "padding_mode": "reflect"}),
    (3, {"padding": (2, 1), "padding_mode": "replicate"}), (3, {"padding": 1, "padding_mode": "circular", "stride": 2}),
    (3, {"padding": "same"}), ((2, 4), {"padding": "same"}), ((2, 3), {"padding": "same", "padding_mode": "reflect"}),
    (3, {"padding": "same", "dilation": 2, "padding_mode": "reflect"}), (3, {"padding": "valid"}),
])
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
def test_conv_padding_modes_match_nn_conv2d(kernel, kwargs):
    """SR-STE NMConv2d (decay 0): Y, dX and dW equal nn.Conv2d's with the FF-masked weight."""
    torch.manual_seed(0)
    ref = nn.Conv2d(8, 4, kernel, **kwargs).double()
    layer = NMConv2d(8, 4, kernel, **kwargs, config=NMConfig.parse("srste", "2:4", 0.0)).double()
    layer.load_state_dict(ref.state_dict())
    with torch.no_grad():
        ref.weight.mul_(ff_mask(ref.weight, "2:4"))
    x = torch.randn(2, 8, 7, 6, dtype=torch.float64)
    dy = torch.randn_like(ref(x))
    for got, want in zip(_run(layer, x, dy), _run(ref, x, dy), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_no_bp_mask_when_the_input_needs_no_gradient():
    layer = NMLinear(8, 4, config=NMConfig.parse("bdwp", "1:4"))
    layer(torch.randn(3, 8)).sum().backward()
    assert layer.mask_bp is None and layer.mask_ff.dtype == torch.bool
    layer(torch.randn(3, 8, requires_grad=True))
    assert layer.mask_bp is not None


def test_eval_forward_uses_masks_of_current_weights():
    layer = NMLinear(8, 4, config=NMConfig.parse("srste", "2:4", interval=100)).eval()
    x = torch.randn(5, 8)
    w = layer.weight.detach().numpy()
    want = golden_gemm(x.numpy(), w, "2:4") + layer.bias.detach().numpy()
    np.testing.assert_allclose(layer(x).detach().numpy(), want, rtol=1e-5, atol=1e-5)


def _net():
    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(8, 16, 3), nn.Flatten(), nn.Linear(16, 4))


def test_sparsify_swaps_in_place_and_densify_restores():
    torch.manual_seed(0)
    net = _net()
    params = list(net.parameters())
    sparsify_(net, NMConfig.parse("bdwp", "2:8"))
    assert list(nm_layers(net)) == ["2", "4"]  # the 3-channel stem stays dense by default
    assert type(net[0]) is nn.Conv2d and isinstance(net[2], NMConv2d) and isinstance(net[4], NMLinear)
    assert all(a is b for a, b in zip(params, net.parameters(), strict=True))
    x = torch.randn(2, 3, 5, 5)
    net.eval()
    sparse_out = net(x)
    densify_(net, prune=True)
    assert not nm_layers(net) and type(net[2]) is nn.Conv2d and type(net[4]) is nn.Linear
    torch.testing.assert_close(net(x), sparse_out)


def test_sparsify_filter_fn_picks_layers():
    net = sparsify_(_net(), NMConfig.parse("srste", "2:4"), filter_fn=lambda name, m: name == "0")
    assert list(nm_layers(net)) == ["0"]


@pytest.mark.parametrize("kwargs,bad", [
    ({"pattern": "4:4"}, "4:4"), ({"pattern": "5:4"}, "5:4"), ({"pattern": "2-8"}, "2-8"),
    ({"method": "magic"}, "magic"), ({"decay": -1.0}, "-1.0"), ({"interval": 0}, "0"),
    ({"method": "bdwp", "pattern": None}, "bdwp"),
])
def test_bad_configs_rejected(kwargs, bad):
    with pytest.raises(NmsatError, match=bad) as e:
        NMConfig.parse(**{"method": "bdwp", "pattern": "2:8", **kwargs})
    assert "\n" not in str(e.value)


def test_sparsify_keeps_padding_mode_and_string_padding():
    net = sparsify_(nn.Sequential(nn.Conv2d(8, 8, 3, padding="same", padding_mode="reflect")), NMConfig())
    assert isinstance(net[0], NMConv2d) and net[0].padding == "same" and net[0].padding_mode == "reflect"
    assert densify_(net)[0].padding_mode == "reflect"


def test_bad_config_type_rejected():
    with pytest.raises(NmsatError, match="dict"):
        sparsify_(_net(), {"method": "bdwp"})
    with pytest.raises(NmsatError, match="Linear"):
        sparsify_(nn.Linear(8, 4), NMConfig())


@pytest.mark.parametrize("method", ["srste", "bdwp"])
def test_srste_term_is_lambda_times_pruned_weights(method):
    grads = {}
    for decay in (0.0, 0.25):
        torch.manual_seed(3)
        layer = NMConv2d(16, 8, 3, padding=1, config=NMConfig.parse(method, "2:8", decay)).double()
        layer(torch.randn(2, 16, 5, 5, dtype=torch.float64)).sum().backward()
        grads[decay] = layer.weight.grad
    w = layer.weight.detach().numpy()
    pruned = w * ~reference.masks(w, "2:8", method)[0]
    np.testing.assert_allclose((grads[0.25] - grads[0.0]).numpy(), 0.25 * pruned, rtol=1e-12, atol=1e-12)
    assert np.count_nonzero(pruned) == w.size * 6 // 8
