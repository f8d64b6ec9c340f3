"""Network model: modes, pre-generation, energy, schedules, timeline and rejected input."""

import json

import pytest
from nets import resnet18

from nmsat.config import default_config
from nmsat.errors import NmsatError
from nmsat.sim import network, schedules, timeline
from nmsat.sim.energy import COMPONENTS
from nmsat.sim.modes import MODES
from nmsat.trace import Gemm, Trace

CFG = default_config().replace(projection={"enabled": True})  # the projected model
RTL = default_config()  # the generated hardware: the RTL's GEMM engine
R18 = resnet18(batch=8, pattern="2:8")


def sparse_passes(result):
    return {(row["layer"], row["pass"]) for row in result.layers if row["sparse"]}


def test_modes_choose_sparse_gemms():
    dense = network.simulate(R18, CFG, "dense", "ws")
    srste = network.simulate(R18, CFG, "srste", "ws")
    bdwp = network.simulate(R18, CFG, "bdwp", "ws")
    assert sparse_passes(dense) == set()
    assert {p for _, p in sparse_passes(srste)} == {"FF"}
    assert {p for _, p in sparse_passes(bdwp)} == {"FF", "BP"}
    assert not any(layer in ("conv1", "fc") for layer, _ in sparse_passes(bdwp))  # dense in the trace
    assert {row["sparse"] for row in bdwp.layers} == {None, "2:8"}


def test_dense_trace_makes_every_layer_prunable():
    dense_trace = resnet18(batch=8, pattern=None)
    r = network.simulate(dense_trace, CFG, "bdwp", "ws", pattern="2:4")
    assert ("conv1", "FF") in sparse_passes(r) and ("fc", "BP") in sparse_passes(r)
    with pytest.raises(NmsatError, match="needs an N:M pattern"):
        network.simulate(dense_trace, CFG, "bdwp")


def test_macs_conserved_over_the_network():
    r = network.simulate(R18, CFG, "bdwp", "best")
    assert sum(row["macs"] for row in r.layers) == sum(g.macs for g in R18.gemms)


def test_critical_path_adds_update_and_topn():
    r = network.simulate(R18, CFG, "bdwp", "ws", pregen=False)
    o = r.overheads
    assert o["topn_cycles"] > 0 and o["topn_exposed_cycles"] == o["topn_cycles"]
    assert o["array_cycles"] == sum(row["cycles"] for row in r.layers) + o["update_cycles"] + o["topn_cycles"]
    assert r.total_cycles == max(o["array_cycles"], o["dram_bound_cycles"], o["bp_weights_bound_cycles"])


def test_pregeneration_hides_work():
    for mode in ("dense", "srste", "bdwp"):
        on = network.simulate(R18, CFG, mode, "best", pregen=True)
        off = network.simulate(R18, CFG, mode, "best", pregen=False)
        assert on.total_cycles <= off.total_cycles
    assert on.overheads["topn_exposed_cycles"] < on.overheads["topn_cycles"]


def test_bdwp_faster_than_dense_below_the_training_bound():
    # FF and BP at m/n = 4x, WG dense: if the three passes cost the same, 3 / (1/4 + 1/4 + 1) = 2.0.
    rows = {(r["mode"], r["dataflow"], r["pregen"]): r for r in schedules.compare(R18, CFG)}
    bdwp = rows[("bdwp", "best", True)]
    assert 1.0 < bdwp["speedup_vs_dense_best"] < 2.0
    assert rows[("dense", "ws", True)]["speedup_vs_dense"] == 1.0
    assert len(rows) == len(MODES) * 3 * 2


def test_energy_components():
    r = network.simulate(R18, CFG, "bdwp", "best")
    assert set(r.energy_pj) == set(COMPONENTS)
    assert all(v > 0 for v in r.energy_pj.values())
    assert r.energy_pj["static"] == pytest.approx(CFG.energy.static_mw * 1e-3 * r.seconds * 1e12)
    dense = network.simulate(R18, CFG, "dense", "best")
    assert dense.energy_pj["mux"] == 0 and dense.energy_pj["topn"] == 0
    assert r.energy_pj["mac"] < dense.energy_pj["mac"]


def test_perfetto_timeline(tmp_path):
    r = network.simulate(R18, CFG, "bdwp", "best")
    path = tmp_path / "t.json"
    timeline.write_perfetto(r, path)
    events = json.loads(path.read_text())["traceEvents"]
    names = {e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    assert names == {"array", "DRAM", "top-N", "weight update"}
    spans = [e for e in events if e["ph"] == "X"]
    assert all({"name", "ph", "ts", "dur", "pid", "tid", "args"} <= set(e) for e in spans)
    assert {e["tid"] for e in spans} == {0, 1, 2, 3}
    array = [e for e in spans if e["tid"] == 0]
    end = r.overheads["array_cycles"] / CFG.array.clock_mhz
    assert max(e["ts"] + e["dur"] for e in array) == pytest.approx(end)


def test_best_per_layer_picks_the_fewest_cycles():
    for row in schedules.best_per_layer(R18, CFG, "bdwp"):
        assert row["cycles"] <= min(row["ws_cycles"], row["os_cycles"])


@pytest.mark.parametrize("kwargs, match", [
    ({"mode": "sparse"}, "unknown mode 'sparse'"),
    ({"dataflow": "is"}, "unknown dataflow 'is'"),
    ({"pattern": "3:8"}, "pattern 3:8 is not supported"),
])
def test_bad_arguments_rejected(kwargs, match):
    with pytest.raises(NmsatError, match=match):
        network.simulate(R18, CFG, **kwargs)


def test_config_limits_rejected():
    ws_only = CFG.replace(array={"dataflows": ["ws"]})
    with pytest.raises(NmsatError, match="dataflow 'os' is not supported"):
        network.simulate(R18, ws_only, "bdwp", "os")
    assert network.simulate(R18, ws_only, "bdwp", "best").layers[0]["dataflow"] == "ws"
    no_28 = CFG.replace(array={"patterns": ["2:4"]})
    with pytest.raises(NmsatError, match="pattern 2:8 is not supported"):
        network.simulate(R18, no_28, "srste")
    tiny = CFG.replace(memory={"act_spad_kib": 0.01})
    with pytest.raises(NmsatError, match="scratchpads too small"):
        network.simulate(R18, tiny, "dense", "ws")


def test_trace_with_unsupported_sparse_gemm_rejected():
    gemms = (Gemm("a", "FF", 8, 8, 8), Gemm("b", "FF", 8, 8, 8, sparse="1:2"))
    t = Trace(model="t", method="bdwp", pattern=None, batch=1, gemms=gemms)
    with pytest.raises(NmsatError, match="pattern 1:2 is not supported"):
        network.simulate(t, CFG, "bdwp")


def test_generated_hardware_runs_gemms_then_its_training_engines_in_series():
    """GEMMs weight-stationary on the GEMM engine, then per layer the update engine and the top-N engine's FF and
    BP passes at their exact cycles (`nmsat.sim.train_engines`), nothing overlapped: one AXI4 port."""
    from nmsat.sim.train_engines import topn_cost_rtl, update_cost_rtl
    from nmsat.sim.weight_update import layer_weights

    r = network.simulate(R18, RTL, "bdwp", "best")
    o = r.overheads
    assert not o["projected"] and not o["projected_masks"] and o["dram_bound_cycles"] == 0
    weights = layer_weights(R18)
    sparse = {(row["layer"], row["pass"]) for row in r.layers if row["sparse"]}
    update = sum(update_cost_rtl(*w, RTL)["cycles"] for w in weights.values())
    topn = sum(topn_cost_rtl(*weights[layer], "2:8", RTL, ps)["cycles"] for layer, ps in sparse if ps in ("FF", "BP"))
    assert (o["update_cycles"], o["topn_cycles"]) == (update, topn) and update > 0 and topn > 0
    assert r.total_cycles == sum(row["cycles"] for row in r.layers) + update + topn
    assert network.simulate(R18, RTL, "bdwp", "best", pregen=False).total_cycles == r.total_cycles
    assert {row["dataflow"] for row in r.layers} == {"ws"}
    with pytest.raises(NmsatError, match="projected model only"):
        network.simulate(R18, RTL, "bdwp", "os")
    rows = {(x["mode"], x["dataflow"], x["pregen"]): x for x in schedules.compare(R18, RTL)}
    assert set(rows) == {(m, "best", True) for m in MODES}
    # BDWP's GEMMs are faster than dense's; at this small batch its two top-N passes per step cost more
    dense = network.simulate(R18, RTL, "dense", "best")
    assert r.overheads["array_cycles"] - update - topn < dense.overheads["array_cycles"] - update
    assert rows[("bdwp", "best", True)]["speedup_vs_dense"] == pytest.approx(dense.total_cycles / r.total_cycles)
