"""The smallest core the area and timing flows build (2x2 PEs x 2 int8 multipliers, 1:2, a 4-byte bus)."""

TINY = """name = "tiny"
[array]
rows = 2
cols = 2
mults_per_pe = 2
patterns = ["1:2"]
data_width = 8
acc_width = 16
[memory]
weight_spad_kib = 0.0625
act_spad_kib = 0.0625
out_spad_kib = 0.0625
bus_bytes = 4
[topn]
lanes = 2
"""
