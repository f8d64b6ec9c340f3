"""The update engine's arithmetic (`nmsat.sim.update_engine.update_reference`) against `nmsat.algo`'s training
step in torch (SR-STE term of `nmsat.algo.functions`, then ``torch.optim.SGD`` with momentum and weight
decay): masks identical, and per step, from the same state, W' and V' within the bound below.

Tolerance (u = 2**-24, S = mu*|V| + |G| + decay*|W| + wd*|W|): each of the two computations rounds at most
once per operation (torch may fuse a multiply into an add, which only removes roundings), so each is within
``u * (3 S)`` of the exact V' and ``u * (|W| + 5 lr S)`` of the exact W' (first-order rounding-error
analysis of the 8-operation chain); their difference is at most twice that. Flushed subnormals (the
hardware) against gradual underflow (torch) add at most ``2**-126`` per operation, 8 in all.
"""

import numpy as np
import torch

from nmsat.algo.functions import _decayed
from nmsat.algo.masks import apply_mask, ff_mask
from nmsat.nm import nm_mask
from nmsat.sim.fp import f32_bits, f32_value
from nmsat.sim.update_engine import update_reference

U, TINY = 2.0**-24, 8 * 2.0**-126
LR, MU, WD, DECAY = 0.05, 0.9, 5e-4, 2e-4


def _scalar_bits(x):
    return int(f32_bits(np.float32(x)))


def test_update_matches_torch_sgd_within_rounding_bound():
    gen = torch.Generator().manual_seed(0)
    w = torch.nn.Parameter(torch.randn(24, 40, generator=gen))
    opt = torch.optim.SGD([w], lr=LR, momentum=MU, weight_decay=WD)
    hp = [_scalar_bits(x) for x in (DECAY, WD, MU, -LR)]
    for step in range(3):
        g = torch.randn(24, 40, generator=gen) * 0.1
        wb = f32_bits(w.detach().numpy()).copy()  # .numpy() shares memory with what opt.step updates
        vb = f32_bits(opt.state[w]["momentum_buffer"].numpy()).copy() if step else np.zeros_like(wb)
        mask = ff_mask(w.detach(), "2:8")
        assert (mask.numpy() == nm_mask(w.detach().numpy(), "2:8", axis=1)).all()
        w.grad = _decayed(g.clone(), w.detach(), apply_mask(w.detach(), mask), DECAY)
        opt.step()
        w_hw, v_hw = update_reference(f32_bits(g.numpy()), wb, vb, step == 0, "2:8", *hp)
        w_t, v_t = w.detach().numpy(), opt.state[w]["momentum_buffer"].numpy()
        a = np.abs
        s = MU * a(f32_value(vb)) + a(g.numpy()) + (DECAY + WD) * a(f32_value(wb))
        assert (a(f32_value(v_hw) - v_t) <= 2 * 3 * U * s + TINY).all()
        assert (a(f32_value(w_hw) - w_t) <= 2 * U * (a(f32_value(wb)) + 5 * LR * s) + TINY).all()
