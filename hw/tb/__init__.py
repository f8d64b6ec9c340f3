"""Verification harnesses: the core with its memory model, the cocotb testbenches, the Amaranth-simulator
runner and the random-GEMM validation against the model."""
