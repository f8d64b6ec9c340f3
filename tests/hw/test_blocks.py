"""Small RTL blocks in Amaranth's simulator: MAC, N:M mux, skew, PE, against nmsat.nm and the golden GEMM."""

import numpy as np
import pytest
from amaranth import Module, signed
from amaranth.sim import Simulator

from nmsat.config import load_config
from nmsat.core_params import core_params
from nmsat.hw.datapath.delay_line import RAM_MIN_CYCLES, DelayLine
from nmsat.hw.datapath.mac import Mac
from nmsat.hw.datapath.nmmux import NMMux, NMPick
from nmsat.hw.datapath.pe import PE
from nmsat.hw.datapath.skew import Skew
from nmsat.hw.layouts import keep_copies
from nmsat.hw.replicas import LOADS_PER_COPY
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
    """a (and w where w_load) in cycle Y; acc_in, first in Y+3; acc_out from Y+4; one MAC per cycle. Between
    loads the weight registers hold: a MAC whose cycle does not load uses the last weights loaded."""
    dut = Mac(4, 8, 16)
    rng = np.random.default_rng(0)
    cases = [(np.full(4, -128), np.full(4, -128), 32767, 0), (np.full(4, 127), np.full(4, -128), -32768, 0)]
    cases += [(_ints(rng, 4), _ints(rng, 4), int(_ints(rng, 1, 16)[0]), int(rng.integers(2))) for _ in range(50)]
    load = [True, True] + [bool(x) for x in rng.random(50) < 0.4]
    held = [cases[max(i for i in range(y + 1) if load[i])][1] for y in range(len(cases))]

    async def bench(ctx):
        for y in range(len(cases) + 4):
            ctx.set(dut.w_load, y < len(cases) and load[y])
            if y < len(cases):
                ctx.set(dut.a, cases[y][0].tolist())
                ctx.set(dut.w, (cases[y][1] if load[y] else _ints(rng, 4)).tolist())
            if 3 <= y < len(cases) + 3:
                ctx.set(dut.acc_in, cases[y - 3][2])
                ctx.set(dut.first, cases[y - 3][3])
            if y >= 4:
                a, _, acc, first = cases[y - 4]
                assert ctx.get(dut.acc_out) == wrap((0 if first else acc) + int(a @ held[y - 4]), 16), y
            await ctx.tick()

    _run(dut, bench)


def _pick_and_mux():
    m = Module()
    m.submodules.pick, m.submodules.mux = pick, mux = NMPick(P), NMMux(P)
    m.d.comb += mux.choice.eq(pick.choice)
    return m, pick, mux


@pytest.mark.parametrize("pattern", MODES, ids=str)
def test_mux_selects_the_kept_choices(pattern):
    """Given the indices of `compress`, multiplier j sees the activation at the j-th kept position."""
    dut, pick, mux = _pick_and_mux()
    rng = np.random.default_rng(1)
    e = window(CFG.array, pattern)

    async def bench(ctx):
        ctx.set(pick.mode, P.mode_of(pattern))
        for _ in range(40):
            acts = _ints(rng, P.e_max)
            b = rng.permutation(e) + 1  # distinct magnitudes: exactly n kept per group
            if pattern is None:
                idx, kept = np.zeros(P.mults, dtype=int), np.arange(P.mults)
            else:
                idx, kept = compress(b, pattern).indices.reshape(-1), np.flatnonzero(nm_mask(b, pattern))
            ctx.set(mux.act, acts.tolist())
            ctx.set(pick.idx, idx.tolist())
            await ctx.delay(1e-6)
            assert list(ctx.get(mux.sel)) == acts[kept].tolist()

    _run(dut, bench, clock=False)


@pytest.mark.parametrize("cycles", [1, RAM_MIN_CYCLES - 1, RAM_MIN_CYCLES, 7, 21])
def test_delay_line_delays_by_its_cycles(cycles):
    """Registers below RAM_MIN_CYCLES, a LUT-RAM ring plus a register from it on: the same delay."""
    dut = DelayLine(signed(12), cycles)
    stream = _ints(np.random.default_rng(cycles), 3 * cycles + 20, 12)

    async def bench(ctx):
        for t, value in enumerate(stream):
            ctx.set(dut.i, int(value))
            if t >= cycles:
                assert ctx.get(dut.o) == stream[t - cycles], t
            await ctx.tick()

    _run(dut, bench)


def test_delay_line_slices_a_wide_bus():
    """A bus wider than LOADS_PER_COPY bits is several rings, each with its own address register: same delay."""
    width, cycles = 2 * LOADS_PER_COPY + 22, 9
    dut = DelayLine(width, cycles)
    rng = np.random.default_rng(5)
    stream = [int.from_bytes(rng.bytes(width // 8 + 1), "little") % (1 << width) for _ in range(40)]

    async def bench(ctx):
        for t, value in enumerate(stream):
            ctx.set(dut.i, value)
            if t >= cycles:
                assert ctx.get(dut.o) == stream[t - cycles], t
            await ctx.tick()

    _run(dut, bench)


@pytest.mark.parametrize(("reverse", "step"), [(False, 1), (True, 1), (False, 7)])
def test_skew_delays_each_lane(reverse, step):
    dut = Skew(signed(P.data_width), 4, reverse=reverse, step=step)
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


def _word(vals, idx, pattern, hops, top=0, valid=1):
    keep = (1 << keep_copies(P)) - 1 if valid and hops == 0 else 0  # the sender's decision, every copy
    return {"w": {"val": list(vals), "idx": list(idx)}, "mode": P.mode_of(pattern), "top": top, "hops": hops,
            "valid": valid, "keep": keep}


@pytest.mark.parametrize("pattern", MODES, ids=str)
def test_pe_keeps_its_word_and_adds_partial_sums(pattern):
    """A PE keeps the valid word with hops 0 and passes every word on with hops - 1; a window in cycle X meets
    psum_in in X+front (5) and the sum is on psum_out from X+front+1; with top set psum_in is ignored."""
    dut = PE(P)
    rng = np.random.default_rng(4)
    e = window(CFG.array, pattern)
    b = _ints(rng, (1, e))
    vals, idx = (x[0, 0] for x in weight_rows(b, pattern, CFG.array))
    other = _ints(rng, P.mults)
    windows = [_ints(rng, (1, e)) for _ in range(12)]
    psums = [int(_ints(rng, 1, P.acc_width)[0]) for _ in windows]

    async def bench(ctx):
        for hops in (1, 0):  # a word for the next row passes; this row's is kept
            ctx.set(dut.w_in, _word(vals if hops == 0 else other, idx, pattern, hops))
            await ctx.tick()
            assert ctx.get(dut.w_out.hops) == (hops - 1) % (1 << len(dut.w_out.hops))
            assert ctx.get(dut.w_out.keep) == (_word(vals, idx, pattern, 0)["keep"] if hops == 1 else 0)  # below
        ctx.set(dut.w_in, _word(other, idx, pattern, 0, valid=0))  # not valid: ignored
        front = dut.front
        assert front == 5
        for x in range(len(windows) + front + 1):
            if x < len(windows):
                acts = np.zeros(P.e_max, dtype=np.int64)
                acts[:e] = windows[x][0]
                ctx.set(dut.act_in, acts.tolist())
            if front <= x < len(windows) + front:
                ctx.set(dut.psum_in, psums[x - front])
            if x >= front + 1:
                i = x - front - 1
                assert ctx.get(dut.psum_out) == wrap(psums[i] + int(golden_gemm(windows[i], b, pattern)[0, 0]),
                                                     P.acc_width)
            await ctx.tick()
        ctx.set(dut.w_in, _word(vals, idx, pattern, 0, top=1))
        await ctx.tick()
        ctx.set(dut.psum_in, 12345)
        for _ in range(front + 1):
            await ctx.tick()
        assert ctx.get(dut.psum_out) == wrap(int(golden_gemm(windows[-1], b, pattern)[0, 0]), P.acc_width)

    _run(dut, bench)
