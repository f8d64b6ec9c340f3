"""What each training method costs the top-N unit per step, and how the network model charges it."""

import math

import pytest
from nets import resnet18

from nmsat.config import default_config
from nmsat.methods import BIMASK_CANDIDATES, BIMASK_SEARCH_EVERY
from nmsat.sim import network
from nmsat.sim.mask_cost import block_pass_cost, mask_cost, mask_jobs, permute_bytes
from nmsat.sim.weight_update import topn_cost


@pytest.fixture(scope="module")
def cfg():
    return default_config().replace(projection={"enabled": True})  # mask and update costs are projected


def test_jobs_per_mode(cfg):
    both = ["FF", "BP"]
    ff, bp = (topn_cost(64, 128, 1, "2:8", cfg, ps) for ps in both)
    assert mask_jobs("srste", 64, 128, 1, "2:8", cfg, ["FF"]) == [("FF", ff)]
    assert mask_jobs("bdwp", 64, 128, 1, "2:8", cfg, both) == [("FF", ff), ("BP", bp)]
    assert mask_jobs("transposable", 64, 128, 1, "2:8", cfg, both) == [
        ("FF+BP", block_pass_cost(64, 128, 1, "2:8", cfg))]
    (_, f), (_, b), (name, search) = mask_jobs("bimask", 64, 128, 1, "2:8", cfg, both)
    assert (f, b, name) == (ff, bp, "search")
    share = BIMASK_CANDIDATES / BIMASK_SEARCH_EVERY
    assert search["cycles"] == math.ceil(bp["cycles"] * share)
    assert search["dram_bytes"] == pytest.approx(bp["dram_bytes"] * share)


def test_block_pass_by_hand(cfg):
    """W[16, 16] at 2:8: 4 blocks of 8x8; 32 lanes run 4 blocks at once, 64 decisions each."""
    c = block_pass_cost(16, 16, 1, "2:8", cfg)
    lanes = cfg.topn.lanes
    tiles, parallel = 4, max(1, lanes // 8)
    assert c["cycles"] >= -(-tiles // parallel) * 64
    compares = tiles * (64 * 63 // 2 + 2 * 64)
    assert c["energy_pj"]["topn"] == pytest.approx(compares * cfg.energy.topn_compare_pj)
    data = cfg.array.data_width / 8
    groups = 16 * 2 + 16 * 2  # FF groups (rows x 2 windows) + BP groups (columns x 2 windows)
    assert c["dram_bytes"] == pytest.approx(256 * data + groups * 2 * (data + 3 / 8))


def test_network_charges_each_mode(cfg):
    trace = resnet18()
    res = {m: network.simulate(trace, cfg, m, pattern="2:8") for m in ("bdwp", "transposable", "bimask")}
    # the same sparse GEMMs: the array does the same work
    assert {r.overheads["array_cycles"] - r.overheads["topn_exposed_cycles"] - r.overheads["update_exposed_cycles"]
            for r in res.values()} == {res["bdwp"].overheads["array_cycles"] - res["bdwp"].overheads[
                "topn_exposed_cycles"] - res["bdwp"].overheads["update_exposed_cycles"]}
    gathered = sum(permute_bytes(g, cfg) for g in trace.gemms if g.pass_ == "BP" and g.sparse is not None)
    searched = mask_cost(trace, cfg, "bimask", "2:8")["dram_bytes"] - mask_cost(trace, cfg, "bdwp", "2:8")[
        "dram_bytes"]
    assert gathered > 0 and searched > gathered
    assert res["bimask"].overheads["dram_bytes"] == pytest.approx(res["bdwp"].overheads["dram_bytes"] + searched)
    assert res["transposable"].overheads["topn_cycles"] != res["bdwp"].overheads["topn_cycles"]
