"""The pipelined bf16 x bf16 -> fp32 MAC against the bit-exact reference `sim.fp.fp_mac`, in Amaranth's
simulator and with cocotb on Icarus and Verilator: edge values (signed zeros, subnormals, infinities, NaN,
overflow, rounding ties) and random ones, one MAC started per cycle."""

import gc
import itertools
import warnings

import numpy as np
import pytest
from amaranth.sim import Simulator

from nmsat.hw.datapath.fp_mac import MUL_STAGES, FpMac
from nmsat.hw.flow.cocotb_sim import run_cocotb
from nmsat.sim.fp import fp_mac
from nmsat.sim.fp_cases import BF16_EDGES, F32_EDGES, random_bf16, random_f32


def _vectors(mults, count, seed):
    """(acc, a, w): every fp32 edge against edge pairs, then random draws; ties made likely on purpose."""
    rng = np.random.default_rng(seed)
    pairs = list(itertools.product(BF16_EDGES, BF16_EDGES))
    edge = [(acc, *pairs[(i * 7) % len(pairs)]) for i, acc in enumerate(F32_EDGES * 3)]
    acc = np.concatenate([np.array([e[0] for e in edge], np.uint32), random_f32(rng, count, edges=0.05)])
    a = np.concatenate([np.repeat(np.array([[e[1]] for e in edge], np.uint16), mults, 1),
                        random_bf16(rng, count * mults, edges=0.05).reshape(count, mults)])
    w = np.concatenate([np.repeat(np.array([[e[2]] for e in edge], np.uint16), mults, 1),
                        random_bf16(rng, count * mults, edges=0.05).reshape(count, mults)])
    a[: len(edge), 1:] = random_bf16(rng, len(edge) * (mults - 1)).reshape(len(edge), mults - 1)
    return acc, a, w


def _simulate(dut, acc, a, w, load=None, scramble=None):
    """Feed one MAC per cycle (with a bubble every 5th cycle); returns the acc_out of each, in order. MAC i loads
    its weights (``w[i]``) where ``load[i]`` (default: every MAC); elsewhere ``w`` carries ``scramble[i]``."""
    got = []

    async def bench(ctx):
        i = 0
        cycle = 0
        while len(got) < len(acc):
            feed = i < len(acc) and cycle % 5 != 4
            ctx.set(dut.valid, feed)
            ctx.set(dut.w_load, 0)
            if feed:
                loads = load is None or bool(load[i])
                ctx.set(dut.acc_in, int(acc[i]))
                ctx.set(dut.a, [int(x) for x in a[i]])
                ctx.set(dut.w, [int(x) for x in (w[i] if loads else scramble[i])])
                ctx.set(dut.w_load, loads)
                i += 1
            await ctx.tick()
            cycle += 1
            if ctx.get(dut.valid_out):
                assert got or cycle == dut.latency, f"first result after {cycle} cycles, latency {dut.latency}"
                got.append(ctx.get(dut.acc_out))
            assert cycle < 2 * len(acc) + dut.latency + 10

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return np.array(got, dtype=np.uint32)


def _assert_equal(got, acc, a, w):
    want = fp_mac(acc, a, w)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, [(hex(acc[i]), [hex(x) for x in a[i]], [hex(x) for x in w[i]], hex(got[i]), hex(want[i]))
                           for i in bad[:3]]


@pytest.mark.parametrize(("mults", "add_stages"), [(2, 1), (2, 2), (4, 3), (1, 4), (3, 5), (2, 6), (2, 7)])
def test_fp_mac_matches_reference(mults, add_stages):
    dut = FpMac(mults, add_stages)
    assert dut.latency == MUL_STAGES + mults * add_stages
    acc, a, w = _vectors(mults, 150, seed=mults * 10 + add_stages)
    _assert_equal(_simulate(dut, acc, a, w), acc, a, w)


def test_fp_mac_holds_its_weights_between_loads():
    """The weight registers load ``w`` only where ``w_load``: MACs between loads use the last weights loaded."""
    acc, a, w = _vectors(2, 120, seed=5)
    rng = np.random.default_rng(6)
    load = rng.random(len(acc)) < 0.3
    load[0] = True
    held = w[np.maximum.accumulate(np.where(load, np.arange(len(acc)), 0))]
    scramble = random_bf16(rng, w.size).reshape(w.shape)
    _assert_equal(_simulate(FpMac(2, 3), acc, a, w, load, scramble), acc, a, held)


@pytest.mark.slow
def test_fp_mac_every_edge_combination():
    """One product: every fp32 edge value against every pair of bf16 edge values."""
    acc, a, w = (np.array(v) for v in zip(*itertools.product(F32_EDGES, BF16_EDGES, BF16_EDGES), strict=True))
    acc, a, w = acc.astype(np.uint32), a.astype(np.uint16)[:, None], w.astype(np.uint16)[:, None]
    _assert_equal(_simulate(FpMac(1, 2), acc, a, w), acc, a, w)


@pytest.mark.slow
def test_fp_mac_random_sweep():
    acc, a, w = _vectors(4, 5000, seed=99)
    _assert_equal(_simulate(FpMac(4, 3), acc, a, w), acc, a, w)


def test_fp_mac_rejects_bad_stages():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the half-built component is never elaborated
        with pytest.raises(ValueError, match="add_stages=8"):
            FpMac(2, 8)
        gc.collect()


@pytest.mark.parametrize("simulator", ["icarus", "verilator"])
def test_fp_mac_cocotb(simulator, hw_build_root):
    acc, a, w = _vectors(4, 300, seed=7)
    dut = FpMac(4, 3)
    params = {"latency": dut.latency, "acc": acc.tolist(), "a": a.tolist(), "w": w.tolist()}
    run = run_cocotb(dut, "fp_mac", "nmsat.hw.tb.tb_fp_mac", simulator, params, hw_build_root)
    _assert_equal(np.array(run.outputs["acc_out"], dtype=np.uint32), acc, a, w)
