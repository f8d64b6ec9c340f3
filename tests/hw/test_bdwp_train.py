"""BDWP 2:8 training of a digits MLP end to end on the RTL (`TrainSystem`, bf16, on Verilator): every
GEMM, the re-pruning (top-N engine) and the weight update run on the generated hardware; ReLU, the loss
gradient and operand layouts run in the testbench (`nmsat.hw.tb.bdwp_train`).

Checked per step: (1) weights, momenta and masks equal, bit for bit, the exact models (`reference`), and every
command's cycles equal `nmsat.sim`'s (GEMM engine, top-N engine, update engine); (2) against
`nmsat.algo`'s BDWP in torch with the same arithmetic emulated (`algo_reference`: masks from
`nmsat.algo.masks`, GEMM operands rounded to bf16, fp32 matmuls, the SR-STE term of `nmsat.algo.functions`,
`torch.optim.SGD`): masks identical, weights within the tolerance derived in `test_bdwp_steps_match_torch`.
"""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from nmsat.algo.functions import _decayed
from nmsat.algo.masks import apply_mask, bp_mask, ff_mask
from nmsat.config import load_config
from nmsat.core_params import core_params
from nmsat.hw.tb.bdwp_train import Hyper, Layout, reference, run_training
from nmsat.sim.fp import f32_bits, f32_value

# hw-small-bf16 shrunk to 2x2 PEs x 2 MACs (a 4x4 bf16 system takes many minutes to compile in Verilator)
CFG = load_config("configs/hw-small-bf16.toml").replace(array={"rows": 2, "cols": 2, "mults_per_pe": 2,
                                                               "patterns": ["1:2", "2:8"], "max_row_groups": 2})
DIMS, BATCH, STEPS, PATTERN = (64, 32, 10), 16, 3, "2:8"
HYPER = Hyper()


def _data():
    d = load_digits()
    x, y = (d.data / 16.0).astype(np.float32), d.target
    return [(x[s * BATCH:(s + 1) * BATCH], y[s * BATCH:(s + 1) * BATCH]) for s in range(STEPS)]


def _init():
    torch.manual_seed(0)
    return [torch.nn.Linear(k, n, bias=False).weight.detach().clone() for k, n in zip(DIMS[:-1], DIMS[1:], strict=True)]


def _bf16(t):
    return t.bfloat16().float()


def algo_reference(w0, batches):
    """nmsat.algo's BDWP step in torch with bf16 GEMM operands: per step (masks, weights after the update)."""
    ws = [torch.nn.Parameter(w.clone()) for w in w0]
    opt = torch.optim.SGD(ws, lr=HYPER.lr, momentum=HYPER.momentum, weight_decay=HYPER.weight_decay)
    out = []
    for x, y in batches:
        ff = [ff_mask(w.detach(), PATTERN) for w in ws]
        bp = [bp_mask(w.detach(), PATTERN) if i else None for i, w in enumerate(ws)]
        acts, hs = [_bf16(torch.from_numpy(x))], []
        for i, w in enumerate(ws):
            h = acts[-1] @ _bf16(apply_mask(w.detach(), ff[i])).T
            hs.append(h)
            if i < len(ws) - 1:
                acts.append(_bf16(torch.relu(h)))
        grad = _bf16(torch.softmax(h.double(), 1).sub_(torch.nn.functional.one_hot(torch.from_numpy(y), 10))
                     .div_(len(y)).float())
        for i in reversed(range(len(ws))):
            w = ws[i].detach()
            ws[i].grad = _decayed(grad.T @ acts[i], w, apply_mask(w, ff[i]), HYPER.decay)
            if i:
                grad = _bf16((grad @ _bf16(apply_mask(w, bp[i]))) * (hs[i - 1] > 0))
        opt.step()
        out.append({"ff": [m.numpy() for m in ff], "bp": [None if m is None else m.numpy() for m in bp],
                    "w": [w.detach().numpy().copy() for w in ws]})
    return out


@pytest.fixture(scope="module")
def runs(hw_build_root):
    w0 = _init()
    bits = [f32_bits(w.numpy()) for w in w0]
    batches = _data()
    steps, commands = run_training(CFG, DIMS, batches, bits, HYPER, PATTERN, "verilator", hw_build_root)
    lay = Layout(CFG, core_params(CFG), DIMS, BATCH, PATTERN)
    return steps, commands, reference(lay, bits, batches, HYPER), algo_reference(w0, batches)


def test_bdwp_steps_on_the_rtl_equal_the_exact_models(runs):
    steps, commands, exact, _ = runs
    assert len(steps) == STEPS and {port for port, *_ in commands} == {"desc", "topn_desc", "update_desc"}
    assert [c for c in commands if c[1] != c[2]] == [], "a command's RTL cycles differ from nmsat.sim's"
    for s, (got, ref) in enumerate(zip(steps, exact, strict=True)):
        for key in ("w", "v", "ff", "bp"):
            for layer, (g, r) in enumerate(zip(got[key], ref[key], strict=True)):
                assert (g is None and r is None) or np.array_equal(g, r), f"step {s} {key} layer {layer}"


def test_bdwp_steps_match_torch(runs):
    """Masks identical to nmsat.algo's; weights within `TOL` of torch's after every step. The two differ only in
    the order of the fp32 sums (array order vs torch's matmul): that alone moves a weight by a few fp32 ulps
    of the update (measured: at most 1.5e-8 over these 3 steps, against updates of ~1e-2). A sum that lands
    on the other side of a bf16 rounding boundary changes one operand of a later GEMM by one bf16 ulp
    (2**-8 relative); in a WG product that moves a weight by at most lr * 2**-8 * max|x| * max|dZ| =
    0.1 * 2**-8 * 1 * (1/16) = 2.4e-5, which `TOL` allows once."""
    steps, _, _, torch_steps = runs
    for s, (got, ref) in enumerate(zip(steps, torch_steps, strict=True)):
        for key in ("ff", "bp"):
            for g, r in zip(got[key], ref[key], strict=True):
                assert (g is None and r is None) or np.array_equal(g, r), f"step {s}: {key} masks differ"
        for layer, (g, r) in enumerate(zip(got["w"], ref["w"], strict=True)):
            err = np.abs(f32_value(g) - r).max()
            assert err <= TOL, f"step {s} layer {layer}: max |W_rtl - W_torch| = {err:.3g}"


TOL = 2.5e-5
