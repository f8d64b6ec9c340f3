"""nmsat.algo: N:M sparse training in PyTorch (dense, SR-STE, BDWP, transposable, Bi-Mask) and workload
extraction (no amaranth).

Modules: `nmconfig` (NMConfig), `masks` (N:M masks; `kernel`: their C++ kernel), `transposable`,
`bimask`, `mask_maker` (the masks of each method), `functions` (autograd), `layers`
(NMLinear, NMConv2d, sparsify_, densify_), `models` (MODELS), `workload` (model_trace, trace_from_module),
`dispatch` (the dispatcher-level recorder behind it), `usermodel` (``package.module:factory`` models),
`data` (digits), `train`, `sweep` (accuracy_sweep).
"""

from nmsat.algo.layers import NMConv2d, NMLinear, densify_, sparsify_
from nmsat.algo.nmconfig import NMConfig

__all__ = ["NMConfig", "NMConv2d", "NMLinear", "densify_", "sparsify_"]
