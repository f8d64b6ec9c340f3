"""The GEMM core and both training engines behind one AXI4 port (`nmsat.hw.update.train_system`): a mixed
sequence of GEMM, top-N and update commands on one memory, on Verilator; every command's memory effect and
cycles equal its own model (the arbitration adds no cycle)."""

import numpy as np
from test_topn_engine import _case as topn_case
from test_update_engine import _case as update_case

from nmsat.config import load_config
from nmsat.core_params import core_params
from nmsat.hw.driver import descriptor, pack_descriptor, place, write_operands
from nmsat.hw.update.driver import topn_word, update_word
from nmsat.hw.update.validate import run_jobs
from nmsat.sim.engine import gemm_cycles
from nmsat.sim.gemm_plan import plan_gemm
from nmsat.sim.golden import golden_gemm
from nmsat.sim.topn_engine import topn_engine_cycles
from nmsat.sim.update_engine import update_engine_cycles

SMALL = load_config("configs/hw-small.toml")
P = core_params(SMALL)


def _gemm_case(rng, start):
    """(image, expected, word, read range, cycles) of one int GEMM placed above 16 KiB."""
    shape = tuple(int(x) for x in rng.integers(1, 20, 3))
    pattern = P.patterns[int(rng.integers(0, len(P.patterns)))]
    plan = plan_gemm(SMALL, *shape, pattern)
    where = place(P, plan, base=1 << 14)
    a, b = rng.integers(-128, 128, (shape[0], shape[2])), rng.integers(-128, 128, (shape[1], shape[2]))
    image = start.copy()
    write_operands(image, P, plan, where, a, b, pattern)
    expected = image.copy()
    y = golden_gemm(a, b, pattern, P.acc_width).astype("<i4").view(np.uint8).reshape(shape[0], -1)
    expected[where.y_base + np.arange(shape[0])[:, None] * where.y_stride + np.arange(y.shape[1])] = y
    hi = where.y_base + shape[0] * where.y_stride
    word = pack_descriptor(P, descriptor(P, plan, where))
    return image, expected, word, (where.a_base, hi), gemm_cycles(plan, SMALL)


def test_verilator_mixed_commands(hw_build_root):
    rng = np.random.default_rng(21)
    jobs, ports, model, expected = [], [], [], np.zeros(1 << 15, dtype=np.uint8)
    for i in range(15):
        kind = ("topn_desc", "update_desc", "desc")[i % 3]
        if kind == "topn_desc":
            image, expected, job = topn_case(rng, start=expected)
            span = (job.src_base, job.dst_base + job.n_blocks(P) * job.dst_stride)
            jobs.append((image, expected, topn_word(P, job), span))
            model.append(topn_engine_cycles(P, job))
        elif kind == "update_desc":
            image, expected, fields, (rows, cols, top) = update_case(rng, start=expected)
            jobs.append((image, expected, update_word(P, fields), (0, top)))
            model.append(update_engine_cycles(P, rows, cols, where=fields))
        else:
            image, expected, word, span, cycles = _gemm_case(rng, expected)
            jobs.append((image, expected, word, span))
            model.append(cycles)
        ports.append(kind)
    runs = run_jobs(None, P, jobs, "verilator", 100 + 2 * max(model), hw_build_root, ports=ports)
    for (_, ref, _, (lo, hi)), port, (got, cycles), expect in zip(jobs, ports, runs, model, strict=True):
        assert (got == ref[lo:hi]).all(), f"{port}: memory differs at {lo + np.flatnonzero(got != ref[lo:hi])[:8]}"
        assert cycles == expect, f"{port}: {cycles} cycles, model {expect}"
