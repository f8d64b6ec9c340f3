"""The result of one GEMM (all repeats) in either layer model: the generated hardware's or the projected one."""

from dataclasses import dataclass


@dataclass(frozen=True)
class GemmResult:
    """Cycles, traffic, work and energy of one GEMM (all repeats) under one tiling or engine plan."""

    tiling: object
    pattern: object
    tiles: int
    compute_cycles: int
    stall_cycles: int
    fill_drain_cycles: int
    macs: int
    mults: int
    dram_bytes: float
    energy_pj: dict

    @property
    def cycles(self):
        """Total cycles: compute plus memory stalls."""
        return self.compute_cycles + self.stall_cycles

    @property
    def energy_total_pj(self):
        """Energy of the GEMM, all components."""
        return sum(self.energy_pj.values())
