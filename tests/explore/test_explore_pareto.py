"""Pareto fronts: exactly the non-dominated rows, ties kept, maximised accuracy, rows without a value dropped."""

from nmsat.explore.pareto import front, usable


def rows(*pairs):
    return [{"status": "ok", "time_s": str(t), "energy_pj": str(e), "accuracy": "0.9"} for t, e in pairs]


def test_front_is_the_non_dominated_rows():
    r = rows((1, 5), (2, 2), (3, 1), (3, 3), (2, 2), (4, 4))
    assert front(r, ["time", "energy"]) == [0, 1, 2, 4]


def test_accuracy_is_maximised():
    r = rows((1, 1), (1, 1))
    r[1]["accuracy"] = "0.95"
    assert front(r, ["time", "-accuracy"]) == [1]


def test_invalid_and_missing_rows_are_not_usable():
    r = rows((1, 1), (2, 2))
    r[0]["status"] = "invalid"
    r[1]["energy_pj"] = ""
    assert usable(r, ["time"]) == [r[1]]
    assert usable(r, ["time", "energy"]) == []
