"""The training engines: top-N pre-generation (dense fp32 weights -> N:M weight rows) and the fp32 weight
update, each behind an AXI4 manager port (docs/hw-interface.md, "Training engines")."""
