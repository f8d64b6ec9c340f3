"""Top-N-of-M lane and unit in Amaranth's simulator, against `nmsat.nm` (selection, tie-break, order)."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from nmsat.config import default_config
from nmsat.errors import NmsatError
from nmsat.hw.topn import TopN, beats, expected, groups_of
from nmsat.hw.topn_lane import TopNLane
from nmsat.nm import NMPattern, compress, nm_mask
from nmsat.sim.tile import topn_cycles


def _rand_groups(rng, count, m, width):
    """Random groups rich in ties, zeros and the most negative value."""
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    kind = rng.integers(0, 4, size=count)
    g = rng.integers(lo, hi + 1, size=(count, m))
    g[kind == 1] = rng.integers(-2, 3, size=(int((kind == 1).sum()), m))  # many ties and zeros
    g[kind == 2] = rng.choice([lo, -lo - 1, lo + 1, 0, hi], size=(int((kind == 2).sum()), m))
    g[kind == 3] = 0
    return g


def _run(dut, bench):
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()


@pytest.mark.parametrize("n,m", [(1, 4), (2, 4), (3, 4), (2, 8), (1, 8), (4, 8)])
def test_lane_matches_core(n, m):
    width, slots = 8, 4
    pat = NMPattern(n, m)
    groups = _rand_groups(np.random.default_rng(n * 10 + m), 60, m, width)
    lane = TopNLane(width, slots, pat.index_bits)
    got = []

    async def bench(ctx):
        ctx.set(lane.slot_en, (1 << n) - 1)
        ctx.set(lane.en, 1)
        for grp in groups:
            for pos, x in enumerate(grp):
                ctx.set(lane.x, int(x))
                ctx.set(lane.pos, pos)
                ctx.set(lane.first, pos == 0)
                if pos == m - 1:
                    got.append((list(ctx.get(lane.values)), list(ctx.get(lane.indices)),
                                ctx.get(lane.kept)))
                await ctx.tick()

    _run(lane, bench)
    c = compress(groups, pat)
    ev_all, ei_all = c.values.reshape(-1, n), c.indices.reshape(-1, n)
    for (vals, idx, kept), ev, ei, mask in zip(got, ev_all, ei_all, nm_mask(groups, pat), strict=True):
        assert vals[:n] == list(ev) and idx[:n] == list(ei)
        assert vals[n:] == [0] * (slots - n) and kept == (1 << n) - 1
        assert sorted(idx[:n]) == list(np.flatnonzero(mask))


def _stream(dut, segments, rng, gaps, stalls):
    """Drive (sel, m, beats) segments with idle cycles and back-pressure; `pattern` is only held at group
    starts (garbage elsewhere, which the unit must ignore). Returns the output beats and cycle marks."""
    feed = [(sel, k % m == 0, beat) for sel, m, bts in segments for k, beat in enumerate(bts)]
    n_out = sum(len(bts) // m for _, m, bts in segments)
    outs, cycles = [], {}

    async def bench(ctx):
        k, cycle = 0, 0
        while len(outs) < n_out:
            assert cycle < 20 * len(feed) + 100, "unit stopped producing outputs"
            valid = k < len(feed) and rng.random() >= gaps
            ctx.set(dut.i.valid, valid)
            if valid:
                sel, first, beat = feed[k]
                ctx.set(dut.pattern, sel if first else int(rng.integers(0, 1 << len(dut.pattern))))
                ctx.set(dut.i.payload, [int(v) for v in beat])
            ready = rng.random() >= stalls
            ctx.set(dut.o.ready, ready)
            if valid and ctx.get(dut.i.ready):
                cycles.setdefault("first_in", cycle)
                k += 1
            if ready and ctx.get(dut.o.valid):
                p = ctx.get(dut.o.payload)
                outs.append(([list(v) for v in p.values], [list(i) for i in p.indices]))
                cycles["last_out"] = cycle
            await ctx.tick()
            cycle += 1

    _run(dut, bench)
    return outs, cycles


def _check(cfg, jobs, gaps=0.0, stalls=0.0, seed=0):
    """Run (sel, x, axis) jobs back to back through one unit; check every group against the core."""
    dut = TopN.from_config(cfg)
    pats = [cfg.array.patterns[sel if sel < len(cfg.array.patterns) else 0] for sel, _, _ in jobs]
    segments = [(sel, p.m, beats(groups_of(x, p.m, axis), cfg.topn.lanes))
                for (sel, x, axis), p in zip(jobs, pats, strict=True)]
    outs, cycles = _stream(dut, segments, np.random.default_rng(seed), gaps, stalls)
    for (_, x, axis), p, (_, _, bts) in zip(jobs, pats, segments, strict=True):
        batch, outs = outs[: len(bts) // p.m], outs[len(bts) // p.m:]
        vals = np.array([v for o in batch for v in o[0]])
        idx = np.array([i for o in batch for i in o[1]])
        ev, ei = expected(x, p, axis)
        assert np.array_equal(vals[: len(ev), : p.n], ev) and np.array_equal(idx[: len(ev), : p.n], ei)
        assert not vals[:, p.n:].any() and not idx[:, p.n:].any()
    return cycles


def test_unit_every_pattern_no_stalls_meets_topn_cycles():
    cfg = default_config().replace(array={"data_width": 8}, topn={"lanes": 3})
    rng = np.random.default_rng(1)
    for sel, pat in enumerate(cfg.array.patterns):
        w = _rand_groups(rng, 7, 2 * pat.m + 3, 8)  # ragged tail along the rows
        cycles = _check(cfg, [(sel, w, 1)], seed=sel)
        groups = 7 * 3
        assert cycles["last_out"] - cycles["first_in"] + 1 == topn_cycles(groups, pat.m, 3)


@pytest.mark.parametrize("axis", [0, 1])
def test_unit_ff_bp_mixed_patterns_idle_and_backpressure(axis):
    arr = {"data_width": 8, "mults_per_pe": 12, "patterns": ["2:4", "1:8", "3:4"]}
    cfg = default_config().replace(array=arr, topn={"lanes": 4})
    rng = np.random.default_rng(axis)
    jobs = [(sel, _rand_groups(rng, 9, 12, 8), axis) for sel in (0, 1, 2, 1, 3)]  # 3: out of range -> 2:4
    _check(cfg, jobs, gaps=0.3, stalls=0.5, seed=axis)


def test_16_bit_default_width_single_lane():
    cfg = default_config().replace(topn={"lanes": 1})
    w = _rand_groups(np.random.default_rng(7), 6, 8, 16)
    _check(cfg, [(2, w, 1), (0, w.T, 1)], gaps=0.2, stalls=0.2)


def test_empty_pattern_list_is_an_error():
    cfg = default_config().replace(array={"patterns": []})
    with pytest.raises(NmsatError, match="at least one N:M pattern"):
        TopN.from_config(cfg)
