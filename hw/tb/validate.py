"""Random whole GEMMs through the RTL (cocotb on Icarus or Verilator) against the golden GEMM and the
exact engine model: ``results_equal`` (Y in memory == `golden_gemm`, bit for bit `golden_gemm_fp_array` for
bf16) and ``cycles_equal`` (RTL cycles ==
`nmsat.sim.engine.gemm_cycles`) per case."""

from pathlib import Path

import numpy as np

from nmsat.core_params import core_params
from nmsat.hw.driver import descriptor, memory_bytes, pack_descriptor, place, read_y, write_operands
from nmsat.hw.flow.cocotb_sim import run_cocotb
from nmsat.hw.flow.verilog import SYSTEM_TOP, system_verilog
from nmsat.sim.engine import gemm_cycles
from nmsat.sim.fp import bf16_bits, f32_bits
from nmsat.sim.gemm_plan import max_chunk, plan_gemm
from nmsat.sim.golden import golden_gemm, golden_gemm_fp_array
from nmsat.sim.tiling import cdiv

DEFAULT_BUILD_ROOT = Path(".cache") / "nmsat-hw-sim"
MEMORY_WORDS = 1 << 15
PERIOD_NS = 10


SPECIALS = np.array([0.0, -0.0, np.inf, -np.inf, 1e-39, -1e-39, 3e38, -3e38, 1.0, -1.0], dtype=np.float32)


def _operand(rng, shape, p):
    """Random operands: integers with extremes (wrap-around), or bf16 bit patterns of normal values with
    spread exponents and a few zeros, infinities, subnormals (read as zero) and huge values (overflow)."""
    if p.arith == "bf16":
        x = (rng.standard_normal(shape) * 2.0 ** rng.integers(-20, 21, size=shape)).astype(np.float32)
        if rng.random() < 0.3:
            special = rng.random(shape) < 0.05
            x[special] = rng.choice(SPECIALS, size=int(special.sum()))
        return bf16_bits(x)
    width = p.data_width
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    if rng.random() < 0.2:  # extremes stress the wrap-around
        return rng.choice([lo, hi, lo + 1, 0, -1], size=shape)
    return rng.integers(lo, hi + 1, size=shape)


def reference(p, plan, case):
    """What Y in memory must hold (`read_y`'s form): the golden GEMM wrapped to the accumulator, or for bf16 the
    fp32 bits of `golden_gemm_fp_array` in the plan's accumulation order."""
    if p.arith == "bf16":
        return f32_bits(golden_gemm_fp_array(case["a"], case["b"], case["pattern"], p.window(plan.mode), p.mults,
                                             p.rows // plan.groups))
    return golden_gemm(case["a"], case["b"], case["pattern"], p.acc_width)


def make_cases(cfg, n_cases, seed, max_dim=48):
    """Random GEMM cases: modes in turn; M, N, K from 1 to `max_dim` (K sometimes short enough for row
    groups, sometimes several folds); a random chunk, A resident or not (where it fits); operands at
    random bus-aligned places, some crossing 4 KiB pages, with random row padding."""
    p = core_params(cfg)
    rng = np.random.default_rng(seed)
    modes = [None, *p.patterns]
    cases = []
    for i in range(n_cases):
        pattern = modes[i % len(modes)]
        e = p.window(p.mode_of(pattern))
        m = int(rng.integers(1, max_dim + 1))
        n = int(rng.integers(1, max_dim + 1))
        k = int(rng.integers(1, e + 1)) if rng.random() < 0.25 else int(rng.integers(1, 4 * p.rows * e + 1))
        plan = plan_gemm(cfg, m, n, k, pattern, params=p)
        resident = plan.resident and rng.random() < 0.7
        top = max_chunk(p, plan.mode, plan.groups, plan.k_folds, resident)
        chunk = int(rng.integers(1, min(m, top) + 1))
        plan = plan_gemm(cfg, m, n, k, pattern, chunk=chunk, resident=resident, params=p)
        base = int(rng.choice([0, 4096 - 8 * p.bus_bytes, int(rng.integers(0, 512)) * p.bus_bytes]))
        where = place(p, plan, base=base, pad_rows=int(rng.integers(0, 3)), gap=int(rng.integers(0, 4)) * 1000)
        cases.append({"pattern": pattern, "shape": [m, n, k], "plan": plan, "where": where,
                      "a": _operand(rng, (m, k), p), "b": _operand(rng, (n, k), p)})
    return cases


def _program(p, case, words):
    """The testbench's entry for one case: the words to write, the descriptor, the Y words to read."""
    plan, where = case["plan"], case["where"]
    size = memory_bytes(plan, where)
    if cdiv(size, p.bus_bytes) > words:
        raise ValueError(f"case {case['shape']} needs {size} bytes of memory")
    image = np.zeros(cdiv(size, p.bus_bytes) * p.bus_bytes, dtype=np.uint8)
    write_operands(image, p, plan, where, case["a"], case["b"], case["pattern"])
    bb = p.bus_bytes
    first, last = where.a_base // bb, where.y_base // bb
    image_words = {w: int.from_bytes(bytes(image[w * bb:(w + 1) * bb]), "little") for w in range(first, last)}
    read = [where.y_base // bb, cdiv(size, bb) - where.y_base // bb]
    return {"words": image_words, "desc": pack_descriptor(p, descriptor(p, plan, where)), "read": read}, image


def trace_cases(trace, cfg, mode, seed):
    """One case per GEMM of `trace` in hardware `mode`, each with the plan the model's search picked
    (chunk, residency, and dense execution of a sparse GEMM where that is faster); random operands."""
    from nmsat.sim.layer import best_gemm
    from nmsat.sim.modes import gemm_patterns

    p = core_params(cfg)
    rng = np.random.default_rng(seed)
    cases = []
    for g, pattern in zip(trace.gemms, gemm_patterns(trace, cfg, mode), strict=True):
        best = best_gemm(g, cfg, pattern, "best")
        t = best.tiling
        plan = plan_gemm(cfg, g.m, g.n, g.k, best.pattern, chunk=t.chunk, resident=t.resident, params=p)
        cases.append({"pattern": best.pattern, "shape": [g.m, g.n, g.k], "plan": plan, "where": place(p, plan),
                      "a": _operand(rng, (g.m, g.k), p), "b": _operand(rng, (g.n, g.k), p),
                      "count": g.count, "model_cycles": best.cycles // g.count})
    return cases


def run_validation(cfg, n_cases, simulator, seed, build_root=DEFAULT_BUILD_ROOT, max_dim=48):
    """Run `n_cases` random GEMMs of `cfg` on `simulator`; one dict per case."""
    return run_cases(cfg, make_cases(cfg, n_cases, seed, max_dim), simulator, build_root)


def run_cases(cfg, cases, simulator, build_root=DEFAULT_BUILD_ROOT, words=MEMORY_WORDS):
    """Run `cases` (from `make_cases` or `trace_cases`) on `simulator` with `words` words of memory; one
    dict per case: results against the golden GEMM, cycles against `gemm_cycles`."""
    p = core_params(cfg)
    programs = [_program(p, c, words) for c in cases]
    model = [gemm_cycles(c["plan"], cfg) for c in cases]
    params = {"period_ns": PERIOD_NS, "max_cycles": 100 + 4 * max(model), "gemms": [g for g, _ in programs]}
    run = run_cocotb(system_verilog(p, words), SYSTEM_TOP, "nmsat.hw.tb.tb_gemm", simulator, params, build_root)
    results = []
    for case, (prog, image), expect, out in zip(cases, programs, model, run.outputs, strict=True):
        bb = p.bus_bytes
        first = prog["read"][0]
        for i, w in enumerate(out["words"]):
            image[(first + i) * bb:(first + i + 1) * bb] = np.frombuffer(int(w).to_bytes(bb, "little"), dtype=np.uint8)
        got = read_y(image, p, case["plan"], case["where"])
        plan = case["plan"]
        ref = reference(p, plan, case)
        results.append({
            "mode": str(case["pattern"] or "dense"), "shape": case["shape"], "groups": plan.groups,
            "chunk": plan.chunk_rows, "resident": plan.resident,
            "tiles": plan.m_chunks * plan.n_blocks * plan.k_folds,
            "rtl_cycles": out["cycles"], "model_cycles": expect, "cycles_equal": out["cycles"] == expect,
            "gemm_wall_s": out["wall_s"],
            "results_equal": bool((got == ref).all()),
        })
    return results
