"""Energy of GEMM tiles and of the static power, per component, from the per-action table `cfg.energy`.

Components: mac (multiplies done), mux (one m-to-1 select per multiply in N:M mode), register (per PE
step: the activation window and the partial sum it registers; WS weight preload), spad (bytes written
from DRAM and read by the array, outputs written and read back, at the per-byte cost of each
scratchpad's size class), dram (bytes moved), and, costed elsewhere, topn, update and static.
"""

from nmsat.nm import NMPattern
from nmsat.sim.tile import window
from nmsat.sim.tiling import acc_bytes, operand_bytes

COMPONENTS = ("mac", "mux", "register", "spad", "dram", "topn", "update", "static")
SMALL_KIB, MEDIUM_KIB = 8, 32


def spad_pj_per_byte(kib, energy):
    """Per-byte access energy of a scratchpad of `kib` KiB: small <= 8 KiB, medium <= 32 KiB, else large."""
    if kib <= SMALL_KIB:
        return energy.spad_small_pj_per_byte
    if kib <= MEDIUM_KIB:
        return energy.spad_medium_pj_per_byte
    return energy.spad_large_pj_per_byte


def tile_energy(t, cfg, pattern, dataflow):
    """Energy (pJ) per component of the tiles `t` (the dict from `tiling.tile_arrays`), summed."""
    a, en, mem = cfg.array, cfg.energy, cfg.memory
    tot = t["totals"]
    e = window(a, pattern)
    idx = 0 if pattern is None else NMPattern.parse(pattern).index_bits / 8
    reg_bytes = tot["pe_steps"] * (e * operand_bytes(a) + acc_bytes(a))
    if dataflow == "ws":
        reg_bytes += tot["pes"] * a.mults_per_pe * (operand_bytes(a) + idx)
    spad = (spad_pj_per_byte(mem.weight_spad_kib, en) * (tot["w_load"] + tot["w_bytes"])
            + spad_pj_per_byte(mem.act_spad_kib, en) * (tot["a_load"] + tot["a_bytes"])
            + spad_pj_per_byte(mem.out_spad_kib, en) * (tot["psum_load"] + tot["psum_bytes"] + tot["store"]))
    dram = tot["w_load"] + tot["a_load"] + tot["psum_load"] + tot["store"]
    return {
        "mac": tot["mults"] * en.mac_pj,
        "mux": tot["mults"] * en.mux_pj if pattern is not None else 0.0,
        "register": reg_bytes * en.reg_pj_per_byte,
        "spad": spad,
        "dram": dram * en.dram_pj_per_byte,
    }


def static_pj(cfg, seconds):
    """Static energy (pJ) of `seconds` at `cfg.energy.static_mw`."""
    return cfg.energy.static_mw * 1e-3 * seconds * 1e12
