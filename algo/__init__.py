"""nmsat.algo: N:M sparse training in PyTorch (dense, SR-STE, BDWP) and workload extraction (no amaranth)."""
