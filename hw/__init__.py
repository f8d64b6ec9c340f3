"""nmsat.hw: the SAT-style accelerator in Amaranth HDL (no torch)."""
