"""The bf16 -> fp32 golden GEMM against torch: same bf16 rounding, and within the fp32 summation error bound.

Bound (recursive summation, Higham 2002 eq. 3.4): each of the K accumulation steps rounds once, so
``|Y - Y_exact| <= gamma_K * sum_k |a_k * b_k|`` with ``gamma_K = K*u / (1 - K*u)``, ``u = 2**-24``, when no
result falls below 2**-126 (the data here keep every partial sum far above it). Against torch's fp32 matmul,
which sums in its own order, the two errors add up: ``2 * gamma_K * sum |a*b|``.
"""

import numpy as np
import pytest
import torch

from nmsat.nm import prune
from nmsat.sim.fp import bf16_bits, bf16_value
from nmsat.sim.golden import golden_gemm_fp

U = 2.0**-24


def _gamma(k):
    return k * U / (1 - k * U)


def test_bf16_rounding_equals_torch():
    x = torch.randn(20_000, dtype=torch.float32) * torch.exp2(torch.randint(-40, 40, (20_000,)).float())
    x[:4] = torch.tensor([0.0, -0.0, float("inf"), -float("inf")])
    want = x.to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
    assert np.array_equal(bf16_bits(x.numpy()), want)


@pytest.mark.parametrize("pattern", [None, "2:4"])
def test_golden_fp_within_fp32_error_of_torch(pattern):
    g = torch.Generator().manual_seed(0)
    a = torch.randn(16, 256, generator=g).to(torch.bfloat16)
    b = torch.randn(12, 256, generator=g).to(torch.bfloat16)
    a_np, b_np = (bf16_bits(t.float().numpy()) for t in (a, b))
    b_kept = b.float() if pattern is None else torch.from_numpy(prune(bf16_value(b_np), pattern, axis=1))
    y = torch.from_numpy(golden_gemm_fp(a_np, b_np, pattern)).double()
    exact = a.double() @ b_kept.double().T
    scale = a.double().abs() @ b_kept.double().abs().T
    k = (b_kept != 0).sum(dim=1).max().item()
    assert ((y - exact).abs() <= _gamma(k) * scale).all()
    torch32 = a.float() @ b_kept.float().T
    assert ((y - torch32.double()).abs() <= 2 * _gamma(k) * scale).all()
    assert (y != exact).any()  # the fp32 rounding is really there: not an exact float64 sum
