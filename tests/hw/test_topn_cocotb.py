"""The top-N unit on Icarus and Verilator (cocotb): outputs == `nmsat.nm`, cycles == `topn_cycles`."""

import numpy as np
import pytest

from nmsat.config import load_config
from nmsat.hw.flow.cocotb_sim import run_cocotb
from nmsat.hw.topn import TopN, beats, expected, groups_of, pack_beat, unpack_out
from nmsat.sim.tile import TOPN_LATENCY, topn_cycles

CONFIG = "configs/hw-small.toml"


def _jobs(cfg, rng):
    """(sel, x, axis) per pattern, FF (axis 1) and BP (axis 0), ragged, with ties, zeros and -2^(D-1)."""
    lo = -(1 << (cfg.array.data_width - 1))
    jobs = []
    for sel in range(len(cfg.array.patterns)):
        for axis in (1, 0):
            x = rng.integers(lo, -lo, size=(7, 13))
            x[rng.random(x.shape) < 0.3] = rng.choice([lo, -lo - 1, 0, 1, -1], size=1)[0]
            jobs.append((sel, x, axis))
    return jobs


def _program(unit, cfg, jobs):
    stream, n_out = [], 0
    for sel, x, axis in jobs:
        m = cfg.array.patterns[sel].m
        for k, beat in enumerate(beats(groups_of(x, m, axis), unit.lanes)):
            stream.append([sel if k % m == 0 else None, pack_beat(unit, beat)])
            n_out += k % m == m - 1
    return stream, n_out


@pytest.mark.parametrize("simulator", ["icarus", "verilator"])
def test_topn_rtl_matches_core(simulator, hw_build_root):
    cfg = load_config(CONFIG).replace(topn={"lanes": 3})
    unit = TopN.from_config(cfg)
    jobs = _jobs(cfg, np.random.default_rng(11))
    stream, n_out = _program(unit, cfg, jobs)
    params = {"seed": 3, "idle": 0.25, "stall": 0.4, "max_cycles": 20 * len(stream) + 100,
              "n_out": n_out, "beats": stream}
    words = run_cocotb(unit, "topn", "topn_tb", simulator, params, hw_build_root).outputs["words"]
    for sel, x, axis in jobs:
        pat = cfg.array.patterns[sel]
        ev, ei = expected(x, pat, axis)
        batch = -(-len(ev) // unit.lanes)
        out = [unpack_out(unit, w) for w in words[:batch]]
        words = words[batch:]
        vals = np.concatenate([v for v, _ in out])[: len(ev)]
        idx = np.concatenate([i for _, i in out])[: len(ev)]
        assert np.array_equal(vals[:, : pat.n], ev) and np.array_equal(idx[:, : pat.n], ei), (sel, axis)
        assert not vals[:, pat.n:].any() and not idx[:, pat.n:].any()


@pytest.mark.parametrize("simulator", ["icarus", "verilator"])
def test_topn_rtl_cycles_match_model(simulator, hw_build_root):
    """Without idle or stall cycles, jobs back to back take the sum of their `topn_cycles` minus the
    latency each overlaps with the next (the pipeline fills once)."""
    cfg = load_config(CONFIG).replace(topn={"lanes": 3})
    unit = TopN.from_config(cfg)
    rng = np.random.default_rng(5)
    jobs = [(sel, rng.integers(-100, 100, size=(5, 3 * p.m)), 1) for sel, p in enumerate(cfg.array.patterns)]
    stream, n_out = _program(unit, cfg, jobs)
    params = {"seed": 0, "idle": 0.0, "stall": 0.0, "max_cycles": 10 * len(stream) + 100,
              "n_out": n_out, "beats": stream}
    run = run_cocotb(unit, "topn", "topn_tb", simulator, params, hw_build_root).outputs
    model = sum(int(topn_cycles(5 * 3, cfg.array.patterns[sel].m, 3)) - TOPN_LATENCY for sel, _, _ in jobs)
    assert run["last_out"] - run["first_in"] + 1 == model + TOPN_LATENCY
