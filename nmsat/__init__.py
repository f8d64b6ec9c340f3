"""nmsat: co-design N:M structured-sparse training accelerators.

The shared core lives here: the N:M pattern and format (`nmsat.nm`), the accelerator
configuration (`nmsat.config`), the workload trace schema (`nmsat.trace`) and the CLI.
The layers `nmsat.algo` (torch), `nmsat.sim` (numpy) and `nmsat.hw` (Amaranth) build on it.
"""

from nmsat.errors import NmsatError
from nmsat.nm import NMPattern, compress, decompress, nm_mask

__version__ = "0.1.0"
__all__ = ["NMPattern", "NmsatError", "compress", "decompress", "nm_mask", "__version__"]
