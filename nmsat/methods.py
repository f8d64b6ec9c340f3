"""What each N:M training method asks of the hardware (shared by `algo` and `sim`; names in `nmsat.trace.METHODS`).

* ``srste``: FF N:M (along input channels); BP and WG dense.
* ``bdwp``: FF N:M; BP N:M along output channels with a mask of its own (a second top-N pass).
* ``transposable``: FF and BP N:M with one mask that is N:M along both axes (Hubara et al. 2021).
* ``bimask``: FF N:M; BP N:M along output channels in a searched channel order (Zhang et al. 2023):
  `BIMASK_CANDIDATES` random permutations scored every `BIMASK_SEARCH_EVERY` mask updates (the values of
  the paper's reference code).
"""

SPARSE_BP_METHODS = ("bdwp", "transposable", "bimask")  # methods whose BP GEMM is N:M too
BIMASK_CANDIDATES = 10
BIMASK_SEARCH_EVERY = 100
