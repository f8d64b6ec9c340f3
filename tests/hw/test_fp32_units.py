"""The training engines' fp32 multiply and add (`nmsat.hw.update.fp32`) equal `nmsat.sim.fp32` bit for bit, on
every combination of edge values and on random values, in Amaranth's simulator."""

import numpy as np
from amaranth import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

from nmsat.hw.update.fp32 import fp32_add, fp32_mul
from nmsat.sim.fp32 import fp32_add as ref_add
from nmsat.sim.fp32 import fp32_mul as ref_mul

EDGES = [0x00000000, 0x80000000, 0x00000001, 0x807FFFFF, 0x00800000, 0x80800000, 0x00800001, 0x3F800000,
         0xBF800000, 0x3F800001, 0x3FFFFFFF, 0x4B7FFFFF, 0x33800000, 0x7F7FFFFF, 0xFF7FFFFF, 0x7F000000,
         0x1F800000, 0x20000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFA00001, 0x00FFFFFF, 0x34000000]


class _Units(wiring.Component):
    a: In(32)
    b: In(32)
    add: Out(32)
    mul: Out(32)

    def elaborate(self, platform):
        m = Module()
        m.d.comb += [self.add.eq(fp32_add(m, self.a, self.b)), self.mul.eq(fp32_mul(m, self.a, self.b))]
        return m


def _vectors(seed, n):
    rng = np.random.default_rng(seed)
    edges = np.array(EDGES, dtype=np.uint32)
    a, b = np.meshgrid(edges, edges)
    rand = rng.integers(0, 1 << 32, (2, n), dtype=np.uint64).astype(np.uint32)
    near = rand.copy()  # close exponents: cancellation, carries
    near[1] = (near[0] & 0xFF800000) ^ (rng.integers(0, 1 << 24, n).astype(np.uint32)) ^ np.uint32(0x80000000)
    small = rng.integers(0x00800000, 0x0C000000, (2, n), dtype=np.uint64).astype(np.uint32)  # near 2**-126
    small ^= rng.integers(0, 2, (2, n)).astype(np.uint32) << 31
    short = rand & np.uint32(0xFFFFF800)  # 13-bit significands: products and sums that tie exactly
    short[1] = (short[1] & 0x807FF800) | (short[0] & 0x7F800000)
    tiny = (rng.integers(60, 67, (2, n)) << 23 | rng.integers(0, 1 << 23, (2, n))).astype(np.uint32)  # ~2**-63
    return (np.concatenate([a.ravel(), rand[0], near[0], small[0], short[0], tiny[0]]),
            np.concatenate([b.ravel(), rand[1], near[1], small[1], short[1], tiny[1]]))


def test_fp32_units_match_reference():
    a, b = _vectors(3, 300)
    dut = _Units()
    got = {}

    async def bench(ctx):
        adds, muls = [], []
        for x, y in zip(a.tolist(), b.tolist(), strict=True):
            ctx.set(dut.a, x)
            ctx.set(dut.b, y)
            adds.append(ctx.get(dut.add))
            muls.append(ctx.get(dut.mul))
        got["add"], got["mul"] = np.array(adds, dtype=np.uint32), np.array(muls, dtype=np.uint32)

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    for name, ref in (("add", ref_add(a, b)), ("mul", ref_mul(a, b))):
        bad = np.flatnonzero(got[name] != ref)
        assert not len(bad), (f"{name}: {len(bad)} of {len(a)} differ, first a={a[bad[0]]:#010x} "
                              f"b={b[bad[0]]:#010x}: rtl {got[name][bad[0]]:#010x} ref {ref[bad[0]]:#010x}")
