"""Analytic training-speedup bounds of a workload under N:M sparsity (Amdahl over the three passes)."""


def speedup_bound(trace):
    """Bound on the training speedup of `trace` over its dense twin: dense MACs over effective MACs.

    A GEMM whose B operand is n:m sparse can at best run m/n times faster on the same multipliers;
    dense GEMMs (WG, activation x activation) run at 1x. With FF and BP at 2:8 and WG dense and the three
    passes equal in MACs this is 3 / (1/4 + 1/4 + 1) = 2.0.
    """
    dense = sum(g.macs for g in trace.gemms)
    effective = sum(g.macs * (g.sparse.density if g.sparse else 1.0) for g in trace.gemms)
    return dense / effective
