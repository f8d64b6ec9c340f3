"""Arithmetic datapath blocks of the PE: standalone, each verified against its numpy reference in `nmsat.sim`."""
