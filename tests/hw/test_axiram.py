"""`nmsat_core` with cocotbext-axi's AxiRam behind its AXI4 port (Icarus): the same Y as the golden GEMM
under a memory whose timing differs from the deterministic model (cycles differ, results do not)."""

import numpy as np

from nmsat.config import load_config
from nmsat.core_params import core_params
from nmsat.hw.driver import descriptor, memory_bytes, pack_descriptor, place, read_y, write_operands
from nmsat.hw.flow.cocotb_sim import run_cocotb
from nmsat.hw.flow.verilog import CORE_TOP, core_verilog
from nmsat.sim.gemm_plan import plan_gemm
from nmsat.sim.golden import golden_gemm

SMALL = load_config("configs/hw-small.toml")
CASES = [((6, 5, 40), None, 3), ((9, 6, 24), "2:8", 8), ((5, 4, 70), "2:4", 5)]


def test_core_with_cocotbext_axi_ram(hw_build_root):
    p = core_params(SMALL)
    rng = np.random.default_rng(5)
    gemms, expected = [], []
    for (m, n, k), pattern, chunk in CASES:
        a, b = rng.integers(-128, 128, (m, k)), rng.integers(-128, 128, (n, k))
        plan = plan_gemm(SMALL, m, n, k, pattern, chunk=chunk)
        where = place(p, plan, base=4096 - 3 * p.bus_bytes)  # A crosses a 4 KiB page
        image = np.zeros(memory_bytes(plan, where), dtype=np.uint8)
        write_operands(image, p, plan, where, a, b, pattern)
        gemms.append({"image": bytes(image[:where.y_base]).hex(), "read": [where.y_base, len(image) - where.y_base],
                      "desc": pack_descriptor(p, descriptor(p, plan, where))})
        expected.append((plan, where, golden_gemm(a, b, pattern, p.acc_width)))
    params = {"size": 1 << 16, "max_cycles": 20_000, "gemms": gemms}
    run = run_cocotb(core_verilog(p), CORE_TOP, "nmsat.hw.tb.tb_axiram", "icarus", params, hw_build_root)
    for out, (plan, where, y) in zip(run.outputs, expected, strict=True):
        image = np.zeros(where.y_base + len(out["y"]) // 2, dtype=np.uint8)
        image[where.y_base:] = np.frombuffer(bytes.fromhex(out["y"]), dtype=np.uint8)
        assert (read_y(image, p, plan, where) == y).all()
