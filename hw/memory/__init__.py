"""The memory side: the AXI4 port, the DMA engines, and the deterministic memory model of the testbenches."""
