"""Small RTL blocks in Amaranth's simulator: MAC, N:M mux, skew, PE, against nmsat.nm and the golden GEMM."""

import numpy as np
import pytest
from amaranth import signed
from amaranth.sim import Simulator

from nmsat.config import load_config
from nmsat.core_params import core_params
from nmsat.hw.datapath.mac import Mac
from nmsat.hw.datapath.nmmux import NMMux
from nmsat.hw.datapath.pe import PE
from nmsat.hw.datapath.skew import Skew
from nmsat.nm import compress, nm_mask
from nmsat.sim.golden import golden_gemm, wrap
from nmsat.sim.tile import weight_rows, window

CFG = load_config("configs/hw-small.toml")
P = core_params(CFG)
MODES = [None, *P.patterns]


def _run(dut, bench, clock=True):
    sim = Simulator(dut)
    if clock:
        sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()


def _ints(rng, shape, width=P.data_width):
    return rng.integers(-(1 << (width - 1)), 1 << (width - 1), size=shape)


def test_mac_wraps_like_the_golden_accumulator():
    dut = Mac(4, 8, 16)
    rng = np.random.default_rng(0)
    cases = [(np.full(4, -128), np.full(4, -128), 32767), (np.full(4, 127), np.full(4, -128), -32768)]
    cases += [(_ints(rng, 4), _ints(rng, 4), int(_ints(rng, 1, 16)[0])) for _ in range(50)]

    async def bench(ctx):
        for a, w, acc in cases:
            ctx.set(dut.a, a.tolist())
            ctx.set(dut.w, w.tolist())
            ctx.set(dut.acc_in, acc)
            await ctx.delay(1e-6)
            assert ctx.get(dut.acc_out) == wrap(acc + int(a @ w), 16)

    _run(dut, bench, clock=False)


@pytest.mark.parametrize("pattern", MODES, ids=str)
def test_mux_selects_the_kept_positions(pattern):
    """Given the indices of `compress`, multiplier j sees the activation at the j-th kept position."""
    dut = NMMux(P)
    rng = np.random.default_rng(1)
    e = window(CFG.array, pattern)

    async def bench(ctx):
        ctx.set(dut.mode, P.mode_of(pattern))
        for _ in range(40):
            acts = _ints(rng, P.e_max)
            b = rng.permutation(e) + 1  # distinct magnitudes: exactly n kept per group
            if pattern is None:
                idx, kept = np.zeros(P.mults, dtype=int), np.arange(P.mults)
            else:
                idx, kept = compress(b, pattern).indices.reshape(-1), np.flatnonzero(nm_mask(b, pattern))
            ctx.set(dut.act, acts.tolist())
            ctx.set(dut.idx, idx.tolist())
            await ctx.delay(1e-6)
            assert list(ctx.get(dut.sel)) == acts[kept].tolist()

    _run(dut, bench, clock=False)


@pytest.mark.parametrize("reverse", [False, True])
def test_skew_delays_each_lane(reverse):
    dut = Skew(signed(P.data_width), 4, reverse=reverse)
    rng = np.random.default_rng(2)
    stream = _ints(rng, (30, 4))

    async def bench(ctx):
        for t, word in enumerate(stream):
            ctx.set(dut.i, word.tolist())
            got = ctx.get(dut.o)
            for lane in range(4):
                d = dut.delay(lane)
                assert got[lane] == (stream[t - d][lane] if t >= d else 0), (t, lane)
            await ctx.tick()

    _run(dut, bench)


def _window_products(rng, pattern, steps):
    """Per step: (activation window padded to e_max, weights, indices, golden dot of the step)."""
    e = window(CFG.array, pattern)
    out = []
    for _ in range(steps):
        a, b = _ints(rng, (1, e)), _ints(rng, (1, e))
        vals, idx = weight_rows(b, pattern, CFG.array)  # one row, C columns, column 0 holds b
        acts = np.zeros(P.e_max, dtype=np.int64)
        acts[:e] = a[0]
        out.append((acts, vals[0, 0], idx[0, 0], int(golden_gemm(a, b, pattern)[0, 0])))
    return out


@pytest.mark.parametrize("pattern", MODES, ids=str)
def test_pe_output_stationary_accumulates(pattern):
    dut = PE(P)
    steps = _window_products(np.random.default_rng(3), pattern, 12)

    async def bench(ctx):
        ctx.set(dut.ctrl, {"ws": 0, "w_shift": 1, "clear": 1, "drain": 0, "mode": P.mode_of(pattern)})
        await ctx.tick()
        ctx.set(dut.ctrl.clear, 0)
        total = 0
        for acts, vals, idx, dot in steps:
            ctx.set(dut.act_in, acts.tolist())
            ctx.set(dut.w_in, {"val": vals.tolist(), "idx": idx.tolist()})
            await ctx.tick()
            total = wrap(total + dot, P.acc_width)
            assert ctx.get(dut.psum_out) == total
            assert list(ctx.get(dut.act_out)) == acts.tolist()
        ctx.set(dut.ctrl.drain, 1)
        ctx.set(dut.psum_in, -5)
        await ctx.tick()
        assert ctx.get(dut.psum_out) == -5

    _run(dut, bench)


@pytest.mark.parametrize("pattern", MODES, ids=str)
def test_pe_weight_stationary_adds_partial_sums(pattern):
    dut = PE(P)
    rng = np.random.default_rng(4)
    (acts0, vals, idx, _), *_ = _window_products(rng, pattern, 1)

    async def bench(ctx):
        ctx.set(dut.ctrl, {"ws": 1, "w_shift": 1, "clear": 0, "drain": 0, "mode": P.mode_of(pattern)})
        ctx.set(dut.w_in, {"val": vals.tolist(), "idx": idx.tolist()})
        await ctx.tick()  # preload
        ctx.set(dut.ctrl.w_shift, 0)
        ctx.set(dut.w_in, {"val": [0] * P.mults, "idx": [0] * P.mults})  # must be ignored now
        for _ in range(10):
            e = window(CFG.array, pattern)
            a = _ints(rng, (1, e))
            acts = np.zeros(P.e_max, dtype=np.int64)
            acts[:e] = a[0]
            psum = int(_ints(rng, 1, P.acc_width)[0])
            b = np.zeros((1, e), dtype=np.int64)  # the dense window the stored weights stand for
            if pattern is None:
                b[0, : P.mults] = vals
            else:
                b[0, (np.arange(P.mults) // pattern.n) * pattern.m + idx] = vals
            ctx.set(dut.act_in, acts.tolist())
            ctx.set(dut.psum_in, psum)
            await ctx.tick()
            assert ctx.get(dut.psum_out) == wrap(psum + int(golden_gemm(a, b)[0, 0]), P.acc_width)

    _run(dut, bench)
