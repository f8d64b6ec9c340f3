"""The explore spec: ranges expand with the stop included, dense runs once, bad values are one clear error."""

import pytest

from nmsat.errors import NmsatError
from nmsat.explore.spec import parse

WORK = [{"model": "resnet18"}]


def test_ranges_lists_and_points():
    s = parse({"sweep": {"array.rows": {"start": 16, "stop": 64, "step": 16},
                         "array.mults_per_pe": {"start": 2, "stop": 8, "factor": 2},
                         "array.patterns": [["2:4", "2:8"], ["2:8"]]},
               "workload": WORK, "methods": ["dense", "bdwp"], "patterns": ["2:8", "2:4"]})
    assert s.values == ((16, 32, 48, 64), (2, 4, 8), (("2:4", "2:8"), ("2:8",)))
    assert s.runs() == [("dense", None), ("bdwp", "2:8"), ("bdwp", "2:4")]
    assert len(s.points()) == 4 * 3 * 2 * 3
    assert s.hardware()[0] == {"array.rows": 16, "array.mults_per_pe": 2, "array.patterns": ("2:4", "2:8")}


def test_fmax_and_area_keys(tmp_path):
    s = parse({"workload": WORK, "fmax": "core", "fmax_seeds": 3, "area": "estimate", "area_fit": "f.json",
               "objectives": ["time", "area"]}, base_dir=tmp_path)
    assert (s.fmax, s.fmax_seeds, s.area, s.area_fit) == ("core", 3, "estimate", str(tmp_path / "f.json"))
    d = parse({"workload": WORK})
    assert (d.fmax, d.fmax_seeds, d.area, d.area_fit) == ("none", 1, "none", None)


@pytest.mark.parametrize("data, words", [
    ({"sweep": {"array.rowz": [1]}, "workload": WORK}, "array.rowz"),
    ({"sweep": {"array.rows": []}, "workload": WORK}, "empty list"),
    ({"sweep": {"array.rows": {"start": 4, "stop": 1, "step": 1}}, "workload": WORK}, "range is empty"),
    ({"sweep": {"array.rows": {"start": 4, "stop": 8}}, "workload": WORK}, "one of step, factor"),
    ({"workload": []}, "at least one [[workload]]"),
    ({"workload": [{"model": "a", "trace": "b"}]}, "exactly one of model, trace"),
    ({"workload": WORK, "methods": ["sparse"]}, "unknown 'sparse'"),
    ({"workload": WORK, "objectives": ["area"]}, "needs area"),
    ({"workload": WORK, "colour": 1}, "unknown key 'colour'"),
    ({"workload": WORK, "fmax": "fast"}, "fmax = 'fast': use one of none, pe, core"),
    ({"workload": WORK, "fmax_seeds": 0}, "fmax_seeds = 0"),
    ({"workload": WORK, "fmax_seeds": True}, "fmax_seeds = True"),
    ({"workload": WORK, "area": "guess"}, "area = 'guess': use one of none, yosys, estimate"),
    ({"workload": WORK, "area_fit": 3}, "area_fit = 3: expected a string"),
])
def test_bad_spec_names_the_value(data, words):
    with pytest.raises(NmsatError, match=None) as e:
        parse(data)
    assert words in str(e.value)
