"""`engine.gemm_totals` (closed form over the tile sequence's repeats) equals the per-tile model
(`tile_sequence` + `gemm_cycles`, the one the RTL is tested against) on every plan of random GEMMs, and the
layer search pruned by `lower_bound` finds what the exhaustive search finds."""

import random
from pathlib import Path

import pytest

from nmsat.config import default_config, load_config
from nmsat.sim.engine import gemm_cycles, gemm_totals, tile_sequence
from nmsat.sim.engine_layer import best_engine_gemm, lower_bound, plans, run_plan
from nmsat.trace import Gemm

SMALL = load_config(Path(__file__).resolve().parents[2] / "configs/hw-small.toml")
CONFIGS = {"default": default_config(), "hw-small": SMALL,
           "small-latency": SMALL.replace(memory={"read_latency": 2, "write_latency": 2})}


@pytest.mark.parametrize("name", CONFIGS)
def test_totals_equal_the_per_tile_model(name):
    cfg, rng = CONFIGS[name], random.Random(name)
    checked = 0
    top = 3000 if cfg.array.rows > 4 else 300  # hw-small's 16-row banks: many tiles per GEMM
    for _ in range(15):
        g = Gemm("x", "FF", rng.randint(1, top), rng.randint(1, 200), rng.randint(1, top))
        for pattern in (None, *cfg.array.patterns):
            for plan in plans(cfg, g, pattern):
                seq = tile_sequence(plan, cfg)
                assert gemm_totals(plan, cfg) == {
                    "cycles": gemm_cycles(plan, cfg, seq), "tiles": len(seq["compute"]),
                    "compute": int(seq["compute"].sum()), "load": int(seq["load"].sum()),
                    "store": int(seq["store"].sum())}, plan
                checked += 1
    assert checked > 50


@pytest.mark.parametrize("name", CONFIGS)
def test_bounded_search_equals_the_exhaustive_one(name):
    cfg, rng = CONFIGS[name], random.Random(name + "search")
    top = 3000 if cfg.array.rows > 4 else 300
    for _ in range(15):
        g = Gemm("x", "FF", rng.randint(1, top), rng.randint(1, 200), rng.randint(1, top), count=rng.randint(1, 3))
        for pattern in cfg.array.patterns:
            best = None
            for p in (pattern, None):
                for plan in plans(cfg, g, p):
                    assert lower_bound(plan, cfg) <= gemm_totals(plan, cfg)["cycles"]
                    r = run_plan(plan, cfg, p, g.count)
                    if best is None or (r.cycles, r.energy_total_pj) < (best.cycles, best.energy_total_pj):
                        best = r
            assert best_engine_gemm(g, cfg, pattern) == best
