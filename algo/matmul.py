"""`ActMatmul`: a product of two activations as a module, so workload extraction sees it as a GEMM."""

from torch import nn


class ActMatmul(nn.Module):
    """``a @ b`` for ``a[..., M, K]`` and ``b[..., K, N]``; never sparse (no weight operand)."""

    def forward(self, a, b):
        return a @ b
