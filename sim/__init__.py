"""nmsat.sim: cycle-accurate numpy model of the SAT-style N:M training accelerator (no torch, no amaranth)."""
