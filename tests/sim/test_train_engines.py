"""Per-layer costs of the RTL training engines (`nmsat.sim.train_engines`) are their exact cycle models."""

from nmsat.config import default_config, load_config
from nmsat.core_params import core_params
from nmsat.sim.topn_engine import topn_engine_cycles, topn_job
from nmsat.sim.train_engines import mask_jobs_rtl, topn_cost_rtl, update_cost_rtl
from nmsat.sim.update_engine import update_engine_cycles

SMALL = load_config("configs/hw-small.toml")


def test_costs_are_the_exact_models_per_block():
    p = core_params(SMALL)
    u = update_cost_rtl(10, 36, 3, SMALL)
    assert u["cycles"] == 3 * update_engine_cycles(p, 10, 36)
    assert u["dram_bytes"] == 3 * 5 * 10 * 18 * 8  # 18 beats per row, 3 reads + 2 writes
    for ps, transpose in (("FF", False), ("BP", True)):
        c = topn_cost_rtl(10, 36, 2, "2:8", SMALL, ps)
        job = topn_job(p, (10, 36), p.mode_of("2:8"), transpose, 0, 144, 0)
        assert c["cycles"] == 2 * topn_engine_cycles(p, job) and c["energy_pj"]["topn"] > 0


def test_mask_jobs_only_for_standard_passes():
    cfg = default_config()
    assert [ps for ps, _ in mask_jobs_rtl("bdwp", 64, 64, 1, "2:8", cfg, ["FF", "BP"])] == ["FF", "BP"]
    assert mask_jobs_rtl("transposable", 64, 64, 1, "2:8", cfg, ["FF", "BP"]) == []
