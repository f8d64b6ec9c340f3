"""The fp32 adders of the bf16 datapath against the bit-exact reference `sim.fp`, in Amaranth's simulator:
`Fp32Add` (the output tile's fold add) and `FpDotAcc` (a PE's dot product plus the partial sum from above,
or +0 when its row starts a group), over every pair of fp32 edge values and random ones, one per cycle."""

import itertools

import numpy as np
import pytest
from amaranth.sim import Simulator

from nmsat.hw.datapath.fp_dot import FpDotAcc
from nmsat.hw.datapath.fp_mac import Fp32Add
from nmsat.sim.fp import add_step, fp_mac
from nmsat.sim.fp_cases import BF16_EDGES, F32_EDGES, random_bf16, random_f32


def _pipe(dut, latency, inputs, read):
    """Set `inputs[i]` ([(port, value)]) in cycle i; return `read()` of cycle i + `latency` for each i."""
    got = []

    async def bench(ctx):
        for cycle in range(len(inputs) + latency):
            if cycle < len(inputs):
                for port, value in inputs[cycle]:
                    ctx.set(port, value)
            await ctx.tick()
            if cycle + 1 >= latency:
                got.append(read(ctx))

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return np.array(got[: len(inputs)], dtype=np.uint32)


def _pairs(seed, count):
    rng = np.random.default_rng(seed)
    x, y = (np.array(v, np.uint32) for v in zip(*itertools.product(F32_EDGES, F32_EDGES), strict=True))
    extra = [random_f32(rng, count, edges=0.1) for _ in range(2)]
    return np.concatenate([x, extra[0]]), np.concatenate([y, extra[1]])


@pytest.mark.parametrize("stages", [1, 4, 7])
def test_fp32_add_matches_reference(stages):
    x, y = _pairs(stages, 300)
    dut = Fp32Add(stages)
    got = _pipe(dut, stages, [[(dut.a, int(a)), (dut.b, int(b))] for a, b in zip(x, y, strict=True)],
                lambda ctx: ctx.get(dut.out))
    want = add_step(x, y)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, [(hex(x[i]), hex(y[i]), hex(got[i]), hex(want[i])) for i in bad[:3]]


@pytest.mark.parametrize(("mults", "stages"), [(2, 7), (3, 2)])
def test_fp_dot_acc_matches_reference(mults, stages):
    """``acc_out = (+0 if first else acc_in) + dot``; `acc_in` and `first` arrive `stages` cycles after a, w."""
    rng = np.random.default_rng(mults)
    acc, _ = _pairs(mults, 300)
    n = len(acc)
    pairs = list(itertools.product(BF16_EDGES, BF16_EDGES))
    a = random_bf16(rng, n * mults, edges=0.1).reshape(n, mults)
    w = random_bf16(rng, n * mults, edges=0.1).reshape(n, mults)
    a[: len(pairs), 0], w[: len(pairs), 0] = zip(*pairs, strict=True)
    first = rng.random(n) < 0.3
    dut = FpDotAcc(mults, stages)
    late = dut.stages  # acc_in and first are read this many cycles after a and w
    inputs = [[] for _ in range(n + late)]
    for i in range(n):
        inputs[i] += [(dut.a, [int(v) for v in a[i]]), (dut.w, [int(v) for v in w[i]]), (dut.w_load, 1)]
        inputs[i + late] += [(dut.acc_in, int(acc[i])), (dut.first, bool(first[i]))]
    got = _pipe(dut, late + dut.chain, inputs, lambda ctx: ctx.get(dut.acc_out))[:n]
    dot = fp_mac(np.zeros(n, np.uint32), a, w)
    want = add_step(np.where(first, np.uint32(0), acc), dot)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, [(hex(acc[i]), bool(first[i]), hex(dot[i]), hex(got[i]), hex(want[i])) for i in bad[:3]]
